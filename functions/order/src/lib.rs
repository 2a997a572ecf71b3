//! `functions/order`: carts, orders, payment attempts and cancellation (API.md "Orders").
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use market_app::orders;
use market_app::partners::orders as partner_orders;
use market_core::partner::PartnerPayment;

mod balance;
use market_app::ports::captcha::HumanCheck;
use market_core::ids::OrderId;
use market_web::auth::Caller;
use market_web::client_ip::ClientIp;
use market_web::json::Query;
use market_web::openapi::{
    Busy, IdempotencyKey, ProblemSchema as ProblemDoc, RateLimited, Unauthenticated,
};
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
        ("GET", "/me/balance", get(balance::get)),
        ("POST", "/me/balance/top-ups", post(balance::top_up)),
    ]
}

/// The OpenAPI paths of this function (the document is put together in `infra::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(place, read, pay, cancel, refresh, mine, balance::get, balance::top_up))]
pub struct Api;

/// The answer to `POST /orders`: registrar orders, or partner orders (L10). For the
/// document only.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum AnyPlaced {
    Registrar(market_app::orders::Placed),
    Partner(partner_orders::PartnerPlaced),
}

/// An order: a registrar order or a partner order (L10). For the document only.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum AnyOrder {
    Registrar(market_app::views::OrderView),
    Partner(partner_orders::PartnerOrderView),
}

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PlaceOrder)]
struct PlaceBody {
    /// The cart: domains (ASCII or Unicode) with an active listing; at most the policy's
    /// cart size (2,000 by default; more is 400 BATCH_TOO_LARGE).
    #[schema(min_items = 1, max_items = 2000, example = json!(["example.com"]))]
    domains: Vec<String>,
    /// The human check's token (O7): the captcha widget's answer, rendered with the action
    /// `order`; it serves one request. The local runner's sandbox accepts `pass`.
    captcha_token: String,
    /// The buyer's verified contact template the domains change registrant to (O9; see
    /// `GET /me/contacts`). Absent: the account's default template, else its verified
    /// identity. Unknown or unverified: 422 CONTACT_NOT_VERIFIED, nothing ordered.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    contact_id: Option<String>,
    /// L10: how a cart of partner listings is paid: `balance` (at once), `alipay` (the
    /// answer carries each order's `pay_url`) or `bank_transfer` (3 days, confirmed by an
    /// operator); required for them. A cart mixing partner and
    /// registrar listings is 422 MIXED_CART.
    #[schema(example = "balance")]
    payment: Option<String>,
}

/// Order a cart (O1-O7)
///
/// Orders every orderable domain of the cart, one order per seller group (O2); the
/// others come back in `rejected` with their code. Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "place_order",
    path = "/orders",
    tag = "orders",
    params(IdempotencyKey),
    request_body = PlaceBody,
    responses(
        (status = 201, description = "Placed: the orders and the refused domains (partner orders for a cart of partner listings, L10)", body = AnyPlaced),
        (status = 400, description = "INVALID_REQUEST, EMPTY_ORDER, BATCH_TOO_LARGE, CAPTCHA_FAILED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 409, description = "NOTHING_ORDERABLE (with `errors`), IDEMPOTENCY_IN_PROGRESS", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "NOT_VERIFIED, CONTACT_NOT_VERIFIED (O9), MIXED_CART (L10), IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, response = RateLimited),
        (status = 503, response = Busy),
    )
)]
async fn place(
    State(app): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    raw: Raw,
) -> Result<Response, ApiError> {
    let parsed: PlaceBody = raw.json()?;
    // Before the Idempotency-Key is claimed: a cart over the cap writes nothing.
    market_core::limits::check_cart_size(parsed.domains.len(), app.policy.max_cart)?;
    // O7: the token with where the request came from, for the captcha service.
    let human = HumanCheck::new(parsed.captcha_token).from_ip(ip);
    // L10: partner listings are ordered apart (their own payment and delivery).
    match partner_orders::cart_kind(&app, &parsed.domains).await? {
        partner_orders::CartKind::Mixed => return Err(partner_orders::mixed_cart().into()),
        partner_orders::CartKind::Partner => {
            let payment = PartnerPayment::parse(parsed.payment.as_deref().unwrap_or(""))?;
            return market_web::create(&app, &caller, &raw, StatusCode::CREATED, || {
                partner_orders::place(&app, &caller.account, &parsed.domains, payment, &human)
            })
            .await;
        }
        partner_orders::CartKind::Registrar => {}
    }
    market_web::create(&app, &caller, &raw, StatusCode::CREATED, || {
        orders::place_with_contact(
            &app,
            &caller.account,
            &parsed.domains,
            &human,
            parsed.contact_id.as_deref(),
        )
    })
    .await
}

/// An order (buyer only)
#[utoipa::path(
    get,
    operation_id = "read_order",
    path = "/orders/{id}",
    tag = "orders",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order (a partner order, L10, for one of those)", body = AnyOrder),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND (also another buyer's order)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn read(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<OrderId>,
) -> Result<Response, ApiError> {
    // L10: a partner order shares the id space (`ord_…`).
    if let Some(order) = partner_orders::get(&app, &caller.account, &id).await? {
        return Ok(axum::Json(order).into_response());
    }
    Ok(axum::Json(orders::get(&app, &caller.account, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PayOrder)]
struct PayBody {
    /// `alipay`; any other method is 400 PAYMENT_METHOD_NOT_ALLOWED (O8).
    #[schema(example = "alipay")]
    method: String,
}

/// Start a payment attempt (O5, O8)
///
/// Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "pay_order",
    path = "/orders/{id}/pay",
    tag = "orders",
    params(("id" = String, Path, description = "The order's id"), IdempotencyKey),
    request_body = PayBody,
    responses(
        (status = 200, description = "The attempt and the provider's payment page", body = market_app::views::PaymentView),
        (status = 400, description = "INVALID_REQUEST, PAYMENT_METHOD_NOT_ALLOWED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "ORDER_NOT_PAYABLE, PAYMENT_WINDOW_CLOSED, IDEMPOTENCY_IN_PROGRESS", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
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

/// Cancel an unpaid order
#[utoipa::path(
    post,
    operation_id = "cancel_order",
    path = "/orders/{id}/cancel",
    tag = "orders",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order, cancelled", body = market_app::views::OrderView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "ORDER_NOT_CANCELLABLE", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn cancel(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<OrderId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(orders::cancel(&app, &caller.account, &id).await?).into_response())
}

/// Ask the provider for the payment's result (O6)
///
/// Rate limited per account with pushes' refreshes: each call may reach the provider.
#[utoipa::path(
    post,
    operation_id = "refresh_order",
    path = "/orders/{id}/refresh",
    tag = "orders",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order as the provider's answer leaves it", body = market_app::views::OrderView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, response = RateLimited),
        (status = 503, response = Busy),
    )
)]
async fn refresh(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<OrderId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(orders::refresh(&app, &caller.account, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct MineParams {
    /// `all` (default) or `unpaid`.
    #[param(pattern = "^(all|unpaid)$")]
    status: Option<String>,
    /// Items per page: default 50, at most 200.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page; absent or empty for the first.
    cursor: Option<String>,
}

/// The caller's orders
#[utoipa::path(
    get,
    operation_id = "my_orders",
    path = "/me/orders",
    tag = "orders",
    params(MineParams),
    responses(
        (status = 200, description = "A page of the caller's orders, newest first", body = market_app::views::PageView<market_app::views::OrderView>),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
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
        page_limit(p.limit)?,
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}
