//! The expiry sweep (E1, O3): finds what is due through the due-time index and moves it on
//! with the same conditional use cases the requests use, so two sweeps at once, or a sweep
//! racing a payment, change nothing twice.
use chrono::Duration;
use serde::Serialize;

use super::payments::{self, deliver};
use super::repo::{self, due_bucket, time_key, Versioned};
use super::{orders, App, AppResult};
use crate::core::ids::OrderId;
use crate::core::model::{Order, OrderStatus};
use crate::store::{Index, Item, Query, SkRange};

/// How far back the sweep looks for due items it has not finished.
pub const LOOKBACK_HOURS: i64 = 72;

/// What one sweep changed.
#[derive(Debug, Default, Serialize)]
pub struct SweepReport {
    pub expired_orders: Vec<String>,
    pub resumed_deliveries: Vec<String>,
    pub refunds_confirmed: Vec<String>,
    pub refunds_retrying: Vec<String>,
    pub settled: Vec<String>,
    pub pushes_expired: Vec<String>,
    pub pushes_forced: Vec<String>,
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
    if item.pk.starts_with("ORDER#") {
        let order: Versioned<Order> = repo::decode(item)?;
        order_due(app, &order.value.id, report).await?;
    } else if let Some(journal_id) = item.pk.strip_prefix("REFUND#") {
        if payments::send_refund(app, journal_id).await? {
            report.refunds_confirmed.push(journal_id.to_owned());
        } else {
            report.refunds_retrying.push(journal_id.to_owned());
        }
    } else if let Some(id) = item.pk.strip_prefix("PUSH#") {
        let id = crate::core::ids::PushId::parse(id)?;
        match super::pushes::due(app, &id).await? {
            Some("expired") => report.pushes_expired.push(id.to_string()),
            Some(_) => report.pushes_forced.push(id.to_string()),
            None => {}
        }
    } else if let Some(sale) = item.pk.strip_prefix("SETTLE#") {
        if payments::settle(app, sale).await? {
            report.settled.push(sale.to_owned());
        }
    }
    Ok(())
}

/// Runs the sweep at the app clock's now: reads the due buckets of the lookback window up to
/// now (never a scan) and handles each due item.
pub async fn sweep(app: &App) -> AppResult<SweepReport> {
    let now = app.now();
    let mut report = SweepReport::default();
    let mut hour = now - Duration::hours(LOOKBACK_HOURS);
    while hour <= now {
        let mut query = Query::index(Index::Gsi5, due_bucket(hour));
        query.range = SkRange::Between("0".into(), format!("{}~", time_key(now)));
        loop {
            let page = app.store.query(query.clone()).await?;
            for item in &page.items {
                due(app, item, &mut report).await?;
            }
            match page.next {
                Some(next) if !page.items.is_empty() => query.after = Some(next),
                _ => break,
            }
        }
        hour += Duration::hours(1);
    }
    Ok(report)
}
