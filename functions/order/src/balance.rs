//! L10: the buyer's account balance: read it, top it up through Alipay.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use market_app::partners::balance::{self, BalanceView};
use market_web::auth::Caller;
use market_web::json::amount;
use market_web::openapi::{Busy, IdempotencyKey, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::{AppState, Raw};

/// The caller's balance (L10)
#[utoipa::path(
    get,
    operation_id = "read_balance",
    path = "/me/balance",
    tag = "orders",
    responses(
        (status = 200, description = "The balance", body = BalanceView),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn get(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(axum::Json(balance::get(&app, &caller.account).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TopUp)]
pub(crate) struct TopUpBody {
    #[schema(value_type = market_web::openapi::ListingPriceSchema)]
    amount: Value,
}

/// Top the balance up through Alipay (L10)
///
/// Opens a payment; the balance grows once its success notification is applied. Honours
/// `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "top_up_balance",
    path = "/me/balance/top-ups",
    tag = "orders",
    params(IdempotencyKey),
    request_body = TopUpBody,
    responses(
        (status = 201, description = "The payment attempt and the provider's page", body = market_app::views::PaymentView),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 409, description = "IDEMPOTENCY_IN_PROGRESS", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn top_up(
    State(app): State<AppState>,
    caller: Caller,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body: TopUpBody = raw.json()?;
    let amount = amount(&body.amount)?;
    market_web::create(&app, &caller, &raw, StatusCode::CREATED, || {
        balance::top_up(&app, &caller.account, amount)
    })
    .await
}
