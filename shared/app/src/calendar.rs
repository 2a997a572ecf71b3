//! The operator's holidays (`PUT /admin/holidays/{year}`), one item a year, and the
//! working-day calendar the rules use (M2, M4, S5), built from the years a rule looks at.
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::repo::{self, load, Versioned};
use super::retry::{retrying, written};
use super::{App, AppResult};
use market_core::calendar::{market_date, parse_holidays, Calendar};

/// A year's holidays as stored and answered.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Holidays)]
pub struct Holidays {
    pub year: i32,
    /// ISO dates (YYYY-MM-DD), in order.
    #[schema(value_type = Vec<String>, format = Date)]
    pub dates: Vec<NaiveDate>,
    /// When an operator last set them; absent for a year never set.
    #[schema(required = true)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// `PUT /admin/holidays/{year}`: replaces the year's holidays. Dates of another year are
/// refused (400). Rules already decided (a placement period already filled, a fee period
/// already set) keep the calendar they were decided with.
pub async fn set_holidays(app: &App, year: i32, dates: &[String]) -> AppResult<Holidays> {
    let dates = parse_holidays(year, dates)?;
    retrying(app, || async {
        let read: Option<Versioned<Holidays>> = load(&*app.store, repo::holidays_key(year)).await?;
        let holidays = Holidays {
            year,
            dates: dates.clone(),
            updated_at: Some(app.now()),
        };
        let item = repo::plain_item(repo::holidays_key(year), &holidays);
        written(app.transact(vec![repo::put(item, read.as_ref())]).await)?;
        tracing::info!(year, count = holidays.dates.len(), "holidays set");
        Ok(holidays)
    })
    .await
}

/// `GET /admin/holidays/{year}`: the year's holidays (none set: an empty list).
pub async fn holidays(app: &App, year: i32) -> AppResult<Holidays> {
    parse_holidays(year, &[])?;
    let read: Option<Versioned<Holidays>> = load(&*app.store, repo::holidays_key(year)).await?;
    Ok(read.map_or(
        Holidays {
            year,
            dates: Vec::new(),
            updated_at: None,
        },
        |h| h.value,
    ))
}

/// The calendar for a rule decided at `at`: the holidays of that year and the next (every
/// rule here looks at most a month or two ahead).
pub async fn around(app: &App, at: DateTime<Utc>) -> AppResult<Calendar> {
    let year = market_date(at).year();
    let keys = [repo::holidays_key(year), repo::holidays_key(year + 1)];
    let items = app.store.get_many(&keys).await?;
    let mut dates = Vec::new();
    for item in &items {
        dates.extend(repo::decode::<Holidays>(item)?.value.dates);
    }
    Ok(Calendar::new(dates))
}
