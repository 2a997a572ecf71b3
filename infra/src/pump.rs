//! The local stand-ins for SQS triggers and the EventBridge schedule: a pump that hands due
//! in-process messages to the same consumer functions the Lambdas run, and a sweep timer.
use std::sync::Arc;
use std::time::Duration;

use shared::adapters::queue::{InProcessQueue, Message, Topic};
use shared::App;

/// Delivers every message due now; failed ones go back with a backoff (or to the dead
/// letters). Returns how many were handled successfully.
pub async fn deliver_due(app: &App, queue: &InProcessQueue) -> usize {
    let mut handled = 0;
    for message in queue.take_due() {
        if deliver(app, &message).await {
            handled += 1;
        } else {
            queue.retry(message);
        }
    }
    handled
}

async fn deliver(app: &App, message: &Message) -> bool {
    let outcome = match message.topic {
        Topic::PaymentNotifications => fn_pay_callback::handle_message(app, &message.body)
            .await
            .map(|_| ()),
        Topic::OrderDeadlines => fn_expire_sweeper::handle_deadline(app, &message.body)
            .await
            .map(|_| ()),
    };
    match outcome {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(topic = ?message.topic, error = ?e, "message failed; it will be retried");
            false
        }
    }
}

/// Runs the pump for ever: woken by each send, and polling for delayed messages.
pub async fn run_queue(app: Arc<App>, queue: Arc<InProcessQueue>) {
    loop {
        tokio::select! {
            _ = queue.sent() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        deliver_due(&app, &queue).await;
    }
}

/// Runs the sweep every `every` (the EventBridge schedule's stand-in).
pub async fn run_sweeper(app: Arc<App>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = shared::app::sweep::sweep(&app).await {
            tracing::warn!(error = ?e, "sweep failed; the next one retries");
        }
    }
}
