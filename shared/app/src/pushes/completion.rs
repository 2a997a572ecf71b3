//! Completion of a paid push (P4, P9): every domain changes registrant or none does; the
//! 60-day lock, the seller's confirmation or the buyer's force.
use chrono::{DateTime, Utc};

use crate::refunds::{refund_for, send_refund_now};
use crate::repo::{self, create, journal_writes, load, push_item, put, settlement_item, Versioned};
use crate::retry::{retrying, written};
use crate::store::Write;
use crate::{App, AppError, AppResult};
use market_core::delivery::check_deliverable;
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, PushId};
use market_core::ledger;
use market_core::model::{Domain, Payment, PendingSettlement, Push, PushStatus};

use super::*;

/// The held domains of a push, and the first reason one of them cannot be delivered.
pub(super) async fn held_domains(
    app: &App,
    push: &Push,
    now: DateTime<Utc>,
) -> AppResult<(Vec<Versioned<Domain>>, Option<String>)> {
    // One batched read for every domain of the push (at most 50 keys: one BatchGetItem).
    let keys: Vec<(String, String)> = push.domains.iter().map(repo::domain_key).collect();
    let mut found: std::collections::HashMap<String, crate::store::Item> = app
        .store
        .get_many(&keys)
        .await?
        .into_iter()
        .map(|i| (i.pk.clone(), i))
        .collect();
    let mut held = Vec::with_capacity(push.domains.len());
    let mut why_not = None;
    for name in &push.domains {
        let domain: Option<Versioned<Domain>> = found
            .remove(&repo::domain_key(name).0)
            .map(|i| repo::decode(&i))
            .transpose()?;
        let check = check_deliverable(
            domain.as_ref().map(|d| &d.value),
            &push.seller,
            push.id.as_str(),
            now,
        );
        if let Err(why) = check {
            why_not.get_or_insert(format!("{name}: {}", why.reason()));
        }
        held.extend(domain);
    }
    Ok((held, why_not))
}

/// Writes that keep a push's domains held until `until` (`None`: until the push ends).
pub(super) fn hold_domains(
    app: &App,
    held: &[Versioned<Domain>],
    until: Option<DateTime<Utc>>,
) -> Vec<Write> {
    held.iter()
        .flat_map(|domain| {
            let mut holding = domain.value.clone();
            if let Some(trade) = holding.trade.as_mut() {
                trade.until = until;
            }
            crate::outbox::domain_writes(app, &holding, Some(domain))
        })
        .collect()
}

/// Writes that complete a push: every domain to the buyer with its expiry kept (A3); on a
/// forced change the 60-day lock runs from now, never added to an earlier one (P9); the
/// sale journal and its settlement (S4).
pub(super) fn completion_writes(
    app: &App,
    push: &mut Push,
    held: &[Versioned<Domain>],
    forced: bool,
    now: DateTime<Utc>,
) -> Vec<Write> {
    push.status = PushStatus::Completed;
    push.completed_at = Some(now);
    push.updated_at = now;
    if forced {
        push.forced_at = Some(now);
    }
    let mut writes = Vec::new();
    for domain in held {
        let mut moved = domain.value.clone();
        moved.owner = push.buyer.clone();
        moved.trade = None;
        if forced {
            moved.transfer_lock_until = Some(market_core::push::transfer_lock_until(
                now,
                app.policy.transfer_lock,
            ));
        }
        // The trade ends (and a forced change starts the 60-day lock), and the registrant
        // change with the buyer's chosen contact: told (merged into one message each).
        writes.extend(crate::outbox::handover_writes(
            app,
            &moved,
            domain,
            push.contact.as_ref(),
            forced,
        ));
    }
    if !push.amount_due().amount().is_zero() {
        let settles_at = now + app.policy.settlement_period;
        let journal = ledger::push_sale(push, now, settles_at);
        writes.push(create(settlement_item(&PendingSettlement {
            sale_journal_id: journal.id.clone(),
            seller: push.seller.clone(),
            due_at: settles_at,
            settled: false,
            cancelled: false,
        })));
        writes.extend(journal_writes(&journal));
    }
    // N1: both sides are told (a free push accepted completes at once: this is its notice).
    writes.extend(crate::notifications::push_step(
        app,
        market_core::notice::NoticeKind::PushCompleted,
        push,
    ));
    writes
}

/// Completes a paid, unlocked push: by the seller's confirmation (no lock), the buyer's
/// demand or the confirmation window's end (forced, lock). A domain that can no longer be
/// delivered fails the whole push with a full refund (P4).
pub(super) async fn complete_paid(
    app: &App,
    id: &PushId,
    caller: Option<&AccountId>,
    forced: bool,
) -> AppResult<PushView> {
    let (view_now, refund) = retrying(app, || async {
        let now = app.now();
        let push = match caller {
            Some(caller) => load_visible(app, caller, id).await?,
            None => load(&*app.store, repo::push_key(id))
                .await?
                .ok_or_else(|| Problem::not_found("push"))?,
        };
        if let Some(caller) = caller {
            let (who, role) = if forced {
                (&push.value.buyer, "buyer")
            } else {
                (&push.value.seller, "seller")
            };
            only(caller, who, role)?;
        }
        if push.value.status != PushStatus::AwaitingSellerConfirmation {
            return Err(Problem::new(
                Code::PushNotPending,
                "the push is not awaiting the seller's confirmation",
            )
            .into());
        }
        let (held, why_not) = held_domains(app, &push.value, now).await?;
        let mut next = push.value.clone();
        if let Some(reason) = why_not {
            let payment_id = push.value.payment.as_ref().map(|p| p.payment_id.clone());
            let payment: Versioned<Payment> = match payment_id {
                Some(pid) => load(&*app.store, repo::payment_key(pid.as_str())).await?,
                None => None,
            }
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("paid push {id} without its payment"))
            })?;
            let journal = ledger::refund(&payment.value, "all", payment.value.amount, now);
            let (refund, refund_write) =
                refund_for(&journal, &payment.value, &reason, now, app.ulid());
            let mut writes = end_writes(app, &push, PushStatus::Failed, &reason, now).await?;
            writes.extend(journal_writes(&journal));
            writes.push(refund_write);
            written(app.transact(writes).await)?;
            next.status = PushStatus::Failed;
            next.end_reason = Some(reason);
            return Ok((view(app, &next, now, None), Some(refund)));
        }
        // E1: past the confirmation window the change is a forced one, whoever asks (P9).
        let forced = forced || push.value.confirm_by.is_some_and(|t| now >= t);
        let domain_writes = completion_writes(app, &mut next, &held, forced, now);
        let mut writes = vec![put(push_item(&next), Some(&push))];
        writes.extend(domain_writes);
        written(app.transact(writes).await)?;
        Ok((view(app, &next, now, None), None))
    })
    .await?;
    if let Some(refund) = refund {
        send_refund_now(app, &refund.journal_id).await;
    }
    Ok(view_now)
}

/// `POST /pushes/{id}/confirm` (P9): the seller confirms the change of registrant.
pub async fn confirm(app: &App, caller: &AccountId, id: &PushId) -> AppResult<PushView> {
    complete_paid(app, id, Some(caller), false).await
}

/// `POST /pushes/{id}/force` (P9): the buyer forces the change (the lock applies).
pub async fn force(app: &App, caller: &AccountId, id: &PushId) -> AppResult<PushView> {
    complete_paid(app, id, Some(caller), true).await
}
