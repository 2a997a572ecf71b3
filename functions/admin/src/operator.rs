//! The operator's marketplace rules (M4, and the working-day calendar M2, M4 and S5 use):
//! holidays and placement sections; listing categories and sellers' deposits (M1).
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use market_app::calendar::{self, Holidays};
use market_core::error::{Code, Problem};
use market_core::ids::DepositId;
use market_core::money::Money;
use market_core::placement::{PlacementRule, Section};
use market_web::auth::Admin;
use market_web::json::Json;
use market_web::openapi::{Busy, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::{AppState, PathParam};

/// A year in a path (`2026`).
pub struct Year(i32);

impl std::str::FromStr for Year {
    type Err = Problem;
    fn from_str(text: &str) -> Result<Year, Problem> {
        text.parse::<i32>()
            .ok()
            .filter(|y| (2000..=9999).contains(y))
            .map(Year)
            .ok_or_else(|| {
                Problem::new(
                    Code::InvalidRequest,
                    format!("`{text}` is not a year from 2000 to 9999"),
                )
            })
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutHolidays)]
pub(crate) struct HolidaysBody {
    /// The year's holidays as ISO dates (YYYY-MM-DD), each inside the year (replaces the list).
    #[schema(max_items = 366)]
    dates: Vec<String>,
}

/// Set a year's holidays (M2, M4, S5)
///
/// Working days are Monday to Friday less these holidays (Beijing dates). They move a
/// placement period's start (M4), the exit processing window (M2) and the first day an
/// announced fee change may apply (S5). A date outside the year is refused.
#[utoipa::path(
    put,
    path = "/admin/holidays/{year}",
    tag = "operators",
    params(("year" = i32, Path, description = "The year", minimum = 2000, maximum = 9999)),
    request_body = HolidaysBody,
    responses(
        (status = 200, description = "The year's holidays", body = Holidays),
        (status = 400, description = "INVALID_REQUEST (a date outside the year, or not a date)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn put_holidays(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(Year(year)): PathParam<Year>,
    Json(body): Json<HolidaysBody>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(calendar::set_holidays(&app, year, &body.dates).await?).into_response())
}

/// A year's holidays (M2, M4, S5)
#[utoipa::path(
    get,
    path = "/admin/holidays/{year}",
    tag = "operators",
    params(("year" = i32, Path, description = "The year", minimum = 2000, maximum = 9999)),
    responses(
        (status = 200, description = "The year's holidays (empty if never set)", body = Holidays),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn get_holidays(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(Year(year)): PathParam<Year>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(calendar::holidays(&app, year).await?).into_response())
}

/// A section's ranking rule (M4).
#[derive(utoipa::ToSchema)]
#[schema(as = PlacementRule)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum RuleSchema {
    Sales,
    Newest,
    Deals,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutPlacementSection)]
pub(crate) struct SectionBody {
    #[schema(minimum = 1, maximum = 50)]
    slots: u32,
    /// 15: periods from the 1st and the 16th; 30: from the 1st.
    #[schema(minimum = 15, maximum = 30, example = 15)]
    period_days: u32,
    /// `sales`: the seller's sales volume over the 30 days before the period; `newest`:
    /// the most recently published listings; `deals`: the largest drop from the first price.
    #[schema(value_type = RuleSchema)]
    rule: PlacementRule,
    /// A section of one TLD's listings (`cn`, `中国`); absent: every listing.
    #[schema(example = "cn")]
    tld: Option<String>,
}

/// A placement section as stored.
#[derive(utoipa::ToSchema)]
#[schema(as = PlacementSection)]
#[allow(dead_code)]
struct SectionSchema {
    name: String,
    slots: u32,
    period_days: u32,
    #[schema(value_type = RuleSchema)]
    rule: String,
    /// Only listings of this TLD (punycode); absent: every listing.
    tld: Option<String>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

/// Create or change a featured placement section (M4)
///
/// Periods start on the 1st and the 16th (15 days) or the 1st (30 days) of each month,
/// moved to the next working day; winners are chosen by the rule when a period starts.
#[utoipa::path(
    put,
    path = "/admin/placements/{section}",
    tag = "operators",
    params(("section" = String, Path, description = "The section's name", pattern = "^[a-z0-9_-]{1,64}$")),
    request_body = SectionBody,
    responses(
        (status = 200, description = "The section", body = SectionSchema),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn put_placement_section(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(SectionName(name)): PathParam<SectionName>,
    Json(body): Json<SectionBody>,
) -> Result<Response, ApiError> {
    let section: Section = market_app::placements::put_section(
        &app,
        &name,
        body.slots,
        body.period_days,
        body.rule,
        body.tld.as_deref(),
    )
    .await?;
    Ok(axum::Json(section).into_response())
}

/// A section name in a path (checked with the section itself).
pub struct SectionName(String);

impl std::str::FromStr for SectionName {
    type Err = Problem;
    fn from_str(text: &str) -> Result<SectionName, Problem> {
        Ok(SectionName(text.to_owned()))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutCategory)]
pub(crate) struct CategoryBody {
    /// The TLDs of the category, in Unicode or punycode, with or without the dot (`cn`,
    /// `中国`, `.公司`); normalised as domain names are (A4).
    #[schema(min_items = 1, max_items = 200, example = json!(["cn", "中国", "公司", "网络"]))]
    tlds: Vec<String>,
    /// The deposit a seller must hold to list a domain of these TLDs; absent or 0: none.
    #[schema(value_type = Option<String>, example = "5000.00")]
    deposit: Option<String>,
}

/// A listing category as stored.
#[derive(utoipa::ToSchema)]
#[schema(as = Category)]
#[allow(dead_code)]
struct CategorySchema {
    name: String,
    /// In normal form (punycode), sorted.
    tlds: Vec<String>,
    #[schema(value_type = Option<String>, required = true)]
    deposit: Option<String>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

/// Create or change a listing category and its deposit (M1)
///
/// Listing or pushing a domain of one of its TLDs without its deposit held in full is
/// refused with 403 `DEPOSIT_REQUIRED` (and the `amount` missing). A raised deposit
/// applies to new listings at once: sellers top it up with `POST /me/deposits`.
#[utoipa::path(
    put,
    path = "/admin/categories/{category}",
    tag = "operators",
    params(("category" = String, Path, description = "The category's name", pattern = "^[a-z0-9_-]{1,64}$")),
    request_body = CategoryBody,
    responses(
        (status = 200, description = "The category", body = CategorySchema),
        (status = 400, description = "INVALID_REQUEST, INVALID_AMOUNT", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn put_category(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(SectionName(name)): PathParam<SectionName>,
    Json(body): Json<CategoryBody>,
) -> Result<Response, ApiError> {
    let deposit = body.deposit.as_deref().map(Money::parse).transpose()?;
    let category =
        market_app::deposits::categories::put_category(&app, &name, &body.tlds, deposit).await?;
    Ok(axum::Json(category).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ForfeitDeposit)]
pub(crate) struct ForfeitBody {
    /// What to forfeit: more than 0, at most what the deposit still holds.
    #[schema(value_type = String, example = "200.00")]
    amount: String,
    /// Why (kept on the deposit and its ledger entry, shown to the seller).
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

/// Forfeit part or all of a seller's deposit (M1)
///
/// Each forfeit is one ledger entry (the seller's deposits to the platform's forfeited
/// deposits) with its reason; the seller must top the deposit up before listing in its
/// category again. What is left is returned on exit (M2).
#[utoipa::path(
    post,
    path = "/admin/deposits/{id}/forfeit",
    tag = "operators",
    params(("id" = String, Path, description = "The deposit's id")),
    request_body = ForfeitBody,
    responses(
        (status = 200, description = "The deposit after the forfeit", body = market_app::deposits::DepositView),
        (status = 400, description = "INVALID_REQUEST (no reason), INVALID_AMOUNT", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "FORBIDDEN (no admin role)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "INSUFFICIENT_FUNDS (more than the deposit holds, or it holds nothing)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn forfeit_deposit(
    State(app): State<AppState>,
    _admin: Admin,
    PathParam(id): PathParam<DepositId>,
    Json(body): Json<ForfeitBody>,
) -> Result<Response, ApiError> {
    let amount = Money::parse(&body.amount)?;
    let view = market_app::deposits::forfeit(&app, &id, amount, &body.reason).await?;
    Ok(axum::Json(view).into_response())
}
