//! `functions/pay-callback`: the payment provider's notifications.
//!
//! Two halves, two binaries: `pay-notify` is the HTTP ingress that turns junk away at the
//! door (over 16 KB, or not a signed notification form: see `market_app::notifications`),
//! durably queues the raw body and answers `success`; `pay-callback` consumes the queue in
//! SQS batches, applies each notification exactly once, and reports partial batch failures
//! so only failed records come back. The local runner mounts the ingress and drives the same consumer
//! function from its in-process queue.
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use market_app::payments::door::{self as notifications, MAX_BODY_BYTES};
use market_app::payments::{self, Applied};
use market_app::{App, AppError};
use market_core::error::{Code, Problem};
use market_web::openapi::{Busy, ProblemSchema as ProblemDoc};
use market_web::problem::ApiError;
use market_web::{router_from, AppState, RouteTable};

/// The routes of this function, as data (see `market_web::RouteTable`).
pub fn routes() -> RouteTable {
    vec![("POST", "/payments/alipay/notify", post(notify))]
}

/// The OpenAPI paths of this function (the document is put together in `infra::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(notify))]
pub struct Api;

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

/// An Alipay asynchronous notification as the door checks it; every other field is kept
/// as received for the consumer.
#[derive(utoipa::ToSchema)]
#[schema(as = AlipayNotification)]
#[allow(dead_code)]
struct NotifyForm {
    #[schema(min_length = 1)]
    out_trade_no: String,
    #[schema(min_length = 1)]
    sign: String,
    /// `RSA2`; checked by the consumer, not at the door.
    sign_type: Option<String>,
}

/// Alipay asynchronous notification (queued, then applied exactly once)
///
/// Public (no token: the provider cannot hold one). Junk is refused at the door and never
/// queued: a body over 16 KB (16384 bytes) is 413 `PAYLOAD_TOO_LARGE`; a body that is not a
/// form with a non-empty `sign` and `out_trade_no` is 400 `INVALID_REQUEST`. Anything else
/// is queued as received and answered `success`; its signature, `app_id`, `seller_id` and
/// amount are checked by the consumer, which audits what it refuses (and raises the
/// `RejectedNotifications` alarm).
// Queues the notification exactly as received; `success` tells the provider to stop
// resending, so it is said only once the body is queued. The body is read up to one byte
// past the limit, never further: an oversized one is refused without buffering it all.
#[utoipa::path(
    post,
    path = "/payments/alipay/notify",
    tag = "payments",
    security(()),
    request_body(content = NotifyForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Queued", body = String, content_type = "text/plain", example = "success"),
        (status = 400, description = "Not a payment notification (`INVALID_REQUEST`); nothing queued", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Over 16 KB (`PAYLOAD_TOO_LARGE`); nothing queued", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn notify(State(app): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES + 1)
        .await
        .map_err(|_| {
            Problem::new(
                Code::PayloadTooLarge,
                format!("a payment notification is at most {MAX_BODY_BYTES} bytes"),
            )
        })?;
    notifications::receive(&app, &bytes).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain")], "success").into_response())
}

/// Applies one queued notification (the consumer's unit of work).
pub async fn handle_message(app: &App, body: &str) -> Result<Applied, AppError> {
    payments::apply(app, body).await
}

/// The SQS consumer: every record is applied in its own span; records that failed for a
/// reason worth retrying are logged and reported, so SQS redelivers only them (and moves
/// them to the DLQ after the queue's maxReceiveCount). A record that can never apply is
/// audited, not retried.
pub async fn handle_batch(app: &App, event: SqsEvent) -> SqsBatchResponse {
    market_web::sqs::partial_batch("pay-callback", event, |record| async move {
        let outcome = match record.body.as_deref() {
            Some(body) => handle_message(app, body).await?,
            None => Applied::Rejected("empty record".into()),
        };
        tracing::info!(outcome = ?outcome, "notification handled");
        Ok(())
    })
    .await
}
