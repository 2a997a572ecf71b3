//! The caller's payment methods (API.md "Payment methods", S3): what the account pays the
//! platform with — never a listing or a push (O8).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use market_app::payment_methods::{self, NewMethod};
use market_core::error::{Code, Problem};
use market_core::ids::PaymentMethodId;
use market_web::auth::Caller;
use market_web::json::Query;
use market_web::openapi::{Busy, IdempotencyKey, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::{page_cursor, page_limit, AppState, Paging, PathParam, Raw};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BindPaymentMethod)]
pub(crate) struct BindBody {
    #[schema(value_type = PaymentMethodKindChoice)]
    kind: String,
    /// `card`: the card processor's PaymentMethod id (`pm_…`; locally one of Stripe's test
    /// ids); `paypal`: the PayPal vault token; `bank_transfer`: none.
    #[schema(max_length = 255, example = "pm_card_visa")]
    token: Option<String>,
}

/// The kinds of payment method a caller binds.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum PaymentMethodKindChoice {
    Card,
    Paypal,
    BankTransfer,
}

fn new_method(body: BindBody) -> Result<NewMethod, Problem> {
    let kind = market_web::choice(
        "kind",
        Some(body.kind.as_str()),
        &["card", "paypal", "bank_transfer"],
    )?;
    let token = body.token.filter(|t| !t.trim().is_empty());
    match (kind, token) {
        ("bank_transfer", None) => Ok(NewMethod::BankTransfer),
        ("bank_transfer", Some(_)) => Err(Problem::new(
            Code::InvalidRequest,
            "bank_transfer takes no token",
        )),
        (_, None) => Err(Problem::new(
            Code::InvalidRequest,
            format!("{kind} needs the token its processor gave the client"),
        )),
        (_, Some(t)) if t.len() > 255 => {
            Err(Problem::new(Code::InvalidRequest, "the token is too long"))
        }
        ("card", Some(token)) => Ok(NewMethod::Card { token }),
        (_, Some(token)) => Ok(NewMethod::Paypal { token }),
    }
}

/// Bind a payment method (S3)
///
/// A card (Visa, Mastercard, American Express or JCB; not UnionPay-only, prepaid, virtual
/// or gift; not expiring this month) by its processor token, a PayPal account (not
/// registered in mainland China) by its vault token, or bank transfer (an enterprise
/// account on credit control only). A card or PayPal account binds to one account only.
/// A card is checked with a 1.00 USD pre-authorisation, released at once. The first
/// method is the preferred one. Binding what the caller already holds answers that method.
/// These methods pay what the account owes the platform, never a listing or a push (O8).
/// Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "bind_payment_method",
    path = "/me/payment-methods",
    tag = "account",
    params(IdempotencyKey),
    request_body = BindBody,
    responses(
        (status = 201, description = "The bound method", body = market_app::payment_methods::MethodView),
        (status = 400, description = "INVALID_REQUEST (also a token the processor does not know)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 409, description = "ALREADY_BOUND_ELSEWHERE", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "CARD_BRAND_NOT_ACCEPTED, CARD_TYPE_NOT_ACCEPTED, CARD_EXPIRING, PAYPAL_REGION_NOT_ACCEPTED, BANK_TRANSFER_NOT_ALLOWED, PREAUTHORIZATION_FAILED, IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn bind_payment_method(
    State(app): State<AppState>,
    caller: Caller,
    raw: Raw,
) -> Result<Response, ApiError> {
    let new = new_method(raw.json()?)?;
    market_web::create(&app, &caller, &raw, StatusCode::CREATED, || {
        payment_methods::bind(&app, &caller.account, new)
    })
    .await
}

/// The caller's payment methods, in binding order (S3)
#[utoipa::path(
    get,
    operation_id = "my_payment_methods",
    path = "/me/payment-methods",
    tag = "account",
    params(Paging),
    responses(
        (status = 200, description = "A page of the caller's methods", body = market_app::views::PageView<market_app::payment_methods::MethodView>),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn list_payment_methods(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = payment_methods::list(
        &app,
        &caller.account,
        page_limit(p.limit)?,
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}

/// Make a payment method the preferred one (S3)
#[utoipa::path(
    post,
    operation_id = "prefer_payment_method",
    path = "/me/payment-methods/{id}/preferred",
    tag = "account",
    params(("id" = String, Path, description = "The method's id")),
    responses(
        (status = 200, description = "The method, preferred", body = market_app::payment_methods::MethodView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND (also another account's method)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn prefer_payment_method(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PaymentMethodId>,
) -> Result<Response, ApiError> {
    let method = payment_methods::prefer(&app, &caller.account, &id).await?;
    Ok(axum::Json(method).into_response())
}

/// Remove a payment method (S3)
///
/// Not the preferred one while there are others (409 PREFERRED_METHOD: prefer another
/// first); not the only one while bills are unpaid (a debt) or deposits are held (409
/// LAST_METHOD_IN_USE). The card or PayPal account may then be bound again.
#[utoipa::path(
    delete,
    operation_id = "remove_payment_method",
    path = "/me/payment-methods/{id}",
    tag = "account",
    params(("id" = String, Path, description = "The method's id")),
    responses(
        (status = 200, description = "The removed method", body = market_app::payment_methods::MethodView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND (also another account's method)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "PREFERRED_METHOD, LAST_METHOD_IN_USE", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn remove_payment_method(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PaymentMethodId>,
) -> Result<Response, ApiError> {
    let method = payment_methods::remove(&app, &caller.account, &id).await?;
    Ok(axum::Json(method).into_response())
}
