//! Acceptance and payment of a push (P7, O5, O8): the attempt, its failure, and the money
//! arriving (P4: all or nothing).
use chrono::{DateTime, Utc};

use crate::attempts::{dedupe_records, new_attempt, Applied};
use crate::ports::captcha::{CaptchaAction, HumanCheck};
use crate::ports::payment::Notification;
use crate::refunds::{refund_for, send_refund_now};
use crate::repo::{self, create, journal_writes, load, payment_item, push_item, put, Versioned};
use crate::retry::{retrying, written};
use crate::store::Write;
use crate::views::PaymentView;
use crate::{App, AppError, AppResult};
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, PushId};
use market_core::ledger;
use market_core::listing::check_trader;
use market_core::model::{Account, Payment, PaymentRef, PaymentStatus, Purchase, Push, PushStatus};
use market_core::order::PaymentMethod;
use market_core::security::SecurityPassword;

use super::*;

/// A new payment attempt for a push, open until the push expires.
pub(super) fn new_payment(app: &App, push: &Push, now: DateTime<Utc>) -> Payment {
    new_attempt(
        app,
        Purchase::Push(push.id.clone()),
        &push.buyer,
        push.amount_due(),
        push.expires_at,
        now,
    )
}

/// `POST /pushes/{id}/accept` (P7, A1, P12): the buyer, verified with Alipay bound, with the
/// human check and the security password where required, while pending. A push with nothing to pay completes at once; otherwise it
/// is accepted and a payment opened, open until the push's validity ends, which is also as
/// long as its domains stay held unless the money comes in time.
pub async fn accept(
    app: &App,
    caller: &AccountId,
    id: &PushId,
    human: &HumanCheck,
    security_password: Option<&SecurityPassword>,
) -> AppResult<PushView> {
    accept_with_contact(app, caller, id, human, security_password, None).await
}

/// `POST /pushes/{id}/accept` with the buyer's registrant contact template (O9): unknown or
/// unverified is 422 CONTACT_NOT_VERIFIED and nothing changes; absent, the account's default
/// template, else its verified identity. Recorded on the push for its completion.
pub async fn accept_with_contact(
    app: &App,
    caller: &AccountId,
    id: &PushId,
    human: &HumanCheck,
    security_password: Option<&SecurityPassword>,
    contact_id: Option<&str>,
) -> AppResult<PushView> {
    if !app.captcha.verify(CaptchaAction::PushAccept, human).await {
        return Err(Problem::new(Code::CaptchaFailed, "the human check did not pass (O7)").into());
    }
    // P12: after the human check, so that every counted try of the password costs one.
    crate::security::check(app, caller, security_password).await?;
    retrying(app, || async {
        let now = app.now();
        let push = load_visible(app, caller, id).await?;
        only(caller, &push.value.buyer, "buyer")?;
        if status_at(&push.value, now) != PushStatus::Pending {
            return Err(not_pending(&push.value, now));
        }
        // A1: the buyer may have lost verification or unbound Alipay since publication.
        let account: Option<Versioned<Account>> =
            load(&*app.store, repo::account_key(caller)).await?;
        check_trader(account.as_ref().map(|a| &a.value))?;
        let contact = crate::contacts::choose(app, caller, contact_id).await?;
        let (held, why_not) = held_domains(app, &push.value, now).await?;
        let mut next = push.value.clone();
        next.accepted_at = Some(now);
        next.contact = contact;
        next.updated_at = now;
        if let Some(reason) = why_not {
            // P4: the exchange cannot complete; nothing has been paid yet.
            let writes = end_writes(app, &push, PushStatus::Failed, &reason, now).await?;
            written(app.transact(writes).await)?;
            return Err(
                Problem::new(Code::PushNotPending, format!("the push failed: {reason}")).into(),
            );
        }
        if next.amount_due().amount().is_zero() {
            let forced = next.lock_60d;
            let writes_done = completion_writes(app, &mut next, &held, forced, now);
            let mut writes = vec![put(push_item(&next), Some(&push))];
            writes.extend(writes_done);
            written(app.transact(writes).await)?;
            return Ok(view(app, &next, now, None));
        }
        next.status = PushStatus::Accepted;
        let payment = new_payment(app, &next, now);
        next.payment = Some(PaymentRef {
            payment_id: payment.id.clone(),
            status: PaymentStatus::Pending,
            failure: None,
        });
        let mut writes = vec![
            put(push_item(&next), Some(&push)),
            create(payment_item(&payment)),
        ];
        // The domains stay held only until the push's validity ends, as the payment does:
        // unpaid by then the push has expired (P5) and its domains are free again even if
        // the sweep is late (E1). Money in time holds them until the push ends (`paid`).
        // Written anyway, so that the acceptance is conditioned on every domain as read.
        writes.extend(hold_domains(app, &held, Some(next.expires_at)));
        // N1: both sides are told.
        writes.extend(crate::notifications::push_step(
            app,
            market_core::notice::NoticeKind::PushAccepted,
            &next,
        ));
        written(app.transact(writes).await)?;
        Ok(view(
            app,
            &next,
            now,
            Some(payment_view(app, &next, &payment, now).await?),
        ))
    })
    .await
}

/// `POST /pushes/{id}/pay`: the buyer; a new attempt after a failed one, the same attempt
/// while one is pending.
pub async fn pay(
    app: &App,
    caller: &AccountId,
    id: &PushId,
    method: PaymentMethod,
) -> AppResult<PaymentView> {
    // O8: parsed by the caller; Alipay is the only way to pay.
    let PaymentMethod::Alipay = method;
    retrying(app, || async {
        let now = app.now();
        let push = load_visible(app, caller, id).await?;
        only(caller, &push.value.buyer, "buyer")?;
        if status_at(&push.value, now) != PushStatus::Accepted {
            return Err(Problem::new(
                Code::OrderNotPayable,
                "only an accepted push awaiting payment can be paid",
            )
            .into());
        }
        if let Some(current) = push
            .value
            .payment
            .as_ref()
            .filter(|p| p.status == PaymentStatus::Pending)
        {
            let payment: Versioned<Payment> =
                load(&*app.store, repo::payment_key(current.payment_id.as_str()))
                    .await?
                    .ok_or_else(|| {
                        AppError::Internal(anyhow::anyhow!("push {id} names a missing payment"))
                    })?;
            return Ok(payment_view(app, &push.value, &payment.value, now).await?);
        }
        let payment = new_payment(app, &push.value, now);
        let mut next = push.value.clone();
        next.payment = Some(PaymentRef {
            payment_id: payment.id.clone(),
            status: PaymentStatus::Pending,
            failure: None,
        });
        next.updated_at = now;
        written(
            app.transact(vec![
                put(push_item(&next), Some(&push)),
                create(payment_item(&payment)),
            ])
            .await,
        )?;
        Ok(payment_view(app, &next, &payment, now).await?)
    })
    .await
}

/// A failed attempt of a push's payment (`TRADE_CLOSED`, or credit refused with `failure`
/// as the reason, O8): the push stays accepted; the buyer may pay again (O5).
pub(crate) async fn attempt_failed_writes(
    app: &App,
    id: &PushId,
    payment: &Payment,
    failure: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Write>> {
    let Some(push) = load::<Push>(&*app.store, repo::push_key(id)).await? else {
        return Ok(vec![]);
    };
    if push
        .value
        .payment
        .as_ref()
        .is_none_or(|p| p.payment_id != payment.id)
    {
        return Ok(vec![]);
    }
    let mut next = push.value.clone();
    if let Some(p) = next.payment.as_mut() {
        p.status = PaymentStatus::Failed;
        p.failure = failure.map(str::to_owned);
    }
    next.updated_at = now;
    Ok(vec![put(push_item(&next), Some(&push))])
}

/// Money for a push. In time for an accepted push whose domains can all be delivered: paid;
/// locked → completed at once (forced, 60-day lock, P9); not locked → waits for the seller's
/// confirmation with the money in escrow. Late money, or any domain that cannot be
/// delivered (P4): nothing moves and the whole payment is refunded.
pub(crate) async fn paid(app: &App, n: &Notification, id: &PushId) -> AppResult<Applied> {
    let (outcome, refund) = retrying(app, || async {
        let now = app.now();
        let payment: Versioned<Payment> = load(&*app.store, repo::payment_key(&n.out_trade_no))
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment vanished")))?;
        if matches!(
            payment.value.status,
            PaymentStatus::Succeeded | PaymentStatus::Refunded
        ) {
            return Ok((Applied::NoChange, None));
        }
        let push: Versioned<Push> = load(&*app.store, repo::push_key(id))
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment for a missing push")))?;
        let paid_at = n.paid_at.unwrap_or(now).min(now);
        let in_time = push.value.status == PushStatus::Accepted && paid_at < push.value.expires_at;
        let (held, why_not) = held_domains(app, &push.value, now).await?;
        let mut settled = payment.value.clone();
        settled.trade_no = Some(n.trade_no.clone());
        settled.settled_at = Some(now);
        let mut writes = dedupe_records(n, now);
        writes.extend(journal_writes(&ledger::payment_received(
            &payment.value,
            now,
        )));
        match (in_time, why_not) {
            (true, None) => {
                settled.status = PaymentStatus::Succeeded;
                let mut next = push.value.clone();
                next.paid_at = Some(now);
                next.updated_at = now;
                next.payment = Some(PaymentRef {
                    payment_id: payment.value.id.clone(),
                    status: PaymentStatus::Succeeded,
                    failure: None,
                });
                let domain_writes = if next.lock_60d {
                    completion_writes(app, &mut next, &held, true, now)
                } else {
                    next.status = PushStatus::AwaitingSellerConfirmation;
                    next.confirm_by = Some(now + app.policy.push_confirmation_window);
                    // Paid: held until the change completes (or fails), whatever the time.
                    hold_domains(app, &held, None)
                };
                writes.push(put(payment_item(&settled), Some(&payment)));
                writes.push(put(push_item(&next), Some(&push)));
                writes.extend(domain_writes);
                written(app.transact(writes).await)?;
                Ok((Applied::Paid, None))
            }
            (in_time, why_not) => {
                settled.status = PaymentStatus::Refunded;
                let reason = why_not
                    .clone()
                    .unwrap_or_else(|| "payment arrived after the push ended".into());
                let journal = ledger::refund(&payment.value, "all", payment.value.amount, now);
                let (refund, refund_write) =
                    refund_for(&journal, &payment.value, &reason, now, app.ulid());
                writes.push(put(payment_item(&settled), Some(&payment)));
                writes.extend(journal_writes(&journal));
                writes.push(refund_write);
                if in_time {
                    // P4: the whole push fails and every domain is freed.
                    writes.extend(end_writes(app, &push, PushStatus::Failed, &reason, now).await?);
                }
                written(app.transact(writes).await)?;
                Ok((Applied::Refunded, Some(refund)))
            }
        }
    })
    .await?;
    if let Some(refund) = refund {
        send_refund_now(app, &refund.journal_id).await;
    }
    Ok(outcome)
}
