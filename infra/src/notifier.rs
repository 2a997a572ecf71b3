//! The local runner's notifier (N1): what the DynamoDB Stream and the `notify` function do
//! in the cloud. Every transaction that creates outbox messages hands their ids to the
//! feed; this task delivers each (emails into the mailbox and on over SMTP, notices into
//! inboxes), off the request's time. A message it cannot deliver keeps its backoff in the
//! store and is retried by the sweep, as one left by a crash is.
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use market_app::ports::outbox_feed::OutboxFeed;
use market_app::App;

/// The feed: a channel to the notifier task.
pub struct LocalFeed {
    tx: mpsc::UnboundedSender<String>,
}

impl LocalFeed {
    /// The feed and the receiving end the notifier task reads.
    pub fn new() -> (LocalFeed, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (LocalFeed { tx }, rx)
    }
}

impl OutboxFeed for LocalFeed {
    fn committed(&self, ids: &[String]) {
        for id in ids {
            // Closed only while the runner stops: the sweep delivers it after a restart.
            let _ = self.tx.send(id.clone());
        }
    }
}

/// Delivers each message the feed names until `stop`.
pub async fn run_notifier(
    app: Arc<App>,
    mut committed: mpsc::UnboundedReceiver<String>,
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
    }
}
