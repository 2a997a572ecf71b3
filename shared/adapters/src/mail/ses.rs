//! Email through Amazon SES v2 (`SendEmail`, simple content in UTF-8), the cloud's `notify`
//! function: sent as `MAIL_FROM` (a verified identity), tagged with the notice's id so a
//! bounce or a complaint leads back to it. The client is built on first use.
use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};
use tokio::sync::OnceCell;

use super::{Email, Mailer};

pub struct SesMailer {
    from: String,
    client: OnceCell<aws_sdk_sesv2::Client>,
}

impl SesMailer {
    /// Sends as `from`.
    pub fn new(from: impl Into<String>) -> SesMailer {
        SesMailer {
            from: from.into(),
            client: OnceCell::new(),
        }
    }

    /// Sends as `from` with `client` (tests).
    pub fn with_client(from: impl Into<String>, client: aws_sdk_sesv2::Client) -> SesMailer {
        SesMailer {
            from: from.into(),
            client: OnceCell::new_with(Some(client)),
        }
    }
}

fn utf8(text: &str) -> anyhow::Result<Content> {
    Ok(Content::builder().data(text).charset("UTF-8").build()?)
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> anyhow::Result<()> {
        let client = self
            .client
            .get_or_init(|| async { aws_sdk_sesv2::Client::new(crate::config::lambda_sdk().await) })
            .await;
        let message = Message::builder()
            .subject(utf8(&email.subject)?)
            .body(Body::builder().text(utf8(&email.body)?).build())
            .build();
        let out = client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .email_tags(
                MessageTag::builder()
                    .name("notification")
                    .value(&email.id)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "SES SendEmail of {}: {}",
                    email.id,
                    aws_sdk_sesv2::error::DisplayErrorContext(&e)
                )
            })?;
        tracing::info!(notification = %email.id, ses_message = out.message_id().unwrap_or("-"), "email sent through SES");
        Ok(())
    }
}
