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
//! Notices to people (N1, kind `notify`, `crate::notifications`) ride the same outbox.
//!
//! Delivery is at least once: right after the transaction that wrote it commits, by the
//! notifier (`App::transact` calls [`hand_on`]; the notify function on the table's stream
//! in the cloud), and again by the sweep (the message is in the due index until
//! delivered) with backoff until the receiver takes it. A new message is due to the sweep
//! only [`HANDOVER_GRACE`] after it was written, while its first try may be under way: so
//! a message delivered at once costs the due index one entry written and one removed,
//! never the moves of its claim. The message is
//! marked delivered with a conditional write. A message published twice (a crash between
//! publishing and marking, a sweep racing the first try) carries the same id, which the
//! receiver dedupes on.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ports::registrar::{RegistrarDetail, RegistrarEvent};
use crate::repo::{self, create, load, put, Versioned};
use crate::store::{Expect, Index, Item, StoreError, Write};
use crate::{App, AppError, AppResult};
use market_core::model::Domain;
use market_core::transfer::{transfer_out, TransferOut};

/// The kind of a message for the registrar core (its payload is a [`RegistrarEvent`]).
pub const KIND_REGISTRAR: &str = "registrar";

/// The index partition of dead-lettered messages (gsi1), for redrive.
pub const DEAD_LETTERS: &str = "OUTBOX#dead";

/// The longest wait between two tries of a message.
pub const MAX_BACKOFF: Duration = Duration::hours(1);

/// How long the notifier has to deliver a new message before the sweep takes it on.
pub const HANDOVER_GRACE: Duration = Duration::minutes(5);

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
    /// How many of its entries (events, notices) earlier tries delivered: a retry goes on
    /// from there, so a notice already sent is not sent again by a later failure's retry.
    #[serde(default)]
    pub progress: u32,
    /// Set when it was given up on after [`MAX_DELIVERY_ATTEMPTS`] tries.
    #[serde(default)]
    pub dead_at: Option<DateTime<Utc>>,
}

/// The wait after `attempts` failed tries: 30 s, 1 min, 2 min … at most [`MAX_BACKOFF`].
pub fn backoff(attempts: u32) -> Duration {
    Duration::seconds(30i64 << attempts.saturating_sub(1).min(7)).min(MAX_BACKOFF)
}

/// When the sweep tries an undelivered message: its next try once a try failed; before
/// that, no earlier than [`HANDOVER_GRACE`] after it was written (a first claim leaves the
/// due entry where it is).
fn sweep_at(message: &OutboxMessage) -> DateTime<Utc> {
    if message.last_error.is_some() {
        message.next_attempt_at
    } else {
        message
            .next_attempt_at
            .max(message.created_at + HANDOVER_GRACE)
    }
}

/// The stored item of a message: due to the sweep while undelivered ([`sweep_at`]).
pub fn outbox_item(message: &OutboxMessage) -> Item {
    let (pk, sk) = repo::outbox_key(&message.id);
    let mut item = Item::new(
        pk.clone(),
        sk,
        serde_json::to_string(message).expect("outbox messages serialise"),
    );
    if message.dead_at.is_some() {
        item = item.indexed(Index::Gsi1, DEAD_LETTERS, message.id.clone());
    } else if message.delivered_at.is_none() {
        item = repo::due_at(item, sweep_at(message));
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
        progress: 0,
        dead_at: None,
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

/// A domain handed to its new owner (a sale delivered, a push completed): its writes (P9,
/// P11: the trade's end, and any lock, told) and the registrant change with the buyer's
/// `contact` (O9), for the handover's transaction.
pub fn handover_writes(
    app: &App,
    moved: &Domain,
    read: &Versioned<Domain>,
    contact: Option<&market_core::model::RegistrantContact>,
    forced: bool,
) -> Vec<Write> {
    let mut writes = domain_writes(app, moved, Some(read));
    writes.push(registrant_changed(
        app,
        moved,
        &read.value.owner,
        contact,
        forced,
    ));
    writes
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

/// Merges the messages of one kind a transaction creates into the first of that kind (a
/// payload is an object of lists: `{"events": [...]}`, `{"notices": [...]}`; the lists are
/// joined in order, each entry keeping its own id): one outbox write a kind a
/// transaction, however many domains or people it concerns.
pub(crate) fn coalesce(writes: &mut Vec<Write>) {
    // A kind's first message, and what later ones of the kind add to its lists.
    let mut firsts: Vec<(OutboxMessage, serde_json::Map<String, serde_json::Value>)> = Vec::new();
    writes.retain(|write| {
        let Some(message) = created_message(write) else {
            return true;
        };
        let serde_json::Value::Object(lists) = message.payload.clone() else {
            return true;
        };
        match firsts.iter_mut().find(|(m, _)| m.kind == message.kind) {
            None => {
                firsts.push((message, serde_json::Map::new()));
                true
            }
            Some((_, added)) => {
                for (key, value) in lists {
                    if let serde_json::Value::Array(entries) = value {
                        let list = added
                            .entry(key)
                            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
                        if let serde_json::Value::Array(list) = list {
                            list.extend(entries);
                        }
                    }
                }
                false
            }
        }
    });
    for (mut message, added) in firsts {
        if added.is_empty() {
            continue;
        }
        if let serde_json::Value::Object(lists) = &mut message.payload {
            for (key, value) in added {
                if let (Some(serde_json::Value::Array(list)), serde_json::Value::Array(more)) =
                    (lists.get_mut(&key), value)
                {
                    list.extend(more);
                }
            }
        }
        // The first message of its kind was kept: rewritten in place.
        if let Some(slot) = writes
            .iter_mut()
            .find(|w| created_message(w).is_some_and(|m| m.id == message.id))
        {
            *slot = create(outbox_item(&message));
        }
    }
}

/// The outbox message a write creates, if it creates one.
fn created_message(write: &Write) -> Option<OutboxMessage> {
    let Write::Put(item, Expect::Absent) = write else {
        return None;
    };
    if !item.pk.starts_with("OUTBOX#") {
        return None;
    }
    serde_json::from_str::<OutboxMessage>(&item.body).ok()
}

/// The messages a transaction creates (handed on once it commits).
pub(crate) fn created(writes: &[Write]) -> Vec<OutboxMessage> {
    writes.iter().filter_map(created_message).collect()
}

/// After the transaction that wrote them committed, the messages are handed to the outbox
/// feed: the local notifier, or nobody in the cloud, where the table's stream hands every
/// new outbox item to the notify function. Nothing is delivered on the request's time: a
/// request pays for its transaction only, never for an email or a PutEvents, and a function
/// needs no mailer or bus of its own.
pub(crate) async fn hand_on(app: &App, messages: &[OutboxMessage]) {
    if messages.is_empty() {
        return;
    }
    let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
    app.outbox_feed.committed(&ids);
}

/// Publishes a registrar message's events in order from `from` (those before were
/// published by an earlier try), stopping at the first failure: returns how many are
/// published, and the failure.
async fn publish_all(
    app: &App,
    payload: &serde_json::Value,
    from: usize,
) -> (usize, anyhow::Result<()>) {
    let batch: RegistrarBatch = match serde_json::from_value(payload.clone()) {
        Ok(batch) => batch,
        Err(e) => {
            return (
                from,
                Err(anyhow::anyhow!("unreadable registrar message: {e}")),
            )
        }
    };
    for (n, event) in batch.events.iter().enumerate().skip(from) {
        if let Err(e) = app.registrar.publish(event).await {
            return (n, Err(e));
        }
    }
    (batch.events.len(), Ok(()))
}

/// Tries before a message is given up on (dead-lettered): with the backoff, about four
/// hours of an outage.
pub const MAX_DELIVERY_ATTEMPTS: u32 = 10;

/// How long a deliverer holds a message it claimed: another deliverer (the notifier and
/// the sweep race for every new message) leaves it alone meanwhile; one that crashed
/// holding it leaves it to the sweep once this passes.
pub const CLAIM: Duration = Duration::seconds(60);

/// Delivers one message if it is due: claims it (its next try moved a [`CLAIM`] ahead, on
/// the condition that it is as read, so two deliverers never send the same email twice at
/// once), publishes or sends what it carries from where the last try stopped, then marks
/// it delivered, or records how far it got, the failure and its next try with backoff;
/// after [`MAX_DELIVERY_ATTEMPTS`] it is dead-lettered: out of the due index, logged as an
/// error and counted in `OutboxDeadLettered`, which pages. Returns whether it is delivered.
pub async fn deliver(app: &App, id: &str) -> AppResult<bool> {
    let Some(read) = load::<OutboxMessage>(&*app.store, repo::outbox_key(id)).await? else {
        return Ok(false);
    };
    if read.value.delivered_at.is_some() {
        return Ok(true);
    }
    let now = app.now();
    if read.value.dead_at.is_some() || read.value.next_attempt_at > now {
        return Ok(false);
    }
    let mut claimed = read.value.clone();
    claimed.attempts += 1;
    claimed.next_attempt_at = now + CLAIM;
    // Not `App::transact`: this writes no new message.
    match app
        .write(vec![put(outbox_item(&claimed), Some(&read))])
        .await
    {
        Ok(()) => {}
        // Another deliverer has it (or has just delivered it).
        Err(StoreError::Conflict { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let claimed = Versioned {
        version: read.version + 1,
        value: claimed,
    };
    let from = claimed.value.progress as usize;
    let (reached, outcome) = match claimed.value.kind.as_str() {
        KIND_REGISTRAR => publish_all(app, &claimed.value.payload, from).await,
        crate::notifications::KIND_NOTIFY => {
            crate::notifications::delivery::deliver_notices(app, &claimed.value, from).await
        }
        crate::partners::delivery::KIND_PARTNER => {
            crate::partners::delivery::send_webhooks(app, &claimed.value, from).await
        }
        other => (
            from,
            Err(anyhow::anyhow!("no deliverer of outbox kind {other}")),
        ),
    };
    let mut next = claimed.value.clone();
    next.progress = reached as u32;
    let delivered = match outcome {
        Ok(()) => {
            next.delivered_at = Some(now);
            next.last_error = None;
            true
        }
        Err(e) => {
            next.last_error = Some(format!("{e:#}"));
            if next.attempts >= MAX_DELIVERY_ATTEMPTS {
                next.dead_at = Some(now);
                crate::metrics::emit(&crate::metrics::count(
                    crate::metrics::OUTBOX_DEAD_LETTERED,
                    1,
                    now,
                ));
                tracing::error!(outbox = %id, kind = %next.kind, attempts = next.attempts, progress = next.progress, error = %format!("{e:#}"), "outbox message dead-lettered: not delivered after every try; redrive it once the receiver is back");
            } else {
                next.next_attempt_at = now + backoff(next.attempts);
                tracing::warn!(outbox = %id, kind = %next.kind, attempts = next.attempts, progress = next.progress, error = %format!("{e:#}"), "outbox delivery failed; tried again later");
            }
            false
        }
    };
    // A deliverer that outlived its claim may find the message taken by another: that one
    // goes on from the progress it read, and the receivers dedupe on the ids.
    match app
        .write(vec![put(outbox_item(&next), Some(&claimed))])
        .await
    {
        Ok(()) | Err(StoreError::Conflict { .. }) => Ok(delivered),
        Err(e) => Err(AppError::from(e)),
    }
}

/// Re-arms every dead-lettered message (`POST /admin/outbox/redrive`): due at once, its
/// tries counted afresh, its progress kept. Returns how many.
pub async fn redrive(app: &App) -> AppResult<usize> {
    let now = app.now();
    let mut redriven = 0;
    // One pass over the dead letters, page by page: an index that still shows a message
    // just re-armed (GSIs lag on DynamoDB) is not read again, so this never spins.
    let mut query = crate::store::Query::index(Index::Gsi1, DEAD_LETTERS);
    loop {
        let page = app.store.query(query.clone()).await?;
        for item in &page.items {
            let read: Versioned<OutboxMessage> = match repo::decode(item) {
                Ok(read) => read,
                Err(e) => {
                    tracing::error!(key = %item.pk, error = %e, "a dead letter that cannot be read is left where it is");
                    continue;
                }
            };
            let mut next = read.value.clone();
            next.dead_at = None;
            next.attempts = 0;
            next.next_attempt_at = now;
            match app
                .transact(vec![put(outbox_item(&next), Some(&read))])
                .await
            {
                Ok(()) => {
                    redriven += 1;
                    app.outbox_feed.committed(std::slice::from_ref(&next.id));
                }
                // Changed since the index showed it: re-armed or delivered by someone else.
                Err(StoreError::Conflict { .. }) => {
                    tracing::info!(outbox = %next.id, "dead letter changed meanwhile; left to its new state")
                }
                Err(e) => return Err(e.into()),
            }
        }
        match page.next {
            Some(next) if !page.items.is_empty() => query.after = Some(next),
            _ => return Ok(redriven),
        }
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
