//! The one place refusals and failures become HTTP answers: RFC 9457 problem+json with the
//! stable code. Unexpected failures are logged with their context and answered 500 without
//! internals.
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use market_app::AppError;
use market_core::error::{Code, Problem};

/// The problem document of a refusal.
pub fn problem_body(p: &Problem) -> serde_json::Value {
    let mut body = json!({
        "type": format!("https://market.example/problems/{}", p.code.as_str().to_lowercase().replace('_', "-")),
        "title": p.code.title(),
        "status": p.http_status(),
        "detail": p.detail,
        "code": p.code.as_str(),
    });
    if let Some(at) = p.buyable_at {
        body["buyable_at"] = json!(at);
    }
    if !p.errors.is_empty() {
        body["errors"] = json!(p.errors);
    }
    // M2: an exit's blockers, in the same `errors` member (a refusal has one or the other).
    if !p.reasons.is_empty() {
        body["errors"] = json!(p.reasons);
    }
    if let Some(amount) = p.amount {
        body["amount"] = json!(format!("{amount:.2}"));
    }
    body
}

/// A problem+json response.
pub fn problem_response(p: &Problem) -> Response {
    let status = StatusCode::from_u16(p.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        problem_body(p).to_string(),
    )
        .into_response();
    if let Some(seconds) = p.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    response
}

/// A use case's failure on its way to an HTTP answer. `AppError` and `Problem` live in the
/// layers below, which know nothing of HTTP; this wrapper is where they become responses
/// (the orphan rule keeps `IntoResponse` off them). `?` converts both.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        ApiError(e)
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> ApiError {
        ApiError(AppError::Refused(p))
    }
}

impl From<market_app::store::StoreError> for ApiError {
    fn from(e: market_app::store::StoreError) -> ApiError {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.0 {
            AppError::Refused(p) => {
                if p.code == Code::Busy {
                    // Contention is expected now and then; many in a row need a look.
                    tracing::warn!(detail = %p.detail, "answered busy");
                }
                problem_response(&p)
            }
            AppError::Internal(e) => {
                // `{:#}`: the error and its causes on one line (Debug would add a backtrace
                // per line of log when RUST_BACKTRACE is set).
                tracing::error!(error = format!("{e:#}"), "request failed");
                let body = json!({
                    "type": "about:blank",
                    "title": "Internal error",
                    "status": 500,
                    "detail": "something went wrong on our side; it has been logged",
                    "code": "INTERNAL",
                });
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CONTENT_TYPE, "application/problem+json")],
                    body.to_string(),
                )
                    .into_response()
            }
        }
    }
}

/// 404 for routes that do not exist, in the same shape.
pub async fn no_route() -> Response {
    problem_response(&Problem::new(Code::NotFound, "no such route"))
}
