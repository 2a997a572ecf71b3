//! The queue port: payment notifications travel through it to `pay-callback`, and order
//! deadlines wake the sweeper through delayed messages. SQS in the cloud; in process locally.
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

use market_app::ports::clock::Clock;
pub use market_app::ports::queue::{Queue, Topic};

/// A message waiting in the in-process queue.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: Topic,
    pub body: String,
    pub due: DateTime<Utc>,
    pub attempts: u32,
}

/// The local runner's queue: messages in memory, due by the (dev) clock, handed to the
/// consumers by `infra`'s pump. Failed messages are retried and, after
/// [`InProcessQueue::MAX_ATTEMPTS`], kept aside as dead letters (like an SQS DLQ). A topic
/// can be paused, like disabling a Lambda's event source mapping: its messages wait, due
/// or not, until it is resumed (how the local runner plays a late sweeper, E1).
pub struct InProcessQueue {
    clock: Arc<dyn Clock>,
    waiting: Mutex<Vec<Message>>,
    dead: Mutex<Vec<Message>>,
    paused: Mutex<HashSet<Topic>>,
    wake: Notify,
}

impl InProcessQueue {
    /// Deliveries before a message is set aside.
    pub const MAX_ATTEMPTS: u32 = 5;

    /// An empty queue on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> InProcessQueue {
        InProcessQueue {
            clock,
            waiting: Mutex::new(Vec::new()),
            dead: Mutex::new(Vec::new()),
            paused: Mutex::new(HashSet::new()),
            wake: Notify::new(),
        }
    }

    /// Takes every message due at the clock's now, except those of paused topics.
    pub fn take_due(&self) -> Vec<Message> {
        let now = self.clock.now();
        let paused = self.paused.lock().expect("queue lock").clone();
        let mut waiting = self.waiting.lock().expect("queue lock");
        let (due, later): (Vec<_>, Vec<_>) = waiting
            .drain(..)
            .partition(|m| m.due <= now && !paused.contains(&m.topic));
        *waiting = later;
        due
    }

    /// Holds back `topic`'s messages until [`InProcessQueue::resume`].
    pub fn pause(&self, topic: Topic) {
        self.paused.lock().expect("queue lock").insert(topic);
    }

    /// Lets `topic`'s messages through again (those already due go at the next delivery).
    pub fn resume(&self, topic: Topic) {
        self.paused.lock().expect("queue lock").remove(&topic);
        self.wake.notify_one();
    }

    /// Whether `topic` is paused.
    pub fn is_paused(&self, topic: Topic) -> bool {
        self.paused.lock().expect("queue lock").contains(&topic)
    }

    /// Puts a message back after a failed delivery, or aside once it failed too often.
    pub fn retry(&self, mut message: Message) {
        message.attempts += 1;
        if message.attempts >= Self::MAX_ATTEMPTS {
            tracing::error!(topic = ?message.topic, "message failed {} times; kept as a dead letter", message.attempts);
            self.dead.lock().expect("queue lock").push(message);
            return;
        }
        message.due = self.clock.now() + Duration::milliseconds(100 * 2i64.pow(message.attempts));
        self.waiting.lock().expect("queue lock").push(message);
    }

    /// Resolves when a message is sent (the pump also polls, for delayed messages).
    pub async fn sent(&self) {
        self.wake.notified().await
    }
}

#[async_trait]
impl Queue for InProcessQueue {
    async fn send(&self, topic: Topic, body: String, delay: Duration) -> anyhow::Result<()> {
        let message = Message {
            topic,
            body,
            due: self.clock.now() + delay,
            attempts: 0,
        };
        self.waiting.lock().expect("queue lock").push(message);
        self.wake.notify_one();
        Ok(())
    }
}

/// The SQS adapter: one queue URL per topic.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    urls: HashMap<Topic, String>,
}

impl SqsQueue {
    /// Sends to the given queue URLs.
    pub fn new(client: aws_sdk_sqs::Client, urls: HashMap<Topic, String>) -> SqsQueue {
        SqsQueue { client, urls }
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, topic: Topic, body: String, delay: Duration) -> anyhow::Result<()> {
        let url = self
            .urls
            .get(&topic)
            .ok_or_else(|| anyhow::anyhow!("no queue configured for {topic:?}"))?;
        // SQS delays at most 15 minutes; longer deadlines are the scheduled sweep's.
        let delay = delay.num_seconds().clamp(0, 900) as i32;
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .delay_seconds(delay)
            .send()
            .await
            .map_err(|e| anyhow::Error::new(e.into_service_error()).context("sending to SQS"))?;
        Ok(())
    }
}
