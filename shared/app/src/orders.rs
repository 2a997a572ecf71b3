//! Orders (O1–O9): a cart becomes payment groups; each group is one order that holds its
//! listings for the payment window; payment, cancellation and expiry.

use super::rate_limit::{self, Counted, InTransaction};
use super::repo::{self, create, load, payment_item, Versioned};
use super::reservation::{candidates_from, reserve, Candidate};
use super::retry::{retrying, written, Attempt};
use super::views::{OrderView, PageView, PaymentView};
use super::{App, AppError, AppResult, MAX_ATTEMPTS};
use crate::order_store;
use crate::ports::captcha::{CaptchaAction, HumanCheck};
use crate::ports::queue::Topic;
use crate::store::{Index, Query, StoreError, MAX_TRANSACTION_WRITES};
use market_core::domain_name::DomainName;
use market_core::error::{Code, DomainRefusal, Problem};
use market_core::ids::{AccountId, OrderId};
use market_core::limits::check_cart_size;
use market_core::listing::check_trader;
use market_core::model::FeeKind;
use market_core::model::{
    Account, Order, OrderStatus, Payment, PaymentRef, PaymentStatus, Purchase,
};
use market_core::order::{check_payable, group_cart, in_window, PaymentMethod};
use market_core::policy::GroupLimits;

/// The answer to `POST /orders`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Placed {
    /// One order per seller group (O2).
    pub orders: Vec<OrderView>,
    /// The domains that could not be ordered, each with its code.
    #[schema(value_type = Vec<crate::schema::DomainRefusalSchema>)]
    pub rejected: Vec<DomainRefusal>,
}

/// `POST /orders`: O7 (rate limit, human check), A1, per-domain checks, O2 groups, and one
/// conditional transaction per group that creates the order and holds every listing.
pub async fn place(
    app: &App,
    buyer: &AccountId,
    domains: &[String],
    human: &HumanCheck,
) -> AppResult<Placed> {
    place_with_contact(app, buyer, domains, human, None).await
}

/// `POST /orders` with the buyer's registrant contact template (O9): `contact_id` unknown or
/// unverified is 422 CONTACT_NOT_VERIFIED and nothing is ordered; absent, the account's
/// default template, else its verified identity. Recorded on every order of the cart.
pub async fn place_with_contact(
    app: &App,
    buyer: &AccountId,
    domains: &[String],
    human: &HumanCheck,
    contact_id: Option<&str>,
) -> AppResult<Placed> {
    check_cart_size(domains.len(), app.policy.max_cart)?;
    let mut rejected = Vec::new();
    let mut names: Vec<DomainName> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for raw in domains {
        match DomainName::parse(raw) {
            Ok(name) if seen.insert(name.clone()) => names.push(name),
            Ok(_) => {}
            Err(problem) => rejected.push(problem.for_domain(raw)),
        }
    }
    // The buyer's account, rate counter and registrant contact and every domain in one
    // batched read; the fee schedule from the process's cache (read beside it when stale).
    let (account_key, counter_key) = (
        repo::account_key(buyer),
        InTransaction::key(app, buyer, Counted::OrderAttempt),
    );
    let contact_key = crate::contacts::key_to_read(buyer, contact_id);
    let mut keys = vec![account_key.clone(), counter_key.clone()];
    if let Ok(key) = &contact_key {
        keys.push(key.clone());
    }
    keys.extend(names.iter().map(repo::domain_key));
    let (found, schedule) = futures::join!(
        app.store.get_many(&keys),
        crate::fees::schedule_item(app, FeeKind::FixedPrice)
    );
    let (mut found, schedule) = (found?, schedule?);
    let mut take = |key: &(String, String)| {
        found
            .iter()
            .position(|i| i.pk == key.0 && i.sk == key.1)
            .map(|at| found.swap_remove(at))
    };
    // O7: at the limit, refused and not counted; below it, counted by the first order's
    // transaction, or by itself when the attempt ends without one.
    let counter = take(&counter_key);
    let mut attempt = Some(InTransaction::check(
        app,
        buyer,
        Counted::OrderAttempt,
        counter_key,
        counter.as_ref(),
    )?);
    let account = take(&account_key);
    let contact = contact_key.map(|key| take(&key));
    let placed = place_read(
        app,
        buyer,
        Read {
            names,
            rejected,
            found,
            account,
            schedule,
            contact,
            contact_id,
        },
        human,
        &mut attempt,
    )
    .await;
    if let Some(attempt) = attempt {
        attempt.fall_back(app).await?;
    }
    placed
}

/// What `POST /orders` read in its one batched read.
struct Read<'a> {
    names: Vec<DomainName>,
    rejected: Vec<DomainRefusal>,
    found: Vec<crate::store::Item>,
    account: Option<crate::store::Item>,
    schedule: Option<crate::store::Item>,
    /// The registrant contact's item, or why its id is refused.
    contact: AppResult<Option<crate::store::Item>>,
    contact_id: Option<&'a str>,
}

/// `POST /orders` once read: the human check, A1, O9, the per-domain checks and one
/// reservation per O2 group. `attempt` is taken by the transaction that counts it.
async fn place_read(
    app: &App,
    buyer: &AccountId,
    read: Read<'_>,
    human: &HumanCheck,
    attempt: &mut Option<InTransaction>,
) -> AppResult<Placed> {
    let Read {
        names,
        mut rejected,
        found,
        account,
        schedule,
        contact,
        contact_id,
    } = read;
    if !app.captcha.verify(CaptchaAction::Order, human).await {
        return Err(Problem::new(Code::CaptchaFailed, "the human check did not pass (O7)").into());
    }
    let account: Option<Versioned<Account>> = account.map(|i| repo::decode(&i)).transpose()?;
    check_trader(account.as_ref().map(|a| &a.value))?;
    let contact = crate::contacts::chosen(app, buyer, contact_id, contact?.as_ref()).await?;
    let now = app.now();
    let rate = crate::fees::rate_in(app, FeeKind::FixedPrice, schedule.as_ref(), now)?;
    let mut candidates = Vec::new();
    for (name, outcome) in names
        .iter()
        .zip(candidates_from(app, buyer, &names, found).await?)
    {
        match outcome {
            Ok(c) => candidates.push(c),
            Err(problem) => rejected.push(problem.for_domain(name.ascii())),
        }
    }
    let cart: Vec<(AccountId, Candidate)> = candidates
        .into_iter()
        .map(|c| (c.seller().clone(), c))
        .collect();
    let mut orders = Vec::new();
    for group in group_cart(&cart, GroupLimits::default()) {
        let (order, refused) = reserve(
            app,
            buyer,
            group.into_iter().map(|(_, c)| c).collect(),
            contact.as_ref(),
            rate,
            attempt,
        )
        .await?;
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
    if !orders.is_empty() {
        crate::metrics::emit(&crate::metrics::count(
            crate::metrics::ORDERS_PLACED,
            orders.len(),
            app.now(),
        ));
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

/// Reads an order of `buyer`; anyone else's is not found.
async fn load_own(app: &App, buyer: &AccountId, id: &OrderId) -> Result<Versioned<Order>, Attempt> {
    let order: Versioned<Order> = order_store::load(&*app.store, id)
        .await?
        .ok_or_else(|| Problem::not_found("order"))?;
    if &order.value.buyer != buyer {
        return Err(Problem::not_found("order").into());
    }
    Ok(order)
}

/// `GET /orders/{id}`: the buyer's order.
pub async fn get(app: &App, buyer: &AccountId, id: &OrderId) -> AppResult<OrderView> {
    retrying(app, || async {
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
    let mut query = Query::index(Index::Gsi1, repo::buyer_partition(buyer));
    query.forward = false;
    query.after = cursor;
    let mut items = Vec::new();
    let next_cursor = loop {
        query.limit = limit - items.len();
        let page = app.store.query(query.clone()).await?;
        // Orders come newest first: past one placed before the window, none is unpaid.
        let mut past_window = false;
        for item in &page.items {
            let order = order_store::whole(&*app.store, item).await?;
            past_window |= order.value.created_at + app.policy.payment_window <= now;
            if !unpaid_only || in_window(&order.value, now) {
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
    method: PaymentMethod,
) -> AppResult<PaymentView> {
    // O8: parsed by the caller; Alipay is the only way to pay.
    let PaymentMethod::Alipay = method;
    retrying(app, || async {
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
                let mut payment = super::attempts::new_attempt(
                    app,
                    Purchase::Order(id.clone()),
                    buyer,
                    order.value.total,
                    order.value.pay_by,
                    now,
                );
                payment.delivers = crate::payments::first_delivery(&order.value);
                let mut next = order.value.clone();
                next.status = OrderStatus::Processing;
                next.payment = Some(PaymentRef {
                    payment_id: payment.id.clone(),
                    status: PaymentStatus::Pending,
                    failure: None,
                });
                next.updated_at = now;
                let mut writes = vec![create(payment_item(&payment))];
                writes.extend(order_store::update(&next, &order));
                written(app.transact(writes).await)?;
                payment
            }
        };
        Ok(
            super::attempts::attempt_view(app, &payment, &format!("Domain order {id}"), now)
                .await?,
        )
    })
    .await
}

/// Ends an unpaid order (cancel, O3 expiry) as read: the order's new state first, with the
/// releases of its listings when they fit in the same transaction (up to 99: all or
/// nothing, as before). A larger order is marked `releasing` and its listings are freed
/// afterwards by [`release_rest`], in transactions of at most 100.
async fn end_unpaid(
    app: &App,
    order: &Versioned<Order>,
    mut ended: Order,
) -> Result<Order, Attempt> {
    let groups = crate::releases::release_groups(app, &order.value).await?;
    let mut chunks = crate::releases::pack(groups, MAX_TRANSACTION_WRITES - 1);
    let fits = chunks.len() <= 1;
    ended.releasing = !fits;
    let mut writes = order_store::update(&ended, order);
    if fits {
        writes.extend(chunks.pop().unwrap_or_default());
    }
    written(app.transact(writes).await)?;
    Ok(ended)
}

/// Frees the listings an ended order still holds, in concurrent transactions of at most
/// 100, then clears its `releasing` mark. Each release is conditional on the listing being
/// as read: one that changed meanwhile is read again, and a hold that is no longer this
/// order's is left alone. Runs again safely (the sweep calls it for a `releasing` order).
pub(crate) async fn release_rest(app: &App, id: &OrderId) -> AppResult<()> {
    for _ in 0..MAX_ATTEMPTS {
        let Some(order) = order_store::load(&*app.store, id).await? else {
            return Ok(());
        };
        if !order.value.releasing {
            return Ok(());
        }
        let groups = crate::releases::release_groups(app, &order.value).await?;
        let chunks = crate::releases::pack(groups, MAX_TRANSACTION_WRITES);
        let results = futures::future::join_all(chunks.into_iter().map(|c| app.transact(c))).await;
        let mut lost_race = false;
        for result in results {
            match result {
                Ok(()) => {}
                Err(StoreError::Conflict { .. }) => lost_race = true,
                Err(e) => return Err(e.into()),
            }
        }
        if lost_race {
            continue;
        }
        let mut released = order.value.clone();
        released.releasing = false;
        match app.transact(order_store::update(&released, &order)).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Problem::busy(format!(
        "the listings of order {id} kept changing while we freed them"
    ))
    .into())
}

/// Frees the rest of a large ended order's listings now; if that fails, the order stays
/// `releasing` and the sweep finishes it (the holds lapse at the window's end anyway).
async fn release_rest_or_leave(app: &App, order: &Order) {
    if order.releasing {
        if let Err(e) = release_rest(app, &order.id).await {
            tracing::warn!(order = %order.id, error = %e, "could not free every listing of the ended order yet; the sweep will");
        }
    }
}

/// `POST /orders/{id}/cancel`: while unpaid; the listings are free at once. Money that
/// still arrives for it is refunded (see `payments`).
pub async fn cancel(app: &App, buyer: &AccountId, id: &OrderId) -> AppResult<OrderView> {
    let cancelled = retrying(app, || async {
        let now = app.now();
        let order = load_own(app, buyer, id).await?;
        if !in_window(&order.value, now) {
            return Err(Problem::new(
                Code::OrderNotCancellable,
                "only an order awaiting payment can be cancelled",
            )
            .into());
        }
        let mut cancelled = order.value.clone();
        cancelled.status = OrderStatus::Cancelled;
        cancelled.updated_at = now;
        end_unpaid(app, &order, cancelled).await
    })
    .await?;
    release_rest_or_leave(app, &cancelled).await;
    Ok(OrderView::new(&cancelled, app.now()))
}

/// O3: an unpaid order past its window becomes `expired` (or `failed` when its last payment
/// attempt failed) and frees its listings. Returns whether this call changed it.
pub async fn expire(app: &App, id: &OrderId) -> AppResult<bool> {
    let ended = retrying(app, || async {
        let now = app.now();
        let Some(order) = order_store::load(&*app.store, id).await? else {
            return Ok(None);
        };
        if !order.value.status.is_unpaid() || now < order.value.pay_by {
            return Ok(None);
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
        Ok(Some(end_unpaid(app, &order, ended).await?))
    })
    .await?;
    match ended {
        Some(order) => {
            release_rest_or_leave(app, &order).await;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// `POST /orders/{id}/refresh` (O6): while a payment's result is not back, asks the provider
/// (`trade.query`) and applies its answer through the notification path. If the provider
/// cannot be reached the order is shown as it stands (`processing`). Rate limited per
/// account (`Counted::Refresh`): each call may reach the provider.
pub async fn refresh(app: &App, buyer: &AccountId, id: &OrderId) -> AppResult<OrderView> {
    let order = get(app, buyer, id).await?;
    rate_limit::count(app, buyer, Counted::Refresh).await?;
    let pending = order
        .payment_id
        .as_deref()
        .filter(|_| order.status == OrderStatus::Processing);
    if let Some(payment_id) = pending {
        if let Err(e) = super::payments::query_and_apply(app, payment_id).await {
            tracing::warn!(payment = payment_id, error = %e, "trade.query failed; showing the order as it is");
        }
    }
    get(app, buyer, id).await
}
