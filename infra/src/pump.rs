//! The local stand-ins for SQS triggers and the EventBridge schedule: a pump that hands due
//! in-process messages to the same consumer functions the Lambdas run, and a sweep timer.
use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;

use market_adapters::queue::{InProcessQueue, Message, SqsQueue, Topic};
use market_app::App;

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
    handle(app, message.topic, &message.body).await
}

/// Hands one message to its consumer, the same function the Lambda runs.
async fn handle(app: &App, topic: Topic, body: &str) -> bool {
    let outcome = match topic {
        Topic::PaymentNotifications => fn_pay_callback::handle_message(app, body).await.map(|_| ()),
        Topic::OrderDeadlines => fn_expire_sweeper::handle_deadline(app, body)
            .await
            .map(|_| ()),
    };
    match outcome {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(topic = ?topic, error = ?e, "message failed; it will be retried");
            false
        }
    }
}

/// `MARKET_QUEUE=sqs`: the marketplace's queues on SQS's API, polled as Lambda's event
/// source mapping would (a failed message becomes visible again and is retried).
pub struct SqsQueues {
    client: aws_sdk_sqs::Client,
    urls: HashMap<Topic, String>,
}

impl SqsQueues {
    /// Creates (or finds) the queues at `AWS_ENDPOINT_URL`.
    pub async fn open() -> anyhow::Result<SqsQueues> {
        let client = aws_sdk_sqs::Client::new(&market_adapters::config::aws().await);
        let mut urls = HashMap::new();
        for (topic, name) in [
            (Topic::PaymentNotifications, "market-payments"),
            (Topic::OrderDeadlines, "market-deadlines"),
        ] {
            let created = client
                .create_queue()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
            urls.insert(topic, created.queue_url.unwrap_or_default());
        }
        Ok(SqsQueues { client, urls })
    }

    /// The queue port over these queues.
    pub fn adapter(&self) -> SqsQueue {
        SqsQueue::new(self.client.clone(), self.urls.clone())
    }

    /// One long-polling consumer per queue.
    pub fn spawn_pollers(self, app: Arc<App>) -> Vec<tokio::task::JoinHandle<()>> {
        self.urls
            .into_iter()
            .map(|(topic, url)| tokio::spawn(poll(app.clone(), self.client.clone(), topic, url)))
            .collect()
    }
}

async fn poll(app: Arc<App>, client: aws_sdk_sqs::Client, topic: Topic, url: String) {
    loop {
        let received = client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(30)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "SQS receive failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for message in messages {
            if handle(&app, topic, message.body().unwrap_or_default()).await {
                if let Some(receipt) = message.receipt_handle() {
                    let _ = client
                        .delete_message()
                        .queue_url(&url)
                        .receipt_handle(receipt)
                        .send()
                        .await;
                }
            }
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

/// Runs the sweep every `every` (the EventBridge schedule's stand-in). The schedule and the
/// deadline queue are the expire-sweeper's two triggers: while the dev clock holds the
/// deadlines back to play a late sweeper (`sweep: false`, E1), the schedule waits too.
pub async fn run_sweeper(app: Arc<App>, queue: Arc<InProcessQueue>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        if queue.is_paused(Topic::OrderDeadlines) {
            continue;
        }
        if let Err(e) = market_app::sweep::sweep(&app).await {
            tracing::warn!(error = ?e, "sweep failed; the next one retries");
        }
    }
}
