//! `functions/list`: fixed-price listings (API.md "Listings") and the legacy
//! offline-negotiation listings (L11). The router runs under
//! `lambda_http` in the cloud and inside the local runner.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use market_app::listings::{self, Browse, ListingChange, NewListing, Sort};
use market_core::domain_name::DomainName;
use market_core::ids::ListingId;
use market_web::auth::Caller;
use market_web::json::{amount, Json, Query};
use market_web::openapi::{Busy, IdempotencyKey, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::PathParam;
use market_web::{choice, page_cursor, page_limit, router_from, AppState, Paging, Raw, RouteTable};

mod featured;
mod legacy;
mod partner;

/// The routes of this function, as data (see `market_web::RouteTable`).
pub fn routes() -> RouteTable {
    vec![
        ("GET", "/listings", get(browse)),
        ("GET", "/listings/featured", get(featured::featured)),
        ("POST", "/listings/{id}/placements", post(featured::apply)),
        ("POST", "/listings", post(publish)),
        ("GET", "/listings/{id}", get(read)),
        ("PATCH", "/listings/{id}", patch(change)),
        ("DELETE", "/listings/{id}", delete(delist)),
        ("GET", "/me/listings", get(mine)),
        ("POST", "/listings/{id}/appeal", post(appeal)),
        // L10: signed by the partner (HMAC), not the JWT authorizer.
        (
            "PUT",
            "/partner/listings/{domain}",
            put(partner::put_listing),
        ),
        (
            "DELETE",
            "/partner/listings/{domain}",
            delete(partner::delete_listing),
        ),
        (
            "POST",
            "/partner/deliveries/{id}",
            post(partner::confirm_delivery),
        ),
        ("GET", "/legacy-listings", get(legacy::browse)),
        (
            "POST",
            "/legacy-listings/{id}/convert",
            post(legacy::convert),
        ),
    ]
}

/// The OpenAPI paths of this function (the document is put together in `infra::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        browse,
        publish,
        read,
        change,
        delist,
        mine,
        featured::featured,
        featured::apply,
        appeal,
        partner::put_listing,
        partner::delete_listing,
        partner::confirm_delivery,
        legacy::browse,
        legacy::convert
    ),
    components(schemas(BrowseSort))
)]
pub struct Api;

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PublishListing)]
struct PublishBody {
    /// The domain (ASCII or Unicode), one of the caller's.
    #[schema(example = "example.com")]
    domain: String,
    #[schema(value_type = market_web::openapi::ListingPriceSchema)]
    price: Value,
    /// When the listing ends; default and longest: as the policy allows (L4).
    ends_at: Option<DateTime<Utc>>,
    #[schema(max_length = 500)]
    description: Option<String>,
}

/// Publish a fixed-price listing (L1-L4)
///
/// The seller must be real-name verified with an Alipay account bound (A1) and the domain
/// tradeable (L2). Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "publish_listing",
    path = "/listings",
    tag = "listings",
    params(IdempotencyKey),
    request_body = PublishBody,
    responses(
        (status = 201, description = "Published", body = market_app::views::ListingView),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT, INVALID_DOMAIN", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "DEPOSIT_REQUIRED (M1, with the `amount` missing), SELLER_EXITED (M2)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "ALREADY_IN_TRADE, IDEMPOTENCY_IN_PROGRESS", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "NOT_VERIFIED, NO_PAYOUT_ACCOUNT, NOT_OWNER, TOO_SOON_AFTER_REGISTRATION, NEAR_EXPIRY, DOMAIN_EXPIRED, TRANSFER_PROHIBITED, SPECIAL_DOMAIN, PENDING_OPERATION, RESTRICTED, IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeListing)]
struct ChangeBody {
    #[schema(value_type = Option<market_web::openapi::ListingPriceSchema>)]
    price: Option<Value>,
    ends_at: Option<DateTime<Utc>>,
    #[schema(max_length = 500)]
    description: Option<String>,
}

/// Change a listing (L4, L5)
#[utoipa::path(
    patch,
    operation_id = "change_listing",
    path = "/listings/{id}",
    tag = "listings",
    params(("id" = String, Path, description = "The listing's id")),
    request_body = ChangeBody,
    responses(
        (status = 200, description = "The listing as changed", body = market_app::views::ListingView),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (another seller's listing)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "LISTING_NOT_ACTIVE, ORDER_PENDING", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
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

/// Delist (L5)
#[utoipa::path(
    delete,
    operation_id = "delist",
    path = "/listings/{id}",
    tag = "listings",
    params(("id" = String, Path, description = "The listing's id")),
    responses(
        (status = 200, description = "The listing, ended", body = market_app::views::ListingView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (another seller's listing)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "LISTING_NOT_ACTIVE, ORDER_PENDING", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn delist(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<ListingId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(listings::delist(&app, &caller.account, &id).await?).into_response())
}

/// A listing
#[utoipa::path(
    get,
    operation_id = "read_listing",
    path = "/listings/{id}",
    tag = "listings",
    security(()),
    params(("id" = String, Path, description = "The listing's id")),
    responses(
        (status = 200, description = "The listing", body = market_app::views::ListingView),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn read(
    State(app): State<AppState>,
    PathParam(id): PathParam<ListingId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(listings::get(&app, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct BrowseParams {
    /// Only domains under this TLD (`com`).
    tld: Option<String>,
    #[param(value_type = Option<market_app::schema::MoneySchema>)]
    min_price: Option<String>,
    #[param(value_type = Option<market_app::schema::MoneySchema>)]
    max_price: Option<String>,
    /// Words the domain contains.
    q: Option<String>,
    #[param(value_type = Option<BrowseSort>)]
    sort: Option<String>,
    /// Items per page: default 50, at most 200.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page; absent or empty for the first.
    cursor: Option<String>,
}

/// The order of a browse.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
enum BrowseSort {
    #[schema(rename = "price")]
    Price,
    #[schema(rename = "-price")]
    PriceDescending,
    #[schema(rename = "newest")]
    Newest,
}

/// Browse active listings
///
/// Reads at most two fixed-size index pages per request: a filter that matches little
/// answers a short (even empty) page with a next_cursor to read on. min_price above
/// max_price is 400 INVALID_QUERY.
#[utoipa::path(
    get,
    operation_id = "browse_listings",
    path = "/listings",
    tag = "listings",
    security(()),
    params(BrowseParams),
    responses(
        (status = 200, description = "A page of active listings", body = market_app::views::PageView<market_app::views::ListingView>),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT, INVALID_QUERY", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
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
        limit: page_limit(p.limit)?,
        cursor: page_cursor(p.cursor),
    };
    Ok(axum::Json(listings::browse(&app, browse).await?).into_response())
}

/// The caller's listings
///
/// Every status, newest first. A listing an operator took down carries `takedown`: the
/// reason and the appeal (M3); public views never show them.
#[utoipa::path(
    get,
    operation_id = "my_listings",
    path = "/me/listings",
    tag = "listings",
    params(Paging),
    responses(
        (status = 200, description = "A page of the caller's listings, newest first", body = market_app::views::PageView<market_app::views::ListingView>),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
async fn mine(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = listings::mine(
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
#[schema(as = AppealTakedown)]
struct AppealBody {
    /// Why the listing should come back; not blank.
    #[schema(min_length = 1, max_length = 500)]
    text: String,
}

/// Appeal a takedown, once (M3)
///
/// M3: the seller asks for the review of an operator's takedown: once per takedown, only
/// the seller, only for a listing taken down. An operator then restores it or confirms the
/// takedown (`POST /admin/listings/{id}/appeal`). Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "appeal_takedown",
    path = "/listings/{id}/appeal",
    tag = "listings",
    params(("id" = String, Path, description = "The listing's id"), IdempotencyKey),
    request_body = AppealBody,
    responses(
        (status = 201, description = "Filed: the listing with its takedown and the pending appeal", body = market_app::views::ListingView),
        (status = 400, description = "INVALID_REQUEST (blank, or over 500 characters)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (another seller's listing)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "NOT_TAKEN_DOWN, APPEAL_ALREADY_FILED, IDEMPOTENCY_IN_PROGRESS", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn appeal(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<ListingId>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body: AppealBody = raw.json()?;
    // Before the Idempotency-Key is claimed: a text over its limit writes nothing.
    market_core::compliance::check_appeal_text(&body.text)?;
    market_web::create(&app, &caller, &raw, StatusCode::CREATED, || {
        market_app::compliance::appeal(&app, &caller.account, &id, &body.text)
    })
    .await
}
