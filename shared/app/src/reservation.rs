//! Reserving a cart's domains for its orders (O2, L5): which domains can be ordered, judged
//! on each domain's item alone, and the holds written on those items with each order.
//!
//! A listing's terms and the order awaiting payment for it live on its domain's trade hold
//! (issue 15), so a domain is one key to read and one action to hold: a 500-domain cart is
//! one batched read (6 requests of 100 keys), 5 transactions of holds and the order's, in
//! three waves.
use std::collections::HashMap;

use super::rate_limit::InTransaction;
use super::repo::{self, create, order_item, Versioned};
use super::{App, AppError, AppResult, MAX_ATTEMPTS};
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
        let mut joined: Vec<Write> = current.1.iter().chain(&messages).cloned().collect();
        crate::outbox::coalesce(&mut joined);
        if !current.0.writes.is_empty() && current.0.writes.len() + needs + joined.len() > room {
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

/// Reserves a payment group: holds on its domains, and its order. A group whose holds fit
/// in one transaction with the order (and the attempt's counter) is written whole; a
/// larger one (up to 500, O2) is held in concurrent transactions of 100 actions, then the
/// order (with the counter) is written. Domains that lose a race are re-read and
/// re-checked; the rest go on without them, so the answer is per domain and no domain is
/// ever held twice. A crash between the holds and the order leaves holds that lapse at
/// their deadline; an attempt refused at the counter after its holds frees them.
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
    // The order and the attempt's counter, beside the holds.
    let extra = 1 + usize::from(attempt.is_some());
    let atomic = pack(app, &group, &hold, extra).len() <= 1;
    let mut pending = group;
    let mut held: Vec<Candidate> = Vec::new();
    let mut refused = Vec::new();
    for _ in 0..MAX_ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        let counter = attempt.as_ref().map(|a| a.write(app));
        let batches: Vec<Batch> = match atomic {
            true => {
                // Fewer than the whole group fit as well.
                let (mut batch, messages) = pack(app, &pending, &hold, extra)
                    .into_iter()
                    .next()
                    .unwrap_or((Batch::new(), Vec::new()));
                batch.push(create(order_item(&order_of(&pending))), Owner::Order);
                if let Some(counter) = counter {
                    batch.push(counter, Owner::Counter);
                }
                vec![batch.with_messages(messages)]
            }
            false => pack(app, &pending, &hold, 0)
                .into_iter()
                .map(|(batch, messages)| batch.with_messages(messages))
                .collect(),
        };
        let results =
            futures::future::join_all(batches.iter().map(|b| app.transact(b.writes.clone()))).await;
        let mut again = vec![false; pending.len()];
        let mut lost = vec![false; pending.len()];
        let mut done = vec![false; pending.len()];
        for (batch, result) in batches.iter().zip(results) {
            let mine = || {
                batch.owners.iter().filter_map(|o| match o {
                    Owner::Candidate(i) => Some(*i),
                    _ => None,
                })
            };
            match result {
                Ok(()) => {
                    mine().for_each(|i| done[i] = true);
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
                        if (named.is_empty() && !counter_moved)
                            || named.contains(&Owner::Candidate(i))
                        {
                            lost[i] = true;
                        } else {
                            again[i] = true;
                        }
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut next = Vec::new();
        let mut lost_names = Vec::new();
        for (i, c) in pending.into_iter().enumerate() {
            if done[i] {
                held.push(c);
            } else if lost[i] {
                lost_names.push(c.name().clone());
            } else if again[i] {
                next.push(c);
            }
        }
        if atomic && !held.is_empty() {
            return Ok((Some(order_of(&held)), refused));
        }
        pending = next;
        for (name, outcome) in lost_names
            .iter()
            .zip(candidates_of(app, buyer, &lost_names).await?)
        {
            match outcome {
                Ok(c) => pending.push(c),
                Err(problem) => refused.push(problem.for_domain(name.ascii())),
            }
        }
    }
    if !pending.is_empty() {
        return Err(AppError::Internal(anyhow::anyhow!(
            "could not reserve the group after {MAX_ATTEMPTS} attempts"
        )));
    }
    if held.is_empty() {
        return Ok((None, refused));
    }
    let order = order_of(&held);
    write_order(app, &order, attempt).await?;
    Ok((Some(order), refused))
}

/// Writes the order of a group held in several transactions, counting the attempt in the
/// same transaction (O7). A counter that moved since it was read is counted the atomic
/// way; refused there (the limit reached meanwhile), the group's holds are freed and the
/// refusal answered.
async fn write_order(
    app: &App,
    order: &Order,
    attempt: &mut Option<InTransaction>,
) -> AppResult<()> {
    let mut writes = vec![create(order_item(order))];
    writes.extend(attempt.as_ref().map(|a| a.write(app)));
    match app.transact(writes).await {
        Ok(()) => {
            attempt.take();
            Ok(())
        }
        Err(StoreError::Conflict { .. }) if attempt.is_some() => {
            let counted = match attempt.take() {
                Some(attempt) => attempt.fall_back(app).await,
                None => Ok(()),
            };
            if let Err(refusal) = counted {
                free_holds(app, order).await;
                return Err(refusal);
            }
            app.transact(vec![create(order_item(order))]).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Frees the holds of an order that was not written; one that cannot be freed now lapses
/// at the order's deadline.
async fn free_holds(app: &App, order: &Order) {
    let freed = async {
        let releases = crate::orders::release_holds(app, order).await?;
        for chunk in releases.chunks(MAX_TRANSACTION_WRITES) {
            app.transact(chunk.to_vec()).await?;
        }
        AppResult::Ok(())
    };
    if let Err(e) = freed.await {
        tracing::warn!(order = %order.id, error = %e, "could not free the holds of a refused cart; they lapse at its deadline");
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
