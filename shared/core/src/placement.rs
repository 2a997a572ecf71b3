//! M4 featured placements (资源位): operator-defined sections with a number of slots, filled
//! for 15 or 30 days from the 1st and the 16th of each month (the next working day when that
//! is not one), by application; the winners are chosen by the section's published rule.
//! Everything here is pure: the sweep hands in the applicants with what the rule needs.
use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::calendar::{first_of_next_month, market_date, start_of, Calendar};
use super::error::{Code, Problem};

/// The most slots a section may have (the featured list is one page).
pub const MAX_SLOTS: u32 = 50;

/// How long before a period starts a seller's recent sales are counted (rule `sales`).
pub const SALES_WINDOW_DAYS: i64 = 30;

/// A section's published rule: how applicants are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementRule {
    /// The seller's sales volume over the [`SALES_WINDOW_DAYS`] before the period.
    Sales,
    /// The most recently published listings first (新品推荐).
    Newest,
    /// The largest price drop from the listing's first price (优惠专区), as a fraction.
    Deals,
}

/// An operator's section (`PUT /admin/placements/{section}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub name: String,
    pub slots: u32,
    /// 15: periods start on the 1st and the 16th; 30: on the 1st.
    pub period_days: u32,
    pub rule: PlacementRule,
    /// A section of one TLD's listings ("by TLD"): only they may apply (punycode,
    /// lower-case); none: every listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tld: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// M4: whether a listing of a domain with this TLD may apply for `section`.
pub fn check_eligible(section: &Section, domain_tld: &str) -> Result<(), Problem> {
    match &section.tld {
        Some(tld) if tld != domain_tld => Err(Problem::new(
            Code::NotInSection,
            format!(
                "the section {} takes .{tld} listings only, not .{domain_tld}",
                section.name
            ),
        )),
        _ => Ok(()),
    }
}

/// Checks a section's name and shape.
pub fn check_section(name: &str, slots: u32, period_days: u32) -> Result<(), Problem> {
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !name_ok {
        return Err(Problem::new(
            Code::InvalidRequest,
            "a section is named by 1 to 64 of a-z, 0-9, - and _",
        ));
    }
    if !(1..=MAX_SLOTS).contains(&slots) {
        return Err(Problem::new(
            Code::InvalidRequest,
            format!("slots is from 1 to {MAX_SLOTS}"),
        ));
    }
    if period_days != 15 && period_days != 30 {
        return Err(Problem::new(
            Code::InvalidRequest,
            "period_days is 15 or 30 (M4)",
        ));
    }
    Ok(())
}

/// One placement period of a section: named by its nominal first day (the 1st or the 16th),
/// starting on the first working day from there and running until the next period starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub nominal: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The nominal first days of the periods of a month.
fn nominal_days(period_days: u32, year: i32, month: u32) -> Vec<NaiveDate> {
    let days: &[u32] = if period_days == 30 { &[1] } else { &[1, 16] };
    days.iter()
        .filter_map(|d| NaiveDate::from_ymd_opt(year, month, *d))
        .collect()
}

/// The nominal day of the period after the one named `nominal`.
fn following_nominal(period_days: u32, nominal: NaiveDate) -> NaiveDate {
    if period_days == 15 && nominal.day() == 1 {
        nominal.with_day(16).unwrap_or(nominal)
    } else {
        first_of_next_month(nominal)
    }
}

/// The period named `nominal` (M4: moved to the next working day; it ends where the next
/// one starts).
pub fn period_of(cal: &Calendar, period_days: u32, nominal: NaiveDate) -> Period {
    let next = following_nominal(period_days, nominal);
    Period {
        nominal,
        starts_at: start_of(cal.next_working_day(nominal)),
        ends_at: start_of(cal.next_working_day(next)),
    }
}

/// The first period that starts after `now`: the one an application made now is for.
pub fn next_period(cal: &Calendar, period_days: u32, now: DateTime<Utc>) -> Period {
    let today = market_date(now);
    let this_month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let mut month = this_month;
    // A period named in this month or the next always starts after now (a month has at
    // least one nominal day, and a start moves by days, not months).
    loop {
        for nominal in nominal_days(period_days, month.year(), month.month()) {
            let period = period_of(cal, period_days, nominal);
            if period.starts_at > now {
                return period;
            }
        }
        month = first_of_next_month(month);
    }
}

/// The period running at `now`, if any started before it (the one named in this month or
/// the month before whose start has passed and whose end has not).
pub fn current_period(cal: &Calendar, period_days: u32, now: DateTime<Utc>) -> Option<Period> {
    let today = market_date(now);
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?;
    let previous_month = first.pred_opt()?.with_day(1)?;
    [previous_month, first]
        .iter()
        .flat_map(|m| nominal_days(period_days, m.year(), m.month()))
        .map(|n| period_of(cal, period_days, n))
        .find(|p| p.starts_at <= now && now < p.ends_at)
}

/// An applicant as the selection sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    pub listing_id: String,
    pub applied_at: DateTime<Utc>,
    /// Whether the listing is still active at the period's start (an ended one cannot win).
    pub active: bool,
    /// `sales`: the seller's sales volume in the window before the period.
    pub seller_sales: Decimal,
    /// `newest`: when the listing was published.
    pub listed_at: DateTime<Utc>,
    /// `deals`: the drop from the listing's first price, as a fraction of it (0 when none).
    pub price_drop: Decimal,
}

/// The drop from `first` to `now` as a fraction of `first`; 0 when the price did not drop.
pub fn price_drop(first: Decimal, now: Decimal) -> Decimal {
    if first <= Decimal::ZERO || now >= first {
        return Decimal::ZERO;
    }
    (first - now) / first
}

/// M4: the winners of a section's period, in slot order. Active applicants only, ranked by
/// the section's rule (larger first), ties broken by application time (earlier first) and
/// then by listing id, so the same applicants always give the same winners; a listing that
/// applied twice counts once, with its first application, so it never holds two slots.
pub fn select_winners(rule: PlacementRule, slots: u32, applicants: &[Applicant]) -> Vec<String> {
    let mut ranked: Vec<&Applicant> = applicants.iter().filter(|a| a.active).collect();
    ranked.sort_by(|a, b| {
        let by_rule = match rule {
            PlacementRule::Sales => b.seller_sales.cmp(&a.seller_sales),
            PlacementRule::Newest => b.listed_at.cmp(&a.listed_at),
            PlacementRule::Deals => b.price_drop.cmp(&a.price_drop),
        };
        by_rule
            .then(a.applied_at.cmp(&b.applied_at))
            .then(a.listing_id.cmp(&b.listing_id))
    });
    let mut seen = BTreeSet::new();
    ranked
        .into_iter()
        .filter(|a| seen.insert(a.listing_id.as_str()))
        .take(slots as usize)
        .map(|a| a.listing_id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn t0() -> DateTime<Utc> {
        start_of(d("2026-12-01"))
    }

    fn applicant(id: &str, applied_min: i64) -> Applicant {
        Applicant {
            listing_id: id.into(),
            applied_at: t0() + Duration::minutes(applied_min),
            active: true,
            seller_sales: Decimal::ZERO,
            listed_at: t0(),
            price_drop: Decimal::ZERO,
        }
    }

    #[test]
    fn m4_sales_ranks_by_the_sellers_volume_then_by_application_time() {
        let mut a = applicant("a", 3);
        a.seller_sales = Decimal::new(500, 0);
        let mut b = applicant("b", 2);
        b.seller_sales = Decimal::new(900, 0);
        let mut c = applicant("c", 1);
        c.seller_sales = Decimal::new(500, 0);
        let d = applicant("d", 0);
        let all = [a, b, c, d];
        assert_eq!(
            select_winners(PlacementRule::Sales, 3, &all),
            ["b", "c", "a"]
        );
        // The order the applicants come in changes nothing.
        let mut reversed = all.to_vec();
        reversed.reverse();
        assert_eq!(
            select_winners(PlacementRule::Sales, 3, &reversed),
            ["b", "c", "a"]
        );
    }

    #[test]
    fn m4_newest_ranks_by_listing_age_and_deals_by_price_drop() {
        let mut old = applicant("old", 0);
        old.listed_at = t0() - Duration::days(30);
        old.price_drop = price_drop(Decimal::new(100, 0), Decimal::new(50, 0));
        let mut new = applicant("new", 1);
        new.listed_at = t0() - Duration::days(1);
        new.price_drop = price_drop(Decimal::new(100, 0), Decimal::new(90, 0));
        let both = [old.clone(), new.clone()];
        assert_eq!(select_winners(PlacementRule::Newest, 1, &both), ["new"]);
        assert_eq!(select_winners(PlacementRule::Deals, 1, &both), ["old"]);
        assert_eq!(
            price_drop(Decimal::new(100, 0), Decimal::new(120, 0)),
            Decimal::ZERO
        );
    }

    #[test]
    fn m4_no_listing_holds_two_slots_and_ended_ones_never_win() {
        let first = applicant("x", 0);
        let again = applicant("x", 5);
        let mut ended = applicant("gone", 1);
        ended.active = false;
        ended.seller_sales = Decimal::new(1_000_000, 0);
        let y = applicant("y", 2);
        assert_eq!(
            select_winners(PlacementRule::Sales, 5, &[again, ended, first, y]),
            ["x", "y"]
        );
    }

    #[test]
    fn m4_ties_on_everything_fall_to_the_listing_id() {
        let all = [applicant("b", 0), applicant("a", 0)];
        assert_eq!(select_winners(PlacementRule::Newest, 2, &all), ["a", "b"]);
    }

    #[test]
    fn m4_periods_start_on_the_1st_and_16th_moved_to_a_working_day() {
        // August 2026: the 1st is a Saturday, Monday the 3rd a holiday; the 16th a Sunday.
        let cal = Calendar::new([d("2026-08-03")]);
        let p = period_of(&cal, 15, d("2026-08-01"));
        assert_eq!(p.starts_at, start_of(d("2026-08-04")));
        assert_eq!(p.ends_at, start_of(d("2026-08-17")));
        let monthly = period_of(&cal, 30, d("2026-08-01"));
        assert_eq!(monthly.ends_at, start_of(d("2026-09-01")));
        // Applying on 2026-08-02: the period of the 1st has not started yet.
        let now = start_of(d("2026-08-02"));
        assert_eq!(next_period(&cal, 15, now).nominal, d("2026-08-01"));
        assert_eq!(next_period(&cal, 15, p.starts_at).nominal, d("2026-08-16"));
        assert_eq!(next_period(&cal, 30, p.starts_at).nominal, d("2026-09-01"));
        // December's second period runs into January.
        let late = next_period(&Calendar::default(), 15, start_of(d("2026-12-20")));
        assert_eq!(late.nominal, d("2027-01-01"));
        assert_eq!(late.starts_at, start_of(d("2027-01-01")));
        assert_eq!(
            current_period(&cal, 15, p.starts_at + Duration::days(1)),
            Some(p)
        );
        assert_eq!(
            current_period(&cal, 15, now),
            Some(period_of(&cal, 15, d("2026-07-16")))
        );
    }

    #[test]
    fn m4_sections_are_checked() {
        assert!(check_section("home-banner", 5, 15).is_ok());
        assert!(check_section("Home", 5, 15).is_err());
        assert!(check_section("home", 0, 15).is_err());
        assert!(check_section("home", 51, 15).is_err());
        assert!(check_section("home", 5, 20).is_err());
    }
}
