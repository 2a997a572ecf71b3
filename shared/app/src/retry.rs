//! Read-decide-write under contention: a use case reads, decides with the core, and writes
//! on the condition that nothing changed; losing that race means reading again. After
//! [`MAX_ATTEMPTS`] lost races the caller is told to try again later (503 `BUSY` with
//! `Retry-After`): contention is never a 500, and nothing was written.
use market_core::error::Problem;

use super::{AppError, AppResult};
use crate::store::StoreError;

/// How often a use case re-reads and tries again after losing a race on a condition.
pub const MAX_ATTEMPTS: usize = 8;

/// Runs `attempt` again while it loses races on its write conditions.
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Attempt>>,
{
    for _ in 0..MAX_ATTEMPTS {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Attempt::LostRace) => continue,
            Err(Attempt::Failed(e)) => return Err(e),
        }
    }
    Err(Problem::busy(format!(
        "others changed the same items {MAX_ATTEMPTS} times while we tried; try again"
    ))
    .into())
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
