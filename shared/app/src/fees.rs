//! S5: fee rates per trade kind with validity periods, set by operators
//! (`PUT /admin/fees`); the rate in force at order time is frozen onto the order.
//!
//! A kind's periods are one item, its schedule (operators set a handful by hand): a
//! listing view reads it in the same BatchGetItem as the listing (issue 15: one request),
//! and a new period is added on the condition that the schedule is as read.
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::repo::{self, load, plain_item, put, Versioned};
use super::retry::{retrying, written};
use super::{App, AppResult};
use crate::store::Item;
use market_core::error::{Code, Problem};
use market_core::fee_notice::{earliest_effect, is_pure_reduction};
use market_core::model::{fee_rate_at, FeeKind, FeePeriod};

fn partition(kind: FeeKind) -> String {
    super::repo::fees_partition(
        &serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    )
}

fn default_rate(app: &App, kind: FeeKind) -> Decimal {
    match kind {
        FeeKind::FixedPrice => app.policy.fixed_price_fee_rate,
        FeeKind::Push => app.policy.push_fee_rate,
    }
}

/// Every period of a kind, in the order they were set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Schedule {
    periods: Vec<FeePeriod>,
}

/// The most periods a kind keeps (far below the 400 KB of an item).
const MAX_PERIODS: usize = 500;

/// The key of a kind's schedule.
pub fn schedule_key(kind: FeeKind) -> (String, String) {
    (partition(kind), "SCHEDULE".into())
}

async fn schedule(app: &App, kind: FeeKind) -> AppResult<Option<Versioned<Schedule>>> {
    load(&*app.store, schedule_key(kind)).await
}

/// A kind's schedule item as this process keeps it (`caches::SETTINGS_TTL`): what every
/// rate a sale or a view uses is read from, so no request reads the one item they share.
pub async fn schedule_item(app: &App, kind: FeeKind) -> AppResult<Option<Item>> {
    Ok(crate::caches::setting(app, schedule_key(kind)).await?)
}

/// Every period set for a kind (a handful: operators set them by hand), as read now.
pub async fn periods(app: &App, kind: FeeKind) -> AppResult<Vec<FeePeriod>> {
    Ok(schedule(app, kind)
        .await?
        .map(|s| s.value.periods)
        .unwrap_or_default())
}

/// The rate in force for `kind` at `at`, from its schedule's item as read with others
/// (`None`: no period was ever set).
pub fn rate_in(
    app: &App,
    kind: FeeKind,
    item: Option<&Item>,
    at: DateTime<Utc>,
) -> AppResult<Decimal> {
    let periods = match item {
        Some(item) => repo::decode::<Schedule>(item)?.value.periods,
        None => Vec::new(),
    };
    Ok(fee_rate_at(&periods, at, default_rate(app, kind)))
}

/// The rate in force for `kind` at `at` (L8: 1% for fixed price, P8: 0 for pushes, unless a
/// period says otherwise), from the schedule as this process keeps it.
pub async fn rate_at(app: &App, kind: FeeKind, at: DateTime<Utc>) -> AppResult<Decimal> {
    rate_in(app, kind, schedule_item(app, kind).await?.as_ref(), at)
}

/// A rate is a decimal fraction from 0 to 1 with at most 4 decimals.
pub fn parse_rate(text: &str) -> Result<Decimal, Problem> {
    let rate: Decimal = text.parse().map_err(|_| {
        Problem::new(
            Code::InvalidRequest,
            format!("rate `{text}` is not a decimal such as \"0.01\""),
        )
    })?;
    if rate.is_sign_negative() || rate > Decimal::ONE || rate.scale() > 4 {
        return Err(Problem::new(
            Code::InvalidRequest,
            "rate is a fraction from 0 to 1 with at most 4 decimals",
        ));
    }
    Ok(rate)
}

/// A fee change as an operator sets it (`PUT /admin/fees`).
pub struct FeeChange {
    pub kind: FeeKind,
    pub rate: Decimal,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// S5: when it is announced; default now. Never before now: a notice cannot be
    /// backdated (a few minutes of clock skew are taken as now).
    pub announce_at: Option<DateTime<Utc>>,
    /// S5: `true` claims a pure reduction or waiver (checked: refused if it raises the rate
    /// anywhere); `false` gives notice even for a reduction; absent: decided by the rates.
    pub reduction: Option<bool>,
}

/// How far in the past an `announce_at` may be and still be taken as now (clock skew).
pub const ANNOUNCE_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// `PUT /admin/fees`: a new period; the latest set period wins where periods overlap.
/// S5: a change that is not a pure reduction starts no earlier than the first working day
/// of the month after its announcement: an earlier (or absent) `from` is moved there, and
/// the answer says so; a period that would end before then is refused.
pub async fn set_period(app: &App, change: FeeChange) -> AppResult<FeePeriod> {
    let FeeChange {
        kind,
        rate,
        from,
        until,
        announce_at,
        reduction,
    } = change;
    if let (Some(from), Some(until)) = (from, until) {
        if until <= from {
            return Err(Problem::new(Code::InvalidRequest, "until must be after from").into());
        }
    }
    let now = app.now();
    if announce_at.is_some_and(|a| a < now - ANNOUNCE_SKEW) {
        return Err(Problem::new(
            Code::InvalidRequest,
            "announce_at is in the past: a fee change cannot be announced retroactively (S5)",
        )
        .into());
    }
    let announced_at = announce_at.map_or(now, |a| a.max(now));
    let calendar = super::calendar::around(app, announced_at).await?;
    retrying(app, || async {
        let read = schedule(app, kind).await?;
        let mut next = read.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        if next.periods.len() >= MAX_PERIODS {
            return Err(Problem::new(
                Code::InvalidRequest,
                format!("a fee kind keeps at most {MAX_PERIODS} periods"),
            )
            .into());
        }
        let lowers =
            is_pure_reduction(&next.periods, default_rate(app, kind), rate, from, until, now);
        if reduction == Some(true) && !lowers {
            return Err(Problem::new(
                Code::InvalidRequest,
                "not a pure reduction: the rate would rise above the one in force for part of the period (S5)",
            )
            .into());
        }
        let immediate = reduction.unwrap_or(lowers);
        let earliest = earliest_effect(&calendar, announced_at, immediate);
        let effective_from = from.map_or(earliest, |f| f.max(earliest));
        if until.is_some_and(|u| u <= effective_from) {
            return Err(Problem::new(
                Code::InvalidRequest,
                format!("the period ends before {effective_from}, the earliest this change may take effect (S5: the first working day of the month after its announcement)"),
            )
            .into());
        }
        // A reduction keeps an absent `from` (in force from now, as before notices).
        let from = if immediate && from.is_none() {
            None
        } else {
            Some(effective_from)
        };
        let period = FeePeriod {
            kind,
            rate,
            from,
            until,
            created_at: now,
            announced_at: Some(announced_at),
            reduction: immediate,
        };
        next.periods.push(period.clone());
        written(
            app.transact(vec![put(plain_item(schedule_key(kind), &next), read.as_ref())])
                .await,
        )?;
        app.caches.forget(&schedule_key(kind));
        tracing::info!(?kind, %rate, ?from, ?until, %announced_at, reduction = immediate, "fee period set (S5)");
        Ok(period)
    })
    .await
}
