//! O7: order attempts per account per minute, push publications per seller per minute
//! (a publish-and-withdraw loop cannot flood a buyer's inbox), and refreshes per account
//! per minute (O6: each asks the payment provider). Each counter lives in the
//! store, so a limit holds across every Lambda instance, and is one atomic increment, so
//! a burst from one account is counted exactly and never turns into lost races.
use chrono::{Duration, Timelike};

use super::repo;
use super::store::{Expect, Item, StoreError, Write};
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
    // The counter also takes part in orders' transactions: DynamoDB refuses an update of an
    // item a transaction is writing that instant (Busy); it is done a moment later.
    let mut tries = 0;
    let counted = loop {
        tries += 1;
        match app
            .store
            .increment(&pk, &sk, u64::from(limit), Some(ttl))
            .await
        {
            Err(StoreError::Busy(why)) if tries < COUNT_TRIES => {
                tracing::debug!(%pk, why, tries, "counter busy; counting again");
            }
            other => break other?,
        }
    };
    match counted {
        Some(_) => Ok(()),
        None => Err(refusal(app, what).into()),
    }
}

/// How often an attempt is counted again while its counter is busy.
const COUNT_TRIES: u32 = 5;

/// An attempt counted inside the transaction it leads to (issue 15: the counter read with
/// the operation's other reads, its `ADD` one action of the operation's transaction, not a
/// request of its own). The write expects the count that was read, so two attempts at once
/// cannot both take the last place: the loser's transaction names the counter, and
/// [`InTransaction::fall_back`] counts it the atomic way.
#[derive(Debug, Clone)]
pub struct InTransaction {
    what: Counted,
    account: AccountId,
    key: (String, String),
    /// The count read (the counter item's version; 0 when absent).
    read: u64,
}

impl InTransaction {
    /// The counter's key, to read with the operation's other keys.
    pub fn key(app: &App, account: &AccountId, what: Counted) -> (String, String) {
        repo::rate_key(what.name(), account, app.now())
    }

    /// Checks the count read at `key` (`found`: the counter item, if any) against the
    /// limit: at the limit, `RATE_LIMITED` and nothing counted, as [`count`] refuses. The
    /// write goes to the key read, even when a minute turned meanwhile.
    pub fn check(
        app: &App,
        account: &AccountId,
        what: Counted,
        key: (String, String),
        found: Option<&Item>,
    ) -> AppResult<InTransaction> {
        let read = found.map_or(0, |item| item.version);
        if read >= u64::from(what.limit(app)) {
            return Err(refusal(app, what).into());
        }
        Ok(InTransaction {
            what,
            account: account.clone(),
            key,
            read,
        })
    }

    /// The transaction's action that counts the attempt.
    pub fn write(&self, app: &App) -> Write {
        let mut item = Item::new(self.key.0.clone(), self.key.1.clone(), String::new());
        item.ttl = Some((app.now() + Duration::minutes(2)).timestamp());
        let expect = match self.read {
            0 => Expect::Absent,
            n => Expect::Version(n),
        };
        Write::Put(item, expect)
    }

    /// Counts the attempt by itself (one atomic increment), when it is not counted by a
    /// transaction: none was made, or the counter moved since it was read.
    pub async fn fall_back(&self, app: &App) -> AppResult<()> {
        count(app, &self.account, self.what).await
    }
}

fn refusal(app: &App, what: Counted) -> Problem {
    let now = app.now();
    Problem::new(
        Code::RateLimited,
        format!(
            "at most {} {} attempts a minute; try again in a minute ({})",
            what.limit(app),
            what.name(),
            what.rule()
        ),
    )
    .with_retry_after(60 - now.second())
}
