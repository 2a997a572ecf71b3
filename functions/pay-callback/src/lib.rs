//! `functions/pay-callback`: the payment provider's notifications.
//!
//! Two halves, two binaries: `pay-notify` is the HTTP ingress that durably queues the raw
//! body and answers `success`; `pay-callback` consumes the queue in SQS batches, applies
//! each notification exactly once, and reports partial batch failures so only failed
//! records come back. The local runner mounts the ingress and drives the same consumer
//! function from its in-process queue.
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_lambda_events::sqs::BatchItemFailure;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use shared::app::payments::{self, Applied};
use shared::app::{App, AppError};
use shared::web::{router_from, AppState, RouteTable};

/// The routes of this function, as data (see `shared::web::RouteTable`).
pub fn routes() -> RouteTable {
    vec![("POST", "/payments/alipay/notify", post(notify))]
}

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

/// Queues the notification exactly as received; `success` tells the provider to stop
/// resending, so it is said only once the body is queued.
async fn notify(State(app): State<AppState>, body: String) -> Result<Response, AppError> {
    payments::receive(&app, body).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain")], "success").into_response())
}

/// Applies one queued notification (the consumer's unit of work).
pub async fn handle_message(app: &App, body: &str) -> Result<Applied, AppError> {
    payments::apply(app, body).await
}

/// The SQS consumer: every record is applied; records that failed for a reason worth
/// retrying are reported, so SQS redelivers only them (and moves them to the DLQ after the
/// queue's maxReceiveCount). A record that can never apply is audited, not retried.
pub async fn handle_batch(app: &App, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let outcome = match record.body.as_deref() {
            Some(body) => handle_message(app, body).await,
            None => Ok(Applied::Rejected("empty record".into())),
        };
        if let Err(e) = outcome {
            tracing::error!(message = %id, error = ?e, "notification not applied; SQS will redeliver it");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}
