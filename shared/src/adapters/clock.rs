//! The clock port (E1: every deadline is judged by the server clock, read here only).
use chrono::{DateTime, Duration, Utc};
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
    /// Moves the clock forward (never back: deadlines already passed stay passed).
    pub fn advance(&self, by: Duration) -> DateTime<Utc> {
        let ms = by.num_milliseconds().max(0);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
        self.now()
    }
}

impl Clock for DevClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}
