//! M2: a seller's exit. The seed (关于阿里云云市场服务商退出手续办理时间的通知): an application
//! made on or before the 20th of a month (每月 20 号（含当日）之前) is processed in the last 7
//! working days of that month; one made from the 21st (21 号至月底) in the last 7 working
//! days of the next month. Exit needs no open trade and no frozen, unsettled or owed money;
//! every reason is named so the seller can clear them all at once.
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::calendar::{first_of_next_month, market_date, start_of, Calendar};
use super::error::{Code, Problem, Reason};
use super::ids::{AccountId, PayoutId};

/// The last day of a month whose applications are processed in that month (inclusive).
pub const CUTOFF_DAY: u32 = 20;
/// How many working days at the month's end the processing window has.
pub const WINDOW_WORKING_DAYS: usize = 7;

/// The working days an exit is processed in (Beijing dates, both inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: NaiveDate,
    pub until: NaiveDate,
}

impl Window {
    /// When processing may start: Beijing midnight of the first day.
    pub fn opens_at(&self) -> DateTime<Utc> {
        start_of(self.from)
    }

    /// When the window is over: Beijing midnight after its last day.
    pub fn closes_at(&self) -> DateTime<Utc> {
        start_of(self.until.succ_opt().unwrap_or(self.until))
    }
}

/// The last [`WINDOW_WORKING_DAYS`] working days of the month of `day`.
pub fn window_of_month(calendar: &Calendar, day: NaiveDate) -> Window {
    let days = calendar.last_working_days(day.year(), day.month(), WINDOW_WORKING_DAYS);
    match (days.first(), days.last()) {
        (Some(from), Some(until)) => Window {
            from: *from,
            until: *until,
        },
        // A month without a working day (the operator's calendar says so): its last day.
        _ => {
            let last = first_of_next_month(day).pred_opt().unwrap_or(day);
            Window {
                from: last,
                until: last,
            }
        }
    }
}

/// M2: the window of an application made on `applied_on` (a Beijing date): this month's
/// up to the 20th, the next month's from the 21st.
pub fn exit_window(calendar: &Calendar, applied_on: NaiveDate) -> Window {
    if applied_on.day() <= CUTOFF_DAY {
        window_of_month(calendar, applied_on)
    } else {
        window_of_month(calendar, first_of_next_month(applied_on))
    }
}

/// M2: when an exit blocked at processing is looked at again: the next working day of its
/// window; once the window is over, the next month's window (the delay is the seller's,
/// the seed says, and the exit waits for the next round).
pub fn next_try(
    calendar: &Calendar,
    window: Window,
    now: DateTime<Utc>,
) -> (Window, DateTime<Utc>) {
    let today = market_date(now);
    let tomorrow = calendar.next_working_day(today.succ_opt().unwrap_or(today));
    if tomorrow <= window.until {
        return (window, start_of(tomorrow));
    }
    let next = window_of_month(calendar, first_of_next_month(today));
    (next, next.opens_at())
}

/// What stands between a seller and the exit, as counted by the shell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Obligations {
    pub open_listings: usize,
    /// Pushes sent or received that have not ended.
    pub open_pushes: usize,
    /// Orders as a buyer not paid and not ended, or paid and not delivered.
    pub open_orders: usize,
    /// Deposits opened and not paid or expired yet.
    pub deposits_awaiting_payment: usize,
    /// Proceeds before their settlement period ends (S4).
    pub frozen: Decimal,
    /// Payouts not confirmed yet (S6).
    pub paying_out: Decimal,
    /// The available balance: below zero is a debt (S4 clawback).
    pub available: Decimal,
}

/// The codes of the reasons (stable, in `errors[].code` of `EXIT_BLOCKED`).
pub const OPEN_LISTINGS: &str = "OPEN_LISTINGS";
pub const OPEN_PUSHES: &str = "OPEN_PUSHES";
pub const OPEN_ORDERS: &str = "OPEN_ORDERS";
pub const DEPOSIT_PAYMENT_OPEN: &str = "DEPOSIT_PAYMENT_OPEN";
pub const FROZEN_FUNDS: &str = "FROZEN_FUNDS";
pub const PAYOUT_IN_FLIGHT: &str = "PAYOUT_IN_FLIGHT";
pub const UNPAID_DEBT: &str = "UNPAID_DEBT";

/// M2: every reason the exit cannot go ahead (none: it may).
pub fn blockers(o: &Obligations) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let mut add = |code: &str, detail: String| {
        reasons.push(Reason {
            code: code.to_owned(),
            detail,
        })
    };
    if o.open_listings > 0 {
        add(
            OPEN_LISTINGS,
            format!(
                "{} listing(s) still active: delist or sell them",
                o.open_listings
            ),
        );
    }
    if o.open_pushes > 0 {
        add(
            OPEN_PUSHES,
            format!(
                "{} push(es) not ended: withdraw or complete them",
                o.open_pushes
            ),
        );
    }
    if o.open_orders > 0 {
        add(
            OPEN_ORDERS,
            format!(
                "{} order(s) not ended: pay, cancel or wait for delivery",
                o.open_orders
            ),
        );
    }
    if o.deposits_awaiting_payment > 0 {
        add(
            DEPOSIT_PAYMENT_OPEN,
            format!(
                "{} deposit payment(s) open: pay them or let them expire",
                o.deposits_awaiting_payment
            ),
        );
    }
    if o.frozen > Decimal::ZERO {
        add(
            FROZEN_FUNDS,
            format!("{:.2} of proceeds not settled yet (S4)", o.frozen),
        );
    }
    if o.paying_out > Decimal::ZERO {
        add(
            PAYOUT_IN_FLIGHT,
            format!("{:.2} in payouts not confirmed yet (S6)", o.paying_out),
        );
    }
    if o.available < Decimal::ZERO {
        add(
            UNPAID_DEBT,
            format!("a debt of {:.2} is open: repay it first", -o.available),
        );
    }
    reasons
}

/// M2: `EXIT_BLOCKED` with every reason, or nothing.
pub fn check_exit(o: &Obligations) -> Result<(), Problem> {
    let reasons = blockers(o);
    if reasons.is_empty() {
        return Ok(());
    }
    Err(Problem::new(
        Code::ExitBlocked,
        format!(
            "the exit cannot go ahead: {}",
            reasons
                .iter()
                .map(|r| r.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .with_reasons(reasons))
}

/// Where an exit application is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// Waiting for its window.
    Scheduled,
    /// Its window came but something blocks it (`blocked` says what); looked at again.
    Blocked,
    /// Done: the account no longer sells; deposits refunded, balance paid out or kept.
    Processed,
}

/// A seller's exit application (M2), one per account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exit {
    pub account: AccountId,
    pub status: ExitStatus,
    pub applied_at: DateTime<Utc>,
    /// The window it is processed in (moved on when blocked past its end).
    pub window: Window,
    /// When the sweep looks at it next (while not processed).
    pub next_check_at: DateTime<Utc>,
    /// Why it was blocked at its last check.
    #[serde(default)]
    pub blocked: Vec<Reason>,
    pub processed_at: Option<DateTime<Utc>>,
    /// After processing: the balance's way out is settled (paid out or kept).
    #[serde(default)]
    pub payout_done: bool,
    pub payout: Option<PayoutId>,
    /// Why the balance was kept available (no payout account, nothing to pay).
    pub payout_note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl Exit {
    /// When the sweep must look at it (none once everything is done).
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        match self.status {
            ExitStatus::Scheduled | ExitStatus::Blocked => Some(self.next_check_at),
            ExitStatus::Processed if !self.payout_done => {
                Some(self.processed_at.unwrap_or(self.updated_at))
            }
            ExitStatus::Processed => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn m2_on_or_before_the_20th_this_month_from_the_21st_the_next() {
        // December 2026: the 31st is a Thursday; a holiday on Friday the 25th.
        // January 2027: the 29th is a Friday; a holiday on Thursday the 28th.
        let cal = Calendar::new([d("2026-12-25"), d("2027-01-28")]);
        let december = Window {
            from: d("2026-12-22"),
            until: d("2026-12-31"),
        };
        let january = Window {
            from: d("2027-01-20"),
            until: d("2027-01-29"),
        };
        assert_eq!(exit_window(&cal, d("2026-12-19")), december);
        assert_eq!(exit_window(&cal, d("2026-12-20")), december);
        assert_eq!(exit_window(&cal, d("2026-12-21")), january);
        assert_eq!(exit_window(&cal, d("2026-12-31")), january);
        // Without the holidays both windows start a working day later.
        let plain = Calendar::default();
        assert_eq!(exit_window(&plain, d("2026-12-19")).from, d("2026-12-23"));
        assert_eq!(exit_window(&plain, d("2026-12-31")).from, d("2027-01-21"));
    }

    #[test]
    fn m2_the_window_opens_at_beijing_midnight() {
        let w = exit_window(&Calendar::default(), d("2026-12-01"));
        assert_eq!(w.opens_at().to_rfc3339(), "2026-12-22T16:00:00+00:00");
        assert_eq!(w.closes_at().to_rfc3339(), "2026-12-31T16:00:00+00:00");
    }

    #[test]
    fn m2_a_blocked_exit_is_tried_the_next_working_day_then_next_month() {
        let cal = Calendar::default();
        let w = exit_window(&cal, d("2026-12-01"));
        // Wednesday 23rd → Thursday 24th.
        let (same, at) = next_try(&cal, w, start_of(d("2026-12-23")));
        assert_eq!((same, at), (w, start_of(d("2026-12-24"))));
        // On the last day: January's window.
        let (next, at) = next_try(&cal, w, start_of(d("2026-12-31")));
        assert_eq!(next, exit_window(&cal, d("2027-01-01")));
        assert_eq!(at, next.opens_at());
    }

    #[test]
    fn m2_every_blocking_reason_is_named() {
        assert!(check_exit(&Obligations::default()).is_ok());
        let all = Obligations {
            open_listings: 1,
            open_pushes: 2,
            open_orders: 3,
            deposits_awaiting_payment: 1,
            frozen: "10.00".parse().unwrap(),
            paying_out: "5.00".parse().unwrap(),
            available: "-3.00".parse().unwrap(),
        };
        let refused = check_exit(&all).unwrap_err();
        assert_eq!(refused.code, Code::ExitBlocked);
        let codes: Vec<&str> = refused.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                OPEN_LISTINGS,
                OPEN_PUSHES,
                OPEN_ORDERS,
                DEPOSIT_PAYMENT_OPEN,
                FROZEN_FUNDS,
                PAYOUT_IN_FLIGHT,
                UNPAID_DEBT
            ]
        );
        // A positive available balance blocks nothing: it is paid out or kept.
        let rich = Obligations {
            available: "99.00".parse().unwrap(),
            ..Obligations::default()
        };
        assert!(check_exit(&rich).is_ok());
    }
}
