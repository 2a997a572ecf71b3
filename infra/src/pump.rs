//! The local stand-ins for SQS triggers and the EventBridge schedule: consumers that hand
//! queued messages to the same functions the Lambdas run (deleting a message only once its
//! handler succeeded, releasing it with a backoff otherwise), the sweep's workers (N of
//! them on the work queue) and the dispatcher's timer. All stop at a shutdown signal after
//! the batch or run in hand.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use market_adapters::queue::{
    topic_name, visibility_timeout, DurableQueue, QueueConsumer, Received, SqsQueue, Topic, TOPICS,
};
use market_app::App;

/// Messages received at once.
const BATCH: usize = 10;

/// Delivers every message of the in-process queue that is visible now, after the batch any
/// other consumer of this process has in hand; failed ones come back after a backoff (or go
/// to the dead letters). Returns how many were handled successfully.
pub async fn deliver_due(app: &Arc<App>, queue: &DurableQueue) -> usize {
    let _turn = queue.turn().await;
    deliver_visible(app, queue, &TOPICS).await
}

/// The topics the single consumer takes; the work queue has its own workers.
const CONSUMED_ALONE: [Topic; 2] = [Topic::PaymentNotifications, Topic::OrderDeadlines];

/// Delivers every message of `topics` that is visible now.
async fn deliver_visible(app: &Arc<App>, consumer: &dyn QueueConsumer, topics: &[Topic]) -> usize {
    let mut handled = 0;
    for &topic in topics {
        loop {
            let batch = match consumer.receive(topic, BATCH, visibility_timeout()).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(topic = topic_name(topic), error = %e, "receiving failed; tried again later");
                    break;
                }
            };
            if batch.is_empty() {
                break;
            }
            for message in batch {
                if process(app, consumer, &message).await {
                    handled += 1;
                }
            }
        }
    }
    handled
}

/// The wait before a failed message comes back: 2, 4, 8, 16 s (at most 30 s), so its five
/// receives span about half a minute, as the visibility timeout would, rather than a blink
/// of a short outage.
fn backoff(receives: u32) -> chrono::Duration {
    chrono::Duration::seconds(1i64 << receives.clamp(1, 5)).min(chrono::Duration::seconds(30))
}

/// A message's identity for logs: where it sits (the durable queue's key, with the
/// message's id) or its SQS receipt, cut short.
fn message_ref(message: &Received) -> &str {
    let last = message.handle.rsplit('\n').next().unwrap_or_default();
    &last[..last.len().min(80)]
}

/// Hands one message to its consumer; deletes it once handled, else releases it with a
/// [`backoff`]. A handler that panics counts as failed and stops nothing else.
async fn process(app: &Arc<App>, consumer: &dyn QueueConsumer, message: &Received) -> bool {
    let handled = {
        let (app, topic, body) = (app.clone(), message.topic, message.body.clone());
        match tokio::spawn(async move { handle(&app, topic, &body).await }).await {
            Ok(handled) => handled,
            Err(e) => {
                tracing::error!(topic = topic_name(message.topic), message = message_ref(message), receives = message.receives, error = %e, "the handler panicked; the message will be retried");
                false
            }
        }
    };
    let settled = if handled {
        consumer.ack(message).await
    } else {
        tracing::warn!(
            topic = topic_name(message.topic),
            message = message_ref(message),
            receives = message.receives,
            "message not handled; released for another try"
        );
        consumer.release(message, backoff(message.receives)).await
    };
    if let Err(e) = settled {
        // Not deleted: it comes back after its visibility timeout and is handled again,
        // which the consumers allow (they apply each result once).
        tracing::warn!(topic = topic_name(message.topic), message = message_ref(message), handled, error = %e, "could not settle a message");
    }
    handled
}

/// Hands one message body to its consumer, the same function the Lambda runs.
async fn handle(app: &App, topic: Topic, body: &str) -> bool {
    let outcome = match topic {
        Topic::PaymentNotifications => fn_pay_callback::handle_message(app, body).await.map(|_| ()),
        Topic::OrderDeadlines => fn_expire_sweeper::handle_deadline(app, body)
            .await
            .map(|_| ()),
        Topic::SweepWork => market_app::sweep::handle_message(app, body)
            .await
            .map(|_| ()),
    };
    match outcome {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(topic = topic_name(topic), error = ?e, "message failed; it will be retried");
            false
        }
    }
}

/// `MARKET_QUEUE=sqs`: the marketplace's queues on SQS's API (each with a dead-letter queue
/// after 5 receives, as the template has them), polled as Lambda's event source would.
pub struct SqsQueues {
    queue: Arc<SqsQueue>,
}

impl SqsQueues {
    /// Creates (or finds) the queues at `AWS_ENDPOINT_URL`.
    pub async fn open() -> anyhow::Result<SqsQueues> {
        let client = aws_sdk_sqs::Client::new(&market_adapters::config::aws().await);
        let mut urls = HashMap::new();
        let mut dead = HashMap::new();
        for topic in TOPICS {
            let name = format!("market-{}", topic_name(topic));
            let (url, dlq) = create_with_dead_letters(&client, &name).await?;
            urls.insert(topic, url);
            dead.insert(topic, dlq);
        }
        Ok(SqsQueues {
            queue: Arc::new(SqsQueue::new(client, urls).with_dead_letters(dead)),
        })
    }

    /// The queue port over these queues.
    pub fn adapter(&self) -> Arc<SqsQueue> {
        self.queue.clone()
    }

    /// One long-polling consumer per queue, and `workers` on the work queue, until `stop`.
    pub fn spawn_pollers(
        &self,
        app: Arc<App>,
        workers: usize,
        stop: watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        CONSUMED_ALONE
            .into_iter()
            .chain(std::iter::repeat_n(Topic::SweepWork, workers.max(1)))
            .map(|topic| {
                let (app, queue, stop) = (app.clone(), self.queue.clone(), stop.clone());
                tokio::spawn(poll(app, queue, topic, stop))
            })
            .collect()
    }
}

/// Creates `name` and `name-dlq`, the first redriving to the second after 5 receives.
pub async fn create_with_dead_letters(
    client: &aws_sdk_sqs::Client,
    name: &str,
) -> anyhow::Result<(String, String)> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let sqs = |e: &dyn std::fmt::Display| anyhow::anyhow!("creating the SQS queue {name}: {e}");
    let dlq = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .map_err(|e| sqs(&aws_sdk_sqs::error::DisplayErrorContext(&e)))?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sqs(&aws_sdk_sqs::error::DisplayErrorContext(&e)))?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap_or_default();
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": market_adapters::queue::MAX_RECEIVES,
    });
    let url = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .map_err(|e| sqs(&aws_sdk_sqs::error::DisplayErrorContext(&e)))?
        .queue_url
        .unwrap_or_default();
    Ok((url, dlq))
}

async fn poll(app: Arc<App>, queue: Arc<SqsQueue>, topic: Topic, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let batch = tokio::select! {
            batch = queue.receive(topic, BATCH, visibility_timeout()) => batch,
            _ = stop.changed() => break,
        };
        match batch {
            Ok(batch) => {
                for message in batch {
                    process(&app, &*queue, &message).await;
                }
            }
            Err(e) => {
                tracing::warn!(topic = topic_name(topic), error = %e, "SQS receive failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Runs the in-process consumer until `stop`: woken by each send, and polling for delayed
/// messages and ones whose visibility ran out. The batch in hand is finished first.
pub async fn run_queue(app: Arc<App>, queue: Arc<DurableQueue>, mut stop: watch::Receiver<bool>) {
    for topic in TOPICS {
        if let Ok(dead) = queue.dead_letters(topic).await {
            if !dead.is_empty() {
                tracing::warn!(topic = topic_name(topic), count = dead.len(), "dead letters wait: POST /dev/queue/redrive puts them back once their fault is fixed");
            }
        }
    }
    // What a previous run acknowledged but never handled is delivered first.
    deliver_due(&app, &queue).await;
    while !*stop.borrow() {
        tokio::select! {
            _ = queue.sent() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = stop.changed() => break,
        }
        let _turn = queue.turn().await;
        deliver_visible(&app, &*queue, &CONSUMED_ALONE).await;
    }
}

/// Runs `workers` sweep workers on the in-process work queue until `stop` (the work queue's
/// event source, `MaximumConcurrency` = `workers`).
pub fn spawn_sweep_workers(
    app: Arc<App>,
    queue: Arc<DurableQueue>,
    workers: usize,
    stop: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..workers.max(1))
        .map(|_| {
            let (app, queue, stop) = (app.clone(), queue.clone(), stop.clone());
            tokio::spawn(run_sweep_worker(app, queue, stop))
        })
        .collect()
}

/// One sweep worker: a work batch at a time, as one Lambda instance takes them.
async fn run_sweep_worker(
    app: Arc<App>,
    queue: Arc<DurableQueue>,
    mut stop: watch::Receiver<bool>,
) {
    while !*stop.borrow() {
        let batch = match queue.receive(Topic::SweepWork, 1, sweep_visibility()).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "receiving sweep work failed; tried again later");
                Vec::new()
            }
        };
        if batch.is_empty() {
            tokio::select! {
                _ = queue.sent() => {}
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = stop.changed() => break,
            }
            continue;
        }
        for message in batch {
            process(&app, &*queue, &message).await;
        }
    }
}

/// A work batch stays hidden while a worker may still be on it (the template's work queue
/// has 6 × the function's 60 s).
fn sweep_visibility() -> chrono::Duration {
    chrono::Duration::seconds(360)
}

/// Runs the sweep's dispatcher every `every` (the EventBridge schedule's stand-in) until
/// `stop`; the workers take what it hands on. The schedule and the deadline queue are the
/// expire-sweeper's triggers: while the dev clock holds the deadlines back to play a late
/// sweeper (`sweep: false`, E1), the schedule waits too.
pub async fn run_sweeper(
    app: Arc<App>,
    queue: Arc<DurableQueue>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    while !*stop.borrow() {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        // Q1: what the inline search feed could not index.
        market_app::search::feed::retry(&app).await;
        if queue.is_paused(Topic::OrderDeadlines) {
            continue;
        }
        let to_queue = market_app::sweep::ToQueue(&app);
        if let Err(e) = market_app::sweep::dispatch(&app, &to_queue).await {
            tracing::warn!(error = ?e, "sweep dispatch failed; the next one retries");
        }
    }
}

/// Q1: commits what was indexed and not yet searched for, every second, so the embedded
/// index on disk never lags the store by more than that (a search commits first anyway).
pub async fn run_search_commits(
    search: Arc<market_adapters::search::embedded::EmbeddedSearch>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while !*stop.borrow() {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        let search = search.clone();
        match tokio::task::spawn_blocking(move || search.commit_pending()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "committing the search index failed; the next tick retries")
            }
            Err(e) => tracing::warn!(error = %e, "the search commit task failed"),
        }
    }
}
