//! The working-day calendar of the operator's rules (M2, M4, S5): Monday to Friday, less the
//! holidays operators set. Pure: the holidays are handed in, and days are Beijing dates
//! (UTC+8, no daylight saving), because the seed's "1st of the month", "working day" and
//! "month end" are the operator's days, not UTC's.
use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};

use super::error::{Code, Problem};

/// The most holidays one year may carry (every day of a leap year).
pub const MAX_HOLIDAYS_PER_YEAR: usize = 366;

/// How far the search for a working day goes before giving up: a year of holidays set
/// back to back cannot make it loop for ever.
const SEARCH_LIMIT_DAYS: usize = 4 * 366;

/// The operator's time zone: Beijing time.
pub fn market_zone() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("a valid offset")
}

/// The operator's date at `at`.
pub fn market_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&market_zone()).date_naive()
}

/// The moment `date` begins in the operator's time zone.
pub fn start_of(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    market_zone()
        .from_local_datetime(&midnight)
        .single()
        .expect("a fixed offset has no gaps")
        .with_timezone(&Utc)
}

/// The first day of the month after `date`'s.
pub fn first_of_next_month(date: NaiveDate) -> NaiveDate {
    let (year, month) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1).expect("the 1st exists")
}

/// Mon–Fri less the holidays it was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// A calendar with these holidays (of any years).
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>) -> Calendar {
        Calendar {
            holidays: holidays.into_iter().collect(),
        }
    }

    /// Whether `date` is a working day: a weekday that is not a holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&date)
    }

    /// The first working day on or after `date` (M4: a period start on a weekend or a
    /// holiday moves to it). `date` itself when there is none within four years (a calendar
    /// that makes every day a holiday is the operator's mistake, not a reason to hang).
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        date.iter_days()
            .take(SEARCH_LIMIT_DAYS)
            .find(|d| self.is_working_day(*d))
            .unwrap_or(date)
    }

    /// The first working day of the month after `date`'s (S5: when an announced fee change
    /// may take effect at the earliest).
    pub fn first_working_day_of_next_month(&self, date: NaiveDate) -> NaiveDate {
        self.next_working_day(first_of_next_month(date))
    }

    /// The last `n` working days of the month, in date order (M2: the exit processing
    /// window). Fewer when the month has fewer.
    pub fn last_working_days(&self, year: i32, month: u32, n: usize) -> Vec<NaiveDate> {
        let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
            return Vec::new();
        };
        let mut days: Vec<NaiveDate> = first
            .iter_days()
            .take_while(|d| d.month() == month)
            .filter(|d| self.is_working_day(*d))
            .collect();
        let keep = days.len().saturating_sub(n);
        days.drain(..keep);
        days
    }
}

/// Parses an operator's holidays of `year` (`PUT /admin/holidays/{year}`): ISO dates, each
/// inside that year; duplicates collapse. A date of another year is refused: a calendar
/// kept per year must not hide a day in the wrong year's list.
pub fn parse_holidays(year: i32, dates: &[String]) -> Result<Vec<NaiveDate>, Problem> {
    if !(2000..=9999).contains(&year) {
        return Err(Problem::new(
            Code::InvalidRequest,
            format!("{year} is not a year from 2000 to 9999"),
        ));
    }
    if dates.len() > MAX_HOLIDAYS_PER_YEAR {
        return Err(Problem::new(
            Code::InvalidRequest,
            format!("at most {MAX_HOLIDAYS_PER_YEAR} holidays a year"),
        ));
    }
    let mut parsed = BTreeSet::new();
    for text in dates {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            Problem::new(
                Code::InvalidRequest,
                format!("`{text}` is not a date such as \"{year}-10-01\""),
            )
        })?;
        if date.year() != year {
            return Err(Problem::new(
                Code::InvalidRequest,
                format!("{date} is not in {year}"),
            ));
        }
        parsed.insert(date);
    }
    Ok(parsed.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weekends_and_holidays_are_not_working_days() {
        let cal = Calendar::new([d("2026-10-01")]);
        assert!(!cal.is_working_day(d("2026-10-01"))); // a Thursday, a holiday
        assert!(cal.is_working_day(d("2026-10-02"))); // Friday
        assert!(!cal.is_working_day(d("2026-10-03"))); // Saturday
        assert!(!cal.is_working_day(d("2026-10-04"))); // Sunday
    }

    #[test]
    fn the_next_working_day_skips_a_weekend_then_a_holiday() {
        // 2026-08-01 is a Saturday; Monday the 3rd is a holiday.
        let cal = Calendar::new([d("2026-08-03")]);
        assert_eq!(cal.next_working_day(d("2026-08-01")), d("2026-08-04"));
        assert_eq!(cal.next_working_day(d("2026-08-04")), d("2026-08-04"));
        assert_eq!(
            Calendar::default().next_working_day(d("2026-08-01")),
            d("2026-08-03")
        );
    }

    #[test]
    fn a_calendar_of_nothing_but_holidays_does_not_hang() {
        let start = d("2026-01-01");
        let cal = Calendar::new(start.iter_days().take(5 * 366));
        assert_eq!(cal.next_working_day(start), start);
    }

    #[test]
    fn s5_first_working_day_of_the_next_month_crosses_the_year_and_a_holiday() {
        // 2027-01-01 is a Friday and a holiday: the Monday after.
        let cal = Calendar::new([d("2027-01-01")]);
        assert_eq!(
            cal.first_working_day_of_next_month(d("2026-12-15")),
            d("2027-01-04")
        );
        assert_eq!(
            Calendar::default().first_working_day_of_next_month(d("2026-11-30")),
            d("2026-12-01")
        );
    }

    #[test]
    fn m2_last_seven_working_days_of_a_month_with_a_holiday() {
        // December 2026: the 31st is a Thursday; a holiday on the 25th (Friday).
        let cal = Calendar::new([d("2026-12-25")]);
        let days = cal.last_working_days(2026, 12, 7);
        let expected: Vec<NaiveDate> = [
            "2026-12-22",
            "2026-12-23",
            "2026-12-24",
            "2026-12-28",
            "2026-12-29",
            "2026-12-30",
            "2026-12-31",
        ]
        .iter()
        .map(|t| d(t))
        .collect();
        assert_eq!(days, expected);
        assert_eq!(cal.last_working_days(2026, 13, 7), Vec::<NaiveDate>::new());
    }

    #[test]
    fn days_begin_at_beijing_midnight() {
        let at = start_of(d("2026-12-01"));
        assert_eq!(at.to_rfc3339(), "2026-11-30T16:00:00+00:00");
        assert_eq!(market_date(at), d("2026-12-01"));
        assert_eq!(
            market_date(at - chrono::Duration::seconds(1)),
            d("2026-11-30")
        );
    }

    #[test]
    fn holidays_must_be_dates_of_their_year() {
        assert_eq!(
            parse_holidays(
                2026,
                &[
                    "2026-10-02".into(),
                    "2026-10-01".into(),
                    "2026-10-01".into()
                ]
            )
            .unwrap(),
            vec![d("2026-10-01"), d("2026-10-02")]
        );
        for bad in ["2027-01-01", "2026-13-01", "1 Oct", ""] {
            let refused = parse_holidays(2026, &[bad.into()]).unwrap_err();
            assert_eq!(refused.code, Code::InvalidRequest, "{bad}");
        }
        assert!(parse_holidays(1999, &[]).is_err());
    }
}
