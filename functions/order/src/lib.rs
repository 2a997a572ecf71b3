//! `functions/order`: carts, orders, payment attempts and cancellation (API.md "Orders").
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use market_app::orders;
use market_core::ids::OrderId;
use market_web::auth::Caller;
use market_web::json::Query;
use market_web::problem::ApiError;
use market_web::PathParam;
use market_web::{choice, page_cursor, page_limit, router_from, AppState, Raw, RouteTable};

/// The routes of this function, as data (see `market_web::RouteTable`).
pub fn routes() -> RouteTable {
    vec![
        ("POST", "/orders", post(place)),
        ("GET", "/orders/{id}", get(read)),
        ("POST", "/orders/{id}/pay", post(pay)),
        ("POST", "/orders/{id}/cancel", post(cancel)),
        ("POST", "/orders/{id}/refresh", post(refresh)),
        ("GET", "/me/orders", get(mine)),
    ]
}

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceBody {
    domains: Vec<String>,
    captcha_token: String,
}

async fn place(
    State(app): State<AppState>,
    caller: Caller,
    raw: Raw,
) -> Result<Response, ApiError> {
    let parsed: PlaceBody = raw.json()?;
    // Before the Idempotency-Key is claimed: a cart over the cap writes nothing.
    market_core::limits::check_cart_size(parsed.domains.len(), app.policy.max_cart)?;
    market_web::create(&app, &caller, &raw, StatusCode::CREATED, || {
        orders::place(
            &app,
            &caller.account,
            &parsed.domains,
            &parsed.captcha_token,
        )
    })
    .await
}

async fn read(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<OrderId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(orders::get(&app, &caller.account, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayBody {
    method: String,
}

async fn pay(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<OrderId>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body: PayBody = raw.json()?;
    // O8 before anything is claimed or written.
    let method: market_core::order::PaymentMethod = body.method.parse()?;
    market_web::create(&app, &caller, &raw, StatusCode::OK, || {
        orders::pay(&app, &caller.account, &id, method)
    })
    .await
}

async fn cancel(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<OrderId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(orders::cancel(&app, &caller.account, &id).await?).into_response())
}

async fn refresh(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<OrderId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(orders::refresh(&app, &caller.account, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MineParams {
    status: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

async fn mine(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<MineParams>,
) -> Result<Response, ApiError> {
    let unpaid_only = choice("status", p.status.as_deref(), &["all", "unpaid"])? == "unpaid";
    let page = orders::mine(
        &app,
        &caller.account,
        unpaid_only,
        page_limit(p.limit),
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}
