//! The local runner's queue, kept in the store: a message is written (and, on the embedded
//! store, fsynced) before `send` returns, so what the notify route acknowledged survives a
//! crash; it is deleted only after its handler succeeded. One partition per topic, sorted by
//! the time each message becomes visible: receiving reads the visible ones and moves each to
//! its visibility deadline in one conditional transaction (two consumers never both get it);
//! a consumer that dies leaves it to come back at that deadline. Times are the app clock's,
//! so the dev clock drives delays and visibility like every other deadline.
//!
//! Pausing a topic (how the local runner plays a late sweeper, E1) is not durable: it is a
//! dev-route switch, like disabling a Lambda's event source mapping.
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::{topic_name, Queue, QueueConsumer, Received, Topic, MAX_RECEIVES};
use market_app::ports::clock::Clock;
use market_app::repo::time_key;
use market_app::store::{Expect, Item, Query, SkRange, Store, StoreError, Write};

/// A stored message.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    id: String,
    body: String,
    receives: u32,
    sent_at: DateTime<Utc>,
}

/// The durable in-process queue.
pub struct DurableQueue {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    paused: Mutex<HashSet<Topic>>,
    wake: Notify,
    turn: tokio::sync::Mutex<()>,
}

fn partition(topic: Topic) -> String {
    format!("QUEUE#{}", topic_name(topic))
}

fn dead_partition(topic: Topic) -> String {
    format!("QUEUEDEAD#{}", topic_name(topic))
}

fn sort_key(visible_at: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", time_key(visible_at))
}

fn item(pk: String, visible_at: DateTime<Utc>, message: &Stored) -> Item {
    let body = serde_json::to_string(message).expect("a message serialises");
    Item::new(pk, sort_key(visible_at, &message.id), body)
}

/// A receipt handle: where the received message now sits, and its version there.
fn handle(pk: &str, sk: &str, version: u64) -> String {
    format!("{version}\n{pk}\n{sk}")
}

fn parse_handle(text: &str) -> anyhow::Result<(u64, String, String)> {
    let mut parts = text.splitn(3, '\n');
    let (Some(version), Some(pk), Some(sk)) = (parts.next(), parts.next(), parts.next()) else {
        anyhow::bail!("not a receipt handle of this queue");
    };
    Ok((version.parse()?, pk.to_owned(), sk.to_owned()))
}

impl DurableQueue {
    /// A queue kept in `store`, timed by `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> DurableQueue {
        DurableQueue {
            store,
            clock,
            paused: Mutex::new(HashSet::new()),
            wake: Notify::new(),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    /// One consumer at a time in this process: a caller that wants everything due handled
    /// before it answers (the dev routes) waits for the batch another consumer has in hand
    /// instead of returning while it is still being applied.
    pub async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }

    /// Holds back `topic`'s messages until [`DurableQueue::resume`].
    pub fn pause(&self, topic: Topic) {
        self.paused.lock().expect("queue lock").insert(topic);
    }

    /// Lets `topic`'s messages through again.
    pub fn resume(&self, topic: Topic) {
        self.paused.lock().expect("queue lock").remove(&topic);
        self.wake.notify_one();
    }

    /// Whether `topic` is paused.
    pub fn is_paused(&self, topic: Topic) -> bool {
        self.paused.lock().expect("queue lock").contains(&topic)
    }

    /// Resolves when a message is sent (consumers also poll, for delayed messages).
    pub async fn sent(&self) {
        self.wake.notified().await
    }

    /// Messages of `topic` waiting or in flight (the dead letters apart).
    pub async fn depth(&self, topic: Topic) -> anyhow::Result<usize> {
        let mut count = 0;
        let mut query = Query::table(partition(topic));
        loop {
            let page = self.store.query(query.clone()).await?;
            count += page.items.len();
            match page.next {
                Some(next) if !page.items.is_empty() => query.after = Some(next),
                _ => return Ok(count),
            }
        }
    }

    /// Every dead letter of `topic`.
    async fn dead_items(&self, topic: Topic) -> anyhow::Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut query = Query::table(dead_partition(topic));
        loop {
            let page = self.store.query(query.clone()).await?;
            let more = page.items.len();
            items.extend(page.items);
            match page.next {
                Some(next) if more > 0 => query.after = Some(next),
                _ => return Ok(items),
            }
        }
    }

    /// Puts every dead letter of `topic` back in the queue, visible now and with its receive
    /// count reset (after the fault that killed them is fixed, like SQS's message move task).
    /// Returns how many.
    pub async fn redrive(&self, topic: Topic) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let mut moved = 0;
        for dead in self.dead_items(topic).await? {
            let Ok(mut message) = serde_json::from_str::<Stored>(&dead.body) else {
                continue;
            };
            message.receives = 0;
            let back = item(partition(topic), now, &message);
            match self.move_to((&dead.pk, &dead.sk, dead.version), back).await {
                Ok(()) => moved += 1,
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if moved > 0 {
            self.wake.notify_one();
        }
        Ok(moved)
    }

    /// Moves the message at (`pk`, `sk`, `version`) to `to` (conditional: as read).
    async fn move_to(&self, from: (&str, &str, u64), to: Item) -> Result<(), StoreError> {
        self.store
            .transact(vec![
                Write::Delete {
                    pk: from.0.to_owned(),
                    sk: from.1.to_owned(),
                    expect: Expect::Version(from.2),
                },
                Write::Put(to, Expect::Absent),
            ])
            .await
    }
}

#[async_trait]
impl Queue for DurableQueue {
    async fn send(&self, topic: Topic, body: String, delay: Duration) -> anyhow::Result<()> {
        let now = self.clock.now();
        let message = Stored {
            id: ulid::Ulid::new().to_string(),
            body,
            receives: 0,
            sent_at: now,
        };
        self.store
            .transact(vec![Write::Put(
                item(
                    partition(topic),
                    now + delay.max(Duration::zero()),
                    &message,
                ),
                Expect::Absent,
            )])
            .await
            .map_err(|e| anyhow::anyhow!("queueing a message: {e}"))?;
        self.wake.notify_one();
        Ok(())
    }

    async fn send_all(&self, topic: Topic, bodies: Vec<String>) -> anyhow::Result<()> {
        let now = self.clock.now();
        let messages: Vec<Item> = bodies
            .into_iter()
            .map(|body| {
                let message = Stored {
                    id: ulid::Ulid::new().to_string(),
                    body,
                    receives: 0,
                    sent_at: now,
                };
                item(partition(topic), now, &message)
            })
            .collect();
        for chunk in messages.chunks(SENT_TOGETHER) {
            let writes = chunk
                .iter()
                .map(|m| Write::Put(m.clone(), Expect::Absent))
                .collect();
            self.store
                .transact(writes)
                .await
                .map_err(|e| anyhow::anyhow!("queueing messages: {e}"))?;
        }
        self.wake.notify_waiters();
        self.wake.notify_one();
        Ok(())
    }
}

/// Messages written in one transaction by [`Queue::send_all`].
const SENT_TOGETHER: usize = 25;

#[async_trait]
impl QueueConsumer for DurableQueue {
    async fn receive(
        &self,
        topic: Topic,
        max: usize,
        visibility: Duration,
    ) -> anyhow::Result<Vec<Received>> {
        if self.is_paused(topic) || max == 0 {
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        let pk = partition(topic);
        let mut query = Query::table(pk.clone());
        query.range = SkRange::Between("0".into(), format!("{}~", time_key(now)));
        query.limit = max;
        let page = self.store.query(query).await?;
        let mut received = Vec::new();
        for found in page.items {
            let from = (found.pk.as_str(), found.sk.as_str(), found.version);
            let mut message: Stored = match serde_json::from_str(&found.body) {
                Ok(message) => message,
                Err(e) => {
                    // Unreadable (corrupt, or from another version): set aside, never a
                    // block on the messages behind it.
                    tracing::error!(topic = topic_name(topic), key = %found.sk, error = %e, "unreadable message moved to the dead letters");
                    let mut dead = found.clone();
                    dead.pk = dead_partition(topic);
                    dead.version = 0;
                    if let Err(e) = self.move_to(from, dead).await {
                        tracing::warn!(topic = topic_name(topic), error = %e, "could not set an unreadable message aside");
                    }
                    continue;
                }
            };
            if message.receives >= MAX_RECEIVES {
                // Received too often without success: set aside, like SQS's redrive.
                let dead = item(dead_partition(topic), now, &message);
                match self.move_to(from, dead).await {
                    Ok(()) => tracing::error!(
                        topic = topic_name(topic),
                        message = %message.id,
                        receives = message.receives,
                        "message failed too often; moved to the dead letters"
                    ),
                    Err(StoreError::Conflict { .. }) => {}
                    Err(e) => {
                        tracing::warn!(topic = topic_name(topic), error = %e, "could not set a message aside");
                        break;
                    }
                }
                continue;
            }
            message.receives += 1;
            let hidden = item(pk.clone(), now + visibility, &message);
            let (new_pk, new_sk) = (hidden.pk.clone(), hidden.sk.clone());
            match self.move_to(from, hidden).await {
                Ok(()) => received.push(Received {
                    topic,
                    body: message.body,
                    receives: message.receives,
                    handle: handle(&new_pk, &new_sk, 1),
                }),
                // Another consumer took it first.
                Err(StoreError::Conflict { .. }) => {}
                // The messages taken so far are handed out, not left hidden.
                Err(e) => {
                    tracing::warn!(topic = topic_name(topic), error = %e, "receiving stopped part-way");
                    break;
                }
            }
        }
        Ok(received)
    }

    async fn ack(&self, message: &Received) -> anyhow::Result<()> {
        let (version, pk, sk) = parse_handle(&message.handle)?;
        match self
            .store
            .transact(vec![Write::Delete {
                pk,
                sk,
                expect: Expect::Version(version),
            }])
            .await
        {
            // Its visibility ran out and another receive moved it: that receiver owns it.
            Ok(()) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn release(&self, message: &Received, delay: Duration) -> anyhow::Result<()> {
        let (version, pk, sk) = parse_handle(&message.handle)?;
        let Some(found) = self.store.get(&pk, &sk).await? else {
            return Ok(());
        };
        if found.version != version {
            return Ok(());
        }
        let stored: Stored = serde_json::from_str(&found.body)?;
        let later = item(pk.clone(), self.clock.now() + delay, &stored);
        match self.move_to((&pk, &sk, version), later).await {
            Ok(()) | Err(StoreError::Conflict { .. }) => {
                self.wake.notify_one();
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn dead_letters(&self, topic: Topic) -> anyhow::Result<Vec<String>> {
        let page = self
            .store
            .query(Query::table(dead_partition(topic)))
            .await?;
        page.items
            .iter()
            .map(|i| Ok(serde_json::from_str::<Stored>(&i.body)?.body))
            .collect()
    }
}
