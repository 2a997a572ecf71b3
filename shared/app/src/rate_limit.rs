//! O7: order attempts per account per minute, push publications per seller per minute
//! (a publish-and-withdraw loop cannot flood a buyer's inbox), and refreshes per account
//! per minute (O6: each asks the payment provider). Each counter lives in the
//! store, so a limit holds across every Lambda instance, and is one atomic increment, so
//! a burst from one account is counted exactly and never turns into lost races.
use chrono::{Duration, Timelike};

use super::repo;
use super::{App, AppResult};
use market_core::error::{Code, Problem};
use market_core::ids::AccountId;

/// What is being counted.
#[derive(Debug, Clone, Copy)]
pub enum Counted {
    /// `POST /orders` (O7).
    OrderAttempt,
    /// `POST /pushes`.
    PushPublication,
    /// `POST /orders/{id}/refresh` and `POST /pushes/{id}/refresh` (O6), one budget.
    Refresh,
}

impl Counted {
    fn name(self) -> &'static str {
        match self {
            Counted::OrderAttempt => "order",
            Counted::PushPublication => "push",
            Counted::Refresh => "refresh",
        }
    }

    /// The rule the limit serves, named in the refusal.
    fn rule(self) -> &'static str {
        match self {
            Counted::OrderAttempt | Counted::PushPublication => "O7",
            Counted::Refresh => "O6",
        }
    }

    fn limit(self, app: &App) -> u32 {
        match self {
            Counted::OrderAttempt => app.policy.order_rate_per_minute,
            Counted::PushPublication => app.policy.push_rate_per_minute,
            Counted::Refresh => app.policy.refresh_rate_per_minute,
        }
    }
}

/// Counts one attempt of `account`; refuses with `RATE_LIMITED` (429, `Retry-After`: the
/// seconds to the next minute) past the limit. A refused attempt is not counted.
pub async fn count(app: &App, account: &AccountId, what: Counted) -> AppResult<()> {
    let limit = what.limit(app);
    let now = app.now();
    let (pk, sk) = repo::rate_key(what.name(), account, now);
    let ttl = (now + Duration::minutes(2)).timestamp();
    match app
        .store
        .increment(&pk, &sk, u64::from(limit), Some(ttl))
        .await?
    {
        Some(_) => Ok(()),
        None => Err(Problem::new(
            Code::RateLimited,
            format!(
                "at most {limit} {} attempts a minute; try again in a minute ({})",
                what.name(),
                what.rule()
            ),
        )
        .with_retry_after(60 - now.second())
        .into()),
    }
}
