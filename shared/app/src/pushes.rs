//! Priced pushes (P1–P10): a seller offers domains to one named buyer at one price; the
//! whole exchange completes or fails as one.
//!
//! A push holds its domains from publication (each domain's trade hold names it) until it
//! ends. Every change is one conditional transaction over the push and all its domains, so a
//! push is limited to [`MAX_PUSH_DOMAINS`] domains: completion (push, payment, its dedupe
//! records and journals, every domain, the sale journal, the settlement) fits DynamoDB's 100
//! actions with room to spare, and is therefore all-or-nothing by construction (P4).
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::holds::check_free_for_trade;
use super::payments::{
    attempt_view, dedupe_records, new_attempt, refund_for, send_refund_now, Applied,
};
use super::repo::{
    self, create, domain_item, journal_writes, load, payment_item, push_item, put, settlement_item,
    Versioned,
};
use super::retry::{retrying, written, Attempt};
use super::views::{PageView, PaymentView};
use super::{App, AppError, AppResult};
use crate::ports::payment::Notification;
use crate::store::{Index, Query, Write};
use market_core::delivery::check_deliverable;
use market_core::domain_name::DomainName;
use market_core::error::{Code, DomainRefusal, Problem};
use market_core::ids::{AccountId, PushId};
use market_core::ledger;
use market_core::listing::{check_named_buyer, check_trader};
use market_core::model::{
    Account, Domain, FeeKind, Payment, PaymentRef, PaymentStatus, PendingSettlement, Purchase,
    Push, PushStatus, TradeHold, TradeKind,
};
use market_core::money::Money;
use market_core::order::check_payment_method;

/// The most domains one push may carry (see the module comment).
pub const MAX_PUSH_DOMAINS: usize = 50;

/// A new push, parsed.
pub struct NewPush {
    pub domains: Vec<String>,
    pub buyer: AccountId,
    pub price: Money,
    pub lock_60d: bool,
    pub buyer_email: Option<String>,
    pub message: Option<String>,
}

/// A push as its seller and buyer see it.
#[derive(Debug, Serialize)]
pub struct PushView {
    pub id: String,
    pub seller: String,
    pub buyer: String,
    pub domains: Vec<String>,
    pub domains_unicode: Vec<String>,
    pub price: Money,
    pub transfer_fee: Money,
    pub amount_due: Money,
    pub lock_60d: bool,
    pub status: PushStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm_by: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_lock_until: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentView>,
}

/// P5, E1: the status at `now`: an open push past its validity is expired even before the
/// sweeper records it.
pub fn status_at(push: &Push, now: DateTime<Utc>) -> PushStatus {
    match push.status {
        PushStatus::Pending | PushStatus::Accepted if now >= push.expires_at => PushStatus::Expired,
        status => status,
    }
}

fn view(app: &App, push: &Push, now: DateTime<Utc>, payment: Option<PaymentView>) -> PushView {
    PushView {
        id: push.id.to_string(),
        seller: push.seller.to_string(),
        buyer: push.buyer.to_string(),
        domains: push.domains.iter().map(|d| d.to_string()).collect(),
        domains_unicode: push.domains.iter().map(DomainName::unicode).collect(),
        price: push.price,
        transfer_fee: push.transfer_fee,
        amount_due: push.amount_due(),
        lock_60d: push.lock_60d,
        status: status_at(push, now),
        end_reason: push.end_reason.clone(),
        expires_at: push.expires_at,
        created_at: push.created_at,
        buyer_email: push.buyer_email.clone(),
        message: push.message.clone(),
        accepted_at: push.accepted_at,
        paid_at: push.paid_at,
        confirm_by: push.confirm_by,
        completed_at: push.completed_at,
        transfer_lock_until: push.forced_at.map(|at| at + app.policy.transfer_lock),
        payment,
    }
}

/// P8: the registry's transfer fee for these domains (per domain, by TLD).
fn transfer_fee(app: &App, domains: &[DomainName]) -> Money {
    Money::sum(
        domains
            .iter()
            .filter_map(|d| app.policy.transfer_fees.get(d.tld()).copied()),
    )
}

/// `POST /pushes`: A1 for the seller and the named buyer, then P2/P3: one check pass over
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
    super::rate_limit::count(app, seller, super::rate_limit::Counted::PushPublication).await?;
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
    let rate = super::fees::rate_at(app, FeeKind::Push, app.now()).await?;
    retrying(|| async {
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
        };
        let mut writes = vec![create(push_item(&push))];
        for domain in &domains {
            let mut held = domain.value.clone();
            held.trade = Some(TradeHold {
                kind: TradeKind::Push,
                id: push.id.to_string(),
                until: Some(push.expires_at),
            });
            writes.push(put(domain_item(&held), Some(domain)));
        }
        written(app.transact(writes).await)?;
        Ok(view(app, &push, now, None))
    })
    .await
}

/// Reads a push the caller may see (P7): its seller or its buyer; to anyone else it does
/// not exist.
async fn load_visible(
    app: &App,
    caller: &AccountId,
    id: &PushId,
) -> Result<Versioned<Push>, Attempt> {
    let push: Versioned<Push> = load(&*app.store, repo::push_key(id))
        .await?
        .ok_or_else(|| Problem::not_found("push"))?;
    if &push.value.seller != caller && &push.value.buyer != caller {
        return Err(Problem::not_found("push").into());
    }
    Ok(push)
}

fn only(caller: &AccountId, who: &AccountId, role: &str) -> Result<(), Attempt> {
    if caller != who {
        return Err(Problem::new(
            Code::Forbidden,
            format!("only the push's {role} can do this"),
        )
        .into());
    }
    Ok(())
}

fn not_pending(push: &Push, now: DateTime<Utc>) -> Attempt {
    let status = serde_json::to_value(status_at(push, now))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Problem::new(Code::PushNotPending, format!("the push is {status}")).into()
}

/// `GET /pushes/{id}`.
pub async fn get(app: &App, caller: &AccountId, id: &PushId) -> AppResult<PushView> {
    retrying(|| async {
        Ok(view(
            app,
            &load_visible(app, caller, id).await?.value,
            app.now(),
            None,
        ))
    })
    .await
}

/// `GET /me/pushes?role=sent|received&status=`: newest first.
pub async fn mine(
    app: &App,
    caller: &AccountId,
    received: bool,
    status: Option<PushStatus>,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<PageView<PushView>> {
    let now = app.now();
    let mut query = if received {
        Query::index(Index::Gsi2, repo::received_partition(caller))
    } else {
        Query::index(Index::Gsi1, repo::sent_partition(caller))
    };
    query.forward = false;
    query.after = cursor;
    super::paging::filtered(app, query, limit, status.is_some(), |item| {
        let push: Versioned<Push> = repo::decode(item)?;
        Ok(status
            .is_none_or(|s| status_at(&push.value, now) == s)
            .then(|| view(app, &push.value, now, None)))
    })
    .await
}

/// Writes that end a push and free every domain it still holds.
async fn end_writes(
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
    Ok(writes)
}

/// Writes that free the domains a push still holds.
async fn release_domains(app: &App, push: &Push) -> AppResult<Vec<Write>> {
    let keys: Vec<(String, String)> = push.domains.iter().map(repo::domain_key).collect();
    let mut writes = Vec::new();
    for item in app.store.get_many(&keys).await? {
        let domain: Versioned<Domain> = repo::decode(&item)?;
        if domain
            .value
            .trade
            .as_ref()
            .is_some_and(|t| t.id == push.id.as_str())
        {
            let mut freed = domain.value.clone();
            freed.trade = None;
            writes.push(put(domain_item(&freed), Some(&domain)));
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

async fn end_pending(
    app: &App,
    caller: &AccountId,
    id: &PushId,
    by_seller: bool,
) -> AppResult<PushView> {
    retrying(|| async {
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

/// The held domains of a push, and the first reason one of them cannot be delivered.
async fn held_domains(
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
fn hold_domains(held: &[Versioned<Domain>], until: Option<DateTime<Utc>>) -> Vec<Write> {
    held.iter()
        .map(|domain| {
            let mut holding = domain.value.clone();
            if let Some(trade) = holding.trade.as_mut() {
                trade.until = until;
            }
            put(domain_item(&holding), Some(domain))
        })
        .collect()
}

/// Writes that complete a push: every domain to the buyer with its expiry kept (A3); on a
/// forced change the 60-day lock runs from now, never added to an earlier one (P9); the
/// sale journal and its settlement (S4).
fn completion_writes(
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
            moved.transfer_lock_until = Some(now + app.policy.transfer_lock);
        }
        writes.push(put(domain_item(&moved), Some(domain)));
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
    writes
}

/// A new payment attempt for a push, open until the push expires.
fn new_payment(app: &App, push: &Push, now: DateTime<Utc>) -> Payment {
    new_attempt(
        app,
        Purchase::Push(push.id.clone()),
        &push.buyer,
        push.amount_due(),
        push.expires_at,
        now,
    )
}

async fn payment_view(
    app: &App,
    push: &Push,
    payment: &Payment,
    now: DateTime<Utc>,
) -> AppResult<PaymentView> {
    attempt_view(app, payment, &format!("Domain push {}", push.id), now).await
}

/// `POST /pushes/{id}/accept` (P7, A1): the buyer, verified with Alipay bound, with the
/// human check, while pending. A push with nothing to pay completes at once; otherwise it
/// is accepted and a payment opened, open until the push's validity ends, which is also as
/// long as its domains stay held unless the money comes in time.
pub async fn accept(
    app: &App,
    caller: &AccountId,
    id: &PushId,
    captcha_token: &str,
) -> AppResult<PushView> {
    if !app.captcha.verify(captcha_token).await {
        return Err(Problem::new(Code::CaptchaFailed, "the human check did not pass").into());
    }
    retrying(|| async {
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
        let (held, why_not) = held_domains(app, &push.value, now).await?;
        let mut next = push.value.clone();
        next.accepted_at = Some(now);
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
        });
        let mut writes = vec![
            put(push_item(&next), Some(&push)),
            create(payment_item(&payment)),
        ];
        // The domains stay held only until the push's validity ends, as the payment does:
        // unpaid by then the push has expired (P5) and its domains are free again even if
        // the sweep is late (E1). Money in time holds them until the push ends (`paid`).
        // Written anyway, so that the acceptance is conditioned on every domain as read.
        writes.extend(hold_domains(&held, Some(next.expires_at)));
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
    method: &str,
) -> AppResult<PaymentView> {
    check_payment_method(method)?;
    retrying(|| async {
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

/// `TRADE_CLOSED` for a push's payment: the push stays accepted; the buyer may pay again.
pub(crate) async fn attempt_failed_writes(
    app: &App,
    id: &PushId,
    payment: &Payment,
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
    }
    next.updated_at = now;
    Ok(vec![put(push_item(&next), Some(&push))])
}

/// Money for a push. In time for an accepted push whose domains can all be delivered: paid;
/// locked → completed at once (forced, 60-day lock, P9); not locked → waits for the seller's
/// confirmation with the money in escrow. Late money, or any domain that cannot be
/// delivered (P4): nothing moves and the whole payment is refunded.
pub(crate) async fn paid(app: &App, n: &Notification, id: &PushId) -> AppResult<Applied> {
    let (outcome, refund) = retrying(|| async {
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
                });
                let domain_writes = if next.lock_60d {
                    completion_writes(app, &mut next, &held, true, now)
                } else {
                    next.status = PushStatus::AwaitingSellerConfirmation;
                    next.confirm_by = Some(now + app.policy.push_confirmation_window);
                    // Paid: held until the change completes (or fails), whatever the time.
                    hold_domains(&held, None)
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

/// Completes a paid, unlocked push: by the seller's confirmation (no lock), the buyer's
/// demand or the confirmation window's end (forced, lock). A domain that can no longer be
/// delivered fails the whole push with a full refund (P4).
async fn complete_paid(
    app: &App,
    id: &PushId,
    caller: Option<&AccountId>,
    forced: bool,
) -> AppResult<PushView> {
    let (view_now, refund) = retrying(|| async {
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

/// The sweep's part (P5, P9): an open push past its validity expires and frees its domains;
/// a paid one past its confirmation window is forced. Returns what it did, if anything.
pub async fn due(app: &App, id: &PushId) -> AppResult<Option<&'static str>> {
    let now = app.now();
    let Some(push) = load::<Push>(&*app.store, repo::push_key(id)).await? else {
        return Ok(None);
    };
    match push.value.status {
        PushStatus::Pending | PushStatus::Accepted if now >= push.value.expires_at => {
            // O6/E1: a payment whose result is not back is asked about before the push
            // expires (no answer: the error goes up and the sweep tries again later).
            if let Some(attempt) = push
                .value
                .payment
                .as_ref()
                .filter(|p| p.status == PaymentStatus::Pending)
            {
                super::payments::query_and_apply(app, attempt.payment_id.as_str()).await?;
            }
            let done = retrying(|| async {
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
    let refund = retrying(|| async {
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
