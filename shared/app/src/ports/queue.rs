//! The queue port: payment notifications travel through it to `pay-callback`, order
//! deadlines wake the sweeper through delayed messages, and the sweep's dispatcher hands
//! due items to its workers. SQS in the cloud; in process locally
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
    /// Batches of due items the sweep's dispatcher hands on, consumed by the sweep's
    /// workers (`expire-sweeper`, many at once).
    SweepWork,
}

/// The queue port.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Durably queues `body`; it is delivered no earlier than `delay` from now.
    async fn send(&self, topic: Topic, body: String, delay: Duration) -> anyhow::Result<()>;

    /// Durably queues every one of `bodies`, visible at once. All or an error: after an
    /// error some may have been sent (their consumers are idempotent). Adapters send them
    /// in batches (SQS: ten a request).
    async fn send_all(&self, topic: Topic, bodies: Vec<String>) -> anyhow::Result<()> {
        for body in bodies {
            self.send(topic, body, Duration::zero()).await?;
        }
        Ok(())
    }
}
