//! `functions/account`: what the caller owns: domains and money (API.md "Domains and money
//! of the caller"), and the seller's payouts (API.md "Payouts", S6).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use market_app::{accounts, payouts};
use market_core::ids::PayoutId;
use market_core::money::Money;
use market_web::auth::Caller;
use market_web::json::Query;
use market_web::openapi::{Busy, IdempotencyKey, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::{
    page_cursor, page_limit, router_from, AppState, Paging, PathParam, Raw, RouteTable,
};

/// The routes of this function, as data (see `market_web::RouteTable`).
pub fn routes() -> RouteTable {
    vec![
        ("GET", "/me/domains", get(domains)),
        ("GET", "/me/ledger", get(ledger)),
        ("POST", "/me/payouts", post(request_payout)),
        ("GET", "/me/payouts", get(list_payouts)),
        ("GET", "/me/payouts/{id}", get(read_payout)),
    ]
}

/// The OpenAPI paths of this function (the document is put together in `infra::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(domains, ledger, request_payout, list_payouts, read_payout))]
pub struct Api;

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

/// The caller's domains
#[utoipa::path(
    get,
    operation_id = "my_domains",
    path = "/me/domains",
    tag = "account",
    params(Paging),
    responses(
        (status = 200, description = "A page of the caller's domains", body = market_app::views::PageView<market_app::views::DomainView>),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
async fn domains(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = accounts::my_domains(
        &app,
        &caller.account,
        page_limit(p.limit)?,
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}

/// The caller's ledger entries, oldest first, a page at a time, and the seller balances (S1, S4)
#[utoipa::path(
    get,
    operation_id = "my_ledger",
    path = "/me/ledger",
    tag = "account",
    params(Paging),
    responses(
        (status = 200, description = "A page of entries and the balances", body = market_app::accounts::LedgerView),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
async fn ledger(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = accounts::my_ledger(
        &app,
        &caller.account,
        page_limit(p.limit)?,
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RequestPayout)]
struct PayoutBody {
    /// How much to pay out (at least `0.10`); absent: the whole available balance.
    #[schema(value_type = Option<String>, example = "600.00")]
    amount: Option<String>,
}

/// Pay available money out to the bound Alipay account (S6)
///
/// The amount leaves `available` at once; the transfer is sent at once and, when its
/// answer does not come back, looked up and retried by the sweep. Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "request_payout",
    path = "/me/payouts",
    tag = "account",
    params(IdempotencyKey),
    request_body = PayoutBody,
    responses(
        (status = 202, description = "The payout (`pending`, or already `succeeded`/`failed`)", body = market_app::payouts::PayoutView),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 409, description = "INSUFFICIENT_FUNDS (more than available, or a debt is open)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "NO_PAYOUT_ACCOUNT, NOT_VERIFIED, IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn request_payout(
    State(app): State<AppState>,
    caller: Caller,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body: PayoutBody = raw.json()?;
    let amount = body.amount.as_deref().map(Money::parse).transpose()?;
    let key = raw
        .headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    market_web::create(&app, &caller, &raw, StatusCode::ACCEPTED, || {
        payouts::request(&app, &caller.account, amount, key.as_deref())
    })
    .await
}

/// The caller's payouts, newest first (S6)
#[utoipa::path(
    get,
    operation_id = "my_payouts",
    path = "/me/payouts",
    tag = "account",
    params(Paging),
    responses(
        (status = 200, description = "A page of payouts", body = market_app::views::PageView<market_app::payouts::PayoutView>),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
async fn list_payouts(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = payouts::list(
        &app,
        &caller.account,
        page_limit(p.limit)?,
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}

/// One of the caller's payouts (S6)
#[utoipa::path(
    get,
    operation_id = "read_payout",
    path = "/me/payouts/{id}",
    tag = "account",
    params(("id" = String, Path, description = "The payout's id")),
    responses(
        (status = 200, description = "The payout", body = market_app::payouts::PayoutView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND (also another seller's payout)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn read_payout(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PayoutId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(payouts::get(&app, &caller.account, &id).await?).into_response())
}
