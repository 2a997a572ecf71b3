//! The payment path: provider notification → queue → verification → one conditional
//! transaction per state change (with the notification's dedupe records) → delivery per
//! domain (O9) with ledger journals (S1) → refunds through the provider until confirmed,
//! and settlement of proceeds (S4).
//!
//! Every step can run again (a redelivered message, a sweep resuming after a crash) and
//! changes nothing twice: each write is conditioned on the version it read, and each
//! journal, dedupe record, refund and settlement on its key being new.
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{App, AppResult};
use market_core::ids::AccountId;
use market_core::model::{Payment, PaymentStatus, Purchase};

mod apply;
mod delivery;
mod intake;
mod refunds;
mod settlement;

pub use apply::*;
pub use delivery::*;
pub use intake::*;
pub use refunds::*;
pub use settlement::*;

/// A new payment attempt (O5: each attempt has its own `out_trade_no`, its id).
pub(crate) fn new_attempt(
    app: &App,
    purchase: Purchase,
    buyer: &AccountId,
    amount: market_core::money::Money,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Payment {
    Payment {
        id: market_core::ids::PaymentId::mint(app.ulid()),
        purchase,
        buyer: buyer.clone(),
        amount,
        status: PaymentStatus::Pending,
        created_at: now,
        expires_at,
        trade_no: None,
        settled_at: None,
    }
}

/// A payment attempt with the provider's page to pay it on.
pub(crate) async fn attempt_view(
    app: &App,
    payment: &Payment,
    subject: &str,
    now: DateTime<Utc>,
) -> AppResult<crate::views::PaymentView> {
    let url = app
        .provider
        .pay_url(&crate::ports::payment::PayRequest {
            out_trade_no: payment.id.as_str(),
            amount: payment.amount,
            subject,
            expires_at: payment.expires_at,
            now,
        })
        .await?;
    Ok(crate::views::PaymentView::new(payment, url))
}

/// What applying a notification did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum Applied {
    /// The order was paid (or its delivery resumed) and delivered.
    Paid,
    /// The money could not buy anything (late, cancelled, already paid): refunded.
    Refunded,
    /// The attempt failed; the buyer may pay again inside the window (O5).
    AttemptFailed,
    /// Nothing new: a duplicate or a status with nothing to apply.
    NoChange,
    /// Not accepted (kept for audit with the reason).
    Rejected(String),
}
