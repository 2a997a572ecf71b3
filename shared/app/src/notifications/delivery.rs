//! The notifier's part of a notify message (N1): each notice, from where the last try
//! stopped, into the recipient's inbox (a conditional create under the notice's own id:
//! a retry finds it there) and to their address in their language. A notice whose email
//! fails stops the message there; the outbox records how far it got and tries again later,
//! so an email already sent is not sent again because a later one failed.
use std::collections::HashMap;

use super::inbox::{notification_item, Notification};
use super::{Notice, NoticeBatch, Recipient};
use crate::outbox::OutboxMessage;
use crate::ports::mailer::Email;
use crate::repo::{self, create, load};
use crate::store::StoreError;
use crate::App;
use market_core::ids::AccountId;
use market_core::model::Account;
use market_core::notice::render;

/// The id of the `n`th notice of a message: the inbox item's id and the email's dedupe id
/// (`ntf_<the message's ULID>_<n>`, time-ordered like the message).
pub fn notice_id(message_id: &str, n: usize) -> String {
    let ulid = message_id.strip_prefix("obx_").unwrap_or(message_id);
    format!("ntf_{ulid}_{n:04}")
}

/// Delivers the notices of `message` from the `from`th on. Returns how many are delivered
/// (all of them, or up to the one that failed) and the failure.
pub(crate) async fn deliver_notices(
    app: &App,
    message: &OutboxMessage,
    from: usize,
) -> (usize, anyhow::Result<()>) {
    let batch: NoticeBatch = match serde_json::from_value(message.payload.clone()) {
        Ok(batch) => batch,
        Err(e) => return (from, Err(anyhow::anyhow!("unreadable notify message: {e}"))),
    };
    let mut accounts: HashMap<AccountId, Option<Account>> = HashMap::new();
    for (n, notice) in batch.notices.iter().enumerate().skip(from) {
        if let Err(e) = deliver_one(app, message, n, notice, &mut accounts).await {
            return (n, Err(e));
        }
    }
    (batch.notices.len(), Ok(()))
}

async fn deliver_one(
    app: &App,
    message: &OutboxMessage,
    n: usize,
    notice: &Notice,
    accounts: &mut HashMap<AccountId, Option<Account>>,
) -> anyhow::Result<()> {
    let account_id = match &notice.to {
        Recipient::Account(id) | Recipient::Address { account: id, .. } => id,
    };
    if !accounts.contains_key(account_id) {
        let read = load::<Account>(&*app.store, repo::account_key(account_id))
            .await
            .map_err(|e| anyhow::anyhow!("reading account {account_id}: {e}"))?;
        accounts.insert(account_id.clone(), read.map(|a| a.value));
    }
    let Some(account) = accounts.get(account_id).cloned().flatten() else {
        tracing::warn!(outbox = %message.id, account = %account_id, kind = notice.kind.as_str(), "a notice for an account that does not exist is dropped");
        return Ok(());
    };
    let words = render(notice.kind, notice.audience, account.locale, &notice.facts)
        .map_err(|e| anyhow::anyhow!("notice {n} of {}: {e}", message.id))?;
    let id = notice_id(&message.id, n);
    let address = match &notice.to {
        Recipient::Account(_) => {
            let note = Notification {
                id: id.clone(),
                account: account.id.clone(),
                kind: notice.kind,
                subject: words.subject.clone(),
                body: words.body.clone(),
                created_at: message.created_at,
                read_at: None,
                order_id: notice.order_id.clone(),
                push_id: notice.push_id.clone(),
                payout_id: notice.payout_id.clone(),
            };
            // Already there: an earlier try put it in before its email failed.
            match app.store.transact(vec![create(notification_item(&note))]).await {
                Ok(()) | Err(StoreError::Conflict { .. }) => {}
                Err(e) => anyhow::bail!("writing notification {id}: {e}"),
            }
            account.email.clone()
        }
        Recipient::Address { email, .. } => {
            let own = account
                .email
                .as_deref()
                .is_some_and(|own| own.eq_ignore_ascii_case(email));
            (!own).then(|| email.clone())
        }
    };
    let Some(to) = address.filter(|a| !a.trim().is_empty()) else {
        return Ok(());
    };
    let email = Email {
        id: id.clone(),
        to,
        subject: words.subject,
        body: words.body,
    };
    app.mailer
        .send(&email)
        .await
        .map_err(|e| anyhow::anyhow!("emailing notice {id} ({}): {e:#}", notice.kind.as_str()))?;
    tracing::info!(notification = %id, kind = notice.kind.as_str(), account = %account.id, "notice emailed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_ids_follow_their_message() {
        assert_eq!(
            notice_id("obx_01jd0000000000000000000000", 7),
            "ntf_01jd0000000000000000000000_0007"
        );
    }
}
