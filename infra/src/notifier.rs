//! The local runner's notifier (N1): what the DynamoDB Stream and the `notify` function do
//! in the cloud. Every transaction that creates outbox messages hands their ids to the
//! feed; this task delivers each (emails into the mailbox and on over SMTP, notices into
//! inboxes), off the request's time. A message it cannot deliver keeps its backoff in the
//! store and is retried by the sweep, as one left by a crash is.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Notify};

use market_app::ports::outbox_feed::OutboxFeed;
use market_app::App;

/// The feed: a channel to the notifier task.
pub struct LocalFeed {
    tx: mpsc::UnboundedSender<String>,
    progress: Progress,
}

/// How far the notifier is behind the feed: the dev routes wait for it to catch up before
/// they sweep and answer, so a test reads inboxes and the mailbox once they are settled.
#[derive(Clone, Default)]
pub struct Progress {
    pending: Arc<AtomicUsize>,
    caught_up: Arc<Notify>,
}

impl Progress {
    /// Waits until every message handed on so far was tried, or `at_most` passed.
    pub async fn caught_up(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, async {
            loop {
                let notified = self.caught_up.notified();
                if self.pending.load(Ordering::SeqCst) == 0 {
                    return;
                }
                notified.await;
            }
        })
        .await;
    }

    fn done_one(&self) {
        if self.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.caught_up.notify_waiters();
        }
    }
}

impl LocalFeed {
    /// The feed, the receiving end the notifier task reads, and its progress.
    pub fn new() -> (LocalFeed, mpsc::UnboundedReceiver<String>, Progress) {
        let (tx, rx) = mpsc::unbounded_channel();
        let progress = Progress::default();
        (
            LocalFeed {
                tx,
                progress: progress.clone(),
            },
            rx,
            progress,
        )
    }
}

impl OutboxFeed for LocalFeed {
    fn committed(&self, ids: &[String]) {
        for id in ids {
            self.progress.pending.fetch_add(1, Ordering::SeqCst);
            // Closed only while the runner stops: the sweep delivers it after a restart.
            if self.tx.send(id.clone()).is_err() {
                self.progress.done_one();
            }
        }
    }
}

/// Delivers each message the feed names until `stop`.
pub async fn run_notifier(
    app: Arc<App>,
    mut committed: mpsc::UnboundedReceiver<String>,
    progress: Progress,
    mut stop: watch::Receiver<bool>,
) {
    while !*stop.borrow() {
        let id = tokio::select! {
            id = committed.recv() => match id {
                Some(id) => id,
                None => break,
            },
            _ = stop.changed() => break,
        };
        match market_app::outbox::deliver(&app, &id).await {
            Ok(true) => tracing::debug!(outbox = %id, "outbox message delivered"),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(outbox = %id, error = %e, "outbox message not delivered; the sweep retries it")
            }
        }
        progress.done_one();
    }
}
