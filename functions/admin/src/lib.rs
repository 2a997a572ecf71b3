//! `functions/admin`: the registrar's side (API.md "Operators"): accounts and domains that
//! in production arrive from the registrar core. Every route needs the `admin` role.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use market_app::accounts::{self, DomainRecord};
use market_app::lifecycle::{self, DomainEvent};
use market_app::{fees, AppError};
use market_core::domain_name::DomainName;
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, ListingId, PushId};
use market_core::limits::{check_length, MAX_EMAIL_CHARS};
use market_core::model::{Account, DomainFlags, FeeKind, RegistrantContact};
use market_core::notice::Locale;
use market_web::auth::Admin;
use market_web::json::Json;
use market_web::openapi::{Busy, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::PathParam;
use market_web::{router_from, AppState, RouteTable};

mod operator;
mod partners;

/// The routes of this function, as data (see `market_web::RouteTable`).
pub fn routes() -> RouteTable {
    vec![
        ("PUT", "/admin/accounts/{account_id}", put(put_account)),
        (
            "PUT",
            "/admin/accounts/{account_id}/contacts/{contact_id}",
            put(put_contact),
        ),
        (
            "POST",
            "/admin/accounts/{account_id}/settlement-account/verify",
            post(verify_settlement_account),
        ),
        ("PUT", "/admin/domains/{domain}", put(put_domain)),
        ("POST", "/admin/domains/{domain}/events", post(domain_event)),
        (
            "GET",
            "/admin/domains/{domain}/transfer-out",
            get(transfer_out),
        ),
        (
            "POST",
            "/admin/listings/{id}/takedown",
            post(take_down_listing),
        ),
        (
            "POST",
            "/admin/listings/{id}/appeal",
            post(decide_listing_appeal),
        ),
        ("POST", "/admin/pushes/{id}/takedown", post(take_down_push)),
        ("PUT", "/admin/fees", put(put_fees)),
        ("POST", "/admin/search/rebuild", post(start_search_rebuild)),
        ("GET", "/admin/search/rebuild", get(search_rebuild)),
        (
            "PUT",
            "/admin/holidays/{year}",
            put(crate::operator::put_holidays),
        ),
        (
            "GET",
            "/admin/holidays/{year}",
            get(crate::operator::get_holidays),
        ),
        (
            "PUT",
            "/admin/placements/{section}",
            put(crate::operator::put_placement_section),
        ),
        (
            "PUT",
            "/admin/categories/{category}",
            put(crate::operator::put_category),
        ),
        (
            "POST",
            "/admin/deposits/{id}/forfeit",
            post(crate::operator::forfeit_deposit),
        ),
        ("POST", "/admin/orders/{id}/refund", post(refund_order_item)),
        ("POST", "/admin/outbox/redrive", post(redrive_outbox)),
        (
            "PUT",
            "/admin/partners/{partner_id}",
            put(crate::partners::put_partner),
        ),
        (
            "POST",
            "/admin/orders/{id}/confirm-transfer",
            post(crate::partners::confirm_transfer),
        ),
        (
            "PUT",
            "/admin/legacy-listings/{domain}",
            put(import_legacy_listing),
        ),
    ]
}

/// The OpenAPI paths of this function (the document is put together in `infra::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    put_account,
    put_contact,
    verify_settlement_account,
    put_domain,
    domain_event,
    transfer_out,
    take_down_listing,
    decide_listing_appeal,
    take_down_push,
    put_fees,
    start_search_rebuild,
    search_rebuild,
    refund_order_item,
    redrive_outbox,
    import_legacy_listing,
    operator::put_holidays,
    operator::get_holidays,
    operator::put_placement_section,
    partners::put_partner,
    partners::confirm_transfer,
    operator::put_category,
    operator::forfeit_deposit
))]
pub struct Api;

/// The router of this function.
pub fn router() -> Router<AppState> {
    router_from(routes())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutAccount)]
struct AccountBody {
    real_name_verified: bool,
    /// The verified real name; a payout names it to the provider (S6). Blank is none.
    #[schema(max_length = 100)]
    real_name: Option<String>,
    /// The bound Alipay account (an email or a 2088… id); blank is none.
    payout_account: Option<String>,
    #[schema(max_length = 254)]
    email: Option<String>,
    enterprise: Option<bool>,
    /// S3: the operator's credit control of an enterprise account: with `enterprise`, the
    /// account may bind bank transfer as a payment method. Absent: false.
    credit_control: Option<bool>,
    /// The language of the account's notices (N1); `zh-CN` when absent.
    locale: Option<LocaleWord>,
}

/// The languages of notices (N1).
#[derive(Deserialize, utoipa::ToSchema, Clone, Copy)]
#[schema(as = Locale)]
enum LocaleWord {
    #[serde(rename = "zh-CN")]
    #[schema(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    #[schema(rename = "en")]
    En,
}

impl From<LocaleWord> for Locale {
    fn from(word: LocaleWord) -> Locale {
        match word {
            LocaleWord::ZhCn => Locale::ZhCn,
            LocaleWord::En => Locale::En,
        }
    }
}

/// Create or replace an account (A1)
#[utoipa::path(
    put,
    path = "/admin/accounts/{account_id}",
    tag = "operators",
    params(("account_id" = String, Path, description = "The account's id", pattern = "^[A-Za-z0-9._@-]{1,64}$")),
    request_body = AccountBody,
    responses(
        (status = 200, description = "The account", body = market_app::schema::AccountSchema),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn put_account(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(id): PathParam<AccountId>,
    Json(body): Json<AccountBody>,
) -> Result<Response, ApiError> {
    if let Some(email) = &body.email {
        check_length("email", email, MAX_EMAIL_CHARS)?;
    }
    if let Some(name) = &body.real_name {
        check_length("real_name", name, 100)?;
    }
    let account = Account {
        id,
        real_name_verified: body.real_name_verified,
        real_name: body.real_name.filter(|n| !n.trim().is_empty()),
        payout_account: body.payout_account.filter(|p| !p.trim().is_empty()),
        email: body.email,
        enterprise: body.enterprise.unwrap_or(false),
        credit_control: body.credit_control.unwrap_or(false),
        locale: body.locale.map(Locale::from).unwrap_or_default(),
    };
    Ok(axum::Json(accounts::upsert_account(&app, account).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutContact)]
struct ContactBody {
    /// The registrant's name.
    #[schema(max_length = 200)]
    name: String,
    #[schema(max_length = 200)]
    organisation: Option<String>,
    #[schema(max_length = 254)]
    email: String,
    #[schema(max_length = 40)]
    phone: String,
    #[schema(max_length = 500)]
    address: String,
    /// The country (ISO 3166-1 alpha-2 by convention).
    #[schema(max_length = 64)]
    country: String,
    /// Whether the operator verified these details; only a verified template can be chosen.
    verified: bool,
    /// Make it the account's default template (the previous default stops being one).
    default: Option<bool>,
}

/// Create or replace a contact template of an account (O9)
///
/// The template a buyer chooses (`contact_id` on `POST /orders` and `POST
/// /pushes/{id}/accept`) or the account's default is the registrant a bought domain changes
/// to. `default: true` clears the previous default in the same transaction.
#[utoipa::path(
    put,
    path = "/admin/accounts/{account_id}/contacts/{contact_id}",
    tag = "operators",
    params(
        ("account_id" = String, Path, description = "The account's id", pattern = "^[A-Za-z0-9._@-]{1,64}$"),
        ("contact_id" = String, Path, description = "The template's id", pattern = "^[A-Za-z0-9_-]{1,64}$"),
    ),
    request_body = ContactBody,
    responses(
        (status = 200, description = "The contact template", body = market_app::contacts::ContactView),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND (no such account)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn put_contact(
    State(app): State<AppState>,
    _admin: Admin,
    path: Result<axum::extract::Path<(String, String)>, axum::extract::rejection::PathRejection>,
    Json(body): Json<ContactBody>,
) -> Result<Response, ApiError> {
    let axum::extract::Path((account, contact_id)) =
        path.map_err(|e| Problem::new(Code::InvalidRequest, e.body_text()))?;
    let account: AccountId = account.parse()?;
    check_length("name", &body.name, 200)?;
    if let Some(org) = &body.organisation {
        check_length("organisation", org, 200)?;
    }
    check_length("email", &body.email, MAX_EMAIL_CHARS)?;
    check_length("phone", &body.phone, 40)?;
    check_length("address", &body.address, 500)?;
    check_length("country", &body.country, 64)?;
    for (field, value) in [
        ("name", &body.name),
        ("email", &body.email),
        ("phone", &body.phone),
        ("address", &body.address),
        ("country", &body.country),
    ] {
        if value.trim().is_empty() {
            return Err(Problem::new(Code::InvalidRequest, format!("{field} is empty")).into());
        }
    }
    let details = RegistrantContact {
        id: contact_id,
        name: body.name,
        organisation: body.organisation.filter(|o| !o.trim().is_empty()),
        email: body.email,
        phone: body.phone,
        address: body.address,
        country: body.country,
    };
    let view = market_app::contacts::put_contact(
        &app,
        &account,
        details,
        body.verified,
        body.default.unwrap_or(false),
    )
    .await?;
    Ok(axum::Json(view).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutDomain)]
struct DomainBody {
    /// The owner's account id.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    owner: String,
    registered_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// Registry state flags (A2, L2).
    #[schema(value_type = Option<Object>)]
    flags: Option<DomainFlags>,
}

/// Create or update a domain (A2)
#[utoipa::path(
    put,
    path = "/admin/domains/{domain}",
    tag = "operators",
    params(("domain" = String, Path, description = "The domain (ASCII or Unicode)")),
    request_body = DomainBody,
    responses(
        (status = 200, description = "The domain", body = market_app::views::DomainView),
        (status = 400, description = "INVALID_REQUEST, INVALID_DOMAIN", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn put_domain(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(name): PathParam<DomainName>,
    Json(body): Json<DomainBody>,
) -> Result<Response, ApiError> {
    let record = DomainRecord {
        name,
        owner: AccountId::parse(&body.owner).map_err(|_| {
            Problem::new(
                Code::InvalidRequest,
                format!("`{}` is not an account id", body.owner),
            )
        })?,
        registered_at: body.registered_at,
        expires_at: body.expires_at,
        flags: body.flags.unwrap_or_default(),
    };
    let domain = accounts::upsert_domain(&app, record).await?;
    Ok(axum::Json(market_app::views::DomainView::new(&domain, app.now())).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutFees)]
struct FeesBody {
    #[schema(value_type = market_app::schema::FeeKindSchema)]
    kind: FeeKind,
    /// A decimal string between 0 and 1 (`"0.05"`); `"0"` waives the fee.
    #[schema(example = "0.05")]
    rate: String,
    /// When it takes effect; a change that is not a pure reduction is moved to the first
    /// working day of the month after its announcement if earlier (S5).
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    /// S5: when the change is announced (default now; not in the past).
    announce_at: Option<DateTime<Utc>>,
    /// S5: `true` marks a pure reduction or waiver, which may take effect at once (refused
    /// if it would raise the rate anywhere); `false` gives notice anyway; absent: decided
    /// by comparing with the rates in force.
    reduction: Option<bool>,
}

/// Set a fee period (S5)
///
/// S5: a fee period (a waiver is a rate of "0" for a stated period). A change takes effect
/// no earlier than the first working day (Mon–Fri less the operator's holidays, Beijing
/// time) of the month after its announcement, unless it is a pure reduction or waiver: the
/// answer's `from` is when it really starts.
#[utoipa::path(
    put,
    path = "/admin/fees",
    tag = "operators",
    request_body = FeesBody,
    responses(
        (status = 200, description = "The period", body = market_app::schema::FeePeriodSchema),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn put_fees(
    State(app): State<AppState>,
    _admin: Admin,
    Json(body): Json<FeesBody>,
) -> Result<Response, ApiError> {
    let rate = fees::parse_rate(&body.rate)?;
    let change = fees::FeeChange {
        kind: body.kind,
        rate,
        from: body.from,
        until: body.until,
        announce_at: body.announce_at,
        reduction: body.reduction,
    };
    let period = fees::set_period(&app, change).await?;
    Ok(axum::Json(period).into_response())
}

/// Rebuild the search index from the table (Q1)
///
/// Starts over from the start of the table (one under way is replaced). It goes on page by
/// page (in the cloud, the indexer takes each step off the table's stream; a failed step is
/// retried from the cursor kept); `GET` shows where it is.
#[utoipa::path(
    post,
    path = "/admin/search/rebuild",
    tag = "operators",
    responses(
        (status = 202, description = "Started (locally: already finished)", body = market_app::search::rebuild::Rebuild),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn start_search_rebuild(
    State(app): State<AppState>,
    _admin: Admin,
) -> Result<Response, ApiError> {
    let rebuild = market_app::search::rebuild::start(&app).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(rebuild)).into_response())
}

/// Where the search rebuild is (Q1)
#[utoipa::path(
    get,
    path = "/admin/search/rebuild",
    tag = "operators",
    responses(
        (status = 200, description = "The rebuild last started", body = market_app::search::rebuild::Rebuild),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND (none was started)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn search_rebuild(State(app): State<AppState>, _admin: Admin) -> Result<Response, ApiError> {
    let rebuild = market_app::search::rebuild::status(&app)
        .await?
        .ok_or_else(|| market_core::error::Problem::not_found("rebuild"))?;
    Ok(axum::Json(rebuild).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DomainEvent)]
struct EventBody {
    /// `renewed` needs `expires_at`, `owner_changed` needs `owner`.
    #[serde(rename = "type")]
    #[schema(value_type = EventType)]
    kind: String,
    at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    owner: Option<String>,
}

/// The registrar core's event types.
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum EventType {
    Renewed,
    Deleted,
    TransferOutStarted,
    OwnerChanged,
    AuthCodeIssued,
    Blacklisted,
    Restricted,
    TransferProhibited,
}

/// Parses an event of the registrar core (API.md Operators).
fn parse_event(body: EventBody) -> Result<DomainEvent, Problem> {
    let missing = |field: &str| {
        Problem::new(
            Code::InvalidRequest,
            format!("a {} event needs {field}", body.kind),
        )
    };
    Ok(match body.kind.as_str() {
        "renewed" => DomainEvent::Renewed {
            expires_at: body.expires_at.ok_or_else(|| missing("expires_at"))?,
        },
        "deleted" => DomainEvent::Deleted,
        "transfer_out_started" => DomainEvent::TransferOutStarted,
        "owner_changed" => DomainEvent::OwnerChanged {
            owner: AccountId::parse(body.owner.as_deref().ok_or_else(|| missing("owner"))?)?,
        },
        "auth_code_issued" => DomainEvent::AuthCodeIssued,
        "blacklisted" => DomainEvent::Blacklisted,
        "restricted" => DomainEvent::Restricted,
        "transfer_prohibited" => DomainEvent::TransferProhibited,
        other => {
            return Err(Problem::new(
                Code::InvalidRequest,
                format!("unknown event type {other}"),
            ))
        }
    })
}

/// A registry lifecycle event (L6, L7, P10)
///
/// L6, L7, P10: a lifecycle event from the registrar core; 202 with what it ended.
#[utoipa::path(
    post,
    path = "/admin/domains/{domain}/events",
    tag = "operators",
    params(("domain" = String, Path, description = "The domain (ASCII or Unicode)")),
    request_body = EventBody,
    responses(
        (status = 202, description = "What the event ended", body = market_app::lifecycle::Ended),
        (status = 400, description = "INVALID_REQUEST, INVALID_DOMAIN", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "TRANSFER_LOCKED (a transfer-out of a domain inside its 60-day lock, P9)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn domain_event(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(name): PathParam<DomainName>,
    Json(body): Json<EventBody>,
) -> Result<Response, ApiError> {
    let _reported_at = body.at;
    let event = parse_event(body)?;
    let ended = lifecycle::apply_event(&app, &name, event).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(ended)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TakedownRequest)]
struct TakedownBody {
    /// Shown to the seller; not blank.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

/// A push as its takedown answers it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct TakenDown {
    id: String,
    #[schema(pattern = "^taken_down$")]
    status: String,
}

fn reason(body: &TakedownBody) -> Result<&str, Problem> {
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Problem::new(
            Code::InvalidRequest,
            "a takedown needs a reason of at most 500 characters",
        ));
    }
    Ok(reason)
}

/// Take a listing down (M3)
///
/// M3: an operator takes a listing down for a content breach; the reason is shown to the
/// seller (`GET /me/listings`, `takedown`), while the public sees only `status: ended,
/// end_reason: "taken_down"`. The seller may appeal once (`POST /listings/{id}/appeal`).
#[utoipa::path(
    post,
    path = "/admin/listings/{id}/takedown",
    tag = "operators",
    params(("id" = String, Path, description = "The listing's id")),
    request_body = TakedownBody,
    responses(
        (status = 200, description = "The listing, taken down", body = market_app::views::ListingView),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "LISTING_NOT_ACTIVE", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn take_down_listing(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(id): PathParam<ListingId>,
    Json(body): Json<TakedownBody>,
) -> Result<Response, ApiError> {
    let listing = market_app::compliance::take_down(&app, &id, reason(&body)?).await?;
    Ok(axum::Json(listing).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AppealDecision)]
struct AppealDecisionBody {
    /// `restore` puts the listing back on the market if it may still trade; `confirm`
    /// upholds the takedown.
    #[schema(value_type = AppealDecisionWord)]
    decision: String,
}

/// An operator's decision on an appeal.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum AppealDecisionWord {
    Restore,
    Confirm,
}

/// Decide a takedown's appeal: restore or confirm (M3)
///
/// M3: `restore` re-checks that the listing may still trade (the seller A1, the domain L2:
/// still owned, not expired or near expiry, not in another trade, no flag; the listing's
/// end time still ahead) and puts it back on the market (cooling down again, L4) with its
/// domain held; if it may not, 409 `RESTORE_NOT_ALLOWED` with the rule in `errors`, and
/// the appeal stays pending. `confirm` upholds the takedown. An appeal is decided once.
#[utoipa::path(
    post,
    path = "/admin/listings/{id}/appeal",
    tag = "operators",
    params(("id" = String, Path, description = "The listing's id")),
    request_body = AppealDecisionBody,
    responses(
        (status = 200, description = "The listing with the decided appeal", body = market_app::views::ListingView),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "NO_PENDING_APPEAL, RESTORE_NOT_ALLOWED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn decide_listing_appeal(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(id): PathParam<ListingId>,
    Json(body): Json<AppealDecisionBody>,
) -> Result<Response, ApiError> {
    let decision = match market_web::choice(
        "decision",
        Some(body.decision.as_str()),
        &["restore", "confirm"],
    )? {
        "restore" => market_core::compliance::Decision::Restore,
        _ => market_core::compliance::Decision::Confirm,
    };
    let listing = market_app::compliance::decide(&app, &id, decision).await?;
    Ok(axum::Json(listing).into_response())
}

/// Take a push down (P10)
///
/// P10: an operator takes a push down; money already paid is refunded.
#[utoipa::path(
    post,
    path = "/admin/pushes/{id}/takedown",
    tag = "operators",
    params(("id" = String, Path, description = "The push's id")),
    request_body = TakedownBody,
    responses(
        (status = 200, description = "The push, taken down", body = TakenDown),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "PUSH_NOT_PENDING", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn take_down_push(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(id): PathParam<PushId>,
    Json(body): Json<TakedownBody>,
) -> Result<Response, ApiError> {
    lifecycle::take_down_push(&app, &id, reason(&body)?).await?;
    Ok(axum::Json(serde_json::json!({ "id": id, "status": "taken_down" })).into_response())
}

/// The registrar core's lifecycle events, as EventBridge delivers them: `detail` carries
/// `{domain, type, expires_at?, owner?, at?}` (the same fields as the HTTP route's body).
#[derive(Deserialize)]
struct RegistryEvent {
    detail: RegistryDetail,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryDetail {
    domain: String,
    #[serde(rename = "type")]
    kind: String,
    at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    owner: Option<String>,
}

/// The `registry-events` Lambda's handler (EventBridge rule from the registrar core): the
/// same use case as `POST /admin/domains/{domain}/events`. Answers what it ended.
pub async fn handle_registry_event(
    app: &market_app::App,
    event: serde_json::Value,
) -> Result<serde_json::Value, AppError> {
    let parsed: RegistryEvent = serde_json::from_value(event)
        .map_err(|e| Problem::new(Code::InvalidRequest, format!("not a registry event: {e}")))?;
    let d = parsed.detail;
    let name = DomainName::parse(&d.domain)?;
    let event = parse_event(EventBody {
        kind: d.kind,
        at: d.at,
        expires_at: d.expires_at,
        owner: d.owner,
    })?;
    let ended = lifecycle::apply_event(app, &name, event).await?;
    serde_json::to_value(ended).map_err(|e| AppError::Internal(e.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RefundItem)]
struct RefundBody {
    /// The completed domain of the order to refund.
    domain: String,
    /// The ruling; not blank.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

/// Refund a completed domain of an order by an operator's ruling; the seller bears it (S4)
///
/// S4: an operator refunds a completed domain (arbitration); the seller bears it.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/refund",
    tag = "operators",
    params(("id" = String, Path, description = "The order's id")),
    request_body = RefundBody,
    responses(
        (status = 200, description = "The order, with the item's refund", body = market_app::views::OrderView),
        (status = 400, description = "INVALID_REQUEST, INVALID_DOMAIN", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "NOT_REFUNDABLE", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn refund_order_item(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(id): PathParam<market_core::ids::OrderId>,
    Json(body): Json<RefundBody>,
) -> Result<Response, ApiError> {
    let reason = reason(&TakedownBody {
        reason: body.reason,
    })?
    .to_owned();
    let order_id = id;
    let domain = DomainName::parse(&body.domain)?;
    let order = market_app::payments::refund_completed(&app, &order_id, &domain, &reason).await?;
    Ok(axum::Json(market_app::views::OrderView::new(&order, app.now())).into_response())
}

/// Whether a domain may be transferred out now.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = TransferOut)]
struct TransferOutView {
    allowed: bool,
    /// `in_trade` (P11) or `transfer_locked` (P9); null when allowed.
    #[schema(required = true)]
    reason: Option<String>,
    /// When the refusal ends by time, if it does; null when allowed or when a trade holds
    /// the domain with no end.
    #[schema(required = true)]
    until: Option<DateTime<Utc>>,
}

/// May the domain be transferred out to another registrar now? (P9, P11)
///
/// The registrar core asks before it starts a transfer-out: refused while the domain is in
/// any trade (a listing, an order awaiting payment, a push: P11) or inside its 60-day lock
/// after a forced change of registrant (P9), judged at the server's now (E1).
#[utoipa::path(
    get,
    path = "/admin/domains/{domain}/transfer-out",
    tag = "operators",
    params(("domain" = String, Path, description = "The domain (ASCII or Unicode)")),
    responses(
        (status = 200, description = "The answer", body = TransferOutView),
        (status = 400, description = "INVALID_DOMAIN", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn transfer_out(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(name): PathParam<DomainName>,
) -> Result<Response, ApiError> {
    let answer = lifecycle::transfer_out(&app, &name).await?;
    Ok(axum::Json(TransferOutView {
        allowed: answer.allowed,
        reason: answer.reason.map(str::to_owned),
        until: answer.until,
    })
    .into_response())
}

/// Redrive the outbox's dead letters (N1, P9)
///
/// Messages given up on after every try (the registrar core or the mail service down for
/// hours; each raised `OutboxDeadLettered`) are tried again at once, from where they
/// stopped. Answers how many.
#[utoipa::path(
    post,
    path = "/admin/outbox/redrive",
    tag = "operators",
    responses(
        (status = 200, description = "How many messages were re-armed", body = OutboxRedriven),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn redrive_outbox(State(app): State<AppState>, _admin: Admin) -> Result<Response, ApiError> {
    let redriven = market_app::outbox::redrive(&app).await?;
    tracing::info!(redriven, "outbox dead letters redriven");
    Ok(axum::Json(serde_json::json!({ "redriven": redriven })).into_response())
}

/// How many of the outbox's dead letters were re-armed.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct OutboxRedriven {
    redriven: usize,
}

/// Verify a seller's settlement account (S4)
///
/// S4: re-checks that the bound account is in the account's verified company name (a
/// verified enterprise) and marks it verified: payouts then go to it. Verifying a verified
/// one answers it unchanged.
#[utoipa::path(
    post,
    path = "/admin/accounts/{account_id}/settlement-account/verify",
    tag = "operators",
    params(("account_id" = String, Path, description = "The account's id", pattern = "^[A-Za-z0-9._@-]{1,64}$")),
    responses(
        (status = 200, description = "The verified account", body = market_app::settlement::SettlementAccountView),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND (none bound)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "NOT_VERIFIED, NOT_ENTERPRISE_ACCOUNT, COMPANY_NAME_MISMATCH", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn verify_settlement_account(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(id): PathParam<AccountId>,
) -> Result<Response, ApiError> {
    let verified = market_app::settlement::verify(&app, &id).await?;
    Ok(axum::Json(verified).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ImportLegacyListing)]
struct LegacyBody {
    /// The seller's account.
    seller: String,
    /// What the seller asked for offline, if anything.
    #[schema(value_type = Option<market_web::openapi::ListingPriceSchema>)]
    asking_price: Option<serde_json::Value>,
    #[schema(max_length = 500)]
    description: String,
}

/// Import a legacy offline-negotiation listing (L11)
///
/// Sellers cannot create these any more; operators bring over the old system's. Importing
/// a domain again updates its open one (the id is kept); a converted one cannot be
/// imported again (409 ALREADY_CONVERTED).
#[utoipa::path(
    put,
    path = "/admin/legacy-listings/{domain}",
    tag = "operators",
    params(("domain" = String, Path, description = "The domain (ASCII or Unicode)")),
    request_body = LegacyBody,
    responses(
        (status = 200, description = "The legacy listing", body = market_app::legacy::LegacyView),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT, INVALID_DOMAIN", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND (no such seller)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "ALREADY_CONVERTED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn import_legacy_listing(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(domain): PathParam<DomainName>,
    Json(body): Json<LegacyBody>,
) -> Result<Response, ApiError> {
    let seller = AccountId::parse(&body.seller).map_err(|_| {
        Problem::new(
            Code::InvalidRequest,
            format!("`{}` is not an account id", body.seller),
        )
    })?;
    let import = market_app::legacy::LegacyImport {
        seller,
        asking_price: body
            .asking_price
            .as_ref()
            .map(market_web::json::amount)
            .transpose()?,
        description: body.description,
    };
    let legacy = market_app::legacy::import(&app, domain, import).await?;
    Ok(axum::Json(legacy).into_response())
}
