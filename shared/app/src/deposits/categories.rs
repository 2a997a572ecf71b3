//! M1: the operator's listing categories, kept together in one item (they are few, and a
//! listing reads them all in one get).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::repo::{self, load, plain_item, put, Versioned};
use crate::retry::{retrying, written};
use crate::{App, AppResult};
use market_core::deposit::{normalise_tlds, parse_category_name, Category};
use market_core::money::Money;

/// Every category, by name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Catalogue {
    pub categories: BTreeMap<String, Category>,
}

/// The catalogue as read (empty before the first category).
pub(crate) async fn catalogue(app: &App) -> AppResult<Option<Versioned<Catalogue>>> {
    load(&*app.store, repo::categories_key()).await
}

/// Every category.
pub async fn all(app: &App) -> AppResult<Vec<Category>> {
    Ok(catalogue(app)
        .await?
        .map(|c| c.value.categories.into_values().collect())
        .unwrap_or_default())
}

/// `PUT /admin/categories/{category}`: creates or replaces a category; a deposit of 0 is
/// none. Sellers who hold less than a raised deposit must top it up before listing again;
/// what they hold is never touched here.
pub async fn put_category(
    app: &App,
    name: &str,
    tlds: &[String],
    deposit: Option<Money>,
) -> AppResult<Category> {
    let name = parse_category_name(name)?;
    let tlds = normalise_tlds(tlds)?;
    let deposit = deposit.filter(|d| !d.amount().is_zero());
    retrying(app, || async {
        let read = catalogue(app).await?;
        let mut next = read.as_ref().map(|c| c.value.clone()).unwrap_or_default();
        let category = Category {
            name: name.clone(),
            tlds: tlds.clone(),
            deposit,
            updated_at: app.now(),
        };
        next.categories.insert(name.clone(), category.clone());
        let item = plain_item(repo::categories_key(), &next);
        written(app.transact(vec![put(item, read.as_ref())]).await)?;
        app.caches.forget(&repo::categories_key());
        tracing::info!(category = %name, tlds = ?category.tlds, deposit = ?category.deposit, "category set (M1)");
        Ok(category)
    })
    .await
}
