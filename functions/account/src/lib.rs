//! `functions/account`: what the caller owns: domains and money (API.md "Domains and money
//! of the caller").
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use market_app::accounts;
use market_web::auth::Caller;
use market_web::json::Query;
use market_web::problem::ApiError;
use market_web::{page_cursor, page_limit, router_from, AppState, Paging, RouteTable};

/// The routes of this function, as data (see `market_web::RouteTable`).
pub fn routes() -> RouteTable {
    vec![
        ("GET", "/me/domains", get(domains)),
        ("GET", "/me/ledger", get(ledger)),
    ]
}

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

async fn domains(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = accounts::my_domains(
        &app,
        &caller.account,
        page_limit(p.limit),
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}

async fn ledger(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = accounts::my_ledger(
        &app,
        &caller.account,
        page_limit(p.limit),
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}
