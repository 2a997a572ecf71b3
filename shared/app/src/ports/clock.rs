//! The clock port (E1: every deadline is judged by the server clock, read here only).
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// Where the shell reads the time from; the core is handed the value.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock (the cloud).
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The local runner's clock: real time plus an offset that `POST /dev/clock/advance` moves
/// forward, like a payment provider's test clock. Tests use it to cross deadlines without
/// sleeping.
#[derive(Debug, Default)]
pub struct DevClock {
    offset_ms: AtomicI64,
}

impl DevClock {
    /// The latest time the clock may show: 9999-12-31T23:59:59Z. Times in store keys are
    /// fixed-width RFC 3339 with four-digit years, so their string order is time order only
    /// up to here (and chrono itself cannot go much further).
    pub fn latest() -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .map(|t| t.and_utc())
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Moves the clock forward by `by` and returns the new now; `None`, with nothing changed,
    /// for a move back (deadlines already passed stay passed) or one that would take the
    /// clock past [`DevClock::latest`]. Check and move are one atomic step, so two
    /// concurrent moves cannot together overshoot.
    pub fn try_advance(&self, by: Duration) -> Option<DateTime<Utc>> {
        if by < Duration::zero() {
            return None;
        }
        let step = by.num_milliseconds();
        let latest = Self::latest();
        self.offset_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |offset| {
                let next = offset.checked_add(step)?;
                let at = Utc::now().checked_add_signed(Duration::try_milliseconds(next)?)?;
                (at <= latest).then_some(next)
            })
            .ok()?;
        Some(self.now())
    }

    /// Moves the clock forward (tests and benchmarks, by small steps); a move that
    /// [`DevClock::try_advance`] refuses leaves the clock where it is.
    pub fn advance(&self, by: Duration) -> DateTime<Utc> {
        self.try_advance(by).unwrap_or_else(|| self.now())
    }
}

impl Clock for DevClock {
    fn now(&self) -> DateTime<Utc> {
        // `try_advance` keeps the offset small enough for this sum.
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e1_the_dev_clock_moves_forward_only_and_never_past_its_latest_time() {
        let clock = DevClock::default();
        let before = clock.now();
        let moved = clock
            .try_advance(Duration::hours(1))
            .expect("an hour is fine");
        assert!(moved >= before + Duration::hours(1));
        assert_eq!(clock.try_advance(Duration::seconds(-1)), None, "never back");
        let offset = clock.offset_ms.load(Ordering::SeqCst);
        let to_latest = DevClock::latest() - clock.now();
        assert_eq!(clock.try_advance(to_latest + Duration::days(1)), None);
        assert_eq!(clock.try_advance(Duration::MAX), None);
        assert_eq!(
            clock.offset_ms.load(Ordering::SeqCst),
            offset,
            "a refused move changes nothing"
        );
        assert!(clock.try_advance(to_latest - Duration::days(1)).is_some());
        assert!(clock.now() <= DevClock::latest());
    }
}
