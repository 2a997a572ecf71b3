//! L10: the operator's side of partner listings: defining partners (their keys are in
//! Secrets Manager / `MARKET_PARTNER_KEYS`, never sent here) and confirming offline bank
//! transfers of partner orders.
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use market_app::partners::{self, orders::PartnerOrderView, PartnerView};
use market_core::ids::OrderId;
use market_core::partner::PartnerId;
use market_web::auth::Admin;
use market_web::json::Json;
use market_web::openapi::{Busy, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::{AppState, PathParam};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutPartner)]
pub(crate) struct PartnerBody {
    /// Shown with the partner's listings in browse.
    #[schema(max_length = 100)]
    name: String,
    /// Where paid orders are announced (a signed POST, see API.md).
    #[schema(example = "https://partner.example/market/deliveries")]
    webhook_url: String,
}

/// Define or change a partner (L10)
///
/// Its HMAC key is configured apart: the `PARTNER_KEYS_SECRET_ARN` secret in the cloud,
/// `MARKET_PARTNER_KEYS` for the local runner (a JSON object of partner id → key).
#[utoipa::path(
    put,
    path = "/admin/partners/{partner_id}",
    tag = "operators",
    params(("partner_id" = String, Path, description = "1-40 of a-z, 0-9, - and _")),
    request_body = PartnerBody,
    responses(
        (status = 200, description = "The partner", body = PartnerView),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn put_partner(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(id): PathParam<PartnerId>,
    Json(body): Json<PartnerBody>,
) -> Result<Response, ApiError> {
    let partner = partners::define(&app, &id, &body.name, &body.webhook_url).await?;
    Ok(axum::Json(partner).into_response())
}

/// Confirm a partner order's bank transfer (L10)
///
/// The money arrived within the order's 3 days: the order is paid and the partner told.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/confirm-transfer",
    tag = "operators",
    params(("id" = String, Path, description = "The partner order's id")),
    responses(
        (status = 200, description = "The order, now delivering", body = PartnerOrderView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "ORDER_NOT_PAYABLE (not awaiting a transfer, or past its 3 days)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn confirm_transfer(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(id): PathParam<OrderId>,
) -> Result<Response, ApiError> {
    let order = partners::orders::confirm_transfer(&app, &id).await?;
    Ok(axum::Json(order).into_response())
}
