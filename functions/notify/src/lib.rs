//! `functions/notify`: the notifier (N1, P9, P11, O9). The table's DynamoDB Stream, filtered
//! to new outbox items (`template.yaml`), hands each to this function, which delivers it:
//! notices into inboxes and as email through SES v2, registrar events onto the registrar's
//! EventBridge bus. A message it cannot deliver now keeps its backoff in the table and is
//! retried by the expire-sweeper's schedule, then dead-lettered with an alarm; the stream
//! record itself fails (and is retried, then sent to the function's DLQ) only when the
//! table cannot be read or written.
//!
//! The stream event is read with the few fields used here rather than
//! `aws_lambda_events`' `dynamodb` feature, which brings `serde_dynamo` and a second
//! `base64` into every function's build for typed attribute values this function never
//! reads.
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use market_app::App;

/// A DynamoDB Stream batch, as Lambda delivers it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

/// One change of the table.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventID", default)]
    pub event_id: String,
    /// `INSERT`, `MODIFY` or `REMOVE`.
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    #[serde(default)]
    pub dynamodb: StreamChange,
}

/// The keys of the changed item (the stream is `KEYS_ONLY`) and its place in the shard.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamChange {
    /// Attribute values as DynamoDB JSON: `{"pk": {"S": "OUTBOX#…"}, "sk": {"S": "O"}}`.
    #[serde(default)]
    pub keys: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub sequence_number: Option<String>,
}

/// The partial batch response (`FunctionResponseTypes: [ReportBatchItemFailures]`): the
/// stream retries from the first record named.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamResponse {
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    /// The failed record's sequence number.
    pub item_identifier: String,
}

/// The outbox message id a stream record is about: its `pk` is `OUTBOX#<id>`.
pub fn outbox_id(record: &StreamRecord) -> Option<String> {
    record
        .dynamodb
        .keys
        .get("pk")?
        .get("S")?
        .as_str()?
        .strip_prefix("OUTBOX#")
        .map(str::to_owned)
}

/// Delivers the messages of every record at once (each message is its own item, claimed
/// with a condition: one slow receiver never holds up the batch), each in its own span. A
/// record whose delivery hit the table (not the receiver: that failure is recorded on the
/// message) is reported by its sequence number; the stream retries from the first such
/// record on, and a message delivered meanwhile is not delivered twice.
pub async fn handle(app: &App, event: StreamEvent) -> StreamResponse {
    let deliveries = event.records.iter().map(|record| async move {
        let Some(id) = outbox_id(record) else {
            tracing::warn!(event_id = %record.event_id, event = %record.event_name, "a stream record that is not an outbox item; the stream's filter should have kept it out");
            return true;
        };
        let span = tracing::info_span!("outbox", outbox = %id, event_id = %record.event_id);
        match market_app::outbox::deliver(app, &id).instrument(span).await {
            Ok(true) => tracing::info!(outbox = %id, "delivered"),
            Ok(false) => tracing::info!(outbox = %id, "not delivered now; the sweep retries it"),
            Err(e) => {
                tracing::error!(outbox = %id, event_id = %record.event_id, error = %format!("{e:#}"), "the outbox message could not be read or recorded; the stream retries it");
                return false;
            }
        }
        true
    });
    let done = futures::future::join_all(deliveries).await;
    let mut response = StreamResponse::default();
    // The stream retries from the first failure on: the later ones are retried with it.
    if let Some(first) = done.iter().position(|ok| !ok) {
        response.batch_item_failures.push(ItemFailure {
            item_identifier: event.records[first]
                .dynamodb
                .sequence_number
                .clone()
                .unwrap_or_default(),
        });
    }
    response
}
