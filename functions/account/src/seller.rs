//! The seller's side of the operator's rules: deposits (M1) and the exit (M2).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use market_app::{deposits, exit};
use market_web::auth::Caller;
use market_web::json::Json;
use market_web::openapi::{Busy, ProblemSchema as ProblemDoc, Unauthenticated};
use market_web::problem::ApiError;
use market_web::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OpenDeposit)]
pub(crate) struct DepositBody {
    /// The category (`PUT /admin/categories/{category}`).
    #[schema(example = "cn-premium")]
    category: String,
}

/// Open (and pay) the deposit of a listing category (M1)
///
/// Opens the deposit the category still needs (all of it, or what a raise or a forfeit
/// left missing) with a payment through the provider, open for the payment window like an
/// order's. While one is open for the category, the same deposit and attempt are answered
/// (200). Paid, it is held in the `deposits` ledger account; deposits of several
/// categories add up. It is returned on exit (M2).
#[utoipa::path(
    post,
    operation_id = "open_deposit",
    path = "/me/deposits",
    tag = "account",
    request_body = DepositBody,
    responses(
        (status = 201, description = "The deposit, with its payment", body = deposits::DepositView),
        (status = 200, description = "The deposit already open for the category, with its payment", body = deposits::DepositView),
        (status = 400, description = "INVALID_REQUEST (the category needs no deposit)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "SELLER_EXITED", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND (no such category)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "DEPOSIT_ALREADY_HELD", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "NOT_VERIFIED, NO_PAYOUT_ACCOUNT", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn open_deposit(
    State(app): State<AppState>,
    caller: Caller,
    Json(body): Json<DepositBody>,
) -> Result<Response, ApiError> {
    let (view, created) = deposits::open(&app, &caller.account, &body.category).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(view)).into_response())
}

/// The caller's deposits and what they hold per category (M1)
#[utoipa::path(
    get,
    operation_id = "my_deposits",
    path = "/me/deposits",
    tag = "account",
    responses(
        (status = 200, description = "Every deposit, newest first, and the amounts held", body = deposits::DepositsView),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn my_deposits(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    Ok(axum::Json(deposits::list(&app, &caller.account).await?).into_response())
}

/// Apply to leave the marketplace (M2)
///
/// Refused with `EXIT_BLOCKED` and every reason (`errors: [{code, detail}]`: open
/// listings, pushes or orders, an unpaid deposit payment, frozen proceeds, a payout in
/// flight, a debt) while any remains. An application made on or before the 20th of a month
/// (a Beijing date) is processed in the last 7 working days of that month, later ones in
/// the next month's; at processing the reasons are checked again, the account stops
/// selling, deposits are refunded and the available balance paid out. A second application
/// answers the first (200).
#[utoipa::path(
    post,
    operation_id = "apply_exit",
    path = "/me/exit",
    tag = "account",
    responses(
        (status = 201, description = "The application with its processing window", body = exit::ExitView),
        (status = 200, description = "The application already made", body = exit::ExitView),
        (status = 401, response = Unauthenticated),
        (status = 409, description = "EXIT_BLOCKED (with every reason in `errors`)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn apply_exit(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let (view, created) = exit::apply(&app, &caller.account).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(view)).into_response())
}

/// The caller's exit application (M2)
#[utoipa::path(
    get,
    operation_id = "my_exit",
    path = "/me/exit",
    tag = "account",
    responses(
        (status = 200, description = "The application, its window and where it is", body = exit::ExitView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "NOT_FOUND (no application)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
pub(crate) async fn my_exit(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    Ok(axum::Json(exit::get(&app, &caller.account).await?).into_response())
}
