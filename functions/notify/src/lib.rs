//! `functions/notify`: the notifier (N1, P9, P11, O9). The table's DynamoDB Stream, filtered
//! to new outbox items (`template.yaml`), hands each to this function, which delivers it:
//! notices into inboxes and as email through SES v2, registrar events onto the registrar's
//! EventBridge bus. A message it cannot deliver now keeps its backoff in the table and is
//! retried by the expire-sweeper's schedule, then dead-lettered with an alarm; the stream
//! record itself fails (and is retried, then sent to the function's DLQ) only when the
//! table cannot be read or written.
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use tracing::Instrument;

use market_app::App;

/// The outbox message id a stream record is about: its `pk` is `OUTBOX#<id>`.
pub fn outbox_id(record: &EventRecord) -> Option<String> {
    let keys = serde_json::to_value(&record.change.keys).ok()?;
    keys.get("pk")?
        .get("S")?
        .as_str()?
        .strip_prefix("OUTBOX#")
        .map(str::to_owned)
}

/// Delivers the message of every record in turn, each in its own span. A record whose
/// delivery hit the table (not the receiver: that failure is recorded on the message) is
/// reported by its sequence number, and the stream retries from there.
pub async fn handle(app: &App, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let sequence = record.change.sequence_number.clone();
        let Some(id) = outbox_id(record) else {
            tracing::warn!(event_id = %record.event_id, event = %record.event_name, "a stream record that is not an outbox item; the stream's filter should have kept it out");
            continue;
        };
        let span = tracing::info_span!("outbox", outbox = %id, event_id = %record.event_id);
        let outcome = market_app::outbox::deliver(app, &id).instrument(span).await;
        match outcome {
            Ok(true) => tracing::info!(outbox = %id, "delivered"),
            Ok(false) => tracing::info!(outbox = %id, "not delivered now; the sweep retries it"),
            Err(e) => {
                tracing::error!(outbox = %id, error = %format!("{e:#}"), "the outbox message could not be read or recorded; the stream retries it");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = sequence;
                response.batch_item_failures.push(failure);
                // The stream retries from the first failure on: the rest would be retried
                // anyway.
                break;
            }
        }
    }
    response
}
