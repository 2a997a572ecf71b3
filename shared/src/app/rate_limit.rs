//! O7: order attempts per account per minute. The counter lives in the store, so the limit
//! holds across every Lambda instance, not per process.
use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::accounts::{retrying, written};
use super::repo::{self, Versioned};
use super::{App, AppResult};
use crate::core::error::{Code, Problem};
use crate::core::ids::AccountId;
use crate::store::Item;

#[derive(Debug, Serialize, Deserialize)]
struct Counter {
    count: u32,
}

/// Counts one order attempt of `account`; refuses with `RATE_LIMITED` past the limit.
pub async fn count_order_attempt(app: &App, account: &AccountId) -> AppResult<()> {
    let limit = app.policy.order_rate_per_minute;
    retrying(|| async {
        let now = app.now();
        let minute = now.format("%Y%m%d%H%M").to_string();
        let key = (format!("RATE#{account}#{minute}"), "R".to_owned());
        let old: Option<Versioned<Counter>> = repo::load(&*app.store, key.clone()).await?;
        let count = old.as_ref().map_or(0, |c| c.value.count);
        if count >= limit {
            return Err(Problem::new(
                Code::RateLimited,
                format!("at most {limit} order attempts a minute; try again in a minute (O7)"),
            )
            .into());
        }
        let mut item = Item::new(
            key.0,
            key.1,
            serde_json::json!({ "count": count + 1 }).to_string(),
        );
        item.ttl = Some((now + Duration::minutes(2)).timestamp());
        written(
            app.store
                .transact(vec![repo::put(item, old.as_ref())])
                .await,
        )
    })
    .await
}
