//! The local mailbox: every email the marketplace sent, kept in the store under `MAIL#sent`
//! by its dedupe id, so an email sent twice (a notifier that crashed after sending) is kept
//! once, and is not sent on over SMTP again. It can be made to fail the next N sends (like
//! the sandbox provider's `fail_next`), to show a mail server that is down.
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Email, Mailer, SmtpMailer};
use market_app::ports::clock::Clock;
use market_app::store::{Expect, Item, Query, Store, StoreError, Write};

/// The partition of the emails sent.
pub const MAILBOX: &str = "MAIL#sent";

/// An email as `GET /dev/mail` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

/// Keeps the emails in the store (and sends them on over SMTP when given a server).
pub struct StoreMailer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    smtp: Option<SmtpMailer>,
    failing: AtomicU32,
}

impl StoreMailer {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, smtp: Option<SmtpMailer>) -> Self {
        StoreMailer {
            store,
            clock,
            smtp,
            failing: AtomicU32::new(0),
        }
    }

    /// The next `count` sends fail (0 clears; `u32::MAX`: down until cleared).
    pub fn fail_next(&self, count: u32) {
        self.failing.store(count, Ordering::SeqCst);
    }

    /// Every email kept, by id (oldest notice first).
    pub async fn sent(&self) -> anyhow::Result<Vec<SentMail>> {
        let mut query = Query::table(MAILBOX);
        let mut mail = Vec::new();
        loop {
            let page = self.store.query(query.clone()).await?;
            for item in &page.items {
                mail.push(serde_json::from_str(&item.body)?);
            }
            match page.next {
                Some(next) if !page.items.is_empty() => query.after = Some(next),
                _ => return Ok(mail),
            }
        }
    }
}

#[async_trait]
impl Mailer for StoreMailer {
    async fn send(&self, email: &Email) -> anyhow::Result<()> {
        let failing = self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            anyhow::bail!("the mail server is down (fail_next)");
        }
        if self.store.get(MAILBOX, &email.id).await?.is_some() {
            return Ok(());
        }
        if let Some(smtp) = &self.smtp {
            smtp.send(email).await?;
        }
        let kept = SentMail {
            id: email.id.clone(),
            to: email.to.clone(),
            subject: email.subject.clone(),
            body: email.body.clone(),
            sent_at: self.clock.now(),
        };
        let item = Item::new(MAILBOX, email.id.clone(), serde_json::to_string(&kept)?);
        match self
            .store
            .transact(vec![Write::Put(item, Expect::Absent)])
            .await
        {
            // Kept already: the same email sent again.
            Ok(()) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
