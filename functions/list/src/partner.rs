//! L10: the partners' routes. Not behind the JWT authorizer: each request is signed with
//! the partner's HMAC key (`X-Partner-Id`, `X-Timestamp`, `X-Nonce`, `X-Signature`, see
//! `market_app::partners::signing`), checked before the body is even parsed.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use market_app::partners::delivery::{self, Outcome};
use market_app::partners::orders::PartnerOrderView;
use market_app::partners::{feed, signing};
use market_core::domain_name::DomainName;
use market_core::error::{Code, Problem};
use market_core::ids::OrderId;
use market_core::partner::Partner;
use market_web::json::amount;
use market_web::openapi::{Busy, PartnerUnsigned, ProblemSchema as ProblemDoc};
use market_web::problem::ApiError;
use market_web::{AppState, Raw};

/// The headers that sign a partner's request (see `market_app::partners::signing`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(crate) struct PartnerSignature {
    /// The partner's id.
    #[param(rename = "X-Partner-Id")]
    partner_id: String,
    /// Unix seconds; within 5 minutes of the server's clock.
    #[param(rename = "X-Timestamp")]
    timestamp: String,
    /// 8-64 of letters, digits, - and _; used once.
    #[param(rename = "X-Nonce")]
    nonce: String,
    /// Lower-case hex HMAC-SHA256 of the canonical request.
    #[param(rename = "X-Signature")]
    signature: String,
}

/// Checks the request's signature; the partner it comes from.
async fn signed_by(app: &AppState, raw: &Raw) -> Result<Partner, ApiError> {
    let header = |name: &str| raw.headers.get(name).and_then(|v| v.to_str().ok());
    let request = signing::Signed {
        method: raw.method.as_str(),
        path: raw.uri.path(),
        partner_id: header("x-partner-id"),
        timestamp: header("x-timestamp"),
        nonce: header("x-nonce"),
        signature: header("x-signature"),
        body: &raw.body,
    };
    Ok(signing::verify(app, &request).await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PartnerListingBody)]
pub(crate) struct ListingBody {
    #[schema(value_type = market_web::openapi::ListingPriceSchema)]
    price: Value,
    /// When the listing ends; default: as the policy allows.
    ends_at: Option<DateTime<Utc>>,
}

/// Feed a partner listing (L10)
///
/// Creates (201) or changes (200) the partner's fixed-price listing of a domain not
/// registered here. Signed: HMAC-SHA256 over `METHOD\nPATH\nTIMESTAMP\nNONCE\nBODY`.
#[utoipa::path(
    put,
    operation_id = "partner_put_listing",
    path = "/partner/listings/{domain}",
    tag = "partners",
    params(
        ("domain" = String, Path, description = "The domain (ASCII or Unicode)"),
        PartnerSignature,
    ),
    request_body = ListingBody,
    responses(
        (status = 200, description = "Changed", body = market_app::views::ListingView),
        (status = 201, description = "Created", body = market_app::views::ListingView),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT, INVALID_DOMAIN", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = PartnerUnsigned),
        (status = 409, description = "PARTNER_LISTING_CONFLICT, ORDER_PENDING", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn put_listing(
    State(app): State<AppState>,
    Path(domain): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    // The signature first: an unsigned request learns nothing, not even about its path.
    let partner = signed_by(&app, &raw).await?;
    let domain = DomainName::parse(&domain)?;
    let body: ListingBody = raw.json()?;
    let price = amount(&body.price)?;
    let fed = feed::put_listing(&app, &partner, &domain, price, body.ends_at).await?;
    let status = if fed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(fed.listing)).into_response())
}

/// End a partner listing (L10)
#[utoipa::path(
    delete,
    operation_id = "partner_delete_listing",
    path = "/partner/listings/{domain}",
    tag = "partners",
    params(
        ("domain" = String, Path, description = "The domain"),
        PartnerSignature,
    ),
    responses(
        (status = 204, description = "Ended"),
        (status = 400, description = "INVALID_DOMAIN", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = PartnerUnsigned),
        (status = 404, description = "NOT_FOUND (not this partner's active listing)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "ORDER_PENDING", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn delete_listing(
    State(app): State<AppState>,
    Path(domain): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let partner = signed_by(&app, &raw).await?;
    let domain = DomainName::parse(&domain)?;
    feed::delete_listing(&app, &partner, &domain).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PartnerDeliveryBody)]
pub(crate) struct DeliveryBody {
    /// `delivered` (the sale completes) or `failed` (the buyer is refunded in full).
    #[schema(example = "delivered")]
    status: String,
}

/// Answer a delivery (L10)
#[utoipa::path(
    post,
    operation_id = "partner_confirm_delivery",
    path = "/partner/deliveries/{id}",
    tag = "partners",
    params(
        ("id" = String, Path, description = "The delivery id (the order id of the webhook)"),
        PartnerSignature,
    ),
    request_body = DeliveryBody,
    responses(
        (status = 200, description = "The order", body = PartnerOrderView),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = PartnerUnsigned),
        (status = 404, description = "NOT_FOUND (not this partner's delivery)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "DELIVERY_NOT_PENDING", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn confirm_delivery(
    State(app): State<AppState>,
    Path(id): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let partner = signed_by(&app, &raw).await?;
    let id = OrderId::parse(&id)?;
    let body: DeliveryBody = raw.json()?;
    let outcome = match body.status.as_str() {
        "delivered" => Outcome::Delivered,
        "failed" => Outcome::Failed,
        _ => {
            return Err(Problem::new(Code::InvalidRequest, "status is delivered or failed").into())
        }
    };
    let order: PartnerOrderView = delivery::confirm(&app, &partner, &id, outcome).await?;
    Ok(axum::Json(order).into_response())
}
