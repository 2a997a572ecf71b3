//! Orders (O1–O9): a cart becomes payment groups; each group is one order that holds its
//! listings for the payment window; payment, cancellation and expiry.
use std::collections::BTreeSet;

use super::accounts::{retrying, written, Attempt};
use super::listings::fee_rate;
use super::rate_limit::count_order_attempt;
use super::repo::{self, create, listing_item, load, order_item, payment_item, put, Versioned};
use super::views::{OrderView, PageView, PaymentView};
use super::{App, AppError, AppResult, MAX_ATTEMPTS};
use crate::adapters::payment::PayRequest;
use crate::adapters::queue::Topic;
use crate::core::domain_name::DomainName;
use crate::core::error::{Code, DomainRefusal, Problem};
use crate::core::ids::{AccountId, ListingId, OrderId, PaymentId};
use crate::core::listing::{check_orderable, check_trader};
use crate::core::model::{
    Account, Domain, ItemStatus, Listing, Order, OrderHold, OrderItem, OrderStatus, Payment,
    PaymentRef, PaymentStatus, Purchase, TradeKind,
};
use crate::core::money::Money;
use crate::core::order::{check_payable, check_payment_method, group_cart, status_at};
use crate::core::policy::GroupLimits;
use crate::store::{Index, Query, StoreError, Write};

/// The answer to `POST /orders`.
#[derive(Debug, serde::Serialize)]
pub struct Placed {
    pub orders: Vec<OrderView>,
    pub rejected: Vec<DomainRefusal>,
}

/// A listing that passed the checks, with what it was read at.
#[derive(Clone)]
struct Candidate {
    listing: Versioned<Listing>,
    domain: Domain,
}

/// `POST /orders`: O7 (rate limit, human check), A1, per-domain checks, O2 groups, and one
/// conditional transaction per group that creates the order and holds every listing.
pub async fn place(
    app: &App,
    buyer: &AccountId,
    domains: &[String],
    captcha_token: &str,
) -> AppResult<Placed> {
    if domains.is_empty() {
        return Err(Problem::new(Code::EmptyOrder, "the cart is empty").into());
    }
    if domains.len() > app.policy.max_cart {
        return Err(Problem::new(
            Code::BatchTooLarge,
            format!("at most {} domains per request", app.policy.max_cart),
        )
        .into());
    }
    count_order_attempt(app, buyer).await?;
    if !app.captcha.verify(captcha_token).await {
        return Err(Problem::new(Code::CaptchaFailed, "the human check did not pass (O7)").into());
    }
    let account: Option<Versioned<Account>> = load(&*app.store, repo::account_key(buyer)).await?;
    check_trader(account.as_ref().map(|a| &a.value))?;

    let mut rejected = Vec::new();
    let mut names: Vec<DomainName> = Vec::new();
    for raw in domains {
        match DomainName::parse(raw) {
            Ok(name) if !names.contains(&name) => names.push(name),
            Ok(_) => {}
            Err(problem) => rejected.push(problem.for_domain(raw)),
        }
    }
    let now = app.now();
    let mut candidates = Vec::new();
    for name in &names {
        match candidate(app, buyer, name).await? {
            Ok(c) => candidates.push(c),
            Err(problem) => rejected.push(problem.for_domain(name.ascii())),
        }
    }
    let cart: Vec<(AccountId, Candidate)> = candidates
        .into_iter()
        .map(|c| (c.listing.value.seller.clone(), c))
        .collect();
    let mut orders = Vec::new();
    for group in group_cart(&cart, GroupLimits::default()) {
        let (order, refused) =
            reserve(app, buyer, group.into_iter().map(|(_, c)| c).collect()).await?;
        rejected.extend(refused);
        if let Some(order) = order {
            // Promptness only: the scheduled sweep and the payment path read the deadline too.
            let deadline = order.pay_by - now;
            if let Err(e) = app
                .queue
                .send(Topic::OrderDeadlines, order.id.to_string(), deadline)
                .await
            {
                tracing::warn!(order = %order.id, error = %e, "could not queue the order deadline; the sweep will catch it");
            }
            orders.push(OrderView::new(&order, now));
        }
    }
    if orders.is_empty() {
        return Err(nothing_orderable(rejected).into());
    }
    Ok(Placed { orders, rejected })
}

/// The refusal when no domain of the cart can be ordered (API.md Orders).
fn nothing_orderable(rejected: Vec<DomainRefusal>) -> Problem {
    if let [only] = rejected.as_slice() {
        let mut problem = Problem::new(only.code, only.detail.clone())
            .with_errors(rejected.clone())
            .with_status(409);
        problem.buyable_at = only.buyable_at;
        return problem;
    }
    Problem::new(
        Code::NothingOrderable,
        "no domain of the cart can be ordered",
    )
    .with_errors(rejected)
}

/// Finds the listing of a domain and checks it can be ordered by `buyer` now.
async fn candidate(
    app: &App,
    buyer: &AccountId,
    name: &DomainName,
) -> AppResult<Result<Candidate, Problem>> {
    let not_listed = || Problem::new(Code::NotFound, format!("{name} is not listed"));
    let Some(domain) = load::<Domain>(&*app.store, repo::domain_key(name)).await? else {
        return Ok(Err(not_listed()));
    };
    let listing_id = match &domain.value.trade {
        Some(t) if t.kind == TradeKind::Listing => {
            ListingId::parse(&t.id).map_err(|_| not_listed())
        }
        _ => Err(not_listed()),
    };
    let listing_id = match listing_id {
        Ok(id) => id,
        Err(p) => return Ok(Err(p)),
    };
    let Some(listing) = load::<Listing>(&*app.store, repo::listing_key(&listing_id)).await? else {
        return Ok(Err(not_listed()));
    };
    Ok(
        check_orderable(&listing.value, &domain.value, buyer, app.now()).map(|()| Candidate {
            listing,
            domain: domain.value,
        }),
    )
}

/// Creates one order holding every listing of the group, in one transaction. Listings that
/// lose a race are re-read and re-checked; the rest are tried again without them, so the
/// answer is per domain and no listing is ever held twice.
async fn reserve(
    app: &App,
    buyer: &AccountId,
    mut group: Vec<Candidate>,
) -> AppResult<(Option<Order>, Vec<DomainRefusal>)> {
    let mut refused = Vec::new();
    for _ in 0..MAX_ATTEMPTS {
        if group.is_empty() {
            return Ok((None, refused));
        }
        let now = app.now();
        let order_id = OrderId::mint(app.ulid());
        let pay_by = now + app.policy.payment_window;
        let rate = fee_rate(app, now).await?;
        let items: Vec<OrderItem> = group
            .iter()
            .map(|c| OrderItem {
                domain: c.listing.value.domain.clone(),
                listing_id: c.listing.value.id.clone(),
                seller: c.listing.value.seller.clone(),
                price: c.listing.value.price,
                fee_rate: rate, // S5: the rate in force at order time, frozen
                status: ItemStatus::Pending,
                failure: None,
                refund: None,
            })
            .collect();
        let order = Order {
            id: order_id.clone(),
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
        };
        let mut writes = vec![create(order_item(&order))];
        for c in &group {
            let mut held = c.listing.value.clone();
            held.hold = Some(OrderHold {
                order_id: order_id.clone(),
                buyer: buyer.clone(),
                until: pay_by,
            });
            writes.push(put(listing_item(&held), Some(&c.listing)));
        }
        match app.store.transact(writes).await {
            Ok(()) => return Ok((Some(order), refused)),
            Err(StoreError::Conflict { failed }) => {
                // Position 0 is the new order; the others are the group's listings.
                let lost: BTreeSet<usize> = if failed.is_empty() {
                    (0..group.len()).collect()
                } else {
                    failed.iter().filter(|&&i| i > 0).map(|i| i - 1).collect()
                };
                let mut kept = Vec::with_capacity(group.len());
                for (i, c) in group.into_iter().enumerate() {
                    if !lost.contains(&i) {
                        kept.push(c);
                        continue;
                    }
                    match candidate(app, buyer, &c.domain.name).await? {
                        Ok(fresh) => kept.push(fresh),
                        Err(problem) => refused.push(problem.for_domain(c.domain.name.ascii())),
                    }
                }
                group = kept;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "could not reserve the group after {MAX_ATTEMPTS} attempts"
    )))
}

/// Reads an order of `buyer`; anyone else's is not found.
async fn load_own(app: &App, buyer: &AccountId, id: &OrderId) -> Result<Versioned<Order>, Attempt> {
    let order: Versioned<Order> = load(&*app.store, repo::order_key(id))
        .await?
        .ok_or_else(|| Problem::not_found("order"))?;
    if &order.value.buyer != buyer {
        return Err(Problem::not_found("order").into());
    }
    Ok(order)
}

/// `GET /orders/{id}`: the buyer's order.
pub async fn get(app: &App, buyer: &AccountId, id: &OrderId) -> AppResult<OrderView> {
    retrying(|| async {
        Ok(OrderView::new(
            &load_own(app, buyer, id).await?.value,
            app.now(),
        ))
    })
    .await
}

/// `GET /me/orders?status=unpaid|all`: unpaid = still inside the payment window (O4).
pub async fn mine(
    app: &App,
    buyer: &AccountId,
    unpaid_only: bool,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<PageView<OrderView>> {
    let now = app.now();
    let mut query = Query::index(Index::Gsi1, format!("BUYER#{buyer}"));
    query.forward = false;
    query.after = cursor;
    let mut items = Vec::new();
    let next_cursor = loop {
        query.limit = limit - items.len();
        let page = app.store.query(query.clone()).await?;
        // Orders come newest first: past one placed before the window, none is unpaid.
        let mut past_window = false;
        for item in &page.items {
            let order: Versioned<Order> = repo::decode(item)?;
            past_window |= order.value.created_at + app.policy.payment_window <= now;
            if !unpaid_only || status_at(&order.value, now).is_unpaid() {
                items.push(OrderView::new(&order.value, now));
            }
        }
        match page.next {
            _ if unpaid_only && past_window => break None,
            Some(next) if items.len() < limit => query.after = Some(next),
            next => break next,
        }
    };
    Ok(PageView { items, next_cursor })
}

/// `POST /orders/{id}/pay`: O8 (Alipay only), O3/E1 (inside the window), O5 (a new attempt
/// after a failed one). While an attempt is pending the same attempt is returned, so a
/// double click never opens two payments.
pub async fn pay(
    app: &App,
    buyer: &AccountId,
    id: &OrderId,
    method: &str,
) -> AppResult<PaymentView> {
    check_payment_method(method)?;
    retrying(|| async {
        let now = app.now();
        let order = load_own(app, buyer, id).await?;
        check_payable(&order.value, now)?;
        let pending = order
            .value
            .payment
            .as_ref()
            .filter(|p| p.status == PaymentStatus::Pending);
        let payment = match pending {
            Some(current) => {
                load::<Payment>(&*app.store, repo::payment_key(current.payment_id.as_str()))
                    .await?
                    .ok_or_else(|| {
                        AppError::Internal(anyhow::anyhow!("order {id} names a missing payment"))
                    })?
                    .value
            }
            None => {
                let payment = Payment {
                    id: PaymentId::mint(app.ulid()),
                    purchase: Purchase::Order(id.clone()),
                    buyer: buyer.clone(),
                    amount: order.value.total,
                    status: PaymentStatus::Pending,
                    created_at: now,
                    expires_at: order.value.pay_by,
                    trade_no: None,
                    settled_at: None,
                };
                let mut next = order.value.clone();
                next.status = OrderStatus::Processing;
                next.payment = Some(PaymentRef {
                    payment_id: payment.id.clone(),
                    status: PaymentStatus::Pending,
                });
                next.updated_at = now;
                written(
                    app.store
                        .transact(vec![
                            create(payment_item(&payment)),
                            put(order_item(&next), Some(&order)),
                        ])
                        .await,
                )?;
                payment
            }
        };
        let subject = format!("Domain order {id}");
        let url = app.provider.pay_url(&PayRequest {
            out_trade_no: payment.id.as_str(),
            amount: payment.amount,
            subject: &subject,
            expires_at: payment.expires_at,
            now,
        });
        Ok(PaymentView::new(&payment, url))
    })
    .await
}

/// Writes that free the listings an order holds (only holds that are still this order's).
pub(crate) async fn release_holds(app: &App, order: &Order) -> AppResult<Vec<Write>> {
    let keys: Vec<(String, String)> = order
        .items
        .iter()
        .map(|i| repo::listing_key(&i.listing_id))
        .collect();
    let mut writes = Vec::new();
    for item in app.store.get_many(&keys).await? {
        let listing: Versioned<Listing> = repo::decode(&item)?;
        if listing
            .value
            .hold
            .as_ref()
            .is_some_and(|h| h.order_id == order.id)
        {
            let mut freed = listing.value.clone();
            freed.hold = None;
            writes.push(put(listing_item(&freed), Some(&listing)));
        }
    }
    Ok(writes)
}

/// `POST /orders/{id}/cancel`: while unpaid; the listings are free at once. Money that
/// still arrives for it is refunded (see `payments`).
pub async fn cancel(app: &App, buyer: &AccountId, id: &OrderId) -> AppResult<OrderView> {
    retrying(|| async {
        let now = app.now();
        let order = load_own(app, buyer, id).await?;
        if !status_at(&order.value, now).is_unpaid() {
            return Err(Problem::new(
                Code::OrderNotCancellable,
                "only an order awaiting payment can be cancelled",
            )
            .into());
        }
        let mut cancelled = order.value.clone();
        cancelled.status = OrderStatus::Cancelled;
        cancelled.updated_at = now;
        let mut writes = vec![put(order_item(&cancelled), Some(&order))];
        writes.extend(release_holds(app, &order.value).await?);
        written(app.store.transact(writes).await)?;
        Ok(OrderView::new(&cancelled, now))
    })
    .await
}

/// O3: an unpaid order past its window becomes `expired` (or `failed` when its last payment
/// attempt failed) and frees its listings. Returns whether this call changed it.
pub async fn expire(app: &App, id: &OrderId) -> AppResult<bool> {
    retrying(|| async {
        let now = app.now();
        let Some(order) = load::<Order>(&*app.store, repo::order_key(id)).await? else {
            return Ok(false);
        };
        if !order.value.status.is_unpaid() || now < order.value.pay_by {
            return Ok(false);
        }
        let mut ended = order.value.clone();
        let attempt_failed = ended
            .payment
            .as_ref()
            .is_some_and(|p| p.status == PaymentStatus::Failed);
        ended.status = if attempt_failed {
            OrderStatus::Failed
        } else {
            OrderStatus::Expired
        };
        ended.updated_at = now;
        let mut writes = vec![put(order_item(&ended), Some(&order))];
        writes.extend(release_holds(app, &order.value).await?);
        written(app.store.transact(writes).await)?;
        Ok(true)
    })
    .await
}

/// `POST /orders/{id}/refresh` (O6): while a payment's result is not back, asks the provider
/// (`trade.query`) and applies its answer through the notification path. If the provider
/// cannot be reached the order is shown as it stands (`processing`).
pub async fn refresh(app: &App, buyer: &AccountId, id: &OrderId) -> AppResult<OrderView> {
    let order = get(app, buyer, id).await?;
    let pending = order
        .payment_id
        .as_deref()
        .filter(|_| order.status == OrderStatus::Processing);
    if let Some(payment_id) = pending {
        if let Some(payment) = load::<Payment>(&*app.store, repo::payment_key(payment_id)).await? {
            match app.provider.query(payment_id, app.now()).await {
                Ok(answer) => {
                    super::payments::apply_query(app, &payment.value, answer).await?;
                }
                Err(e) => {
                    tracing::warn!(payment = payment_id, error = %e, "trade.query failed; showing the order as it is")
                }
            }
        }
    }
    get(app, buyer, id).await
}
