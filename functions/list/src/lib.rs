//! `functions/list`: fixed-price listings (API.md "Listings"). The router runs under
//! `lambda_http` in the cloud and inside the local runner.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use market_app::listings::{self, Browse, ListingChange, NewListing, Sort};
use market_core::domain_name::DomainName;
use market_core::ids::ListingId;
use market_web::auth::Caller;
use market_web::json::{amount, Json, Query};
use market_web::problem::ApiError;
use market_web::PathParam;
use market_web::{choice, page_cursor, page_limit, router_from, AppState, Paging, Raw, RouteTable};

/// The routes of this function, as data (see `market_web::RouteTable`).
pub fn routes() -> RouteTable {
    vec![
        ("GET", "/listings", get(browse)),
        ("POST", "/listings", post(publish)),
        ("GET", "/listings/{id}", get(read)),
        ("PATCH", "/listings/{id}", patch(change)),
        ("DELETE", "/listings/{id}", delete(delist)),
        ("GET", "/me/listings", get(mine)),
    ]
}

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    domain: String,
    price: Value,
    ends_at: Option<DateTime<Utc>>,
    description: Option<String>,
}

async fn publish(
    State(app): State<AppState>,
    caller: Caller,
    raw: Raw,
) -> Result<Response, ApiError> {
    let parsed: PublishBody = raw.json()?;
    // Before the Idempotency-Key is claimed: a field over its limit writes nothing.
    market_core::listing::check_description(parsed.description.as_deref().unwrap_or(""))?;
    let new = NewListing {
        domain: DomainName::parse(&parsed.domain)?,
        price: amount(&parsed.price)?,
        ends_at: parsed.ends_at,
        description: parsed.description.unwrap_or_default(),
    };
    market_web::create(&app, &caller, &raw, StatusCode::CREATED, || {
        listings::publish(&app, &caller.account, new)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    price: Option<Value>,
    ends_at: Option<DateTime<Utc>>,
    description: Option<String>,
}

async fn change(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<ListingId>,
    Json(body): Json<ChangeBody>,
) -> Result<Response, ApiError> {
    let change = ListingChange {
        price: body.price.as_ref().map(amount).transpose()?,
        ends_at: body.ends_at,
        description: body.description,
    };
    Ok(axum::Json(listings::change(&app, &caller.account, &id, change).await?).into_response())
}

async fn delist(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<ListingId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(listings::delist(&app, &caller.account, &id).await?).into_response())
}

async fn read(
    State(app): State<AppState>,
    PathParam(id): PathParam<ListingId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(listings::get(&app, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BrowseParams {
    tld: Option<String>,
    min_price: Option<String>,
    max_price: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

async fn browse(
    State(app): State<AppState>,
    Query(p): Query<BrowseParams>,
) -> Result<Response, ApiError> {
    let sort = match choice("sort", p.sort.as_deref(), &["price", "-price", "newest"])? {
        "-price" => Sort::PriceDescending,
        "newest" => Sort::Newest,
        _ => Sort::PriceAscending,
    };
    let money = |v: Option<String>| {
        v.as_deref()
            .map(market_core::money::Money::parse)
            .transpose()
    };
    let browse = Browse {
        tld: p.tld.filter(|t| !t.is_empty()),
        min_price: money(p.min_price)?,
        max_price: money(p.max_price)?,
        q: p.q.filter(|q| !q.is_empty()),
        sort,
        limit: page_limit(p.limit),
        cursor: page_cursor(p.cursor),
    };
    Ok(axum::Json(listings::browse(&app, browse).await?).into_response())
}

async fn mine(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = listings::mine(
        &app,
        &caller.account,
        page_limit(p.limit),
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}
