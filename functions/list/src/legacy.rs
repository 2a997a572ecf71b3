//! L11: the legacy offline-negotiation listings (API.md "Legacy"): the public list, and
//! the seller's one-step conversion into a fixed-price listing.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use market_core::ids::LegacyListingId;
use market_web::auth::Caller;
use market_web::json::{amount, Query};
use market_web::openapi::{Busy, IdempotencyKey, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::{page_cursor, page_limit, AppState, Paging, PathParam, Raw};

/// The legacy listings still open (L11)
///
/// Offline-negotiation listings of the old system, newest first. They cannot be ordered;
/// their seller can convert one into a fixed-price listing.
#[utoipa::path(
    get,
    operation_id = "legacy_listings",
    path = "/legacy-listings",
    tag = "listings",
    security(()),
    params(Paging),
    responses(
        (status = 200, description = "A page of open legacy listings, newest first", body = market_app::views::PageView<market_app::legacy::LegacyView>),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn browse(
    State(app): State<AppState>,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page =
        market_app::legacy::browse(&app, page_limit(p.limit)?, page_cursor(p.cursor)).await?;
    Ok(axum::Json(page).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ConvertLegacyListing)]
pub(crate) struct ConvertBody {
    #[schema(value_type = market_web::openapi::ListingPriceSchema)]
    price: Value,
    /// When the new listing ends; default and longest: as the policy allows (L4).
    ends_at: Option<DateTime<Utc>>,
}

/// Convert a legacy listing into a fixed-price listing (L11)
///
/// Its seller only, once: the new listing is checked as `POST /listings` checks one (A1,
/// L2) and cools down like any new listing (L4); the legacy listing ends `converted`.
/// Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "convert_legacy_listing",
    path = "/legacy-listings/{id}/convert",
    tag = "listings",
    params(IdempotencyKey, ("id" = String, Path, description = "The legacy listing's id")),
    request_body = ConvertBody,
    responses(
        (status = 201, description = "The fixed-price listing", body = market_app::views::ListingView),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (another seller's legacy listing)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "ALREADY_CONVERTED, ALREADY_IN_TRADE, IDEMPOTENCY_IN_PROGRESS", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "NOT_VERIFIED, NO_PAYOUT_ACCOUNT, NOT_OWNER, TOO_SOON_AFTER_REGISTRATION, NEAR_EXPIRY, DOMAIN_EXPIRED, TRANSFER_PROHIBITED, SPECIAL_DOMAIN, PENDING_OPERATION, RESTRICTED, IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn convert(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<LegacyListingId>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body: ConvertBody = raw.json()?;
    let price = amount(&body.price)?;
    market_web::create(&app, &caller, &raw, StatusCode::CREATED, || {
        market_app::legacy::convert(&app, &caller.account, &id, price, body.ends_at)
    })
    .await
}
