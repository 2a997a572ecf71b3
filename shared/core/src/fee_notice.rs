//! S5, the seed's notice rule (调整后的新政策将于通知后次月第一个工作日起执行): a fee change an
//! operator announces takes effect no earlier than the first working day of the month after
//! the announcement, unless it only lowers or waives the fee, which may apply at once.
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::calendar::{market_date, start_of, Calendar};
use super::model::{fee_rate_at, FeePeriod};

/// The earliest moment a change announced at `announced_at` may take effect: at once for a
/// pure reduction, else the start (Beijing midnight) of the first working day of the next
/// month.
pub fn earliest_effect(
    cal: &Calendar,
    announced_at: DateTime<Utc>,
    reduction: bool,
) -> DateTime<Utc> {
    if reduction {
        announced_at
    } else {
        start_of(cal.first_working_day_of_next_month(market_date(announced_at)))
    }
}

/// Whether a new period of `rate` over `[from, until)` lowers or keeps the rate at every
/// moment from `now` on that it would cover, against the periods already set (and the
/// default where none covers). The rate in force is a step function that only changes at
/// `now`, at `from`, or at an existing period's bounds, so checking those points is exact.
pub fn is_pure_reduction(
    periods: &[FeePeriod],
    default: Decimal,
    rate: Decimal,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let start = from.map_or(now, |f| f.max(now));
    let inside = |t: DateTime<Utc>| t >= start && until.is_none_or(|u| t < u);
    let mut points = vec![start];
    points.extend(
        periods
            .iter()
            .flat_map(|p| [p.from, p.until])
            .flatten()
            .filter(|t| inside(*t)),
    );
    points
        .iter()
        .filter(|t| inside(**t))
        .all(|t| rate <= fee_rate_at(periods, *t, default))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FeeKind;
    use chrono::{Duration, NaiveDate};

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn rate(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn period(r: &str, from: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> FeePeriod {
        FeePeriod {
            kind: FeeKind::FixedPrice,
            rate: rate(r),
            from,
            until,
            created_at: start_of(d("2026-01-01")),
            announced_at: None,
            reduction: false,
        }
    }

    #[test]
    fn s5_an_increase_waits_for_the_first_working_day_of_next_month() {
        // Announced 2026-12-15 (Beijing); 2027-01-01 is a Friday and a holiday.
        let cal = Calendar::new([d("2027-01-01")]);
        let announced = start_of(d("2026-12-15")) + Duration::hours(10);
        assert_eq!(
            earliest_effect(&cal, announced, false),
            start_of(d("2027-01-04"))
        );
        assert_eq!(earliest_effect(&cal, announced, true), announced);
        // Late on the 31st in Beijing is still December there (UTC already says so too).
        let last_evening = start_of(d("2026-11-30")) + Duration::hours(23);
        assert_eq!(
            earliest_effect(&Calendar::default(), last_evening, false),
            start_of(d("2026-12-01"))
        );
    }

    #[test]
    fn s5_a_reduction_is_checked_against_every_rate_it_would_replace() {
        let now = start_of(d("2026-12-01"));
        let default = rate("0.01");
        assert!(is_pure_reduction(&[], default, rate("0"), None, None, now));
        assert!(is_pure_reduction(
            &[],
            default,
            rate("0.01"),
            None,
            None,
            now
        ));
        assert!(!is_pure_reduction(
            &[],
            default,
            rate("0.02"),
            None,
            None,
            now
        ));
        // A waiver runs until January; from February on, 0.005 would be a rise against it.
        let waiver = period("0", Some(now), Some(now + Duration::days(60)));
        let after = Some(now + Duration::days(30));
        assert!(!is_pure_reduction(
            std::slice::from_ref(&waiver),
            default,
            rate("0.005"),
            after,
            None,
            now
        ));
        // Starting once the waiver is over, it lowers the default.
        assert!(is_pure_reduction(
            &[waiver],
            default,
            rate("0.005"),
            Some(now + Duration::days(60)),
            None,
            now
        ));
    }
}
