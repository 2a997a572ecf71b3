//! A push's life before and after money: publication (P1-P3), withdrawal (P6), rejection
//! (P7), expiry and forcing by the sweep (P5, P9), invalidation (P10).
use chrono::{DateTime, Utc};

use crate::holds::check_free_for_trade;
use crate::refunds::{refund_for, send_refund_now};
use crate::repo::{self, create, journal_writes, load, push_item, put, Versioned};
use crate::retry::{retrying, written, Attempt};
use crate::store::Write;
use crate::{App, AppError, AppResult};
use market_core::domain_name::DomainName;
use market_core::error::{Code, DomainRefusal, Problem};
use market_core::ids::{AccountId, PushId};
use market_core::ledger;
use market_core::listing::{check_named_buyer, check_trader};
use market_core::model::{
    Account, Domain, FeeKind, Payment, Push, PushStatus, TradeHold, TradeRef,
};
use market_core::money::Money;
use market_core::notice::NoticeKind;

use super::*;

/// P8: the registry's transfer fee for these domains (per domain, by TLD).
pub(super) fn transfer_fee(app: &App, domains: &[DomainName]) -> Money {
    market_core::push::transfer_fee(&app.policy.transfer_fees, domains)
}

/// `POST /pushes`: the seller's security password where required (P12), A1 for the seller
/// and the named buyer, then P2/P3: one check pass over
/// every domain (L2 and a lapsed listing's order hold, as for a listing); if any cannot be
/// pushed, nothing is written and the answer names every offender. Otherwise the push and
/// the holds on all its domains are one transaction.
pub async fn publish(app: &App, seller: &AccountId, new: NewPush) -> AppResult<PushView> {
    if new.domains.is_empty() {
        return Err(Problem::new(Code::InvalidRequest, "a push names at least one domain").into());
    }
    if new.domains.len() > MAX_PUSH_DOMAINS {
        return Err(Problem::new(
            Code::BatchTooLarge,
            format!("a push carries at most {MAX_PUSH_DOMAINS} domains"),
        )
        .into());
    }
    if &new.buyer == seller {
        return Err(Problem::new(Code::SelfPurchase, "a push goes to another account").into());
    }
    crate::rate_limit::count(app, seller, crate::rate_limit::Counted::PushPublication).await?;
    // P12: before anything about the buyer or the domains is read.
    crate::security::check(app, seller, new.security_password.as_ref()).await?;
    let account: Option<Versioned<Account>> = load(&*app.store, repo::account_key(seller)).await?;
    check_trader(account.as_ref().map(|a| &a.value))?;
    let buyer: Versioned<Account> = load(&*app.store, repo::account_key(&new.buyer))
        .await?
        .ok_or_else(|| Problem::new(Code::NotFound, format!("no account {}", new.buyer)))?;
    check_named_buyer(&buyer.value)?;
    let mut refusals: Vec<DomainRefusal> = Vec::new();
    let mut names: Vec<DomainName> = Vec::new();
    for raw in &new.domains {
        match DomainName::parse(raw) {
            Ok(name) if !names.contains(&name) => names.push(name),
            Ok(_) => {}
            Err(problem) => refusals.push(problem.for_domain(raw)),
        }
    }
    let rate = crate::fees::rate_at(app, FeeKind::Push, app.now()).await?;
    retrying(app, || async {
        let now = app.now();
        let mut refusals = refusals.clone();
        let mut domains = Vec::with_capacity(names.len());
        for name in &names {
            match load::<Domain>(&*app.store, repo::domain_key(name)).await? {
                None => refusals.push(
                    Problem::new(Code::NotOwner, format!("{name} is not in your account"))
                        .for_domain(name.ascii()),
                ),
                // L2 as for a listing (P2's margin), the hold of a lapsed listing (L5) too.
                Some(domain) => match check_free_for_trade(
                    app,
                    &domain.value,
                    seller,
                    now,
                    app.policy.push_expiry_margin,
                )
                .await
                {
                    Ok(()) => domains.push(domain),
                    Err(AppError::Refused(problem)) => {
                        refusals.push(problem.for_domain(name.ascii()))
                    }
                    Err(e) => return Err(e.into()),
                },
            }
        }
        if !refusals.is_empty() {
            let problem = Problem::new(
                Code::PushRefused,
                format!(
                    "{} of {} domains cannot be pushed (P3)",
                    refusals.len(),
                    new.domains.len()
                ),
            );
            return Err(Attempt::Failed(problem.with_errors(refusals).into()));
        }
        let push = Push {
            id: PushId::mint(app.ulid()),
            seller: seller.clone(),
            buyer: new.buyer.clone(),
            transfer_fee: transfer_fee(app, &names),
            domains: names.clone(),
            price: new.price,
            lock_60d: new.lock_60d,
            buyer_email: new.buyer_email.clone(),
            message: new.message.clone(),
            status: PushStatus::Pending,
            end_reason: None,
            expires_at: now + app.policy.push_validity,
            created_at: now,
            updated_at: now,
            fee_rate: rate,
            payment: None,
            accepted_at: None,
            paid_at: None,
            confirm_by: None,
            completed_at: None,
            forced_at: None,
            contact: None,
        };
        // M1, M2: a push sells too: not exited, every category's deposit held.
        let standing =
            crate::deposits::may_sell(app, seller, names.iter().map(DomainName::tld)).await?;
        let mut writes = vec![create(push_item(&push)), standing];
        for domain in &domains {
            let mut held = domain.value.clone();
            held.trade = Some(TradeHold {
                trade: TradeRef::Push(push.id.clone()),
                until: Some(push.expires_at),
                terms: None,
                order: None,
            });
            writes.extend(crate::outbox::domain_writes(app, &held, Some(domain)));
        }
        // N1: the buyer is told (and `buyer_email`).
        writes.extend(crate::notifications::push_step(
            app,
            market_core::notice::NoticeKind::PushPublished,
            &push,
        ));
        written(app.transact(writes).await)?;
        Ok(view(app, &push, now, None))
    })
    .await
}

/// Writes that end a push and free every domain it still holds.
pub(super) async fn end_writes(
    app: &App,
    push: &Versioned<Push>,
    status: PushStatus,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<Vec<Write>> {
    let mut ended = push.value.clone();
    ended.status = status;
    ended.end_reason = Some(reason.to_owned());
    ended.updated_at = now;
    let mut writes = vec![put(push_item(&ended), Some(push))];
    writes.extend(release_domains(app, &push.value).await?);
    // N1: both sides are told of a withdrawal, a rejection or an expiry.
    let told = match status {
        PushStatus::Withdrawn => Some(NoticeKind::PushWithdrawn),
        PushStatus::Rejected => Some(NoticeKind::PushRejected),
        PushStatus::Expired => Some(NoticeKind::PushExpired),
        _ => None,
    };
    if let Some(kind) = told {
        writes.extend(crate::notifications::push_step(app, kind, &ended));
    }
    Ok(writes)
}

/// Writes that free the domains a push still holds.
pub(super) async fn release_domains(app: &App, push: &Push) -> AppResult<Vec<Write>> {
    let keys: Vec<(String, String)> = push.domains.iter().map(repo::domain_key).collect();
    let mut writes = Vec::new();
    for item in app.store.get_many(&keys).await? {
        let domain: Versioned<Domain> = repo::decode(&item)?;
        if domain
            .value
            .trade
            .as_ref()
            .is_some_and(|t| t.id() == push.id.as_str())
        {
            let mut freed = domain.value.clone();
            freed.trade = None;
            writes.extend(crate::outbox::domain_writes(app, &freed, Some(&domain)));
        }
    }
    Ok(writes)
}

/// `POST /pushes/{id}/withdraw` (P6): the seller, while the push is pending.
pub async fn withdraw(app: &App, caller: &AccountId, id: &PushId) -> AppResult<PushView> {
    end_pending(app, caller, id, true).await
}

/// `POST /pushes/{id}/reject` (P7): the buyer, while the push is pending.
pub async fn reject(app: &App, caller: &AccountId, id: &PushId) -> AppResult<PushView> {
    end_pending(app, caller, id, false).await
}

pub(super) async fn end_pending(
    app: &App,
    caller: &AccountId,
    id: &PushId,
    by_seller: bool,
) -> AppResult<PushView> {
    retrying(app, || async {
        let now = app.now();
        let push = load_visible(app, caller, id).await?;
        let (who, role, status, reason) = if by_seller {
            (
                &push.value.seller,
                "seller",
                PushStatus::Withdrawn,
                "withdrawn by the seller",
            )
        } else {
            (
                &push.value.buyer,
                "buyer",
                PushStatus::Rejected,
                "rejected by the buyer",
            )
        };
        only(caller, who, role)?;
        if status_at(&push.value, now) != PushStatus::Pending {
            return Err(not_pending(&push.value, now));
        }
        let writes = end_writes(app, &push, status, reason, now).await?;
        written(app.transact(writes).await)?;
        let ended = load::<Push>(&*app.store, repo::push_key(id))
            .await?
            .map(|p| p.value)
            .unwrap_or(push.value);
        Ok(view(app, &ended, now, None))
    })
    .await
}

/// The sweep's part (P5, P9): an open push past its validity expires and frees its domains;
/// a paid one past its confirmation window is forced. Returns what it did, if anything.
pub async fn due(app: &App, id: &PushId) -> AppResult<Option<&'static str>> {
    let now = app.now();
    let Some(push) = load::<Push>(&*app.store, repo::push_key(id)).await? else {
        return Ok(None);
    };
    match push.value.status {
        PushStatus::Pending | PushStatus::Accepted if now >= push.value.expires_at => {
            // O6/E1: the sweep has asked the provider about a payment whose result was not
            // back before calling this (`sweep::push_due`).
            let done = retrying(app, || async {
                let now = app.now();
                let Some(push) = load::<Push>(&*app.store, repo::push_key(id)).await? else {
                    return Ok(false);
                };
                if !matches!(
                    push.value.status,
                    PushStatus::Pending | PushStatus::Accepted
                ) || now < push.value.expires_at
                {
                    return Ok(false);
                }
                let writes = end_writes(
                    app,
                    &push,
                    PushStatus::Expired,
                    "not accepted and paid within 7 days (P5)",
                    now,
                )
                .await?;
                written(app.transact(writes).await)?;
                Ok(true)
            })
            .await?;
            Ok(done.then_some("expired"))
        }
        PushStatus::AwaitingSellerConfirmation
            if push.value.confirm_by.is_some_and(|t| now >= t) =>
        {
            match complete_paid(app, id, None, true).await {
                Ok(_) => Ok(Some("forced")),
                Err(AppError::Refused(p)) if p.code == Code::PushNotPending => Ok(None),
                Err(e) => Err(e),
            }
        }
        _ => Ok(None),
    }
}

/// Ends an open push on a registry event or an operator takedown (P10); money already paid
/// is refunded in full. Returns whether it ended the push.
pub async fn invalidate(
    app: &App,
    id: &PushId,
    status: PushStatus,
    reason: &str,
) -> AppResult<bool> {
    let refund = retrying(app, || async {
        let now = app.now();
        let Some(push) = load::<Push>(&*app.store, repo::push_key(id)).await? else {
            return Ok(None);
        };
        if push.value.status.is_final() {
            return Ok(None);
        }
        let mut writes = end_writes(app, &push, status, reason, now).await?;
        let mut refund = None;
        if push.value.status == PushStatus::AwaitingSellerConfirmation {
            let pid = push.value.payment.as_ref().map(|p| p.payment_id.clone());
            if let Some(payment) = match pid {
                Some(pid) => load::<Payment>(&*app.store, repo::payment_key(pid.as_str())).await?,
                None => None,
            } {
                let journal = ledger::refund(&payment.value, "all", payment.value.amount, now);
                let (record, write) = refund_for(&journal, &payment.value, reason, now, app.ulid());
                writes.extend(journal_writes(&journal));
                writes.push(write);
                refund = Some(record);
            }
        }
        written(app.transact(writes).await)?;
        Ok(Some(refund))
    })
    .await?;
    match refund {
        None => Ok(false),
        Some(refund) => {
            if let Some(refund) = refund {
                send_refund_now(app, &refund.journal_id).await;
            }
            Ok(true)
        }
    }
}
