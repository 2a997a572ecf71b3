//! The queue port: payment notifications travel through it to `pay-callback`, and order
//! deadlines wake the sweeper through delayed messages. SQS in the cloud ([`sqs`]); locally
//! a durable queue kept in the store ([`durable`]), so a message acknowledged to its sender
//! survives a crash exactly as it does on SQS.
//!
//! Both adapters also implement [`QueueConsumer`], the receiving side with SQS's semantics
//! (at least once: a received message is hidden for a visibility timeout and comes back
//! unless it is deleted; a message received too often goes to the dead letters), so the
//! local runner consumes both the same way and one contract suite tests both.
use async_trait::async_trait;
use chrono::Duration;

pub use market_app::ports::queue::{Queue, Topic};

pub mod durable;
pub mod sqs;

pub use durable::DurableQueue;
pub use sqs::SqsQueue;

/// Receives before a message goes to the dead letters (the template's `maxReceiveCount`).
pub const MAX_RECEIVES: u32 = 5;

/// How long a received message stays hidden before it comes back (SQS's default).
pub fn visibility_timeout() -> Duration {
    Duration::seconds(30)
}

/// Every topic, in a fixed order.
pub const TOPICS: [Topic; 3] = [
    Topic::PaymentNotifications,
    Topic::OrderDeadlines,
    Topic::SweepWork,
];

/// A topic's name in keys and queue names.
pub fn topic_name(topic: Topic) -> &'static str {
    match topic {
        Topic::PaymentNotifications => "payments",
        Topic::OrderDeadlines => "deadlines",
        Topic::SweepWork => "sweep-work",
    }
}

/// A message handed to a consumer: it must be acknowledged (deleted) or released.
#[derive(Debug, Clone)]
pub struct Received {
    pub topic: Topic,
    pub body: String,
    /// Times it was received, this one included.
    pub receives: u32,
    /// What acknowledges or releases it (a receipt handle).
    pub handle: String,
}

/// The receiving side of a queue, with SQS's semantics.
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    /// Up to `max` visible messages of `topic`, each hidden for `visibility` from now.
    async fn receive(
        &self,
        topic: Topic,
        max: usize,
        visibility: Duration,
    ) -> anyhow::Result<Vec<Received>>;
    /// Deletes a handled message. A message whose visibility ran out and was received again
    /// meanwhile is not deleted (its new receiver owns it).
    async fn ack(&self, message: &Received) -> anyhow::Result<()>;
    /// Makes a message visible again after `delay` (a failed handling: retried).
    async fn release(&self, message: &Received, delay: Duration) -> anyhow::Result<()>;
    /// The bodies set aside after [`MAX_RECEIVES`] receives.
    async fn dead_letters(&self, topic: Topic) -> anyhow::Result<Vec<String>>;
}
