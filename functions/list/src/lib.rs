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

use market_app::listings::{self, ListingChange, NewListing};
use market_core::domain_name::DomainName;
use market_core::ids::ListingId;
use market_core::search::query::SearchParams;
use market_web::auth::Caller;
use market_web::json::{amount, Json, Query};
use market_web::openapi::{Busy, IdempotencyKey, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::PathParam;
use market_web::{page_cursor, page_limit, router_from, AppState, Paging, Raw, RouteTable};

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
    /// Words or a whole name: found in the name (Unicode or punycode) by substring of two
    /// characters or more, or as a whole token; an exact name ranks first.
    q: Option<String>,
    /// One or more TLDs, comma-separated, without dots (`com,cn`).
    tld: Option<String>,
    /// The shortest name (characters without the TLD).
    min_len: Option<String>,
    /// The longest name.
    max_len: Option<String>,
    /// `digits`, `letters`, `alnum`, `hyphen`, `idn` or `pinyin`.
    charset: Option<String>,
    /// With `charset=pinyin`: 1, 2 or 3 syllables (单拼, 双拼, 三拼).
    syllables: Option<String>,
    /// The name starts with this.
    starts_with: Option<String>,
    /// The name ends with this.
    ends_with: Option<String>,
    /// The name contains this.
    contains: Option<String>,
    /// Characters the name must not contain (`4`).
    excludes: Option<String>,
    #[param(value_type = Option<market_app::schema::MoneySchema>)]
    min_price: Option<String>,
    #[param(value_type = Option<market_app::schema::MoneySchema>)]
    max_price: Option<String>,
    /// The domain expires after this (a date or an RFC 3339 time).
    expires_after: Option<String>,
    /// The domain expires before this.
    expires_before: Option<String>,
    /// `registrar` or `partner` (L10).
    source: Option<String>,
    /// One seller's listings.
    seller: Option<String>,
    #[param(value_type = Option<BrowseSort>)]
    sort: Option<String>,
    /// Counts to add: any of `tld`, `length`, `charset`, comma-separated.
    facets: Option<String>,
    /// Items per page: default 50, at most 200.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page; absent or empty for the first.
    cursor: Option<String>,
}

/// The order of a search.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
enum BrowseSort {
    #[schema(rename = "relevance")]
    Relevance,
    #[schema(rename = "newest")]
    Newest,
    #[schema(rename = "price")]
    Price,
    #[schema(rename = "-price")]
    PriceDescending,
    #[schema(rename = "length")]
    Length,
    #[schema(rename = "ending_soon")]
    EndingSoon,
    #[schema(rename = "expiry")]
    Expiry,
}

/// Search the market (Q1)
///
/// Runs on the search engine, fed from the table: a change shows within seconds; ordering
/// always re-checks the listing. A contradictory or malformed query is 400 INVALID_QUERY.
#[utoipa::path(
    get,
    operation_id = "browse_listings",
    path = "/listings",
    tag = "listings",
    security(()),
    params(BrowseParams),
    responses(
        (status = 200, description = "A page of active listings", body = market_app::search::SearchPageView),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT, INVALID_QUERY", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn browse(
    State(app): State<AppState>,
    Query(p): Query<BrowseParams>,
) -> Result<Response, ApiError> {
    let params = SearchParams {
        q: p.q,
        tld: p.tld,
        min_len: p.min_len,
        max_len: p.max_len,
        charset: p.charset,
        syllables: p.syllables,
        starts_with: p.starts_with,
        ends_with: p.ends_with,
        contains: p.contains,
        excludes: p.excludes,
        min_price: p.min_price,
        max_price: p.max_price,
        expires_after: p.expires_after,
        expires_before: p.expires_before,
        source: p.source,
        seller: p.seller,
        sort: p.sort,
        facets: p.facets,
        limit: p.limit,
        cursor: page_cursor(p.cursor),
    };
    Ok(axum::Json(market_app::search::search(&app, &params).await?).into_response())
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
