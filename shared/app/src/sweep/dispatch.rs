//! The sweep's dispatcher: reads the keys of what is due through the due index (hourly
//! buckets of gsi5, in shards) and hands them on in batches to the workers (a queue in the
//! cloud and in the local runner). It reads keys only and changes no item, so it keeps up
//! with any rate: what takes time is the workers', many at once.
//!
//! Where it reads is kept in one cursor item:
//! - `from`: the oldest hour that may hold an item not yet handled;
//! - `handed_before`: every entry due before it has been handed on, since `full_at`.
//!
//! Most runs read only what became due since `handed_before`, so an item still in a
//! worker's hands is not handed again every minute. Every [`LEASE`] a full read starts at
//! `from` and hands on again whatever is still there: an item that could not move on yet
//! (a listing held by an order being paid), a batch a worker lost, an index entry that
//! showed up late ([`INDEX_LAG`]). Handlers are idempotent, so an item handed twice
//! changes once.
use async_trait::async_trait;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

use super::items::DueKey;
use super::report::SweepReport;
use super::work::WorkBatch;
use crate::due_index;
use crate::ports::queue::Topic;
use crate::repo::{self, Versioned};
use crate::store::{Item, Query, StoreError};
use crate::{App, AppError, AppResult};

/// How far back a sweep looks when it has no cursor yet.
pub const FIRST_LOOKBACK_HOURS: i64 = 72;

/// How long after its time an index entry may still be on its way (index propagation, a
/// request that read the clock before the sweep and wrote after it): a full read starts at
/// the hour of `now - INDEX_LAG` at the latest, so such an entry is still read.
pub const INDEX_LAG: Duration = Duration::minutes(5);

/// How long what a full read handed on is left to the workers before the next full read
/// hands on again what is still due: the time the workers have to drain a flash sale's
/// worth of due items.
pub const LEASE: Duration = Duration::minutes(10);

/// The most hourly buckets one run reads (62 days: a 60-day lock and the 7-day windows
/// fit in one). After a long outage, or a dev clock moved by years, each run catches up
/// this far and the next one goes on from there: one run's cost stays bounded, and the
/// rules do not wait for it (E1: every use case reads the deadline itself).
pub const MAX_BUCKETS_PER_SWEEP: i64 = 24 * 62;

/// How long one run goes on reading (it stops between groups of shards; the next run goes
/// on from the hour it stopped in).
pub const DISPATCH_BUDGET: Duration = Duration::seconds(30);

/// Due items in one work batch (a queue message of at most ~12 KB with 200-byte keys).
pub const WORK_BATCH: usize = 50;

/// Keys gathered before they are handed on (whole batches only, the rest at the end).
const HANDED_TOGETHER: usize = 10 * WORK_BATCH;

/// How many shards of a bucket a run reads at once.
const SHARD_READS_AT_ONCE: usize = 16;

/// Where the workers' batches go.
#[async_trait]
pub trait WorkSink: Send + Sync {
    async fn hand(&self, batches: Vec<WorkBatch>) -> AppResult<()>;
}

/// The work queue (`Topic::SweepWork`): SQS in the cloud, the durable queue locally.
pub struct ToQueue<'a>(pub &'a App);

#[async_trait]
impl WorkSink for ToQueue<'_> {
    async fn hand(&self, batches: Vec<WorkBatch>) -> AppResult<()> {
        let bodies = batches.iter().map(WorkBatch::to_body).collect();
        self.0
            .queue
            .send_all(Topic::SweepWork, bodies)
            .await
            .map_err(|e| AppError::Internal(e.context("handing on due items")))
    }
}

/// Where the next run reads.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Cursor {
    from: DateTime<Utc>,
    #[serde(default)]
    handed_before: Option<DateTime<Utc>>,
    #[serde(default)]
    full_at: Option<DateTime<Utc>>,
}

fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

/// Reads what is due at the app clock's now and hands it to `sink` in batches of
/// [`WORK_BATCH`], then moves the cursor on (the sink holds the work durably). The report
/// holds what was read (`items_read`) and whether the walk stopped short of now (`behind`,
/// `out_of_time`).
pub async fn dispatch(app: &App, sink: &dyn WorkSink) -> AppResult<SweepReport> {
    let (report, next) = hand_on(app, sink).await?;
    next.save(app).await?;
    Ok(report)
}

/// Where the cursor goes once what was handed on is safe: at once when it is on a queue,
/// only after the work is done when it is held in memory (a process killed in between
/// reads it again).
pub struct NextCursor {
    read: Option<Versioned<Cursor>>,
    next: Cursor,
}

impl NextCursor {
    pub async fn save(self, app: &App) -> AppResult<()> {
        let (cursor_pk, cursor_sk) = repo::sweep_cursor_key();
        let item = Item::new(
            cursor_pk,
            cursor_sk,
            serde_json::to_string(&self.next).map_err(|e| AppError::Internal(e.into()))?,
        );
        // Another run may have moved the cursor meanwhile; either cursor is safe (what both
        // handed on, the workers handle once).
        match app
            .transact(vec![repo::put(item, self.read.as_ref())])
            .await
        {
            Ok(()) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// [`dispatch`] without moving the cursor: what it read, and where the cursor goes.
pub async fn hand_on(app: &App, sink: &dyn WorkSink) -> AppResult<(SweepReport, NextCursor)> {
    let now = app.now();
    let mut report = SweepReport::default();
    let cursor: Option<Versioned<Cursor>> =
        repo::load(&*app.store, repo::sweep_cursor_key()).await?;
    let last_full = cursor.as_ref().and_then(|c| c.value.full_at);
    let handed = cursor.as_ref().and_then(|c| c.value.handed_before);
    // A clock that went back (or a run within the millisecond of the last) reads in full.
    let incremental = match (last_full, handed) {
        (Some(at), Some(handed)) if at <= now && now < at + LEASE && handed <= now => Some(handed),
        _ => None,
    };
    let start = match (incremental, &cursor) {
        (Some(handed), _) => handed,
        (None, Some(c)) => c.value.from,
        (None, None) => now - Duration::hours(FIRST_LOOKBACK_HOURS),
    }
    .min(now);
    let first = hour_of(start);
    let last = now.min(first + Duration::hours(MAX_BUCKETS_PER_SWEEP - 1));
    // The first hour not read through (the one the budget stopped in, or the one after
    // `last`).
    let mut reached = hour_of(last) + Duration::hours(1);
    let mut oldest_found: Option<DateTime<Utc>> = None;
    let mut pending: Vec<DueKey> = Vec::new();
    'walk: for hour in due_index::marked_hours(app, first, last).await? {
        for group in due_index::shard_queries(hour, incremental, now).chunks(SHARD_READS_AT_ONCE) {
            if app.now() - now > DISPATCH_BUDGET {
                report.out_of_time = true;
                reached = hour;
                break 'walk;
            }
            let keys: Vec<DueKey> =
                futures::future::try_join_all(group.iter().map(|q| read_all(app, q.clone())))
                    .await?
                    .into_iter()
                    .flatten()
                    .collect();
            if keys.is_empty() {
                continue;
            }
            oldest_found = Some(oldest_found.map_or(hour, |h| h.min(hour)));
            report.items_read += keys.len();
            pending.extend(keys);
            if pending.len() >= HANDED_TOGETHER {
                let whole = pending.len() - pending.len() % WORK_BATCH;
                let rest = pending.split_off(whole);
                sink.hand(batches_of(std::mem::replace(&mut pending, rest)))
                    .await?;
            }
        }
    }
    if !pending.is_empty() {
        sink.hand(batches_of(pending)).await?;
    }
    report.behind = reached <= now || report.out_of_time;
    let handed_before = if report.behind {
        reached
    } else {
        now + Duration::milliseconds(1)
    };
    let settled = hour_of(now - INDEX_LAG);
    let next = match (incremental, &cursor) {
        (Some(_), Some(c)) => Cursor {
            from: oldest_found.map_or(c.value.from, |h| h.min(c.value.from)),
            handed_before: Some(handed_before),
            full_at: c.value.full_at,
        },
        _ => Cursor {
            from: [oldest_found, Some(reached), Some(settled)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(settled),
            handed_before: Some(handed_before),
            full_at: Some(now),
        },
    };
    tracing::info!(
        items = report.items_read,
        full = incremental.is_none(),
        behind = report.behind,
        "due items handed on"
    );
    Ok((report, NextCursor { read: cursor, next }))
}

fn batches_of(keys: Vec<DueKey>) -> Vec<WorkBatch> {
    keys.chunks(WORK_BATCH)
        .map(|due| WorkBatch { due: due.to_vec() })
        .collect()
}

/// Every key one shard query finds, page after page.
async fn read_all(app: &App, mut query: Query) -> Result<Vec<DueKey>, StoreError> {
    let mut keys = Vec::new();
    loop {
        let page = app.store.query(query.clone()).await?;
        keys.extend(page.items.iter().map(|item| DueKey {
            pk: item.pk.clone(),
            sk: item.sk.clone(),
        }));
        match page.next {
            Some(next) if !page.items.is_empty() => query.after = Some(next),
            _ => return Ok(keys),
        }
    }
}
