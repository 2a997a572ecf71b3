//! L11: legacy offline-negotiation listings (formerly 淘域名): imported by operators
//! (`PUT /admin/legacy-listings/{domain}`), listed publicly (`GET /legacy-listings`), never
//! created by sellers nor ordered, and converted by their seller into a fixed-price listing
//! in one step (`POST /legacy-listings/{id}/convert`): the new listing passes every check of
//! `POST /listings` (A1, L2, its end time) and cools down like any new one (L4), and the
//! legacy one ends `converted` in the same transaction, so it converts at most once.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::listings::{publish_writes, NewListing};
use crate::repo::{self, create, legacy_item, load, put, Versioned};
use crate::retry::{retrying, written};
use crate::store::{Index, Query};
use crate::views::{ListingView, PageView};
use crate::{App, AppResult};
use market_core::domain_name::DomainName;
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, LegacyListingId};
use market_core::legacy::{check_convertible, reimport, LegacyListing, LegacyStatus};
use market_core::listing::{check_description, check_price};
use market_core::model::Account;
use market_core::money::Money;

/// A legacy listing as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = LegacyListing)]
pub struct LegacyView {
    pub id: String,
    pub domain: String,
    pub domain_unicode: String,
    pub seller: String,
    /// What the seller asked for offline (negotiable); null when nothing was asked.
    #[schema(value_type = Option<crate::schema::MoneySchema>, required = true)]
    pub asking_price: Option<Money>,
    pub description: String,
    /// `open` or `converted`.
    #[schema(value_type = String)]
    pub status: LegacyStatus,
    /// The fixed-price listing it became, once converted.
    #[schema(required = true)]
    pub listing_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&LegacyListing> for LegacyView {
    fn from(l: &LegacyListing) -> Self {
        LegacyView {
            id: l.id.to_string(),
            domain: l.domain.ascii().to_owned(),
            domain_unicode: l.domain.unicode(),
            seller: l.seller.to_string(),
            asking_price: l.asking_price,
            description: l.description.clone(),
            status: l.status,
            listing_id: l.listing_id.as_ref().map(ToString::to_string),
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

/// An operator's import of one legacy listing.
pub struct LegacyImport {
    pub seller: AccountId,
    pub asking_price: Option<Money>,
    pub description: String,
}

/// The id the domain's legacy listing has, if it has one.
async fn id_of(app: &App, domain: &DomainName) -> AppResult<Option<LegacyListingId>> {
    #[derive(Deserialize)]
    struct Pointer {
        id: LegacyListingId,
    }
    Ok(
        load::<Pointer>(&*app.store, repo::legacy_domain_key(domain))
            .await?
            .map(|p| p.value.id),
    )
}

/// `PUT /admin/legacy-listings/{domain}`: imports the domain's legacy listing, or updates
/// the open one (its id kept); a converted one cannot be imported again (409
/// `ALREADY_CONVERTED`). The seller must be an account.
pub async fn import(app: &App, domain: DomainName, new: LegacyImport) -> AppResult<LegacyView> {
    if let Some(price) = new.asking_price {
        check_price(price)?;
    }
    check_description(&new.description)?;
    if load::<Account>(&*app.store, repo::account_key(&new.seller))
        .await?
        .is_none()
    {
        return Err(Problem::new(Code::NotFound, format!("no account {}", new.seller)).into());
    }
    retrying(app, || async {
        let now = app.now();
        let stored: Option<Versioned<LegacyListing>> = match id_of(app, &domain).await? {
            Some(id) => load(&*app.store, repo::legacy_key(&id)).await?,
            None => None,
        };
        let imported = LegacyListing {
            id: LegacyListingId::mint(app.ulid()),
            domain: domain.clone(),
            seller: new.seller.clone(),
            asking_price: new.asking_price,
            description: new.description.clone(),
            status: LegacyStatus::Open,
            listing_id: None,
            created_at: now,
            updated_at: now,
        };
        let legacy = reimport(stored.as_ref().map(|s| &s.value), imported)?;
        let writes = match &stored {
            Some(stored) => vec![put(legacy_item(&legacy), Some(stored))],
            // New: the domain's pointer is written once, so two racing imports make one.
            None => vec![
                create(legacy_item(&legacy)),
                create(repo::legacy_domain_item(&domain, &legacy.id)),
            ],
        };
        written(app.transact(writes).await)?;
        tracing::info!(legacy = %legacy.id, domain = %domain, seller = %legacy.seller, "legacy listing imported (L11)");
        Ok(LegacyView::from(&legacy))
    })
    .await
}

/// `GET /legacy-listings`: the open legacy listings, newest first.
pub async fn browse(
    app: &App,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<PageView<LegacyView>> {
    let mut query = Query::index(Index::Gsi2, repo::LEGACY_MARKET);
    query.forward = false;
    query.limit = limit;
    query.after = cursor;
    let page = app.store.query(query).await?;
    let items = page
        .items
        .iter()
        .map(|i| repo::decode::<LegacyListing>(i).map(|l| LegacyView::from(&l.value)))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(PageView {
        items,
        next_cursor: page.next,
    })
}

/// `POST /legacy-listings/{id}/convert`: the seller turns an open legacy listing into a
/// fixed-price listing at `price` (checked as `POST /listings` checks a new one), in one
/// transaction with the legacy listing's end (`converted`).
pub async fn convert(
    app: &App,
    caller: &AccountId,
    id: &LegacyListingId,
    price: Money,
    ends_at: Option<DateTime<Utc>>,
) -> AppResult<ListingView> {
    check_price(price)?;
    retrying(app, || async {
        let now = app.now();
        let legacy: Versioned<LegacyListing> = load(&*app.store, repo::legacy_key(id))
            .await?
            .ok_or_else(|| Problem::not_found("legacy listing"))?;
        check_convertible(&legacy.value, caller)?;
        let new = NewListing {
            domain: legacy.value.domain.clone(),
            price,
            ends_at,
            description: legacy.value.description.clone(),
        };
        let (listing, mut writes, rate) = publish_writes(app, caller, &new, now).await?;
        let mut converted = legacy.value.clone();
        converted.status = LegacyStatus::Converted;
        converted.listing_id = Some(listing.id.clone());
        converted.updated_at = now;
        writes.push(put(legacy_item(&converted), Some(&legacy)));
        written(app.transact(writes).await)?;
        tracing::info!(legacy = %id, listing = %listing.id, "legacy listing converted (L11)");
        Ok(ListingView::new(&listing, rate, now))
    })
    .await
}
