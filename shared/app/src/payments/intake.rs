//! Notifications in: verified (or audited as refused), checked against our identity and the
//! payment they name, deduplicated by the provider's ids; and `trade.query` answers (O6),
//! which take the same path.

use crate::payments::door::audit;
use crate::ports::payment::{Merchant, Notification, TradeQuery, VerifyError};
use crate::repo::{self, load};
use crate::{App, AppError, AppResult};
use market_core::model::Payment;

use super::*;

/// Checks a notification against our identity and the payment it names.
pub(super) fn mismatch(us: &Merchant, n: &Notification, payment: &Payment) -> Option<String> {
    if n.app_id != us.app_id {
        return Some(format!("app_id {} is not ours", n.app_id));
    }
    if !n.seller_id.is_empty() && n.seller_id != us.seller_id {
        return Some(format!("seller_id {} is not ours", n.seller_id));
    }
    if n.total_amount != payment.amount {
        return Some(format!(
            "total_amount {} differs from {}",
            n.total_amount, payment.amount
        ));
    }
    None
}

/// Applies one queued notification body. Errors mean "try again later" (the queue
/// redelivers); a notification that can never apply is audited and answered `Rejected`.
pub async fn apply(app: &App, body: &str) -> AppResult<Applied> {
    match app.provider.verify(body).await {
        Ok(n) => counted(app, apply_verified(app, &n, body).await),
        // No keys to check it with (yet): the queue brings it back later; refusing it would
        // drop a payment that may be genuine (S1).
        Err(VerifyError::Unavailable(why)) => Err(AppError::Internal(anyhow::anyhow!(
            "cannot verify a notification now: {why}"
        ))),
        Err(e) => {
            audit(app, body, &e.to_string()).await?;
            Ok(Applied::Rejected(e.to_string()))
        }
    }
}

/// O6: asks the provider about a payment attempt (`trade.query`) and applies its answer. An
/// error means the provider did not answer: the attempt's result is still unknown, and the
/// caller must not act as if it had failed.
pub async fn query_and_apply(app: &App, payment_id: &str) -> AppResult<Applied> {
    let Some(payment) = load::<Payment>(&*app.store, repo::payment_key(payment_id)).await? else {
        return Ok(Applied::NoChange);
    };
    let answer = app
        .provider
        .query(payment_id, app.now())
        .await
        .map_err(|e| {
            AppError::Internal(e.context(format!("trade.query of payment {payment_id}")))
        })?;
    apply_query(app, &payment.value, answer).await
}

/// O6: what the provider says of a payment, applied through the same path as its
/// notifications (the dedupe records make the two meet once).
pub async fn apply_query(app: &App, payment: &Payment, query: TradeQuery) -> AppResult<Applied> {
    let (Some(status), Some(total_amount)) = (query.status, query.total_amount) else {
        return Ok(Applied::NoChange);
    };
    let us = app.provider.merchant().await?;
    let n = Notification {
        notify_id: format!("query:{}:{}", payment.id, query.raw_status),
        out_trade_no: payment.id.to_string(),
        trade_no: query.trade_no,
        trade_status: status,
        raw_status: query.raw_status,
        total_amount,
        app_id: us.app_id,
        seller_id: us.seller_id,
        paid_at: query.paid_at,
        fund_bills: query.fund_bills,
    };
    counted(app, apply_verified(app, &n, "trade.query").await)
}

/// Counts a payment applied as paid (the dashboard's `PaymentsApplied`).
fn counted(app: &App, result: AppResult<Applied>) -> AppResult<Applied> {
    if matches!(result, Ok(Applied::Paid)) {
        crate::metrics::emit(&crate::metrics::count(
            crate::metrics::PAYMENTS_APPLIED,
            1,
            app.now(),
        ));
    }
    result
}
