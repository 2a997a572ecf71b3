//! The queue port's contract, run against both adapters: the durable in-process queue (kept
//! in the embedded store, timed by the dev clock) and SQS (moto, timed by the wall clock:
//! SQS's clock cannot be injected, so its waits are real and short). At least once, as SQS
//! is: a message received and not deleted comes back after its visibility timeout; one
//! released comes back at once; after five receives it goes to the dead letters.
use std::collections::HashMap;
use std::sync::Arc;

use chrono::Duration;

use market_adapters::queue::{DurableQueue, Queue, QueueConsumer, Received, SqsQueue, Topic};
use market_adapters::store::embedded::EmbeddedStore;
use market_app::ports::clock::DevClock;
use market_tests::moto;

/// A queue under test, and how time passes for it.
struct Subject {
    queue: Arc<dyn Queue>,
    consumer: Arc<dyn QueueConsumer>,
    clock: Option<Arc<DevClock>>,
}

impl Subject {
    async fn pass(&self, by: Duration) {
        match &self.clock {
            Some(clock) => {
                clock.advance(by);
            }
            None => tokio::time::sleep((by + Duration::milliseconds(300)).to_std().unwrap()).await,
        }
    }

    /// What one receive gets; on SQS, asked again (up to 3 times) while it gets nothing: a
    /// message released a moment ago may miss a long poll that began as it came back.
    async fn received(&self, topic: Topic, visibility: Duration) -> Vec<Received> {
        for _ in 0..3 {
            let got = self.consumer.receive(topic, 10, visibility).await.unwrap();
            if !got.is_empty() || self.clock.is_some() {
                return got;
            }
        }
        Vec::new()
    }

    async fn bodies(&self, topic: Topic, visibility: Duration) -> Vec<(String, u32)> {
        let mut got = Vec::new();
        // SQS may answer a receive with only part of what is visible.
        for _ in 0..3 {
            for m in self.consumer.receive(topic, 10, visibility).await.unwrap() {
                got.push((m.body.clone(), m.receives));
            }
            if !got.is_empty() || self.clock.is_some() {
                break;
            }
        }
        got
    }
}

fn durable() -> Subject {
    let clock = Arc::new(DevClock::default());
    let queue = Arc::new(DurableQueue::new(
        Arc::new(EmbeddedStore::in_memory().unwrap()),
        clock.clone(),
    ));
    Subject {
        queue: queue.clone(),
        consumer: queue,
        clock: Some(clock),
    }
}

async fn sqs() -> Subject {
    let endpoint = moto::endpoint();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let mut urls = HashMap::new();
    let mut dead = HashMap::new();
    for topic in market_adapters::queue::TOPICS {
        let name = format!(
            "contract-{}-{}",
            market_adapters::queue::topic_name(topic),
            ulid::Ulid::new().to_string().to_lowercase()
        );
        let (url, dlq) = infra::pump::create_with_dead_letters(&client, &name)
            .await
            .unwrap();
        urls.insert(topic, url);
        dead.insert(topic, dlq);
    }
    let queue = Arc::new(SqsQueue::new(client, urls).with_dead_letters(dead));
    Subject {
        queue: queue.clone(),
        consumer: queue,
        clock: None,
    }
}

const SECOND: Duration = Duration::seconds(1);

async fn a_sent_message_is_received_once_and_gone_once_acknowledged(q: Subject) {
    let topic = Topic::PaymentNotifications;
    q.queue
        .send(topic, "paid".into(), Duration::zero())
        .await
        .unwrap();
    let got = q.consumer.receive(topic, 10, SECOND).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].body.as_str(), got[0].receives), ("paid", 1));
    q.consumer.ack(&got[0]).await.unwrap();
    q.pass(SECOND + SECOND).await;
    assert!(q.bodies(topic, SECOND).await.is_empty(), "deleted for good");
}

async fn a_delayed_message_waits_for_its_delay(q: Subject) {
    let topic = Topic::OrderDeadlines;
    q.queue.send(topic, "due".into(), SECOND * 2).await.unwrap();
    assert!(
        q.consumer
            .receive(topic, 10, SECOND)
            .await
            .unwrap()
            .is_empty(),
        "not before its delay"
    );
    q.pass(SECOND * 2).await;
    assert_eq!(q.bodies(topic, SECOND).await, vec![("due".to_owned(), 1)]);
}

async fn an_unacknowledged_message_comes_back_after_its_visibility_timeout(q: Subject) {
    let topic = Topic::PaymentNotifications;
    q.queue
        .send(topic, "crashed".into(), Duration::zero())
        .await
        .unwrap();
    let first = q.consumer.receive(topic, 10, SECOND).await.unwrap();
    assert_eq!(first.len(), 1);
    // Its consumer died: nothing acknowledges it.
    assert!(
        q.consumer
            .receive(topic, 10, SECOND)
            .await
            .unwrap()
            .is_empty(),
        "hidden while its consumer may still be working"
    );
    q.pass(SECOND).await;
    assert_eq!(
        q.bodies(topic, SECOND).await,
        vec![("crashed".to_owned(), 2)]
    );
}

async fn a_failing_message_is_retried_then_set_aside_after_five_receives(q: Subject) {
    let topic = Topic::PaymentNotifications;
    q.queue
        .send(topic, "poison".into(), Duration::zero())
        .await
        .unwrap();
    for receive in 1..=market_adapters::queue::MAX_RECEIVES {
        let got = q.received(topic, SECOND * 30).await;
        assert_eq!(got.len(), 1, "receive {receive}");
        assert_eq!(got[0].receives, receive);
        q.consumer.release(&got[0], Duration::zero()).await.unwrap();
    }
    assert!(
        q.consumer
            .receive(topic, 10, SECOND * 30)
            .await
            .unwrap()
            .is_empty(),
        "no sixth delivery"
    );
    assert_eq!(
        q.consumer.dead_letters(topic).await.unwrap(),
        vec!["poison".to_owned()]
    );
}

/// Sent together (SQS: ten a request), at the edges of a request and of the dispatcher's
/// hand-off: each arrives once, whole.
async fn messages_sent_together_each_arrive_once(q: Subject) {
    let topic = Topic::SweepWork;
    for count in [0usize, 1, 10, 11, 101] {
        let bodies: Vec<String> = (0..count).map(|n| format!("work-{count}-{n}")).collect();
        q.queue.send_all(topic, bodies.clone()).await.unwrap();
        let mut got = Vec::new();
        let mut empty = 0;
        while got.len() < count && empty < 5 {
            let batch = q.consumer.receive(topic, 10, SECOND * 30).await.unwrap();
            empty = if batch.is_empty() { empty + 1 } else { 0 };
            for m in batch {
                q.consumer.ack(&m).await.unwrap();
                got.push(m.body);
            }
        }
        got.sort();
        let mut expected = bodies;
        expected.sort();
        assert_eq!(got, expected, "{count} sent together");
    }
}

macro_rules! on_both {
    ($($name:ident),*) => {
        mod durable_queue {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::durable()).await;
            })*
        }
        mod sqs_queue {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::sqs().await).await;
            })*
        }
    };
}

on_both!(
    a_sent_message_is_received_once_and_gone_once_acknowledged,
    a_delayed_message_waits_for_its_delay,
    an_unacknowledged_message_comes_back_after_its_visibility_timeout,
    a_failing_message_is_retried_then_set_aside_after_five_receives,
    messages_sent_together_each_arrive_once
);

#[tokio::test]
async fn a_message_of_the_durable_queue_survives_a_restart_on_the_same_file() {
    let path = std::env::temp_dir().join(format!("queue-{}.redb", ulid::Ulid::new()));
    let clock = Arc::new(DevClock::default());
    {
        let store = Arc::new(EmbeddedStore::open(&path).unwrap());
        let queue = DurableQueue::new(store, clock.clone());
        queue
            .send(
                Topic::PaymentNotifications,
                "acknowledged".into(),
                Duration::zero(),
            )
            .await
            .unwrap();
        // In flight when the process dies.
        assert_eq!(
            queue
                .receive(Topic::PaymentNotifications, 10, SECOND * 30)
                .await
                .unwrap()
                .len(),
            1
        );
    }
    let store = Arc::new(EmbeddedStore::open(&path).unwrap());
    let queue = DurableQueue::new(store, clock.clone());
    clock.advance(SECOND * 30);
    let got = queue
        .receive(Topic::PaymentNotifications, 10, SECOND * 30)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].body.as_str(), got[0].receives), ("acknowledged", 2));
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn the_durable_queues_dead_letters_go_back_when_redriven() {
    let clock = Arc::new(DevClock::default());
    let queue = DurableQueue::new(Arc::new(EmbeddedStore::in_memory().unwrap()), clock.clone());
    let topic = Topic::PaymentNotifications;
    queue
        .send(topic, "fixed".into(), Duration::zero())
        .await
        .unwrap();
    for _ in 0..market_adapters::queue::MAX_RECEIVES {
        let got = queue.receive(topic, 10, SECOND).await.unwrap();
        queue.release(&got[0], Duration::zero()).await.unwrap();
    }
    assert!(queue.receive(topic, 10, SECOND).await.unwrap().is_empty());
    assert_eq!(queue.redrive(topic).await.unwrap(), 1);
    let got = queue.receive(topic, 10, SECOND).await.unwrap();
    assert_eq!((got[0].body.as_str(), got[0].receives), ("fixed", 1));
    assert!(queue.dead_letters(topic).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unreadable_message_is_set_aside_and_blocks_nothing() {
    use market_app::store::{Expect, Item, Store, Write};
    let clock = Arc::new(DevClock::default());
    let store = Arc::new(EmbeddedStore::in_memory().unwrap());
    let queue = DurableQueue::new(store.clone(), clock.clone());
    let topic = Topic::PaymentNotifications;
    store
        .transact(vec![Write::Put(
            Item::new("QUEUE#payments", "0000-00-00#garbled", "not json".into()),
            Expect::Absent,
        )])
        .await
        .unwrap();
    queue
        .send(topic, "behind it".into(), Duration::zero())
        .await
        .unwrap();
    let got = queue.receive(topic, 10, SECOND).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "behind it");
}
