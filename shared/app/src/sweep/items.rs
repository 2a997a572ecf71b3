//! What each kind of due item needs when its time comes: the same conditional use cases the
//! requests use, so handling an item twice, or racing a payment, changes nothing twice.
use super::report::SweepReport;
use crate::payments::{self, deliver};
use crate::repo;
use crate::{lifecycle, listings, orders, payouts, pushes, App, AppError, AppResult};
use market_core::deposit::{Deposit, DepositStatus};
use market_core::domain_name::DomainName;
use market_core::ids::{AccountId, DepositId, ListingId, OrderId, PayoutId, PushId};
use market_core::model::{OrderStatus, PaymentRef, PaymentStatus, Push, PushStatus};
use market_core::payout::PayoutStatus;
use serde::{Deserialize, Serialize};

/// The table key of an item in the due index: what the dispatcher hands to a worker.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DueKey {
    pub pk: String,
    pub sk: String,
}

impl std::fmt::Display for DueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.pk, self.sk)
    }
}

/// Handles one order whose deadline came (the delayed queue message, or the sweep).
/// O6/E1: an unpaid order with a payment attempt whose result is not back is never expired
/// blind: the provider is asked first (paid in time → applied; paid late → refunded; not
/// paid → expired); with no answer the order stays as it is and the error goes up, so the
/// sweep tries again later.
pub async fn order_due(app: &App, id: &OrderId, report: &mut SweepReport) -> AppResult<()> {
    let Some(order) = crate::order_store::load(&*app.store, id).await? else {
        return Ok(());
    };
    match order.value.status {
        OrderStatus::AwaitingPayment | OrderStatus::Processing
            if app.now() >= order.value.pay_by =>
        {
            ask_provider_first(app, order.value.payment.as_ref()).await?;
            if orders::expire(app, id).await? {
                report.expired_orders.push(id.to_string());
            }
        }
        OrderStatus::Paid => {
            deliver(app, id).await?;
            report.resumed_deliveries.push(id.to_string());
        }
        _ if order.value.releasing => {
            orders::release_rest(app, id).await?;
            report.holds_released.push(id.to_string());
        }
        _ => {}
    }
    Ok(())
}

/// O6 before O3/P5: when a trade's current payment attempt has no result yet, what the
/// provider says of it is applied through the notification path before the trade may
/// expire. No answer is an error: the item is deferred and asked about again later.
async fn ask_provider_first(app: &App, attempt: Option<&PaymentRef>) -> AppResult<()> {
    let Some(attempt) = attempt.filter(|p| p.status == PaymentStatus::Pending) else {
        return Ok(());
    };
    payments::query_and_apply(app, attempt.payment_id.as_str()).await?;
    Ok(())
}

/// A push whose deadline came: an open one past its validity is asked about first (O6),
/// then expired or forced by `pushes::due` (P5, P9).
async fn push_due(app: &App, id: &PushId) -> AppResult<Option<&'static str>> {
    if let Some(push) = repo::load::<Push>(&*app.store, repo::push_key(id)).await? {
        let open = matches!(
            push.value.status,
            PushStatus::Pending | PushStatus::Accepted
        );
        if open && app.now() >= push.value.expires_at {
            ask_provider_first(app, push.value.payment.as_ref()).await?;
        }
    }
    pushes::due(app, id).await
}

/// M1: a deposit whose payment window ended: its pending attempt is asked about first
/// (O6), then it expires unless the money came in time.
async fn deposit_due(app: &App, id: &DepositId) -> AppResult<bool> {
    let Some(deposit) = repo::load::<Deposit>(&*app.store, repo::deposit_key(id)).await? else {
        return Ok(false);
    };
    if deposit.value.status != DepositStatus::AwaitingPayment || app.now() < deposit.value.pay_by {
        return Ok(false);
    }
    ask_provider_first(app, deposit.value.payment.as_ref()).await?;
    crate::deposits::expire_if_due(app, id).await
}

/// Handles one due item by its kind. Idempotent: an item handled twice (handed on twice, or
/// by two workers at once) changes once.
pub(super) async fn due(app: &App, key: &DueKey, report: &mut SweepReport) -> AppResult<()> {
    match repo::due_kind(&key.pk) {
        repo::Due::Order(id) => {
            order_due(app, &OrderId::parse(&id)?, report).await?;
        }
        repo::Due::Refund(journal_id) => {
            if payments::send_refund(app, &journal_id).await? {
                report.refunds_confirmed.push(journal_id);
            } else {
                report.refunds_retrying.push(journal_id);
            }
        }
        repo::Due::Push(id) => {
            let id = PushId::parse(&id)?;
            match push_due(app, &id).await? {
                Some("expired") => report.pushes_expired.push(id.to_string()),
                Some(_) => report.pushes_forced.push(id.to_string()),
                None => {}
            }
        }
        repo::Due::Settlement(sale) => {
            if payments::settle(app, &sale).await? {
                report.settled.push(sale);
            }
        }
        repo::Due::Listing(id) => {
            let id = ListingId::parse(&id)?;
            if listings::end_if_due(app, &id).await? {
                report.listings_ended.push(id.to_string());
            }
        }
        repo::Due::Domain(name) => {
            let name = DomainName::parse(&name)?;
            let ended = lifecycle::expire_domain(app, &name).await?;
            if ended.listing.is_some() || ended.push.is_some() {
                report.domains_expired.push(name.to_string());
            }
        }
        repo::Due::Payout(id) => {
            let id = PayoutId::parse(&id)?;
            let sent = payouts::send(app, &id).await?;
            if sent.ended {
                report.payouts_ended.push(id.to_string());
            } else if sent.payout.status == PayoutStatus::Pending {
                report.payouts_waiting.push(id.to_string());
            }
        }
        repo::Due::Outbox(id) => {
            if crate::outbox::deliver(app, &id).await? {
                report.outbox_delivered.push(id);
            } else {
                report.outbox_retrying.push(id);
            }
        }
        repo::Due::PlacementRound(round) => {
            if crate::placements::round_due(app, &round).await?.is_some() {
                report.placements_filled.push(round);
            }
        }
        repo::Due::PartnerOrder(id) => {
            let id = OrderId::parse(&id)?;
            if crate::partners::orders::expire_transfer(app, &id).await? {
                report.partner_orders_expired.push(id.to_string());
            }
        }
        repo::Due::Deposit(id) => {
            let id = DepositId::parse(&id)?;
            if deposit_due(app, &id).await? {
                report.deposits_expired.push(id.to_string());
            }
        }
        repo::Due::Exit(account) => {
            let account = AccountId::parse(&account)?;
            match crate::exit::due(app, &account).await? {
                Some(crate::exit::Processed::Processed) => {
                    report.exits_processed.push(account.to_string())
                }
                Some(crate::exit::Processed::Blocked) => {
                    report.exits_blocked.push(account.to_string())
                }
                None => {}
            }
        }
        repo::Due::Unknown => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "a due entry of no known kind: {key}"
            )))
        }
    }
    Ok(())
}
