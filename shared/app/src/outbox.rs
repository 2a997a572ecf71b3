//! The outbox: messages to the world outside (the registrar core today; notifications can
//! use it too) written IN THE SAME TRANSACTION as the change they report, so a committed
//! change is never left untold and an undone one is never told. Each message is a generic
//! `kind` and a JSON `payload`, with its own id as the dedupe id.
//!
//! A registrar message carries a list of events (`{"events": [...]}`), each with its own
//! dedupe id: the lock changes of one transaction (a push of 50 domains) are merged into
//! one message ([`coalesce`]), so the outbox adds one write to a transaction, never one a
//! domain, and every transaction stays within DynamoDB's 100 actions.
//!
//! Delivery is at least once: right after the transaction that wrote it commits
//! (`App::transact` calls [`deliver_now`]), and again by the sweep (the message is in the
//! due index until delivered) with backoff until the receiver takes it. The message is
//! marked delivered with a conditional write. A message published twice (a crash between
//! publishing and marking, a sweep racing the first try) carries the same id, which the
//! receiver dedupes on.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ports::registrar::{RegistrarDetail, RegistrarEvent};
use crate::repo::{self, create, due_bucket, load, put, time_key, Versioned};
use crate::store::{Expect, Index, Item, StoreError, Write};
use crate::{App, AppError, AppResult};
use market_core::model::Domain;
use market_core::transfer::{transfer_out, TransferOut};

/// The kind of a message for the registrar core (its payload is a [`RegistrarEvent`]).
pub const KIND_REGISTRAR: &str = "registrar";

/// The longest wait between two tries of a message.
pub const MAX_BACKOFF: Duration = Duration::hours(1);

/// One message of the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// The dedupe id (`obx_…`, time-ordered).
    pub id: String,
    /// Who delivers it: [`KIND_REGISTRAR`], …
    pub kind: String,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// Tries so far.
    pub attempts: u32,
    /// When it is tried next while undelivered.
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_error: Option<String>,
}

/// The wait after `attempts` failed tries: 30 s, 1 min, 2 min … at most [`MAX_BACKOFF`].
pub fn backoff(attempts: u32) -> Duration {
    Duration::seconds(30i64 << attempts.saturating_sub(1).min(7)).min(MAX_BACKOFF)
}

/// The stored item of a message: due at its next try while undelivered.
pub fn outbox_item(message: &OutboxMessage) -> Item {
    let (pk, sk) = repo::outbox_key(&message.id);
    let mut item = Item::new(
        pk.clone(),
        sk,
        serde_json::to_string(message).expect("outbox messages serialise"),
    );
    if message.delivered_at.is_none() {
        let due = message.next_attempt_at;
        item = item.indexed(
            Index::Gsi5,
            due_bucket(due),
            format!("{}#{pk}", time_key(due)),
        );
    }
    item
}

/// A new message, due at once.
pub fn message(
    kind: &str,
    payload: serde_json::Value,
    now: DateTime<Utc>,
    id: ulid::Ulid,
) -> OutboxMessage {
    OutboxMessage {
        id: format!("obx_{}", id.to_string().to_lowercase()),
        kind: kind.to_owned(),
        payload,
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        delivered_at: None,
        last_error: None,
    }
}

/// The payload of a registrar message: its events, published in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrarBatch {
    pub events: Vec<RegistrarEvent>,
}

/// The registrar event a change of `domain`'s lock state to `lock` makes.
fn lock_changed(
    domain: &Domain,
    lock: TransferOut,
    now: DateTime<Utc>,
    id: ulid::Ulid,
) -> OutboxMessage {
    let mut message = message(KIND_REGISTRAR, serde_json::Value::Null, now, id);
    let event = RegistrarEvent {
        id: format!("evt_{}", id.to_string().to_lowercase()),
        at: now,
        detail: RegistrarDetail::DomainTransferLockChanged {
            domain: domain.name.to_string(),
            locked: lock.locked(),
            reason: lock.reason.map(str::to_owned),
            until: lock.until,
        },
    };
    message.payload = serde_json::to_value(RegistrarBatch {
        events: vec![event],
    })
    .expect("events serialise");
    message
}

/// O9: the message telling the registrar core that `moved` changed registrant from `from`
/// to its owner now, with the buyer's `contact` (`None`: the verified identity); written in
/// the delivery's transaction (merged with its other registrar messages by [`coalesce`]).
pub fn registrant_changed(
    app: &App,
    moved: &Domain,
    from: &market_core::ids::AccountId,
    contact: Option<&market_core::model::RegistrantContact>,
    forced: bool,
) -> Write {
    let now = app.now();
    let id = app.ulid();
    let mut message = message(KIND_REGISTRAR, serde_json::Value::Null, now, id);
    let event = RegistrarEvent {
        id: format!("evt_{}", id.to_string().to_lowercase()),
        at: now,
        detail: RegistrarDetail::RegistrantChanged {
            domain: moved.name.to_string(),
            from: from.to_string(),
            to: moved.owner.to_string(),
            contact: contact.cloned(),
            forced,
            lock_until: moved.transfer_lock_until.filter(|until| *until > now),
        },
    };
    message.payload = serde_json::to_value(RegistrarBatch {
        events: vec![event],
    })
    .expect("events serialise");
    create(outbox_item(&message))
}

/// P9, P11: the writes of a domain changed from `read` (absent: a new domain) to `next`:
/// its put, and when its transfer-out lock state at now differs from before (a trade
/// begins or ends, its hold's end moves, a forced change sets the 60-day lock), the
/// `DomainTransferLockChanged` message in the same transaction. Every write of a domain
/// goes through here, so no change of the lock goes untold.
pub fn domain_writes(app: &App, next: &Domain, read: Option<&Versioned<Domain>>) -> Vec<Write> {
    let now = app.now();
    let mut writes = vec![put(repo::domain_item(next), read)];
    let before = read.map(|d| transfer_out(&d.value, now));
    let after = transfer_out(next, now);
    let unlocked = TransferOut {
        allowed: true,
        reason: None,
        until: None,
    };
    if before.unwrap_or(unlocked) != after {
        writes.push(create(outbox_item(&lock_changed(
            next,
            after,
            now,
            app.ulid(),
        ))));
    }
    writes
}

/// Merges the registrar messages a transaction creates into its first one (their events in
/// order, each keeping its own id): one outbox write a transaction, however many domains.
pub(crate) fn coalesce(writes: &mut Vec<Write>) {
    let mut first: Option<(usize, OutboxMessage)> = None;
    let mut merged = Vec::new();
    let mut n = 0;
    writes.retain(|write| {
        let index = n;
        n += 1;
        let Write::Put(item, Expect::Absent) = write else {
            return true;
        };
        if !item.pk.starts_with("OUTBOX#") {
            return true;
        }
        let Ok(message) = serde_json::from_str::<OutboxMessage>(&item.body) else {
            return true;
        };
        if message.kind != KIND_REGISTRAR {
            return true;
        }
        let Ok(batch) = serde_json::from_value::<RegistrarBatch>(message.payload.clone()) else {
            return true;
        };
        match first {
            None => {
                first = Some((index, message));
                true
            }
            Some(_) => {
                merged.extend(batch.events);
                false
            }
        }
    });
    let Some((index, mut message)) = first else {
        return;
    };
    if merged.is_empty() {
        return;
    }
    let mut batch: RegistrarBatch =
        serde_json::from_value(message.payload.clone()).expect("read above");
    batch.events.extend(merged);
    message.payload = serde_json::to_value(batch).expect("events serialise");
    // Only writes after the first message were removed: it is still at `index`.
    writes[index] = create(outbox_item(&message));
}

/// The ids of the messages a transaction creates (delivered once it commits).
pub(crate) fn created_ids(writes: &[Write]) -> Vec<String> {
    writes
        .iter()
        .filter_map(|w| match w {
            Write::Put(item, Expect::Absent) => item.pk.strip_prefix("OUTBOX#").map(str::to_owned),
            _ => None,
        })
        .collect()
}

/// Delivers messages at once, after the transaction that wrote them committed; a failure
/// is left to the sweep.
pub(crate) async fn deliver_now(app: &App, ids: &[String]) {
    for id in ids {
        if let Err(e) = deliver(app, id).await {
            tracing::warn!(outbox = %id, error = %e, "outbox message not delivered yet; the sweep retries it");
        }
    }
}

/// Publishes a registrar message's events in order, stopping at the first failure (the
/// next try publishes them all again; the registrar core dedupes each by its id).
async fn publish_all(app: &App, payload: &serde_json::Value) -> anyhow::Result<()> {
    let batch: RegistrarBatch = serde_json::from_value(payload.clone())
        .map_err(|e| anyhow::anyhow!("unreadable registrar message: {e}"))?;
    for event in &batch.events {
        app.registrar.publish(event).await?;
    }
    Ok(())
}

/// Delivers one message if it is due: publishes it, then marks it delivered (or records the
/// failure and its next try, with backoff) on the condition that it is as read. Returns
/// whether it is delivered.
pub async fn deliver(app: &App, id: &str) -> AppResult<bool> {
    let Some(read) = load::<OutboxMessage>(&*app.store, repo::outbox_key(id)).await? else {
        return Ok(false);
    };
    if read.value.delivered_at.is_some() {
        return Ok(true);
    }
    let now = app.now();
    if read.value.next_attempt_at > now {
        return Ok(false);
    }
    let outcome = match read.value.kind.as_str() {
        KIND_REGISTRAR => publish_all(app, &read.value.payload).await,
        other => Err(anyhow::anyhow!("no deliverer of outbox kind {other}")),
    };
    let mut next = read.value.clone();
    next.attempts += 1;
    let delivered = match outcome {
        Ok(()) => {
            next.delivered_at = Some(now);
            next.last_error = None;
            true
        }
        Err(e) => {
            next.next_attempt_at = now + backoff(next.attempts);
            next.last_error = Some(e.to_string());
            tracing::warn!(outbox = %id, attempts = next.attempts, error = %e, "outbox delivery failed");
            false
        }
    };
    // Straight to the store (not `App::transact`): this writes no new message. A concurrent
    // deliverer may have marked it first; the receiver dedupes on the id, so losing this
    // race is harmless.
    match app
        .store
        .transact(vec![put(outbox_item(&next), Some(&read))])
        .await
    {
        Ok(()) | Err(StoreError::Conflict { .. }) => Ok(delivered),
        Err(e) => Err(AppError::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(20), MAX_BACKOFF);
    }
}
