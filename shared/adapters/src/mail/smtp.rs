//! Email over SMTP (`lettre`): the local runner's `MARKET_SMTP_URL` (`smtp://host:port`,
//! plain SMTP to a local server or a relay), with the notice's id as the `Message-ID` so a
//! copy sent twice can be told apart. An address that cannot be one is dropped with an
//! error in the log: no retry could deliver it.
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Email;

/// How long one SMTP conversation may take before it counts as failed (and is retried).
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The host and port of `smtp://host[:port]` (25 by default). Only plain SMTP: the local
/// runner talks to a local server or a relay on a trusted network.
fn host_and_port(url: &str) -> anyhow::Result<(String, u16)> {
    let rest = url.strip_prefix("smtp://").ok_or_else(|| {
        anyhow::anyhow!("MARKET_SMTP_URL {url:?}: only smtp://host:port (plain SMTP) is supported")
    })?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse().map_err(|_| {
                anyhow::anyhow!("MARKET_SMTP_URL {url:?}: the port is not a number")
            })?,
        ),
        None => (rest, 25),
    };
    if host.is_empty() {
        anyhow::bail!("MARKET_SMTP_URL {url:?}: no host");
    }
    Ok((host.to_owned(), port))
}

/// An SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// The server at `url` (`smtp://host:port`), sending as `from`.
    pub fn new(url: &str, from: &str) -> anyhow::Result<SmtpMailer> {
        let (host, port) = host_and_port(url)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = from
            .parse()
            .map_err(|e| anyhow::anyhow!("the sender address {from:?}: {e}"))?;
        Ok(SmtpMailer { transport, from })
    }

    /// Sends one email.
    pub async fn send(&self, email: &Email) -> anyhow::Result<()> {
        let to: Mailbox = match email.to.parse() {
            Ok(to) => to,
            Err(e) => {
                tracing::error!(notification = %email.id, to = %email.to, error = %e, "not an email address: the email is dropped");
                return Ok(());
            }
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(format!("<{}@market.local>", email.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())?;
        self.transport
            .send(message)
            .await
            .map_err(|e| anyhow::anyhow!("SMTP: {e}"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_name_a_host_and_a_port() {
        assert_eq!(
            host_and_port("smtp://127.0.0.1:2525").unwrap(),
            ("127.0.0.1".into(), 2525)
        );
        assert_eq!(
            host_and_port("smtp://mail.local").unwrap(),
            ("mail.local".into(), 25)
        );
        assert!(host_and_port("smtps://mail.local:465").is_err());
        assert!(host_and_port("smtp://:25").is_err());
        assert!(host_and_port("smtp://h:x").is_err());
    }
}
