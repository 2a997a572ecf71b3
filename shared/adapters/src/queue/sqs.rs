//! The SQS adapter: one queue URL per topic (each with its dead-letter queue, set by the
//! template's redrive policy); the receiving side is what the local runner's pollers and
//! the contract suite use (in the cloud, Lambda's event source mapping receives).
use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use chrono::Duration;

use super::{Queue, QueueConsumer, Received, Topic};

/// The SQS adapter.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    urls: HashMap<Topic, String>,
    dead_letter_urls: HashMap<Topic, String>,
}

impl SqsQueue {
    /// Sends to (and receives from) the given queue URLs.
    pub fn new(client: aws_sdk_sqs::Client, urls: HashMap<Topic, String>) -> SqsQueue {
        SqsQueue {
            client,
            urls,
            dead_letter_urls: HashMap::new(),
        }
    }

    /// The same, knowing each topic's dead-letter queue.
    pub fn with_dead_letters(mut self, urls: HashMap<Topic, String>) -> SqsQueue {
        self.dead_letter_urls = urls;
        self
    }

    fn url(&self, topic: Topic) -> anyhow::Result<&str> {
        self.urls
            .get(&topic)
            .map(String::as_str)
            .ok_or_else(|| anyhow::anyhow!("no queue configured for {topic:?}"))
    }
}

fn sqs_error<E>(e: aws_sdk_sqs::error::SdkError<E>) -> anyhow::Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(&e))
}

/// A receipt handle with the queue it came from.
fn handle(url: &str, receipt: &str) -> String {
    format!("{url}\n{receipt}")
}

fn parse_handle(text: &str) -> anyhow::Result<(&str, &str)> {
    text.split_once('\n')
        .ok_or_else(|| anyhow::anyhow!("not a receipt handle of this queue"))
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, topic: Topic, body: String, delay: Duration) -> anyhow::Result<()> {
        let url = self.url(topic)?;
        // SQS delays at most 15 minutes; longer deadlines are the scheduled sweep's.
        let delay = delay.num_seconds().clamp(0, 900) as i32;
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .delay_seconds(delay)
            .send()
            .await
            .map_err(|e| anyhow::Error::new(e.into_service_error()).context("sending to SQS"))?;
        Ok(())
    }

    async fn send_all(&self, topic: Topic, bodies: Vec<String>) -> anyhow::Result<()> {
        use futures::StreamExt;
        let url = self.url(topic)?;
        let requests = batches_of(bodies)
            .into_iter()
            .map(|batch| self.send_batch(url, batch));
        let mut sent = futures::stream::iter(requests).buffer_unordered(BATCHES_AT_ONCE);
        while let Some(outcome) = sent.next().await {
            outcome?;
        }
        Ok(())
    }
}

/// SendMessageBatch's limits: ten messages and 256 KB a request.
const BATCH_MESSAGES: usize = 10;
const BATCH_BYTES: usize = 256 * 1024;

/// Batch requests in flight at once.
const BATCHES_AT_ONCE: usize = 8;

/// `bodies` cut into SendMessageBatch requests (each within both limits; a body over the
/// size limit alone goes alone, and SQS refuses it with its own error).
fn batches_of(bodies: Vec<String>) -> Vec<Vec<String>> {
    let mut batches: Vec<Vec<String>> = Vec::new();
    let mut bytes = 0;
    for body in bodies {
        let full = batches
            .last()
            .is_none_or(|b| b.len() == BATCH_MESSAGES || bytes + body.len() > BATCH_BYTES);
        if full {
            batches.push(Vec::new());
            bytes = 0;
        }
        bytes += body.len();
        batches.last_mut().expect("a batch").push(body);
    }
    batches
}

impl SqsQueue {
    /// One SendMessageBatch, and once more for the messages SQS did not take for a reason
    /// of its own; a message still not taken is an error.
    async fn send_batch(&self, url: &str, bodies: Vec<String>) -> anyhow::Result<()> {
        let refused = self.send_batch_once(url, &bodies).await?;
        if refused.is_empty() {
            return Ok(());
        }
        let again: Vec<String> = refused.iter().map(|&n| bodies[n].clone()).collect();
        let still = self.send_batch_once(url, &again).await?;
        match still.is_empty() {
            true => Ok(()),
            false => Err(anyhow::anyhow!(
                "SQS refused {} of a batch of {} twice",
                still.len(),
                bodies.len()
            )),
        }
    }

    /// One SendMessageBatch: the positions of the messages SQS refused for a reason of its
    /// own (a refusal of ours is an error).
    async fn send_batch_once(&self, url: &str, bodies: &[String]) -> anyhow::Result<Vec<usize>> {
        use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
        let entries = bodies
            .iter()
            .enumerate()
            .map(|(n, body)| {
                SendMessageBatchRequestEntry::builder()
                    .id(n.to_string())
                    .message_body(body.clone())
                    .build()
                    .map_err(|e| anyhow::anyhow!("a batch entry: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| {
                anyhow::Error::new(e.into_service_error()).context("sending a batch to SQS")
            })?;
        if let Some(ours) = out.failed.iter().find(|f| f.sender_fault) {
            return Err(anyhow::anyhow!(
                "SQS refused a message of the batch ({}: {})",
                ours.code,
                ours.message.as_deref().unwrap_or_default()
            ));
        }
        Ok(out
            .failed
            .iter()
            .filter_map(|f| f.id.parse().ok())
            .collect())
    }
}

#[async_trait]
impl QueueConsumer for SqsQueue {
    async fn receive(
        &self,
        topic: Topic,
        max: usize,
        visibility: Duration,
    ) -> anyhow::Result<Vec<Received>> {
        let url = self.url(topic)?;
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .wait_time_seconds(1)
            .visibility_timeout(visibility.num_seconds().clamp(0, 43_200) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Received {
                topic,
                receives: m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1),
                handle: handle(url, m.receipt_handle().unwrap_or_default()),
                body: m.body.unwrap_or_default(),
            })
            .collect())
    }

    async fn ack(&self, message: &Received) -> anyhow::Result<()> {
        let (url, receipt) = parse_handle(&message.handle)?;
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(())
    }

    async fn release(&self, message: &Received, delay: Duration) -> anyhow::Result<()> {
        let (url, receipt) = parse_handle(&message.handle)?;
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt)
            // Whole seconds, rounded up: a backoff is never cut to nothing.
            .visibility_timeout(((delay.num_milliseconds() + 999) / 1000).clamp(0, 43_200) as i32)
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(())
    }

    async fn dead_letters(&self, topic: Topic) -> anyhow::Result<Vec<String>> {
        let Some(url) = self.dead_letter_urls.get(&topic) else {
            return Ok(Vec::new());
        };
        // A look, not a consumption: each message read stays visible (timeout 0).
        let mut bodies = Vec::new();
        for _ in 0..10 {
            let out = self
                .client
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .visibility_timeout(0)
                .wait_time_seconds(1)
                .send()
                .await
                .map_err(sqs_error)?;
            let page: Vec<String> = out
                .messages
                .unwrap_or_default()
                .into_iter()
                .filter_map(|m| m.body)
                .collect();
            if page.is_empty() {
                break;
            }
            for body in page {
                if !bodies.contains(&body) {
                    bodies.push(body);
                }
            }
        }
        Ok(bodies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_ten_messages_and_256_kb() {
        assert!(batches_of(Vec::new()).is_empty());
        let sizes = |batches: Vec<Vec<String>>| batches.iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(sizes(batches_of(vec!["x".into(); 1])), vec![1]);
        assert_eq!(sizes(batches_of(vec!["x".into(); 10])), vec![10]);
        assert_eq!(sizes(batches_of(vec!["x".into(); 11])), vec![10, 1]);
        assert_eq!(
            sizes(batches_of(vec!["x".into(); 101])),
            [vec![10; 10], vec![1]].concat()
        );
        // Three 100 KB bodies: two fit in 256 KB, the third starts the next request.
        let big = "x".repeat(100 * 1024);
        assert_eq!(sizes(batches_of(vec![big; 3])), vec![2, 1]);
    }
}
