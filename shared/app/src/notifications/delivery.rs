//! The notifier's part of a notify message (N1): every notice into its recipient's inbox (a
//! conditional create under the notice's own id: a retry finds it there), then each to its
//! address in the recipient's language. An email that fails stops the message there; the
//! outbox records how far it got and tries again later, so an email already sent is not
//! sent again because a later one failed, and a mail server that is down keeps nobody's
//! notice out of their inbox.
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

/// Delivers the notices of `message` in two rounds, so that one recipient's mail server
/// never keeps another's notice out of their inbox: first every notice into its inbox,
/// then every email. `from` and the answer count steps of both rounds (a message of `n`
/// notices is `2n` steps: inbox `k` is step `k`, email `k` is step `n + k`). Returns how
/// many steps are done (all, or up to the one that failed) and the failure.
pub(crate) async fn deliver_notices(
    app: &App,
    message: &OutboxMessage,
    from: usize,
) -> (usize, anyhow::Result<()>) {
    let batch: NoticeBatch = match serde_json::from_value(message.payload.clone()) {
        Ok(batch) => batch,
        Err(e) => return (from, Err(anyhow::anyhow!("unreadable notify message: {e}"))),
    };
    let n = batch.notices.len();
    let mut accounts: HashMap<AccountId, Option<Account>> = HashMap::new();
    for step in from..2 * n {
        let (k, emailing) = if step < n {
            (step, false)
        } else {
            (step - n, true)
        };
        let notice = &batch.notices[k];
        if let Err(e) = deliver_one(app, message, k, notice, emailing, &mut accounts).await {
            return (step, Err(e));
        }
    }
    (2 * n, Ok(()))
}

/// One step: notice `n` into its inbox, or (`emailing`) to its address.
async fn deliver_one(
    app: &App,
    message: &OutboxMessage,
    n: usize,
    notice: &Notice,
    emailing: bool,
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
        if !emailing {
            tracing::warn!(outbox = %message.id, account = %account_id, kind = notice.kind.as_str(), "a notice for an account that does not exist is dropped");
        }
        return Ok(());
    };
    let address = match &notice.to {
        Recipient::Account(_) => account.email.clone(),
        Recipient::Address { email, .. } => {
            let own = account
                .email
                .as_deref()
                .is_some_and(|own| own.eq_ignore_ascii_case(email));
            (!own).then(|| email.clone())
        }
    };
    let filed = matches!(notice.to, Recipient::Account(_));
    let address = address.filter(|a| !a.trim().is_empty());
    if (emailing && address.is_none()) || (!emailing && !filed) {
        return Ok(());
    }
    let words = render(notice.kind, notice.audience, account.locale, &notice.facts)
        .map_err(|e| anyhow::anyhow!("notice {n} of {}: {e}", message.id))?;
    let id = notice_id(&message.id, n);
    let Some(to) = address.filter(|_| emailing) else {
        let note = Notification {
            id: id.clone(),
            account: account.id.clone(),
            kind: notice.kind,
            subject: words.subject,
            body: words.body,
            created_at: message.created_at,
            read_at: None,
            order_id: notice.order_id.clone(),
            push_id: notice.push_id.clone(),
            payout_id: notice.payout_id.clone(),
        };
        // Already there: an earlier try filed it (and perhaps the reader read it).
        return match app
            .store
            .transact(vec![create(notification_item(&note))])
            .await
        {
            Ok(()) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(anyhow::anyhow!("filing notification {id}: {e}")),
        };
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
