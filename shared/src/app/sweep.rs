//! The expiry sweep (E1): finds what is due through the due-time index (hourly buckets of
//! gsi5) and moves each item on with the same conditional use cases the requests use, so
//! two sweeps at once, or a sweep racing a payment, change nothing twice. Its work follows
//! what is due, never the size of the table: no scans, only the buckets from its cursor up
//! to now.
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

use super::payments::{self, deliver};
use super::repo::{self, due_bucket, time_key, Versioned};
use super::{lifecycle, listings, orders, pushes, App, AppResult};
use crate::core::domain_name::DomainName;
use crate::core::ids::{ListingId, OrderId, PushId};
use crate::core::model::{Order, OrderStatus};
use crate::store::{Index, Item, Query, SkRange, StoreError};

/// How far back a sweep looks when it has no cursor yet.
pub const FIRST_LOOKBACK_HOURS: i64 = 72;

/// What one sweep did.
#[derive(Debug, Default, Serialize)]
pub struct SweepReport {
    pub expired_orders: Vec<String>,
    pub resumed_deliveries: Vec<String>,
    pub refunds_confirmed: Vec<String>,
    pub refunds_retrying: Vec<String>,
    pub settled: Vec<String>,
    pub pushes_expired: Vec<String>,
    pub pushes_forced: Vec<String>,
    pub listings_ended: Vec<String>,
    pub domains_expired: Vec<String>,
    /// Index entries read (the sweep's cost).
    pub items_read: usize,
}

/// Handles one order whose deadline came (the delayed queue message, or the sweep).
pub async fn order_due(app: &App, id: &OrderId, report: &mut SweepReport) -> AppResult<()> {
    let Some(order) = repo::load::<Order>(&*app.store, repo::order_key(id)).await? else {
        return Ok(());
    };
    match order.value.status {
        OrderStatus::AwaitingPayment | OrderStatus::Processing
            if orders::expire(app, id).await? =>
        {
            report.expired_orders.push(id.to_string());
        }
        OrderStatus::Paid => {
            deliver(app, id).await?;
            report.resumed_deliveries.push(id.to_string());
        }
        _ => {}
    }
    Ok(())
}

/// Handles one due item by its kind.
async fn due(app: &App, item: &Item, report: &mut SweepReport) -> AppResult<()> {
    let pk = item.pk.as_str();
    if pk.starts_with("ORDER#") {
        let order: Versioned<Order> = repo::decode(item)?;
        order_due(app, &order.value.id, report).await?;
    } else if let Some(journal_id) = pk.strip_prefix("REFUND#") {
        if payments::send_refund(app, journal_id).await? {
            report.refunds_confirmed.push(journal_id.to_owned());
        } else {
            report.refunds_retrying.push(journal_id.to_owned());
        }
    } else if let Some(id) = pk.strip_prefix("PUSH#") {
        let id = PushId::parse(id)?;
        match pushes::due(app, &id).await? {
            Some("expired") => report.pushes_expired.push(id.to_string()),
            Some(_) => report.pushes_forced.push(id.to_string()),
            None => {}
        }
    } else if let Some(sale) = pk.strip_prefix("SETTLE#") {
        if payments::settle(app, sale).await? {
            report.settled.push(sale.to_owned());
        }
    } else if let Some(id) = pk.strip_prefix("LISTING#") {
        let id = ListingId::parse(id)?;
        if listings::end_if_due(app, &id).await? {
            report.listings_ended.push(id.to_string());
        }
    } else if let Some(name) = pk.strip_prefix("DOMAIN#") {
        let name = DomainName::parse(name)?;
        let ended = lifecycle::expire_domain(app, &name).await?;
        if ended.listing.is_some() || ended.push.is_some() {
            report.domains_expired.push(name.to_string());
        }
    }
    Ok(())
}

/// Where the next sweep starts: the oldest bucket that may still hold something due.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    from: DateTime<Utc>,
}

const CURSOR_KEY: (&str, &str) = ("SWEEP#cursor", "C");

fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

/// The query of one bucket's entries due by `now`.
fn due_query(hour: DateTime<Utc>, now: DateTime<Utc>) -> Query {
    let mut query = Query::index(Index::Gsi5, due_bucket(hour));
    query.range = SkRange::Between("0".into(), format!("{}~", time_key(now)));
    query
}

/// Runs the sweep at the app clock's now: every bucket from the cursor to now, each due
/// item handled; then the cursor moves to the oldest bucket that still holds a due item
/// (one that could not move on yet, e.g. a listing held by an order being paid).
pub async fn sweep(app: &App) -> AppResult<SweepReport> {
    let now = app.now();
    let mut report = SweepReport::default();
    let cursor: Option<Versioned<Cursor>> =
        repo::load(&*app.store, (CURSOR_KEY.0.into(), CURSOR_KEY.1.into())).await?;
    let start = cursor
        .as_ref()
        .map_or(now - Duration::hours(FIRST_LOOKBACK_HOURS), |c| {
            c.value.from
        })
        .min(now);
    let mut hour = hour_of(start);
    let mut oldest_left: Option<DateTime<Utc>> = None;
    while hour <= now {
        let mut query = due_query(hour, now);
        loop {
            let page = app.store.query(query.clone()).await?;
            report.items_read += page.items.len();
            for item in &page.items {
                due(app, item, &mut report).await?;
            }
            match page.next {
                Some(next) if !page.items.is_empty() => query.after = Some(next),
                _ => break,
            }
        }
        if oldest_left.is_none() {
            let mut check = due_query(hour, now);
            check.limit = 1;
            if !app.store.query(check).await?.items.is_empty() {
                oldest_left = Some(hour);
            }
        }
        hour += Duration::hours(1);
    }
    let next = Cursor {
        from: oldest_left.unwrap_or_else(|| hour_of(now)),
    };
    let item = Item::new(
        CURSOR_KEY.0,
        CURSOR_KEY.1,
        serde_json::to_string(&next).map_err(|e| super::AppError::Internal(e.into()))?,
    );
    // Another sweep may have moved the cursor meanwhile; either cursor is safe.
    match app
        .store
        .transact(vec![repo::put(item, cursor.as_ref())])
        .await
    {
        Ok(()) | Err(StoreError::Conflict { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(report)
}
