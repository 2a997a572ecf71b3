//! M4 featured placements, the sellers' and the public's side: applying with a listing and
//! reading a section's current winners.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use market_app::placements;
use market_core::ids::ListingId;
use market_web::auth::Caller;
use market_web::json::Query;
use market_web::openapi::{Busy, IdempotencyKey, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::{AppState, PathParam, Raw};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ApplyForPlacement)]
pub(crate) struct ApplyBody {
    /// The section applied for (`PUT /admin/placements/{section}`).
    #[schema(pattern = "^[a-z0-9_-]{1,64}$", example = "home-banner")]
    section: String,
}

/// Apply for a featured placement (M4)
///
/// The seller of an active listing applies for the section's next period (the next 1st or
/// 16th, moved to a working day); the winners are chosen by the section's rule when the
/// period starts, ties by application time. A listing applies once a period. Honours
/// `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "apply_for_placement",
    path = "/listings/{id}/placements",
    tag = "listings",
    params(("id" = String, Path, description = "The listing's id"), IdempotencyKey),
    request_body = ApplyBody,
    responses(
        (status = 201, description = "The application", body = placements::Application),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (another seller's listing)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND (no such listing or section)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "LISTING_NOT_ACTIVE, PLACEMENT_ALREADY_APPLIED, IDEMPOTENCY_IN_PROGRESS", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "NOT_IN_SECTION (a section of another TLD), IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn apply(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<ListingId>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body: ApplyBody = raw.json()?;
    market_web::create(&app, &caller, &raw, StatusCode::CREATED, || {
        placements::apply(&app, &caller.account, &id, &body.section)
    })
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct FeaturedParams {
    /// The section (`home-banner`).
    section: String,
}

/// A section's featured listings (M4)
///
/// The winners of the running period in slot order; a listing that ended has left its
/// slot. Empty before a period is filled.
#[utoipa::path(
    get,
    operation_id = "featured_listings",
    path = "/listings/featured",
    tag = "listings",
    security(()),
    params(FeaturedParams),
    responses(
        (status = 200, description = "The section's current winners", body = placements::FeaturedView),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND (no such section)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn featured(
    State(app): State<AppState>,
    Query(p): Query<FeaturedParams>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(placements::featured(&app, &p.section).await?).into_response())
}
