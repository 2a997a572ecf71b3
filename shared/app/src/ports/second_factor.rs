//! The second-factor port (P12): what proves the account holder before a push is published
//! or accepted, beside the session. Today the security password (an Argon2id hash in the
//! store, `market-adapters::second_factor`); a TOTP or SMS adapter can take its place. The
//! policy (when it is required) and the lock after wrong tries are the use case's
//! (`crate::security`), the same whatever the factor.
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::AppResult;
use market_core::ids::AccountId;
use market_core::security::SecurityPassword;

/// What a check of an answer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The answer is right; the factor is at this version (the condition a change of it is
    /// written on, so that two changes cannot both win).
    Right { version: u64 },
    /// Wrong, or the account has no factor set.
    Wrong,
}

/// The second-factor port.
#[async_trait]
pub trait SecondFactor: Send + Sync {
    /// Whether `account` has set the factor up.
    async fn is_set(&self, account: &AccountId) -> AppResult<bool>;

    /// Whether `answer` is right for `account`. The caller has counted the try already:
    /// this only answers. Never logs the answer.
    async fn verify(&self, account: &AccountId, answer: &SecurityPassword) -> AppResult<Verdict>;

    /// Sets `account`'s secret at `now`: a first one (`replacing: None`, written only if
    /// there is none), or in place of the one at the version a right answer was checked
    /// against (written only if unchanged since). Only what proves it is stored, never the
    /// secret itself.
    async fn set(
        &self,
        account: &AccountId,
        secret: &SecurityPassword,
        replacing: Option<u64>,
        now: DateTime<Utc>,
    ) -> AppResult<()>;
}
