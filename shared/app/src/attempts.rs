//! Payment attempts, for orders and pushes alike (O5: each attempt has its own
//! `out_trade_no`), what applying a provider's answer did, and the dedupe records that
//! make each answer apply once (S1). Below both `payments` (which applies answers) and the
//! trades that open attempts, so neither imports the other for these.
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ports::payment::{Notification, TradeStatus};
use crate::repo::{self, create};
use crate::store::{Item, Write};
use crate::{App, AppResult};
use market_core::ids::AccountId;
use market_core::model::{Payment, PaymentStatus, Purchase};

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
        delivers: Vec::new(),
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
    /// The money could not buy anything (late, cancelled, already paid, or paid by credit,
    /// O8): refunded.
    Refunded,
    /// The attempt failed; the buyer may pay again inside the window (O5).
    AttemptFailed,
    /// Nothing new: a duplicate or a status with nothing to apply.
    NoChange,
    /// Not accepted (kept for audit with the reason).
    Rejected(String),
}

/// The dedupe records written with the state change a notification causes: by the
/// provider's `notify_id`, and by (`out_trade_no`, outcome), so that a redelivery, or a
/// `TRADE_FINISHED` after a `TRADE_SUCCESS`, finds its change already made.
pub(crate) fn dedupe_records(n: &Notification, now: DateTime<Utc>) -> Vec<Write> {
    let class = match n.trade_status {
        TradeStatus::Paid => "paid",
        TradeStatus::Closed => "closed",
        TradeStatus::Waiting => "waiting",
    };
    let record =
        serde_json::json!({ "out_trade_no": n.out_trade_no, "status": n.raw_status, "at": now })
            .to_string();
    repo::notification_dedupe_keys(&n.notify_id, &n.out_trade_no, class)
        .into_iter()
        .map(|(pk, sk)| create(Item::new(pk, sk, record.clone())))
        .collect()
}
