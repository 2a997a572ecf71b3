//! The expiry sweep (E1): moves on whatever is due with the same conditional use cases the
//! requests use, so two sweeps at once, or a sweep racing a payment, change nothing twice.
//! Its work follows what is due, never the size of the table: no scans, only the due
//! index's buckets.
//!
//! It fans out: a dispatcher ([`dispatch`]) reads the keys of what is due and hands them
//! on in batches; workers ([`work`]), many at once, handle each item on its own budget.
//! In the cloud the schedule runs the dispatcher and the work queue's event source runs
//! the workers (`expire-sweeper`); [`sweep`] runs both here, for the dev routes and tests.
use futures::StreamExt;

mod dispatch;
mod items;
mod report;
mod work;

pub use dispatch::{
    dispatch, hand_on, NextCursor, ToQueue, WorkSink, DISPATCH_BUDGET, FIRST_LOOKBACK_HOURS,
    INDEX_LAG, LEASE, MAX_BUCKETS_PER_SWEEP, WORK_BATCH,
};
pub use items::{order_due, DueKey};
pub use report::{SweepFailure, SweepReport};
pub use work::{
    backoff, handle_message, work, WorkBatch, Worked, ITEMS_AT_ONCE, ITEM_BUDGET, MAX_BACKOFF,
    WORK_BUDGET,
};

use crate::{App, AppResult};

/// Workers [`sweep`] runs at once.
pub const INLINE_WORKERS: usize = 4;

/// The batches a dispatcher hands on, kept to be worked in this process.
#[derive(Default)]
pub struct Collected(std::sync::Mutex<Vec<WorkBatch>>);

impl Collected {
    pub fn take(&self) -> Vec<WorkBatch> {
        std::mem::take(&mut *self.0.lock().expect("collected batches"))
    }
}

#[async_trait::async_trait]
impl WorkSink for Collected {
    async fn hand(&self, batches: Vec<WorkBatch>) -> AppResult<()> {
        self.0.lock().expect("collected batches").extend(batches);
        Ok(())
    }
}

/// Runs the sweep at the app clock's now, here and to its end: the dispatcher, then every
/// batch it handed on, [`INLINE_WORKERS`] at once (what a worker had no time for is worked
/// again); the cursor moves only then. Returns what the dispatcher read and what the
/// workers changed.
pub async fn sweep(app: &App) -> AppResult<SweepReport> {
    let collected = Collected::default();
    let (mut report, next) = hand_on(app, &collected).await?;
    let mut pending: Vec<Vec<DueKey>> = collected.take().into_iter().map(|b| b.due).collect();
    while !pending.is_empty() {
        let worked: Vec<Worked> =
            futures::stream::iter(pending.drain(..).map(|due| work(app, due)))
                .buffer_unordered(INLINE_WORKERS)
                .collect()
                .await;
        for worked in worked {
            report.absorb(worked.report);
            if !worked.left.is_empty() {
                pending.push(worked.left);
            }
        }
    }
    next.save(app).await?;
    if report.failed > 0 {
        tracing::warn!(
            processed = report.processed,
            failed = report.failed,
            "sweep finished with failures"
        );
    }
    Ok(report)
}
