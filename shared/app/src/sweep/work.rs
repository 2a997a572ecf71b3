//! The sweep's workers: each takes a batch of due items the dispatcher handed on and
//! handles them a few at a time, each on its own time budget, so one slow or failing item
//! never delays the others. An item whose handling fails is logged with its key, counted,
//! and moved to a later time in the due index with backoff ([`defer`]); the items a worker
//! had no time to start are handed on in a batch of their own.
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::items::{self, DueKey};
use super::report::{SweepFailure, SweepReport};
use crate::ports::queue::Topic;
use crate::repo::{self, Versioned};
use crate::store::{Expect, Index, Item, Write};
use crate::{metrics, App, AppError, AppResult};

/// Items one worker handles at once (each mostly waits on the store or the provider).
pub const ITEMS_AT_ONCE: usize = 16;

/// The longest one item may take (real time): an item that calls the provider twice while
/// it is down takes 20 s. Past it the item is deferred like a failed one.
pub const ITEM_BUDGET: std::time::Duration = std::time::Duration::from_secs(25);

/// How long a worker goes on starting items: the last one started may take
/// [`ITEM_BUDGET`] more, then be deferred, and the rest handed on, all within its Lambda's
/// 60 s.
pub const WORK_BUDGET: Duration = Duration::seconds(20);

/// The longest a failing item waits for its next try.
pub const MAX_BACKOFF: Duration = Duration::hours(1);

/// What the dispatcher hands to a worker: the keys of due items (a queue message's body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkBatch {
    pub due: Vec<DueKey>,
}

impl WorkBatch {
    pub fn to_body(&self) -> String {
        serde_json::to_string(self).expect("a work batch serialises")
    }

    pub fn from_body(body: &str) -> AppResult<WorkBatch> {
        serde_json::from_str(body).map_err(|e| {
            AppError::Internal(anyhow::anyhow!(
                "a sweep work message that is not a batch: {e}"
            ))
        })
    }
}

/// What one worker did, and the items it had no time to start.
#[derive(Debug, Default)]
pub struct Worked {
    pub report: SweepReport,
    pub left: Vec<DueKey>,
}

/// The wait before the next try of an item that failed `attempts` times in a row:
/// 1, 2, 4 … minutes, at most [`MAX_BACKOFF`].
pub fn backoff(attempts: u32) -> Duration {
    let minutes = 1i64 << attempts.saturating_sub(1).min(6);
    Duration::minutes(minutes).min(MAX_BACKOFF)
}

enum Outcome {
    Done(Box<SweepReport>),
    Left(DueKey),
}

/// Handles the due items `keys`, [`ITEMS_AT_ONCE`] at a time, until [`WORK_BUDGET`] has
/// passed (the first item is always started, so every batch moves on).
pub async fn work(app: &App, keys: Vec<DueKey>) -> Worked {
    let started = app.now();
    let outcomes: Vec<Outcome> = futures::stream::iter(keys.into_iter().enumerate())
        .map(|(position, key)| async move {
            if position > 0 && app.now() - started > WORK_BUDGET {
                return Outcome::Left(key);
            }
            Outcome::Done(Box::new(one(app, &key).await))
        })
        .buffer_unordered(ITEMS_AT_ONCE)
        .collect()
        .await;
    let mut worked = Worked::default();
    for outcome in outcomes {
        match outcome {
            Outcome::Done(report) => worked.report.absorb(*report),
            Outcome::Left(key) => worked.left.push(key),
        }
    }
    let at = app.now();
    for (metric, value) in [
        (metrics::SWEEP_PROCESSED, worked.report.processed),
        (metrics::SWEEP_FAILED, worked.report.failed),
        (
            metrics::REFUNDS_PENDING,
            worked.report.refunds_retrying.len(),
        ),
        (
            metrics::PAYOUTS_WAITING,
            worked.report.payouts_waiting.len(),
        ),
    ] {
        metrics::emit(&metrics::count(metric, value, at));
    }
    worked
}

/// One item, on its own budget; a failure (or running out of time) defers it.
async fn one(app: &App, key: &DueKey) -> SweepReport {
    let mut report = SweepReport::default();
    let handled = {
        let handling = std::pin::pin!(items::due(app, key, &mut report));
        match futures::future::select(handling, app.timer.sleep(ITEM_BUDGET)).await {
            futures::future::Either::Left((handled, _)) => handled,
            futures::future::Either::Right(_) => Err(AppError::Internal(anyhow::anyhow!(
                "not done within its {} s",
                ITEM_BUDGET.as_secs()
            ))),
        }
    };
    match handled {
        Ok(()) => report.processed += 1,
        Err(e) => {
            report.failed += 1;
            report.failures.push(defer(app, key, &e).await);
        }
    }
    report
}

/// A work message from the queue: its items handled, and those left for lack of time handed
/// on as a new message (an error only when that hand-on fails: then the message comes back
/// whole, which the handlers allow).
pub async fn handle_message(app: &App, body: &str) -> AppResult<SweepReport> {
    let batch = WorkBatch::from_body(body)?;
    let count = batch.due.len();
    let worked = work(app, batch.due).await;
    if !worked.left.is_empty() {
        let rest = WorkBatch { due: worked.left };
        app.queue
            .send_all(Topic::SweepWork, vec![rest.to_body()])
            .await
            .map_err(|e| AppError::Internal(e.context("handing on the items left")))?;
        tracing::warn!(
            items = count,
            left = rest.due.len(),
            "out of time: the items not started are handed on"
        );
    }
    let report = worked.report;
    tracing::info!(
        items = count,
        processed = report.processed,
        failed = report.failed,
        "sweep work done"
    );
    Ok(report)
}

/// The failures of one due item in a row, kept beside it for its backoff.
#[derive(Debug, Serialize, Deserialize)]
struct FailureRecord {
    attempts: u32,
    last_error: String,
    retry_at: DateTime<Utc>,
}

/// An item whose handling failed: logged with its key; then moved in the due index to the
/// time of its next try (the entity itself is not changed, only where the sweep finds it;
/// the move is conditional on the item being as read, so it never undoes a change), and
/// its failures counted. If even that fails, the item stays where it is and the next full
/// read of the dispatcher hands it on again.
async fn defer(app: &App, key: &DueKey, error: &AppError) -> SweepFailure {
    let now = app.now();
    let moved: AppResult<(u32, Option<DateTime<Utc>>)> = async {
        let failure_key = repo::sweep_failure_key(&key.pk, &key.sk);
        let previous: Option<Versioned<FailureRecord>> =
            repo::load(&*app.store, failure_key.clone()).await?;
        let attempts = previous.as_ref().map_or(0, |f| f.value.attempts) + 1;
        let Some(current) = app.store.get(&key.pk, &key.sk).await? else {
            return Ok((attempts, None));
        };
        if !current.indexes.contains_key(&Index::Gsi5) {
            return Ok((attempts, None)); // no longer due
        }
        let retry_at = now + backoff(attempts);
        let mut later = current.clone();
        later
            .indexes
            .insert(Index::Gsi5, repo::due_entry(&key.pk, retry_at));
        let record = FailureRecord {
            attempts,
            last_error: error.to_string(),
            retry_at,
        };
        let mut record_item = Item::new(
            failure_key.0,
            failure_key.1,
            serde_json::to_string(&record).map_err(|e| AppError::Internal(e.into()))?,
        );
        record_item.ttl = Some((retry_at + Duration::days(7)).timestamp());
        app.transact(vec![
            Write::Put(later, Expect::Version(current.version)),
            repo::put(record_item, previous.as_ref()),
        ])
        .await?;
        Ok((attempts, Some(retry_at)))
    }
    .await;
    let key = key.to_string();
    let (attempts, retry_at) = match moved {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!(key, error = %e, "could not move the failed item to a later try; the next full read hands it on again");
            (1, None)
        }
    };
    tracing::error!(key, attempts, retry_at = ?retry_at, error = %error, "sweep item failed");
    SweepFailure {
        key,
        error: error.to_string(),
        attempts,
        retry_at,
    }
}
