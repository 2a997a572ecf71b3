//! The expiry sweep (E1): finds what is due through the due-time index (hourly buckets of
//! gsi5) and moves each item on with the same conditional use cases the requests use, so
//! two sweeps at once, or a sweep racing a payment, change nothing twice. Its work follows
//! what is due, never the size of the table: no scans, only the buckets from its cursor up
//! to now.
//!
//! Nothing wedges it: an item whose handling fails is logged with its key, counted, and
//! moved to a later bucket with backoff ([`defer`]), so the others and the cursor go on.
//! The cursor never passes a bucket that an index read may not show complete yet
//! ([`INDEX_LAG`]), and the app files every new due entry no earlier than the bucket of
//! the hour it is written in (`App::transact`), so nothing lands behind the cursor.
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

use super::payments::{self, deliver};
use super::repo::{self, Versioned};
use super::{lifecycle, listings, metrics, orders, payouts, pushes, App, AppError, AppResult};
use crate::due_index;
use crate::store::{Expect, Index, Item, StoreError, Write};
use market_core::deposit::{Deposit, DepositStatus};
use market_core::domain_name::DomainName;
use market_core::ids::{AccountId, DepositId, ListingId, OrderId, PayoutId, PushId};
use market_core::model::{Order, OrderStatus, PaymentRef, PaymentStatus, Push, PushStatus};
use market_core::payout::PayoutStatus;

/// How far back a sweep looks when it has no cursor yet.
pub const FIRST_LOOKBACK_HOURS: i64 = 72;

/// How long after its time an index entry may still be on its way (index propagation, a
/// request that read the clock before the sweep and wrote after it): the cursor stays on
/// the bucket of `now - INDEX_LAG`, so such an entry is still read.
pub const INDEX_LAG: Duration = Duration::minutes(5);

/// The most hourly buckets one sweep reads (62 days: a 60-day lock and the 7-day windows
/// fit in one). After a long outage, or a dev clock moved by years, each sweep catches up
/// this far and the next one goes on from there: one sweep's cost stays bounded, and the
/// rules do not wait for it (E1: every use case reads the deadline itself).
pub const MAX_BUCKETS_PER_SWEEP: i64 = 24 * 62;

/// How long one sweep goes on starting due items. Items that call the provider (a payout's
/// lookup and resend, a trade's lookup) may each take up to 10 seconds a call when it is
/// down, so the last item started may run 20 s more: past this budget the sweep stops, keeps its cursor on the bucket it was in, and the next
/// sweep (a minute later) goes on from there, so it never outlives its Lambda (60 s).
pub const SWEEP_BUDGET: Duration = Duration::seconds(30);

/// The longest a failing item waits for its next try.
pub const MAX_BACKOFF: Duration = Duration::hours(1);

/// What one sweep did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SweepReport {
    pub expired_orders: Vec<String>,
    pub resumed_deliveries: Vec<String>,
    /// Large ended orders whose remaining listings this sweep freed.
    pub holds_released: Vec<String>,
    pub refunds_confirmed: Vec<String>,
    pub refunds_retrying: Vec<String>,
    pub settled: Vec<String>,
    pub pushes_expired: Vec<String>,
    pub pushes_forced: Vec<String>,
    pub listings_ended: Vec<String>,
    pub domains_expired: Vec<String>,
    /// Payouts that reached their end (paid or failed, S6).
    pub payouts_ended: Vec<String>,
    /// Payouts still waiting for a definite answer from the provider.
    pub payouts_waiting: Vec<String>,
    /// Outbox messages delivered (P9, P11: registrar events) and those still failing.
    pub outbox_delivered: Vec<String>,
    pub outbox_retrying: Vec<String>,
    /// M4: placement periods whose winners this sweep chose (`{section}#{period}`).
    pub placements_filled: Vec<String>,
    /// L10: partner orders whose bank transfer did not come within 3 days.
    pub partner_orders_expired: Vec<String>,
    /// M1: deposits not paid within their window.
    pub deposits_expired: Vec<String>,
    /// M2: exits processed (accounts).
    pub exits_processed: Vec<String>,
    /// M2: exits found blocked at processing (accounts; the reasons are on each).
    pub exits_blocked: Vec<String>,
    /// Index entries read (the sweep's cost).
    pub items_read: usize,
    /// The walk stopped at [`MAX_BUCKETS_PER_SWEEP`] short of now, or out of time: the next
    /// sweep goes on.
    pub behind: bool,
    /// The sweep ran out of its [`SWEEP_BUDGET`] before every due item was started.
    pub out_of_time: bool,
    /// Due items handled without error (whether or not they had to change).
    pub processed: usize,
    /// Due items whose handling failed; each is retried later with backoff.
    pub failed: usize,
    pub failures: Vec<SweepFailure>,
}

/// One due item that could not be handled this time.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SweepFailure {
    /// The item's table key, `pk/sk`.
    pub key: String,
    pub error: String,
    /// Failures of this item in a row, this one included.
    pub attempts: u32,
    /// When the sweep tries it again (absent when it could not be moved: then the next
    /// sweep tries it at once).
    pub retry_at: Option<DateTime<Utc>>,
}

/// Handles one order whose deadline came (the delayed queue message, or the sweep).
/// O6/E1: an unpaid order with a payment attempt whose result is not back is never expired
/// blind: the provider is asked first (paid in time → applied; paid late → refunded; not
/// paid → expired); with no answer the order stays as it is and the error goes up, so the
/// sweep tries again later.
pub async fn order_due(app: &App, id: &OrderId, report: &mut SweepReport) -> AppResult<()> {
    let Some(order) = repo::load::<Order>(&*app.store, repo::order_key(id)).await? else {
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
    super::deposits::expire_if_due(app, id).await
}

/// Handles one due item by its kind.
async fn due(app: &App, item: &Item, report: &mut SweepReport) -> AppResult<()> {
    match repo::due_kind(&item.pk) {
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
            if super::outbox::deliver(app, &id).await? {
                report.outbox_delivered.push(id);
            } else {
                report.outbox_retrying.push(id);
            }
        }
        repo::Due::PlacementRound(round) => {
            if super::placements::round_due(app, &round).await?.is_some() {
                report.placements_filled.push(round);
            }
        }
        repo::Due::PartnerOrder(id) => {
            let id = OrderId::parse(&id)?;
            if super::partners::orders::expire_transfer(app, &id).await? {
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
            match super::exit::due(app, &account).await? {
                Some(super::exit::Processed::Processed) => {
                    report.exits_processed.push(account.to_string())
                }
                Some(super::exit::Processed::Blocked) => {
                    report.exits_blocked.push(account.to_string())
                }
                None => {}
            }
        }
        repo::Due::Unknown => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "a due entry of no known kind: {}/{}",
                item.pk,
                item.sk
            )))
        }
    }
    Ok(())
}

/// Where the next sweep starts: the oldest bucket that may still hold something due.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    from: DateTime<Utc>,
}

fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

/// How many shards of a bucket a sweep reads at once.
const SHARD_READS_AT_ONCE: usize = 16;

/// The wait before the next try of an item that failed `attempts` times in a row:
/// 1, 2, 4 … minutes, at most [`MAX_BACKOFF`].
pub fn backoff(attempts: u32) -> Duration {
    let minutes = 1i64 << attempts.saturating_sub(1).min(6);
    Duration::minutes(minutes).min(MAX_BACKOFF)
}

/// The failures of one due item in a row, kept beside it for its backoff.
#[derive(Debug, Serialize, Deserialize)]
struct FailureRecord {
    attempts: u32,
    last_error: String,
    retry_at: DateTime<Utc>,
}

/// An item whose handling failed: logged with its key; then moved in the due index to the
/// bucket of its next try (the entity itself is not changed, only where the sweep finds
/// it; the move is conditional on the item being as read, so it never undoes a change),
/// and its failures counted. If even that fails, the item stays where it is and the next
/// sweep tries it again.
async fn defer(app: &App, item: &Item, error: &AppError) -> SweepFailure {
    let now = app.now();
    let key = format!("{}/{}", item.pk, item.sk);
    let moved: AppResult<(u32, Option<DateTime<Utc>>)> = async {
        let failure_key = repo::sweep_failure_key(&item.pk, &item.sk);
        let previous: Option<Versioned<FailureRecord>> =
            repo::load(&*app.store, failure_key.clone()).await?;
        let attempts = previous.as_ref().map_or(0, |f| f.value.attempts) + 1;
        let Some(current) = app.store.get(&item.pk, &item.sk).await? else {
            return Ok((attempts, None));
        };
        if !current.indexes.contains_key(&Index::Gsi5) {
            return Ok((attempts, None)); // no longer due
        }
        let retry_at = now + backoff(attempts);
        let mut later = current.clone();
        later
            .indexes
            .insert(Index::Gsi5, repo::due_entry(&item.pk, retry_at));
        let record = FailureRecord {
            attempts,
            last_error: error.to_string(),
            retry_at,
        };
        let mut record_item = Item::new(
            failure_key.0,
            failure_key.1,
            serde_json::to_string(&record).map_err(|e| AppError::Internal(e.into()))?,
        );
        record_item.ttl = Some((retry_at + Duration::days(7)).timestamp());
        app.transact(vec![
            Write::Put(later, Expect::Version(current.version)),
            repo::put(record_item, previous.as_ref()),
        ])
        .await?;
        Ok((attempts, Some(retry_at)))
    }
    .await;
    let (attempts, retry_at) = match moved {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!(key, error = %e, "could not move the failed item to a later try; the next sweep retries it");
            (1, None)
        }
    };
    tracing::error!(key, attempts, retry_at = ?retry_at, error = %error, "sweep item failed");
    SweepFailure {
        key,
        error: error.to_string(),
        attempts,
        retry_at,
    }
}

/// Runs the sweep at the app clock's now: every bucket from the cursor to now, each due
/// item handled on its own (a failure is deferred, never stops the rest); then the cursor
/// moves to the oldest bucket that still holds a due item (one that could not move on yet,
/// e.g. a listing held by an order being paid), and never past `now - INDEX_LAG`.
pub async fn sweep(app: &App) -> AppResult<SweepReport> {
    let now = app.now();
    let mut report = SweepReport::default();
    let cursor: Option<Versioned<Cursor>> =
        repo::load(&*app.store, repo::sweep_cursor_key()).await?;
    let start = cursor
        .as_ref()
        .map_or(now - Duration::hours(FIRST_LOOKBACK_HOURS), |c| {
            c.value.from
        })
        .min(now);
    let first = hour_of(start);
    let last = now.min(first + Duration::hours(MAX_BUCKETS_PER_SWEEP - 1));
    // The first bucket not read (the one the budget stopped in, or the one after `last`).
    let mut reached = hour_of(last) + Duration::hours(1);
    let mut oldest_left: Option<DateTime<Utc>> = None;
    'walk: for hour in due_index::marked_hours(app, first, last).await? {
        for group in due_index::shard_queries(hour, now).chunks(SHARD_READS_AT_ONCE) {
            let firsts =
                futures::future::try_join_all(group.iter().map(|q| app.store.query(q.clone())))
                    .await?;
            for (query, mut page) in group.iter().zip(firsts) {
                let held_some = !page.items.is_empty();
                let mut query = query.clone();
                loop {
                    report.items_read += page.items.len();
                    for item in &page.items {
                        if app.now() - now > SWEEP_BUDGET {
                            // Out of time: this bucket still holds due items; the next
                            // sweep starts here.
                            oldest_left = Some(oldest_left.map_or(hour, |left| left.min(hour)));
                            report.out_of_time = true;
                            reached = hour;
                            break 'walk;
                        }
                        match due(app, item, &mut report).await {
                            Ok(()) => report.processed += 1,
                            Err(e) => {
                                report.failed += 1;
                                report.failures.push(defer(app, item, &e).await);
                            }
                        }
                    }
                    match page.next {
                        Some(next) if !page.items.is_empty() => {
                            query.after = Some(next);
                            page = app.store.query(query.clone()).await?;
                        }
                        _ => break,
                    }
                }
                // A shard that held something may still (an item that could not move on
                // yet); one that held nothing is still empty of what was due by `now`.
                if held_some && oldest_left.is_none() {
                    let mut check = query.clone();
                    check.after = None;
                    check.limit = 1;
                    if !app.store.query(check).await?.items.is_empty() {
                        oldest_left = Some(hour);
                    }
                }
            }
        }
    }
    let settled_up_to = hour_of(now - INDEX_LAG).min(reached);
    report.behind = reached <= now || report.out_of_time;
    let next = Cursor {
        from: oldest_left.map_or(settled_up_to, |left| left.min(settled_up_to)),
    };
    let (cursor_pk, cursor_sk) = repo::sweep_cursor_key();
    let item = Item::new(
        cursor_pk,
        cursor_sk,
        serde_json::to_string(&next).map_err(|e| super::AppError::Internal(e.into()))?,
    );
    // Another sweep may have moved the cursor meanwhile; either cursor is safe.
    match app.transact(vec![repo::put(item, cursor.as_ref())]).await {
        Ok(()) | Err(StoreError::Conflict { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let at = app.now();
    for (metric, value) in [
        (metrics::SWEEP_PROCESSED, report.processed),
        (metrics::SWEEP_FAILED, report.failed),
        (metrics::REFUNDS_PENDING, report.refunds_retrying.len()),
        (metrics::PAYOUTS_WAITING, report.payouts_waiting.len()),
    ] {
        metrics::emit(&metrics::count(metric, value, at));
    }
    if report.failed > 0 {
        tracing::warn!(
            processed = report.processed,
            failed = report.failed,
            "sweep finished with failures"
        );
    }
    Ok(report)
}
