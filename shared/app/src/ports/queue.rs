//! The queue port: payment notifications travel through it to `pay-callback`, and order
//! deadlines wake the sweeper through delayed messages. SQS in the cloud; in process locally
//! (both adapters in `market-adapters`).
use async_trait::async_trait;
use chrono::Duration;

/// The queues of the marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Raw provider notifications, consumed by `pay-callback`.
    PaymentNotifications,
    /// Order deadlines (delayed to the deadline), consumed by `expire-sweeper`.
    OrderDeadlines,
}

/// The queue port.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Durably queues `body`; it is delivered no earlier than `delay` from now.
    async fn send(&self, topic: Topic, body: String, delay: Duration) -> anyhow::Result<()>;
}
