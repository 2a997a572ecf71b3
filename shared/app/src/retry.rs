//! Read-decide-write under contention: a use case reads, decides with the core, and writes
//! on the condition that nothing changed; losing that race means reading again. After
//! [`MAX_ATTEMPTS`] lost races the caller is told to try again later (503 `BUSY` with
//! `Retry-After`): contention is never a 500, and nothing was written. Between tries a
//! loser waits a random while that grows with its losses ([`backoff`]), so that racers
//! that lost together do not all come back together.
use market_core::error::Problem;

use super::{AppError, AppResult};
use crate::store::StoreError;

/// How often a use case re-reads and tries again after losing a race on a condition.
pub const MAX_ATTEMPTS: usize = 8;

/// Runs `attempt` again while it loses races on its write conditions.
pub(crate) async fn retrying<T, F, Fut>(app: &super::App, mut attempt: F) -> AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Attempt>>,
{
    for lost in 1..=MAX_ATTEMPTS as u32 {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Attempt::LostRace) if (lost as usize) < MAX_ATTEMPTS => {
                app.timer.sleep(backoff(lost)).await
            }
            Err(Attempt::LostRace) => {}
            Err(Attempt::Failed(e)) => return Err(e),
        }
    }
    Err(Problem::busy(format!(
        "others changed the same items {MAX_ATTEMPTS} times while we tried; try again"
    ))
    .into())
}

/// The wait after `lost` lost races in a row: a random time up to 5 ms × 2^(lost - 1), at
/// most 100 ms ("full jitter"). Eight tries wait at most ~0.4 s in all.
pub fn backoff(lost: u32) -> std::time::Duration {
    let ceiling = (5u64 << lost.saturating_sub(1).min(5)).min(100);
    std::time::Duration::from_millis(fastrand::u64(0..=ceiling))
}

/// The outcome of one try of a read-decide-write.
pub(crate) enum Attempt {
    /// A condition failed: something changed since the read. Read again.
    LostRace,
    Failed(AppError),
}

impl<E: Into<AppError>> From<E> for Attempt {
    fn from(e: E) -> Attempt {
        Attempt::Failed(e.into())
    }
}

/// Maps a transaction's outcome: a failed condition means "read again".
pub(crate) fn written(result: Result<(), StoreError>) -> Result<(), Attempt> {
    match result {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(Attempt::LostRace),
        Err(e) => Err(Attempt::Failed(e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_after_a_lost_race_is_random_grows_and_is_capped() {
        let most = |lost| (0..2_000).map(|_| backoff(lost)).max().unwrap();
        let least = |lost| (0..2_000).map(|_| backoff(lost)).min().unwrap();
        assert!(most(1) <= std::time::Duration::from_millis(5));
        assert!(most(3) <= std::time::Duration::from_millis(20));
        assert!(most(3) > std::time::Duration::from_millis(10), "it grows");
        assert!(most(8) <= std::time::Duration::from_millis(100), "capped");
        assert!(
            least(8) < std::time::Duration::from_millis(20),
            "random, from zero"
        );
    }
}
