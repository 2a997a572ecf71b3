//! The mail port (N1): sends one email. The outbox calls it after the change it reports
//! committed, so a mail server that is down delays an email and never a trade. Delivery is
//! at least once: each email carries its dedupe `id` (the notification's id), which the
//! local adapter records once and the SMTP and SES adapters send as its `Message-ID`.
use async_trait::async_trait;

/// One email, already in the recipient's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The dedupe id: the same notification sent again carries the same id.
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one email. Ok: the mail server took it; an error leaves it to the outbox's
    /// next try.
    async fn send(&self, email: &Email) -> anyhow::Result<()>;
}

/// A function that sends no email: its notices wait in the outbox for the notifier (the
/// `notify` function in the cloud), never lost.
pub struct NoMailer;

#[async_trait]
impl Mailer for NoMailer {
    async fn send(&self, email: &Email) -> anyhow::Result<()> {
        anyhow::bail!(
            "this function sends no email ({}); the notifier does",
            email.id
        )
    }
}
