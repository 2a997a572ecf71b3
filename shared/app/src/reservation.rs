//! Reserving a cart's domains for its orders (O2, L5): which domains can be ordered, judged
//! on each domain's item alone, and the holds written on those items with each order.
//!
//! A listing's terms and the order awaiting payment for it live on its domain's trade hold
//! (issue 15), so a domain is one key to read and one action to hold: a 500-domain cart is
//! one batched read (6 requests of 100 keys), 5 transactions of holds and the order's, in
//! three waves.
use std::collections::HashMap;

use super::rate_limit::InTransaction;
use super::repo::{self, Versioned};
use super::{App, AppError, AppResult, MAX_ATTEMPTS};
use crate::order_store;
use crate::store::{Expect, Item, StoreError, Write, MAX_TRANSACTION_WRITES};
use market_core::domain_name::DomainName;
use market_core::error::{DomainRefusal, Problem};
use market_core::ids::{AccountId, ListingId, OrderId};
use market_core::listing::check_orderable;
use market_core::model::{
    Domain, ItemStatus, Listing, ListingStatus, ListingTerms, Order, OrderHold, OrderItem,
    OrderStatus, RegistrantContact,
};
use market_core::money::Money;

/// A domain that passed the checks, as read, with its listing's id and terms.
#[derive(Clone)]
pub(crate) struct Candidate {
    domain: Versioned<Domain>,
    listing_id: ListingId,
    terms: ListingTerms,
    /// A listing published before its terms were kept on its domain: its key and the
    /// version they were copied from, a condition of the hold that writes them there.
    legacy: Option<((String, String), u64)>,
}

impl Candidate {
    pub(crate) fn seller(&self) -> &AccountId {
        &self.terms.seller
    }

    fn name(&self) -> &DomainName {
        &self.domain.value.name
    }

    /// The hold's writes: the domain with the order's hold (the action that fails when
    /// the domain changed since it was read), the condition on a legacy listing, and any
    /// message the domain's changed transfer lock sends (P11).
    fn hold_writes(&self, app: &App, hold: &OrderHold) -> (Write, Option<Write>, Vec<Write>) {
        let mut held = self.domain.value.clone();
        if let Some(trade) = held.trade.as_mut() {
            trade.terms = Some(self.terms.clone());
            trade.order = Some(hold.clone());
        }
        let mut writes = crate::outbox::domain_writes(app, &held, Some(&self.domain));
        let put = writes.remove(0);
        let check = self
            .legacy
            .as_ref()
            .map(|((pk, sk), version)| Write::Check {
                pk: pk.clone(),
                sk: sk.clone(),
                expect: Expect::Version(*version),
            });
        (put, check, writes)
    }
}

/// Reads these domains (BatchGetItem, 100 keys a call) and checks each can be ordered by
/// `buyer` now.
pub(crate) async fn candidates_of(
    app: &App,
    buyer: &AccountId,
    names: &[DomainName],
) -> AppResult<Vec<Result<Candidate, Problem>>> {
    let keys: Vec<(String, String)> = names.iter().map(repo::domain_key).collect();
    let found = app.store.get_many(&keys).await?;
    candidates_from(app, buyer, names, found).await
}

/// [`candidates_of`] over the domains as already read (`found`: those that exist). Only a
/// domain whose listing predates issue 15 makes a second read: of that listing.
pub(crate) async fn candidates_from(
    app: &App,
    buyer: &AccountId,
    names: &[DomainName],
    found: Vec<Item>,
) -> AppResult<Vec<Result<Candidate, Problem>>> {
    let mut domains: HashMap<String, Versioned<Domain>> = HashMap::new();
    for item in found {
        domains.insert(item.pk.clone(), repo::decode(&item)?);
    }
    let legacy_keys: Vec<(String, String)> = domains
        .values()
        .filter_map(|d| d.value.trade.as_ref())
        .filter(|t| t.terms.is_none())
        .filter_map(|t| t.listing())
        .map(repo::listing_key)
        .collect();
    let mut listings: HashMap<String, Versioned<Listing>> = HashMap::new();
    if !legacy_keys.is_empty() {
        for item in app.store.get_many(&legacy_keys).await? {
            listings.insert(item.pk.clone(), repo::decode(&item)?);
        }
    }
    let now = app.now();
    Ok(names
        .iter()
        .map(|name| {
            let Some(read) = domains.get(&repo::domain_key(name).0) else {
                return Err(Problem::new(
                    market_core::error::Code::NotFound,
                    format!("{name} is not listed"),
                ));
            };
            let mut judged = read.value.clone();
            let legacy = with_legacy_terms(&mut judged, &listings);
            let (id, terms) = check_orderable(&judged, buyer, now)?;
            Ok(Candidate {
                domain: read.clone(),
                listing_id: id.clone(),
                terms: terms.clone(),
                legacy,
            })
        })
        .collect())
}

/// A domain whose listing's terms are not on its trade hold (published before issue 15):
/// they, and the listing's own order hold, are copied from the listing as read. Answers
/// the listing's key and version, the condition of copying them.
fn with_legacy_terms(
    domain: &mut Domain,
    listings: &HashMap<String, Versioned<Listing>>,
) -> Option<((String, String), u64)> {
    let trade = domain.trade.as_mut().filter(|t| t.terms.is_none())?;
    let key = repo::listing_key(trade.listing()?);
    let listing = listings
        .get(&key.0)
        .filter(|l| l.value.status == ListingStatus::Active)?;
    trade.terms = Some(ListingTerms::of(&listing.value));
    trade.order = listing.value.hold.clone();
    Some((key, listing.version))
}

/// What one transaction of a reservation writes, and which candidate each action holds.
struct Batch {
    writes: Vec<Write>,
    owners: Vec<Owner>,
}

#[derive(Clone, Copy, PartialEq)]
enum Owner {
    Candidate(usize),
    Order,
    Counter,
    Message,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            writes: Vec::new(),
            owners: Vec::new(),
        }
    }

    fn push(&mut self, write: Write, owner: Owner) {
        self.writes.push(write);
        self.owners.push(owner);
    }

    /// The lock messages joined into one action a kind (they all come last).
    fn with_messages(mut self, mut messages: Vec<Write>) -> Batch {
        crate::outbox::coalesce(&mut messages);
        for m in messages {
            self.push(m, Owner::Message);
        }
        self
    }
}

/// How many actions these lock messages take once joined (one a kind).
fn joined_len(messages: &[Write]) -> usize {
    let mut joined = messages.to_vec();
    crate::outbox::coalesce(&mut joined);
    joined.len()
}

/// The holds of `pending` (indexes into it) packed into transactions of at most 100
/// actions, `extra` actions (the order, the counter) kept free in the first. Each holds
/// one domain (and checks a legacy listing); a domain's lock messages join into one action
/// a transaction.
fn pack(
    app: &App,
    pending: &[Candidate],
    hold: &OrderHold,
    extra: usize,
) -> Vec<(Batch, Vec<Write>)> {
    let mut batches: Vec<(Batch, Vec<Write>)> = Vec::new();
    let mut current = (Batch::new(), Vec::new());
    let mut room = MAX_TRANSACTION_WRITES - extra;
    for (i, c) in pending.iter().enumerate() {
        let (put, check, messages) = c.hold_writes(app, hold);
        let needs = 1 + usize::from(check.is_some());
        let joined: Vec<Write> = current.1.iter().chain(&messages).cloned().collect();
        if !current.0.writes.is_empty()
            && current.0.writes.len() + needs + joined_len(&joined) > room
        {
            batches.push(std::mem::replace(&mut current, (Batch::new(), Vec::new())));
            room = MAX_TRANSACTION_WRITES;
        }
        current.0.push(put, Owner::Candidate(i));
        if let Some(check) = check {
            current.0.push(check, Owner::Candidate(i));
        }
        current.1.extend(messages);
    }
    if !current.0.writes.is_empty() {
        batches.push(current);
    }
    batches
}

/// Reserves a payment group: holds on its domains, and its order. While nothing is held,
/// a group whose holds fit in one transaction with the order (and the attempt's counter)
/// is written whole; otherwise (up to 500 domains, O2) its holds go in concurrent
/// transactions of 100 actions, then the order (with the counter) is written. Domains that
/// lose a race are re-read and re-checked; the rest go on without them, so the answer is
/// per domain and no domain is ever held twice. A failure after some holds (the store
/// throttling, a refusal at the counter) frees them before it is answered; a crash leaves
/// holds that lapse at their deadline.
pub(crate) async fn reserve(
    app: &App,
    buyer: &AccountId,
    group: Vec<Candidate>,
    contact: Option<&RegistrantContact>,
    rate: rust_decimal::Decimal,
    attempt: &mut Option<InTransaction>,
) -> AppResult<(Option<Order>, Vec<DomainRefusal>)> {
    let now = app.now();
    let order_id = OrderId::mint(app.ulid());
    let pay_by = now + app.policy.payment_window;
    let hold = OrderHold {
        order_id: order_id.clone(),
        buyer: buyer.clone(),
        until: pay_by,
    };
    let order_of =
        |held: &[Candidate]| new_order(&order_id, buyer, held, rate, now, pay_by, contact);
    let mut held: Vec<Candidate> = Vec::new();
    let mut refused = Vec::new();
    let outcome = hold_group(
        app,
        buyer,
        group,
        &hold,
        attempt,
        &order_of,
        &mut held,
        &mut refused,
    )
    .await;
    let order = order_of(&held);
    match outcome {
        Ok(Held::WithOrder) => Ok((Some(order), refused)),
        Ok(Held::Apart) if held.is_empty() => Ok((None, refused)),
        Ok(Held::Apart) => match write_order(app, &order, attempt).await {
            Ok(()) => Ok((Some(order), refused)),
            Err(e) => {
                tracing::warn!(order = %order.id, held = held.len(), error = %e, "the order of a held cart was not written; freeing its holds");
                free_holds(app, &order).await;
                Err(e)
            }
        },
        Err(e) => {
            if !held.is_empty() {
                tracing::warn!(order = %order.id, held = held.len(), error = %e, "a cart's holds failed part way; freeing those written");
                free_holds(app, &order).await;
            }
            Err(e)
        }
    }
}

/// How a group's holds were written.
enum Held {
    /// In one transaction with the order: the order is written.
    WithOrder,
    /// Apart from the order (or nothing held): the order is still to write.
    Apart,
}

/// The holds of a group, in rounds: `held` gathers the candidates held, `refused` those
/// that can no longer be ordered.
#[allow(clippy::too_many_arguments)]
async fn hold_group(
    app: &App,
    buyer: &AccountId,
    group: Vec<Candidate>,
    hold: &OrderHold,
    attempt: &mut Option<InTransaction>,
    order_of: &(dyn Fn(&[Candidate]) -> Order + Sync),
    held: &mut Vec<Candidate>,
    refused: &mut Vec<DomainRefusal>,
) -> AppResult<Held> {
    let mut pending = group;
    for _ in 0..MAX_ATTEMPTS {
        if pending.is_empty() {
            return Ok(Held::Apart);
        }
        // The order (its lines when they are apart) and the attempt's counter, beside the
        // holds, while nothing is held.
        let extra = order_store::writes_of_new(pending.len()) + usize::from(attempt.is_some());
        let packed = pack(app, &pending, hold, 0);
        let atomic = held.is_empty()
            && packed.len() == 1
            && packed[0].0.writes.len() + joined_len(&packed[0].1) + extra
                <= MAX_TRANSACTION_WRITES;
        let batches: Vec<Batch> = match atomic {
            true => packed
                .into_iter()
                .map(|(mut batch, messages)| {
                    for write in order_store::new_order(&order_of(&pending)) {
                        batch.push(write, Owner::Order);
                    }
                    if let Some(attempt) = attempt.as_ref() {
                        batch.push(attempt.write(app), Owner::Counter);
                    }
                    batch.with_messages(messages)
                })
                .collect(),
            false => packed
                .into_iter()
                .map(|(batch, messages)| batch.with_messages(messages))
                .collect(),
        };
        let results =
            futures::future::join_all(batches.iter().map(|b| app.transact(b.writes.clone()))).await;
        let mut outcome = vec![Round::Lost; pending.len()];
        let mut failure = None;
        for (batch, result) in batches.iter().zip(results) {
            let mine = || {
                batch.owners.iter().filter_map(|o| match o {
                    Owner::Candidate(i) => Some(*i),
                    _ => None,
                })
            };
            match result {
                Ok(()) => {
                    mine().for_each(|i| outcome[i] = Round::Held);
                    if atomic {
                        attempt.take(); // counted by this transaction
                    }
                }
                Err(StoreError::Conflict { failed }) => {
                    // The cancellation reasons name the domains that changed: those are
                    // re-read and re-checked; the rest go again as they are. A counter that
                    // moved (the same buyer ordering at once) is counted the atomic way.
                    let named: Vec<Owner> = failed
                        .iter()
                        .filter_map(|&p| batch.owners.get(p).copied())
                        .collect();
                    let counter_moved = named.contains(&Owner::Counter);
                    if counter_moved {
                        if let Some(attempt) = attempt.take() {
                            attempt.fall_back(app).await?;
                        }
                    }
                    for i in mine() {
                        let changed = named.contains(&Owner::Candidate(i));
                        outcome[i] = match (named.is_empty() && !counter_moved) || changed {
                            true => Round::Lost,
                            false => Round::Again,
                        };
                    }
                }
                // The other transactions' holds are kept in `held`, to free.
                Err(e) => failure = Some(e),
            }
        }
        let mut next = Vec::new();
        let mut lost = Vec::new();
        for (c, round) in pending.into_iter().zip(outcome) {
            match round {
                Round::Held => held.push(c),
                Round::Again => next.push(c),
                Round::Lost => lost.push(c.name().clone()),
            }
        }
        if let Some(e) = failure {
            return Err(e.into());
        }
        if atomic && !held.is_empty() {
            return Ok(Held::WithOrder);
        }
        pending = next;
        for (name, outcome) in lost.iter().zip(candidates_of(app, buyer, &lost).await?) {
            match outcome {
                Ok(c) => pending.push(c),
                Err(problem) => refused.push(problem.for_domain(name.ascii())),
            }
        }
    }
    match pending.is_empty() {
        true => Ok(Held::Apart),
        false => Err(AppError::Internal(anyhow::anyhow!(
            "could not reserve the group after {MAX_ATTEMPTS} attempts"
        ))),
    }
}

/// What a round did with a candidate.
#[derive(Clone, Copy)]
enum Round {
    Held,
    /// Its transaction failed for another's sake: it goes again as read.
    Again,
    /// It changed: it is read again.
    Lost,
}

/// Writes the order of a group held in several transactions, counting the attempt in the
/// same transaction (O7). A counter that moved since it was read is counted the atomic
/// way; refused there (the limit reached meanwhile), the refusal is answered (and the
/// caller frees the holds).
async fn write_order(
    app: &App,
    order: &Order,
    attempt: &mut Option<InTransaction>,
) -> AppResult<()> {
    let order_writes = order_store::new_order(order);
    let mut writes = order_writes.clone();
    writes.extend(attempt.as_ref().map(|a| a.write(app)));
    match app.transact(writes).await {
        Ok(()) => {
            attempt.take();
            Ok(())
        }
        Err(StoreError::Conflict { .. }) if attempt.is_some() => {
            if let Some(attempt) = attempt.take() {
                attempt.fall_back(app).await?;
            }
            app.transact(order_writes).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Frees the holds of an order that was not written; one that cannot be freed now lapses
/// at the order's deadline.
async fn free_holds(app: &App, order: &Order) {
    let freed = async {
        let groups = crate::releases::release_groups(app, order).await?;
        for chunk in crate::releases::pack(groups, MAX_TRANSACTION_WRITES) {
            app.transact(chunk).await?;
        }
        AppResult::Ok(())
    };
    if let Err(e) = freed.await {
        tracing::warn!(order = %order.id, error = %e, "could not free the holds of a cart that was not ordered; they lapse at its deadline");
    }
}

/// An order over the held candidates, the fee rate frozen at order time (S5).
fn new_order(
    id: &OrderId,
    buyer: &AccountId,
    held: &[Candidate],
    rate: rust_decimal::Decimal,
    now: chrono::DateTime<chrono::Utc>,
    pay_by: chrono::DateTime<chrono::Utc>,
    contact: Option<&RegistrantContact>,
) -> Order {
    let items: Vec<OrderItem> = held
        .iter()
        .map(|c| OrderItem {
            domain: c.name().clone(),
            listing_id: c.listing_id.clone(),
            seller: c.terms.seller.clone(),
            price: c.terms.price,
            fee_rate: rate,
            status: ItemStatus::Pending,
            failure: None,
            refund: None,
        })
        .collect();
    Order {
        id: id.clone(),
        buyer: buyer.clone(),
        total: Money::sum(items.iter().map(|i| i.price)),
        items,
        status: OrderStatus::AwaitingPayment,
        pay_by,
        created_at: now,
        updated_at: now,
        payment: None,
        paid_at: None,
        completed_at: None,
        releasing: false,
        contact: contact.cloned(),
    }
}
