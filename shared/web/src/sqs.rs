//! One way to consume an SQS batch, for every queue consumer (the notification consumer,
//! the deadline sweeper): each record in its own span named by its message id, every failed
//! record logged at error level with its message id and the error, and reported in the
//! partial batch response so that SQS redelivers only it (and moves it to the DLQ after the
//! queue's `maxReceiveCount`). Nothing fails silently: a record is either handled, or
//! logged and redelivered.
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_lambda_events::sqs::BatchItemFailure;
use tracing::Instrument;

use market_app::AppError;

/// Runs `handle` on every record of `event` in turn; `consumer` names the queue's consumer
/// in the logs.
pub async fn partial_batch<F, Fut>(
    consumer: &str,
    event: SqsEvent,
    mut handle: F,
) -> SqsBatchResponse
where
    F: FnMut(SqsMessage) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let receives = record
            .attributes
            .get("ApproximateReceiveCount")
            .cloned()
            .unwrap_or_default();
        let span = tracing::info_span!("record", consumer, message_id = %id, receives = %receives);
        let outcome = handle(record).instrument(span.clone()).await;
        if let Err(e) = outcome {
            span.in_scope(|| {
                tracing::error!(
                    message_id = %id,
                    error = format!("{e:#}"),
                    "record failed; SQS will redeliver it"
                )
            });
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}
