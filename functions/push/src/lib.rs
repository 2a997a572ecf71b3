//! `functions/push`: priced pushes (API.md "Pushes", P1–P10).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::Value;

use market_app::pushes::{self, NewPush};
use market_core::ids::{AccountId, PushId};
use market_core::limits::{check_length, MAX_EMAIL_CHARS, MAX_TEXT_CHARS};
use market_core::model::PushStatus;
use market_web::auth::Caller;
use market_web::json::{amount, Query};
use market_web::problem::ApiError;
use market_web::PathParam;
use market_web::{choice, page_cursor, page_limit, router_from, AppState, Raw, RouteTable};

/// The routes of this function, as data (see `market_web::RouteTable`).
pub fn routes() -> RouteTable {
    vec![
        ("POST", "/pushes", post(publish)),
        ("GET", "/pushes/{id}", get(read)),
        ("GET", "/me/pushes", get(mine)),
        ("POST", "/pushes/{id}/withdraw", post(withdraw)),
        ("POST", "/pushes/{id}/reject", post(reject)),
        ("POST", "/pushes/{id}/accept", post(accept)),
        ("POST", "/pushes/{id}/pay", post(pay)),
        ("POST", "/pushes/{id}/confirm", post(confirm)),
        ("POST", "/pushes/{id}/force", post(force)),
    ]
}

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    domains: Vec<String>,
    buyer: String,
    price: Value,
    lock_60d: bool,
    buyer_email: Option<String>,
    message: Option<String>,
}

async fn publish(
    State(app): State<AppState>,
    caller: Caller,
    raw: Raw,
) -> Result<Response, ApiError> {
    let parsed: PublishBody = raw.json()?;
    let new = NewPush {
        domains: parsed.domains,
        buyer: AccountId::parse(&parsed.buyer)?,
        price: amount(&parsed.price)?,
        lock_60d: parsed.lock_60d,
        buyer_email: parsed.buyer_email,
        message: parsed.message,
    };
    // Before the Idempotency-Key is claimed: a field over its limit writes nothing.
    if let Some(message) = &new.message {
        check_length("message", message, MAX_TEXT_CHARS)?;
    }
    if let Some(email) = &new.buyer_email {
        check_length("buyer_email", email, MAX_EMAIL_CHARS)?;
    }
    market_web::create(&app, &caller, &raw, StatusCode::CREATED, || {
        pushes::publish(&app, &caller.account, new)
    })
    .await
}

async fn read(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(pushes::get(&app, &caller.account, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MineParams {
    role: Option<String>,
    status: Option<PushStatus>,
    limit: Option<usize>,
    cursor: Option<String>,
}

async fn mine(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<MineParams>,
) -> Result<Response, ApiError> {
    let received = choice("role", p.role.as_deref(), &["sent", "received"])? == "received";
    let page = pushes::mine(
        &app,
        &caller.account,
        received,
        p.status,
        page_limit(p.limit),
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}

async fn withdraw(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(pushes::withdraw(&app, &caller.account, &id).await?).into_response())
}

async fn reject(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(pushes::reject(&app, &caller.account, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptBody {
    captcha_token: String,
}

async fn accept(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body: AcceptBody = raw.json()?;
    market_web::create(&app, &caller, &raw, StatusCode::OK, || {
        pushes::accept(&app, &caller.account, &id, &body.captcha_token)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayBody {
    method: String,
}

async fn pay(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body: PayBody = raw.json()?;
    // O8 before anything is claimed or written.
    let method: market_core::order::PaymentMethod = body.method.parse()?;
    market_web::create(&app, &caller, &raw, StatusCode::OK, || {
        pushes::pay(&app, &caller.account, &id, method)
    })
    .await
}

async fn confirm(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(pushes::confirm(&app, &caller.account, &id).await?).into_response())
}

async fn force(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(pushes::force(&app, &caller.account, &id).await?).into_response())
}
