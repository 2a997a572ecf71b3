//! `functions/account`: what the caller owns: domains and money (API.md "Domains and money
//! of the caller").
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use market_app::accounts;
use market_web::auth::Caller;
use market_web::json::Query;
use market_web::openapi::{Busy, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::{page_cursor, page_limit, router_from, AppState, Paging, RouteTable};

/// The routes of this function, as data (see `market_web::RouteTable`).
pub fn routes() -> RouteTable {
    vec![
        ("GET", "/me/domains", get(domains)),
        ("GET", "/me/ledger", get(ledger)),
    ]
}

/// The OpenAPI paths of this function (the document is put together in `infra::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(domains, ledger))]
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
