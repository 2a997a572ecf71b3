//! `functions/notify`: the notifier (N1, P9, P11, O9). The table's DynamoDB Stream, filtered
//! to new outbox items (`template.yaml`), hands each to this function, which delivers it:
//! notices into inboxes and as email through SES v2, registrar events onto the registrar's
//! EventBridge bus. A message it cannot deliver now keeps its backoff in the table and is
//! retried by the expire-sweeper's schedule, then dead-lettered with an alarm; the stream
//! record itself fails (and is retried, then sent to the function's DLQ) only when the
//! table cannot be read or written.
use tracing::Instrument;

use market_app::App;

pub use market_web::stream::{
    ItemFailure, StreamChange, StreamEvent, StreamRecord, StreamResponse,
};

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
