//! S5: fee rates per trade kind with validity periods, set by operators
//! (`PUT /admin/fees`); the rate in force at order time is frozen onto the order.
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::repo::{self, create, time_key};
use super::{App, AppResult};
use crate::store::{Item, Query};
use market_core::error::{Code, Problem};
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

/// Every period set for a kind (a handful: operators set them by hand).
pub async fn periods(app: &App, kind: FeeKind) -> AppResult<Vec<FeePeriod>> {
    let mut query = Query::table(partition(kind));
    query.limit = 1000;
    let page = app.store.query(query).await?;
    page.items
        .iter()
        .map(|i| repo::decode::<FeePeriod>(i).map(|v| v.value))
        .collect()
}

/// The rate in force for `kind` at `at` (L8: 1% for fixed price, P8: 0 for pushes, unless a
/// period says otherwise).
pub async fn rate_at(app: &App, kind: FeeKind, at: DateTime<Utc>) -> AppResult<Decimal> {
    Ok(fee_rate_at(
        &periods(app, kind).await?,
        at,
        default_rate(app, kind),
    ))
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

/// `PUT /admin/fees`: a new period; the latest set period wins where periods overlap.
pub async fn set_period(
    app: &App,
    kind: FeeKind,
    rate: Decimal,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> AppResult<FeePeriod> {
    if let (Some(from), Some(until)) = (from, until) {
        if until <= from {
            return Err(Problem::new(Code::InvalidRequest, "until must be after from").into());
        }
    }
    let now = app.now();
    let period = FeePeriod {
        kind,
        rate,
        from,
        until,
        created_at: now,
    };
    let item = Item::new(
        partition(kind),
        format!("{}#{}", time_key(now), app.ulid()),
        serde_json::to_string(&period).map_err(|e| super::AppError::Internal(e.into()))?,
    );
    app.transact(vec![create(item)]).await?;
    Ok(period)
}
