//! `functions/account`: what the caller owns: domains and money (API.md "Domains and money
//! of the caller"), the seller's payouts (API.md "Payouts", S6), and the caller's security
//! password (API.md "Security password", P12), the caller's notices (API.md
//! "Notifications", N1), the seller's settlement account (S4), the seller's deposits (M1)
//! and exit (M2), and the caller's payment methods (S3, `methods`).
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use serde::Deserialize;

use market_app::{accounts, payouts, security};
use market_core::ids::PayoutId;
use market_core::money::Money;
use market_core::security::SecurityPassword;
use market_web::auth::Caller;
use market_web::json::{Json, Query};
use market_web::openapi::{
    Busy, IdempotencyKey, ProblemSchema as ProblemDoc, SecurityLocked, Unauthenticated,
};
use market_web::problem::ApiError;
use market_web::{
    page_cursor, page_limit, router_from, AppState, Paging, PathParam, Raw, RouteTable,
};

mod methods;
mod seller;

/// The routes of this function, as data (see `market_web::RouteTable`).
pub fn routes() -> RouteTable {
    vec![
        ("GET", "/me/domains", get(domains)),
        ("GET", "/me/contacts", get(contacts)),
        ("GET", "/me/ledger", get(ledger)),
        ("POST", "/me/payouts", post(request_payout)),
        ("GET", "/me/payouts", get(list_payouts)),
        ("GET", "/me/payouts/{id}", get(read_payout)),
        ("PUT", "/me/security-password", put(set_security_password)),
        ("GET", "/me/notifications", get(notifications)),
        (
            "POST",
            "/me/notifications/{id}/read",
            post(read_notification),
        ),
        (
            "PUT",
            "/me/settlement-account",
            put(bind_settlement_account),
        ),
        (
            "GET",
            "/me/settlement-account",
            get(read_settlement_account),
        ),
        (
            "POST",
            "/me/payment-methods",
            post(methods::bind_payment_method),
        ),
        (
            "GET",
            "/me/payment-methods",
            get(methods::list_payment_methods),
        ),
        (
            "POST",
            "/me/payment-methods/{id}/preferred",
            post(methods::prefer_payment_method),
        ),
        (
            "DELETE",
            "/me/payment-methods/{id}",
            delete(methods::remove_payment_method),
        ),
        ("POST", "/me/deposits", post(seller::open_deposit)),
        ("GET", "/me/deposits", get(seller::my_deposits)),
        ("POST", "/me/exit", post(seller::apply_exit)),
        ("GET", "/me/exit", get(seller::my_exit)),
    ]
}

/// The OpenAPI paths of this function (the document is put together in `infra::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    domains,
    contacts,
    ledger,
    request_payout,
    list_payouts,
    read_payout,
    set_security_password,
    notifications,
    read_notification,
    bind_settlement_account,
    read_settlement_account,
    methods::bind_payment_method,
    methods::list_payment_methods,
    methods::prefer_payment_method,
    methods::remove_payment_method,
    seller::open_deposit,
    seller::my_deposits,
    seller::apply_exit,
    seller::my_exit
))]
pub struct Api;

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

/// The caller's domains
#[utoipa::path(
    get,
    operation_id = "my_domains",
    path = "/me/domains",
    tag = "account",
    params(Paging),
    responses(
        (status = 200, description = "A page of the caller's domains", body = market_app::views::PageView<market_app::views::DomainView>),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
async fn domains(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = accounts::my_domains(
        &app,
        &caller.account,
        page_limit(p.limit)?,
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}

/// The caller's registrant contact templates (O9)
///
/// Set by operators; a verified one can be chosen with `contact_id` when ordering or
/// accepting a push, and the default one is used when none is chosen.
#[utoipa::path(
    get,
    operation_id = "my_contacts",
    path = "/me/contacts",
    tag = "account",
    params(Paging),
    responses(
        (status = 200, description = "A page of the caller's contact templates, by id", body = market_app::views::PageView<market_app::contacts::ContactView>),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
async fn contacts(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = market_app::contacts::list(
        &app,
        &caller.account,
        page_limit(p.limit)?,
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}

/// The caller's ledger entries, oldest first, a page at a time, and the seller balances (S1, S4)
#[utoipa::path(
    get,
    operation_id = "my_ledger",
    path = "/me/ledger",
    tag = "account",
    params(Paging),
    responses(
        (status = 200, description = "A page of entries and the balances", body = market_app::accounts::LedgerView),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
async fn ledger(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = accounts::my_ledger(
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
#[schema(as = RequestPayout)]
struct PayoutBody {
    /// How much to pay out (at least `0.10`); absent: the whole available balance.
    #[schema(value_type = Option<String>, example = "600.00")]
    amount: Option<String>,
}

/// Pay available money out to the bound Alipay account (S6)
///
/// The amount leaves `available` at once; the transfer is sent at once and, when its
/// answer does not come back, looked up and retried by the sweep. Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    operation_id = "request_payout",
    path = "/me/payouts",
    tag = "account",
    params(IdempotencyKey),
    request_body = PayoutBody,
    responses(
        (status = 202, description = "The payout (`pending`, or already `succeeded`/`failed`)", body = market_app::payouts::PayoutView),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 409, description = "INSUFFICIENT_FUNDS (more than available, or a debt is open)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "NO_PAYOUT_ACCOUNT, NOT_VERIFIED, IDEMPOTENCY_KEY_REUSED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn request_payout(
    State(app): State<AppState>,
    caller: Caller,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body: PayoutBody = raw.json()?;
    let amount = body.amount.as_deref().map(Money::parse).transpose()?;
    let key = raw
        .headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    market_web::create(&app, &caller, &raw, StatusCode::ACCEPTED, || {
        payouts::request(&app, &caller.account, amount, key.as_deref())
    })
    .await
}

/// The caller's payouts, newest first (S6)
#[utoipa::path(
    get,
    operation_id = "my_payouts",
    path = "/me/payouts",
    tag = "account",
    params(Paging),
    responses(
        (status = 200, description = "A page of payouts", body = market_app::views::PageView<market_app::payouts::PayoutView>),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
async fn list_payouts(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    let page = payouts::list(
        &app,
        &caller.account,
        page_limit(p.limit)?,
        page_cursor(p.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}

/// One of the caller's payouts (S6)
#[utoipa::path(
    get,
    operation_id = "read_payout",
    path = "/me/payouts/{id}",
    tag = "account",
    params(("id" = String, Path, description = "The payout's id")),
    responses(
        (status = 200, description = "The payout", body = market_app::payouts::PayoutView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND (also another seller's payout)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn read_payout(
    State(app): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<PayoutId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(payouts::get(&app, &caller.account, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SetSecurityPassword)]
struct SecurityPasswordBody {
    /// The new security password: 8 to 64 characters.
    #[schema(format = Password, min_length = 8, max_length = 64, example = "my security password")]
    password: String,
    /// The current one: needed to change it once one is set, and counted like any try.
    #[schema(format = Password, example = "my old security password")]
    current_password: Option<String>,
}

/// Set or change the caller's security password (P12)
///
/// Publishing and accepting a push then need it (`security_password`). Only an Argon2id
/// hash of it is kept. Changing it needs the current one (`current_password`): missing 403
/// SECURITY_PASSWORD_REQUIRED, wrong 403 SECURITY_CHECK_FAILED, and five wrong within 15
/// minutes (pushes' tries included) 429 SECURITY_LOCKED.
#[utoipa::path(
    put,
    operation_id = "set_security_password",
    path = "/me/security-password",
    tag = "account",
    request_body = SecurityPasswordBody,
    responses(
        (status = 204, description = "Set"),
        (status = 400, description = "INVALID_REQUEST (also a password not 8 to 64 characters)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "SECURITY_PASSWORD_REQUIRED (the current one, to change it), SECURITY_CHECK_FAILED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, response = SecurityLocked),
        (status = 503, response = Busy),
    )
)]
async fn set_security_password(
    State(app): State<AppState>,
    caller: Caller,
    Json(body): Json<SecurityPasswordBody>,
) -> Result<Response, ApiError> {
    // The new one's rules first: a refused one costs no try of the current one.
    let new = SecurityPassword::new("password", body.password)?;
    let current = body.current_password.map(SecurityPassword::attempt);
    security::set_password(&app, &caller.account, &new, current.as_ref()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The query of `GET /me/notifications`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct InboxQuery {
    /// `true`: only unread notices; `false`: only read ones; absent: all.
    unread: Option<bool>,
    /// Items per page: default 50, at most 200.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page; absent or empty for the first.
    cursor: Option<String>,
}

/// The caller's notices, newest first (N1)
///
/// Every notice of a push, an order, a refund or a payout the caller is a party to, in the
/// language of the account (`locale`), also emailed where the account has an address.
#[utoipa::path(
    get,
    operation_id = "my_notifications",
    path = "/me/notifications",
    tag = "account",
    params(InboxQuery),
    responses(
        (status = 200, description = "A page of notices, newest first", body = market_app::views::PageView<market_app::notifications::inbox::NotificationView>),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
async fn notifications(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<InboxQuery>,
) -> Result<Response, ApiError> {
    let page = market_app::notifications::inbox::list(
        &app,
        &caller.account,
        q.unread,
        page_limit(q.limit)?,
        page_cursor(q.cursor),
    )
    .await?;
    Ok(axum::Json(page).into_response())
}

/// Mark one of the caller's notices read (N1)
///
/// Marking a read notice again changes nothing.
#[utoipa::path(
    post,
    operation_id = "read_notification",
    path = "/me/notifications/{id}/read",
    tag = "account",
    params(("id" = String, Path, description = "The notice's id")),
    responses(
        (status = 200, description = "The notice, read", body = market_app::notifications::inbox::NotificationView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND (also another account's notice)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn read_notification(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let note = market_app::notifications::inbox::mark_read(&app, &caller.account, &id).await?;
    Ok(axum::Json(note).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BindSettlementAccount)]
struct SettlementAccountBody {
    #[schema(value_type = SettlementKindChoice)]
    kind: String,
    /// The enterprise Alipay account (a `2088…` id or a logon id), or the bank
    /// sub-account's number (8 to 32 digits).
    #[schema(max_length = 100, example = "finance@acme.example")]
    account: String,
    /// The company it is in the name of: must be the account's verified company name.
    #[schema(min_length = 1, max_length = 100)]
    company_name: String,
    /// The authorisation to recover refunds after settlement from this account (S4).
    deduction_authorised: bool,
}

/// The kinds of settlement account a seller binds.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum SettlementKindChoice {
    EnterpriseAlipay,
    BankSubAccount,
}

/// Bind the settlement account proceeds are paid to (S4)
///
/// An enterprise Alipay account, or a bank sub-account opened through it, in the name of
/// the caller's verified company (`company_name` must equal it), with the authorisation for
/// deductions. It awaits an operator's verification (`pending_verification`); binding the
/// same account again keeps its verification. Once one is bound, payouts go only to it,
/// and only once it is verified (422 `SETTLEMENT_ACCOUNT_NOT_VERIFIED` until then).
#[utoipa::path(
    put,
    operation_id = "bind_settlement_account",
    path = "/me/settlement-account",
    tag = "account",
    request_body = SettlementAccountBody,
    responses(
        (status = 200, description = "The bound account", body = market_app::settlement::SettlementAccountView),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 422, description = "NOT_VERIFIED, NOT_ENTERPRISE_ACCOUNT, COMPANY_NAME_MISMATCH", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn bind_settlement_account(
    State(app): State<AppState>,
    caller: Caller,
    Json(body): Json<SettlementAccountBody>,
) -> Result<Response, ApiError> {
    use market_core::settlement::{Binding, SettlementKind};
    let kind = match market_web::choice(
        "kind",
        Some(body.kind.as_str()),
        &["enterprise_alipay", "bank_sub_account"],
    )? {
        "bank_sub_account" => SettlementKind::BankSubAccount,
        _ => SettlementKind::EnterpriseAlipay,
    };
    let binding = Binding {
        kind,
        account: body.account,
        company_name: body.company_name,
        deduction_authorised: body.deduction_authorised,
    };
    let bound = market_app::settlement::bind(&app, &caller.account, binding).await?;
    Ok(axum::Json(bound).into_response())
}

/// The caller's settlement account (S4)
#[utoipa::path(
    get,
    operation_id = "my_settlement_account",
    path = "/me/settlement-account",
    tag = "account",
    responses(
        (status = 200, description = "The bound account", body = market_app::settlement::SettlementAccountView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND (none bound)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn read_settlement_account(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let bound = market_app::settlement::get(&app, &caller.account).await?;
    Ok(axum::Json(bound).into_response())
}
