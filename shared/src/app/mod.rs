//! Use cases: read from the store, decide with the pure core, write on conditions.
//! Each module is one area of the product; `repo` is the one place that knows the key layout.
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::adapters::captcha::Captcha;
use crate::adapters::clock::{Clock, DevClock};
use crate::adapters::payment::PaymentProvider;
use crate::adapters::queue::Queue;
use crate::core::error::{Code, Problem};
use crate::core::policy::Policy;
use crate::store::{Store, StoreError};

pub mod accounts;
pub mod fees;
pub mod idempotency;
pub mod lifecycle;
pub mod listings;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod pushes;
pub mod rate_limit;
pub mod repo;
pub mod sweep;
pub mod views;

/// Everything a use case needs: the ports and the policy. Built once per process.
pub struct App {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub queue: Arc<dyn Queue>,
    pub provider: Arc<dyn PaymentProvider>,
    pub captcha: Arc<dyn Captcha>,
    pub policy: Policy,
    /// Set in the local runner only: the clock `POST /dev/clock/advance` moves.
    pub dev_clock: Option<Arc<DevClock>>,
}

impl App {
    /// The time every rule of this request is judged at (E1: the server's clock).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A fresh ULID stamped with the marketplace clock.
    pub fn ulid(&self) -> ulid::Ulid {
        ulid::Ulid::from_datetime(self.now().into())
    }
}

/// Why a use case did not succeed: a refusal (the caller's to fix) or a failure (ours).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Refused(#[from] Problem),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::BadCursor => Problem::new(
                Code::InvalidRequest,
                "the cursor is not one this list gave out",
            )
            .into(),
            StoreError::Conflict { failed } => AppError::Internal(anyhow::anyhow!(
                "the store kept refusing the write (contention at {failed:?})"
            )),
            StoreError::Other(e) => AppError::Internal(e),
        }
    }
}

/// Result of a use case.
pub type AppResult<T> = Result<T, AppError>;

/// How often a use case re-reads and tries again after losing a race on a condition.
pub const MAX_ATTEMPTS: usize = 8;
