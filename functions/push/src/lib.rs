//! `functions/push`: priced pushes (API.md "Pushes", P1–P10).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::Value;

use market_app::ports::captcha::HumanCheck;
use market_app::pushes::{self, NewPush};
use market_core::ids::{AccountId, PushId};
use market_core::limits::{check_length, MAX_EMAIL_CHARS, MAX_TEXT_CHARS};
use market_core::model::PushStatus;
use market_core::security::SecurityPassword;
use market_web::auth::Caller;
use market_web::client_ip::ClientIp;
use market_web::json::{amount, Query};
use market_web::openapi::{
    Busy, IdempotencyKey, ProblemSchema as ProblemDoc, RateLimited, RateLimitedOrSecurityLocked,
    SecurityLocked, Unauthenticated,
};
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
        ("POST", "/pushes/{id}/refresh", post(refresh)),
    ]
}

/// The OpenAPI paths of this function (the document is put together in `infra::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    publish, read, mine, withdraw, reject, accept, pay, confirm, force, refresh
))]
pub struct Api;

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PublishPush)]
struct PublishBody {
    /// The domains (ASCII or Unicode), all the caller's.
    #[schema(min_items = 1, example = json!(["example.com"]))]
    domains: Vec<String>,
    /// The named buyer's account id.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    buyer: String,
    /// May be 0 (P1).
    #[schema(value_type = market_app::schema::MoneySchema)]
    price: Value,
    /// Lock the domains for 60 days after the change of registrant (P9).
    lock_60d: bool,
    #[schema(max_length = 254)]
    buyer_email: Option<String>,
    #[schema(max_length = 500)]
    message: Option<String>,
    /// The seller's security password (P12): required once the account has set one
    /// (`MARKET_PUSH_SECURITY=if_set`, the default) or always (`required`); not looked at
    /// where not required. Never stored, logged or part of the Idempotency-Key fingerprint.
    #[schema(format = Password, example = "my security password")]
    security_password: Option<String>,
}

/// Push domains to a named buyer (P1-P3)
///
/// Both the seller and the named buyer must be real-name verified with an Alipay account
/// bound (A1); otherwise 422 NOT_VERIFIED or NO_PAYOUT_ACCOUNT, naming the buyer when it is
/// theirs, and nothing is written. The seller's `security_password` where required (P12):
/// missing 403 SECURITY_PASSWORD_REQUIRED, wrong 403 SECURITY_CHECK_FAILED, five wrong
/// within 15 minutes 429 SECURITY_LOCKED. Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "publish_push",
    path = "/pushes",
    tag = "pushes",
    params(IdempotencyKey),
    request_body = PublishBody,
    responses(
        (status = 201, description = "Published", body = market_app::pushes::PushView),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT, INVALID_DOMAIN, BATCH_TOO_LARGE", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "SECURITY_PASSWORD_REQUIRED, SECURITY_CHECK_FAILED (P12), DEPOSIT_REQUIRED (M1, with the `amount` missing), SELLER_EXITED (M2)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND (the buyer)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "ALREADY_IN_TRADE, SELF_PURCHASE, IDEMPOTENCY_IN_PROGRESS", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "NOT_VERIFIED, NO_PAYOUT_ACCOUNT, NOT_OWNER, PUSH_REFUSED, TOO_SOON_AFTER_REGISTRATION, NEAR_EXPIRY, DOMAIN_EXPIRED, TRANSFER_PROHIBITED, SPECIAL_DOMAIN, PENDING_OPERATION, RESTRICTED, IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, response = RateLimitedOrSecurityLocked),
        (status = 503, response = Busy),
    )
)]
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
        security_password: parsed.security_password.map(SecurityPassword::attempt),
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

/// A push (seller or named buyer)
#[utoipa::path(
    get,
    operation_id = "read_push",
    path = "/pushes/{id}",
    tag = "pushes",
    params(("id" = String, Path, description = "The push's id")),
    responses(
        (status = 200, description = "The push", body = market_app::pushes::PushView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND (also a push of others)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn read(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(pushes::get(&app, &caller.account, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct MineParams {
    /// `sent` (default) or `received`.
    #[param(pattern = "^(sent|received)$")]
    role: Option<String>,
    #[param(value_type = Option<market_app::schema::PushStatusSchema>)]
    status: Option<PushStatus>,
    /// Items per page: default 50, at most 200.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page; absent or empty for the first.
    cursor: Option<String>,
}

/// The caller's pushes
#[utoipa::path(
    get,
    operation_id = "my_pushes",
    path = "/me/pushes",
    tag = "pushes",
    params(MineParams),
    responses(
        (status = 200, description = "A page of the caller's pushes, newest first", body = market_app::views::PageView<market_app::pushes::PushView>),
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
    let received = choice("role", p.role.as_deref(), &["sent", "received"])? == "received";
    let page = pushes::mine(
        &app,
        &caller.account,
        received,
        p.status,
        page_limit(p.limit)?,
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}

/// Withdraw a pending push (P6)
#[utoipa::path(
    post,
    operation_id = "withdraw_push",
    path = "/pushes/{id}/withdraw",
    tag = "pushes",
    params(("id" = String, Path, description = "The push's id")),
    responses(
        (status = 200, description = "The push, withdrawn", body = market_app::pushes::PushView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (not this push's party for this step)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "PUSH_NOT_PENDING", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn withdraw(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(pushes::withdraw(&app, &caller.account, &id).await?).into_response())
}

/// Reject a pending push (P7)
#[utoipa::path(
    post,
    operation_id = "reject_push",
    path = "/pushes/{id}/reject",
    tag = "pushes",
    params(("id" = String, Path, description = "The push's id")),
    responses(
        (status = 200, description = "The push, rejected", body = market_app::pushes::PushView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (not this push's party for this step)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "PUSH_NOT_PENDING", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn reject(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(pushes::reject(&app, &caller.account, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AcceptPush)]
struct AcceptBody {
    /// The human check's token (O7): the captcha widget's answer, rendered with the action
    /// `push_accept`; it serves one request. The local runner's sandbox accepts `pass`.
    captcha_token: String,
    /// The buyer's security password (P12): required once the account has set one
    /// (`MARKET_PUSH_SECURITY=if_set`, the default) or always (`required`); not looked at
    /// where not required. Checked after the human check. Never stored, logged or part of
    /// the Idempotency-Key fingerprint.
    #[schema(format = Password, example = "my security password")]
    security_password: Option<String>,
    /// The buyer's verified contact template the domains change registrant to (O9; see
    /// `GET /me/contacts`). Absent: the account's default template, else its verified
    /// identity. Unknown or unverified: 422 CONTACT_NOT_VERIFIED, nothing changes.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    contact_id: Option<String>,
}

/// Accept a push (P7); opens its payment
///
/// The buyer must be real-name verified with an Alipay account bound (A1); otherwise 422
/// NOT_VERIFIED or NO_PAYOUT_ACCOUNT and nothing changes. The buyer's `security_password`
/// where required (P12): missing 403 SECURITY_PASSWORD_REQUIRED, wrong 403
/// SECURITY_CHECK_FAILED, five wrong within 15 minutes 429 SECURITY_LOCKED. Honours
/// `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "accept_push",
    path = "/pushes/{id}/accept",
    tag = "pushes",
    params(("id" = String, Path, description = "The push's id"), IdempotencyKey),
    request_body = AcceptBody,
    responses(
        (status = 200, description = "The push, accepted", body = market_app::pushes::PushView),
        (status = 400, description = "INVALID_REQUEST, CAPTCHA_FAILED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN, SECURITY_PASSWORD_REQUIRED, SECURITY_CHECK_FAILED (P12)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "PUSH_NOT_PENDING, IDEMPOTENCY_IN_PROGRESS", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "NOT_VERIFIED, NO_PAYOUT_ACCOUNT, CONTACT_NOT_VERIFIED (O9), IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, response = SecurityLocked),
        (status = 503, response = Busy),
    )
)]
async fn accept(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
    ClientIp(ip): ClientIp,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body: AcceptBody = raw.json()?;
    // O7: the token with where the request came from, for the captcha service.
    let human = HumanCheck::new(body.captcha_token).from_ip(ip);
    let security = body.security_password.map(SecurityPassword::attempt);
    market_web::create(&app, &caller, &raw, StatusCode::OK, || {
        pushes::accept_with_contact(
            &app,
            &caller.account,
            &id,
            &human,
            security.as_ref(),
            body.contact_id.as_deref(),
        )
    })
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PayPush)]
struct PayBody {
    /// `alipay`; any other method is 400 PAYMENT_METHOD_NOT_ALLOWED (O8).
    #[schema(example = "alipay")]
    method: String,
}

/// Start a payment attempt for an accepted push
///
/// Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "pay_push",
    path = "/pushes/{id}/pay",
    tag = "pushes",
    params(("id" = String, Path, description = "The push's id"), IdempotencyKey),
    request_body = PayBody,
    responses(
        (status = 200, description = "The attempt and the provider's payment page", body = market_app::views::PaymentView),
        (status = 400, description = "INVALID_REQUEST, PAYMENT_METHOD_NOT_ALLOWED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "ORDER_NOT_PAYABLE, PUSH_NOT_PENDING, PAYMENT_WINDOW_CLOSED, IDEMPOTENCY_IN_PROGRESS", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
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

/// Confirm the change of registrant (P9)
#[utoipa::path(
    post,
    operation_id = "confirm_push",
    path = "/pushes/{id}/confirm",
    tag = "pushes",
    params(("id" = String, Path, description = "The push's id")),
    responses(
        (status = 200, description = "The push, completed", body = market_app::pushes::PushView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (not this push's party for this step)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "PUSH_NOT_PENDING", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn confirm(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(pushes::confirm(&app, &caller.account, &id).await?).into_response())
}

/// Force the change of registrant (P9)
#[utoipa::path(
    post,
    operation_id = "force_push",
    path = "/pushes/{id}/force",
    tag = "pushes",
    params(("id" = String, Path, description = "The push's id")),
    responses(
        (status = 200, description = "The push, completed", body = market_app::pushes::PushView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (not this push's party for this step)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "PUSH_NOT_PENDING", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn force(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(pushes::force(&app, &caller.account, &id).await?).into_response())
}

/// Ask the provider for the push's payment result (O6)
///
/// The buyer only. While the push's payment attempt has no result yet, asks the provider
/// and applies its answer exactly as its notification would be applied (a payment funded
/// by credit is refunded, O8). Rate limited per account with orders' refreshes.
#[utoipa::path(
    post,
    operation_id = "refresh_push",
    path = "/pushes/{id}/refresh",
    tag = "pushes",
    params(("id" = String, Path, description = "The push's id")),
    responses(
        (status = 200, description = "The push as the provider's answer leaves it", body = market_app::pushes::PushView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (the seller)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND (also a push of others)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, response = RateLimited),
        (status = 503, response = Busy),
    )
)]
async fn refresh(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PushId>,
) -> Result<Response, ApiError> {
    let push = market_app::payments::refresh_push(&app, &caller.account, &id).await?;
    Ok(axum::Json(push).into_response())
}
