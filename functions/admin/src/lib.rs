//! `functions/admin`: the registrar's side (API.md "Operators"): accounts and domains that
//! in production arrive from the registrar core. Every route needs the `admin` role.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use shared::app::accounts::{self, DomainRecord};
use shared::app::{fees, AppError};
use shared::core::domain_name::DomainName;
use shared::core::error::{Code, Problem};
use shared::core::ids::AccountId;
use shared::core::model::{Account, DomainFlags, FeeKind};
use shared::web::auth::Admin;
use shared::web::json::Json;
use shared::web::AppState;

/// The routes of this function.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts/{account_id}", put(put_account))
        .route("/admin/domains/{domain}", put(put_domain))
        // Lifecycle events, takedowns and fee periods are the later issues' (501 until then).
        .route("/admin/domains/{domain}/events", post(not_yet))
        .route("/admin/listings/{id}/takedown", post(not_yet))
        .route("/admin/pushes/{id}/takedown", post(not_yet))
        .route("/admin/fees", put(put_fees))
}

async fn not_yet(_admin: Admin) -> Problem {
    Problem::new(
        Code::NotImplemented,
        "this operator route is not available yet",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountBody {
    real_name_verified: bool,
    payout_account: Option<String>,
    email: Option<String>,
    enterprise: Option<bool>,
}

async fn put_account(
    State(app): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    Json(body): Json<AccountBody>,
) -> Result<Response, AppError> {
    let account = Account {
        id: AccountId::parse(&id)?,
        real_name_verified: body.real_name_verified,
        payout_account: body.payout_account.filter(|p| !p.trim().is_empty()),
        email: body.email,
        enterprise: body.enterprise.unwrap_or(false),
    };
    Ok(axum::Json(accounts::upsert_account(&app, account).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainBody {
    owner: String,
    registered_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    flags: Option<DomainFlags>,
}

async fn put_domain(
    State(app): State<AppState>,
    _admin: Admin,
    Path(name): Path<String>,
    Json(body): Json<DomainBody>,
) -> Result<Response, AppError> {
    let record = DomainRecord {
        name: DomainName::parse(&name)?,
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
    Ok(axum::Json(shared::app::views::DomainView::new(&domain, app.now())).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeesBody {
    kind: FeeKind,
    rate: String,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

/// S5: a fee period (a waiver is a rate of "0" for a stated period).
async fn put_fees(
    State(app): State<AppState>,
    _admin: Admin,
    Json(body): Json<FeesBody>,
) -> Result<Response, AppError> {
    let rate = fees::parse_rate(&body.rate)?;
    let period = fees::set_period(&app, body.kind, rate, body.from, body.until).await?;
    Ok(axum::Json(period).into_response())
}
