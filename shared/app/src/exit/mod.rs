//! M2: a seller's exit. `POST /me/exit` applies (refused with every blocking reason while
//! any remains); the application is processed by the sweep in its window (the last 7
//! working days of the month, `market_core::exit`), where the blocking reasons are checked
//! again: blocked, the reasons are recorded and it is tried again the next working day (the
//! next month's window once this one is over); clear, in one transaction the account
//! stops selling, and what its deposits still hold goes back through the provider; then
//! the available balance is paid out to the bound account, or kept available without one.
mod obligations;
mod processing;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::repo::{self, create, exit_item, load, Versioned};
use crate::retry::{retrying, written};
use crate::{App, AppResult};
use market_core::calendar::market_date;
use market_core::error::{Problem, Reason};
use market_core::exit::{check_exit, exit_window, Exit, ExitStatus};
use market_core::ids::AccountId;

pub use processing::{due, Processed};

/// An exit application as its seller sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Exit)]
pub struct ExitView {
    /// `scheduled`, `blocked` (at its last check; `blocked` says why) or `processed`.
    #[schema(value_type = String, example = "scheduled")]
    pub status: ExitStatus,
    pub applied_at: DateTime<Utc>,
    /// The first working day of the processing window (a Beijing date).
    #[schema(value_type = String, format = Date)]
    pub processing_from: NaiveDate,
    /// The last working day of the processing window (a Beijing date).
    #[schema(value_type = String, format = Date)]
    pub processing_until: NaiveDate,
    /// When the sweep looks at it next (absent once processed).
    pub next_check_at: Option<DateTime<Utc>>,
    /// Why it was blocked at its last check (`{code, detail}`, as `EXIT_BLOCKED`'s errors).
    #[schema(value_type = Vec<crate::schema::ReasonSchema>)]
    pub blocked: Vec<Reason>,
    pub processed_at: Option<DateTime<Utc>>,
    /// The payout of the available balance made at processing.
    pub payout_id: Option<String>,
    /// Why the balance was kept available instead.
    pub payout_note: Option<String>,
}

impl From<&Exit> for ExitView {
    fn from(exit: &Exit) -> ExitView {
        ExitView {
            status: exit.status,
            applied_at: exit.applied_at,
            processing_from: exit.window.from,
            processing_until: exit.window.until,
            next_check_at: (exit.status != ExitStatus::Processed).then_some(exit.next_check_at),
            blocked: exit.blocked.clone(),
            processed_at: exit.processed_at,
            payout_id: exit.payout.as_ref().map(ToString::to_string),
            payout_note: exit.payout_note.clone(),
        }
    }
}

/// `POST /me/exit`: applies, or answers the application already made (`false`). Refused
/// with `EXIT_BLOCKED` naming every reason while any remains.
pub async fn apply(app: &App, account: &AccountId) -> AppResult<(ExitView, bool)> {
    retrying(app, || async {
        let now = app.now();
        if let Some(exit) = load::<Exit>(&*app.store, repo::exit_key(account)).await? {
            return Ok((ExitView::from(&exit.value), false));
        }
        let obligations = obligations::count(app, account, now).await?;
        if let Err(refused) = check_exit(&obligations) {
            tracing::info!(account = %account, reasons = ?refused.reasons, "exit refused (M2)");
            return Err(refused.into());
        }
        let calendar = crate::calendar::around(app, now).await?;
        let window = exit_window(&calendar, market_date(now));
        let exit = Exit {
            account: account.clone(),
            status: ExitStatus::Scheduled,
            applied_at: now,
            window,
            next_check_at: window.opens_at(),
            blocked: Vec::new(),
            processed_at: None,
            payout_done: false,
            payout: None,
            payout_note: None,
            updated_at: now,
        };
        written(app.transact(vec![create(exit_item(&exit))]).await)?;
        tracing::info!(account = %account, from = %window.from, until = %window.until, "exit applied (M2)");
        Ok((ExitView::from(&exit), true))
    })
    .await
}

/// `GET /me/exit`: the caller's application (none: not found).
pub async fn get(app: &App, account: &AccountId) -> AppResult<ExitView> {
    let exit: Option<Versioned<Exit>> = load(&*app.store, repo::exit_key(account)).await?;
    exit.map(|e| ExitView::from(&e.value))
        .ok_or_else(|| Problem::not_found("exit application").into())
}
