//! M4 featured placements: operators define sections; sellers apply with an active listing
//! for a section's next period; when the period starts, the sweep (a due round per section
//! and period) chooses the winners with the pure `market_core::placement::select_winners`
//! and writes them where `GET /listings/featured` reads them.
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::repo::{self, load, Versioned};
use super::retry::{retrying, written, Attempt};
use super::views::ListingView;
use super::{App, AppError, AppResult};
use crate::store::{Query, SkRange};
use market_core::calendar::start_of;
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, ListingId};
use market_core::ledger::{EntryKind, LedgerAccount};
use market_core::model::{Listing, ListingStatus};
use market_core::placement::{
    check_section, next_period, period_of, price_drop, select_winners, Applicant, PlacementRule,
    Section, SALES_WINDOW_DAYS,
};

/// A seller's application for a section's next period.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PlacementApplication)]
pub struct Application {
    pub section: String,
    pub listing_id: String,
    pub seller: String,
    /// The period applied for, by its nominal first day (the 1st or the 16th).
    #[schema(value_type = String, format = Date)]
    pub period: NaiveDate,
    /// When the period starts (moved to a working day) and ends (the next one's start).
    pub period_starts_at: DateTime<Utc>,
    pub period_ends_at: DateTime<Utc>,
    pub applied_at: DateTime<Utc>,
}

/// A section's period to fill.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Round {
    section: String,
    period: NaiveDate,
    /// Chosen once: then no longer due.
    filled_at: Option<DateTime<Utc>>,
    winners: Vec<String>,
}

/// The winners of a section's latest filled period, in slot order.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Featured {
    section: String,
    period: NaiveDate,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    winners: Vec<String>,
    chosen_at: DateTime<Utc>,
}

/// `GET /listings/featured`: the current winners still active.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = FeaturedListings)]
pub struct FeaturedView {
    pub section: String,
    /// The running period, when one was filled; null between a period's start and its
    /// selection, or when nobody applied.
    #[schema(required = true)]
    pub starts_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub ends_at: Option<DateTime<Utc>>,
    /// The winners in slot order; a listing that ended has left its slot.
    pub items: Vec<ListingView>,
    /// Always null: a section has at most 50 slots.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// `PUT /admin/placements/{section}`: creates or changes a section. A change applies to
/// periods not yet filled.
pub async fn put_section(
    app: &App,
    name: &str,
    slots: u32,
    period_days: u32,
    rule: PlacementRule,
    tld: Option<&str>,
) -> AppResult<Section> {
    check_section(name, slots, period_days)?;
    // "By TLD": the TLD as domains carry it (Unicode TLDs in punycode).
    let tld = match tld {
        Some(tld) => Some(market_core::deposit::normalise_tlds(&[tld.to_owned()])?.remove(0)),
        None => None,
    };
    retrying(app, || async {
        let key = repo::placement_section_key(name);
        let read: Option<Versioned<Section>> = load(&*app.store, key.clone()).await?;
        let section = Section {
            name: name.to_owned(),
            slots,
            period_days,
            rule,
            tld: tld.clone(),
            updated_at: app.now(),
        };
        let item = repo::plain_item(key, &section);
        written(app.transact(vec![repo::put(item, read.as_ref())]).await)?;
        tracing::info!(
            section = name,
            slots,
            period_days,
            ?rule,
            "placement section set (M4)"
        );
        Ok(section)
    })
    .await
}

async fn section(app: &App, name: &str) -> AppResult<Section> {
    let read: Option<Versioned<Section>> =
        load(&*app.store, repo::placement_section_key(name)).await?;
    read.map(|s| s.value)
        .ok_or_else(|| Problem::not_found("placement section").into())
}

/// `POST /listings/{id}/placements`: the seller of an active listing applies for the
/// section's next period, once (409 `PLACEMENT_ALREADY_APPLIED` for a second time). The
/// first application of a period files its round in the due index at the period's
/// nominal day, so that the sweep comes to it.
pub async fn apply(
    app: &App,
    seller: &AccountId,
    listing_id: &ListingId,
    section_name: &str,
) -> AppResult<Application> {
    let section = section(app, section_name).await?;
    retrying(app, || async {
        let now = app.now();
        let listing: Versioned<Listing> = load(&*app.store, repo::listing_key(listing_id))
            .await?
            .ok_or_else(|| Problem::not_found("listing"))?;
        if &listing.value.seller != seller {
            return Err(Problem::new(
                Code::Forbidden,
                "only the listing's seller can apply for a placement",
            )
            .into());
        }
        if listing.value.status_at(now).0 != ListingStatus::Active {
            return Err(
                Problem::new(Code::ListingNotActive, "the listing is not active").into(),
            );
        }
        market_core::placement::check_eligible(&section, listing.value.domain.tld())?;
        let calendar = super::calendar::around(app, now).await?;
        let period = next_period(&calendar, section.period_days, now);
        if listing.value.status_at(period.starts_at).0 != ListingStatus::Active {
            return Err(Problem::new(
                Code::ListingNotActive,
                format!(
                    "the listing ends before the period starts at {}",
                    period.starts_at
                ),
            )
            .into());
        }
        let partition = repo::placement_applications_partition(section_name, period.nominal);
        if app
            .store
            .get(&partition, listing_id.as_str())
            .await?
            .is_some()
        {
            return Err(Problem::new(
                Code::PlacementAlreadyApplied,
                format!(
                    "listing {listing_id} already applied for {section_name} from {}",
                    period.nominal
                ),
            )
            .into());
        }
        let application = Application {
            section: section_name.to_owned(),
            listing_id: listing_id.to_string(),
            seller: seller.to_string(),
            period: period.nominal,
            period_starts_at: period.starts_at,
            period_ends_at: period.ends_at,
            applied_at: now,
        };
        let mut writes = vec![repo::create(repo::plain_item(
            (partition, listing_id.to_string()),
            &application,
        ))];
        let round_key = repo::placement_round_key(section_name, period.nominal);
        if app.store.get(&round_key.0, &round_key.1).await?.is_none() {
            let round = Round {
                section: section_name.to_owned(),
                period: period.nominal,
                filled_at: None,
                winners: Vec::new(),
            };
            // Due at the nominal day: the earliest the period can start whatever holidays
            // are set meanwhile; the sweep moves it on to the real start.
            let due = start_of(period.nominal);
            writes.push(repo::create(repo::placement_round_item(
                section_name,
                period.nominal,
                &round,
                Some(due),
            )));
        }
        written(app.transact(writes).await)?;
        tracing::info!(section = section_name, listing = %listing_id, period = %period.nominal, "placement applied (M4)");
        Ok(application)
    })
    .await
}

/// A seller's sales volume (the prices of completed sales) in `[from, until)`.
async fn sales_volume(
    app: &App,
    seller: &AccountId,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> AppResult<Decimal> {
    let account = LedgerAccount::SellerFrozen(seller.clone()).key();
    // Every partition of the account at once; postings are keyed `{at}#{journal}#{n}`, so
    // the window is a key range.
    let reads = repo::ledger_partitions(&account)
        .into_iter()
        .map(|partition| async move {
            let mut query = Query::table(partition);
            query.range = SkRange::Between(repo::time_key(from), repo::time_key(until));
            query.limit = 500;
            let mut total = Decimal::ZERO;
            loop {
                let page = app.store.query(query.clone()).await?;
                for item in &page.items {
                    let entry = repo::decode::<market_core::ledger::Entry>(item)?.value;
                    if entry.posting.kind == EntryKind::Sale {
                        total += entry.posting.amount;
                    }
                }
                match page.next {
                    Some(next) if !page.items.is_empty() => query.after = Some(next),
                    _ => return AppResult::Ok(total),
                }
            }
        });
    Ok(futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .sum())
}

/// Every application of a section's period.
async fn applications(app: &App, section: &str, period: NaiveDate) -> AppResult<Vec<Application>> {
    let mut query = Query::table(repo::placement_applications_partition(section, period));
    query.limit = 500;
    let mut all = Vec::new();
    loop {
        let page = app.store.query(query.clone()).await?;
        for item in &page.items {
            all.push(repo::decode::<Application>(item)?.value);
        }
        match page.next {
            Some(next) if !page.items.is_empty() => query.after = Some(next),
            _ => break,
        }
    }
    Ok(all)
}

/// The sweep's part (M4): a round whose nominal day came. Before its real start (moved by
/// weekends and holidays) it is filed again at that start; from then on, the winners are
/// chosen once and shown. Answers the number of winners when it filled the round.
pub async fn round_due(app: &App, round_id: &str) -> AppResult<Option<usize>> {
    let (section_name, period) = round_id
        .rsplit_once('#')
        .and_then(|(s, p)| Some((s, p.parse::<NaiveDate>().ok()?)))
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("not a round: {round_id}")))?;
    retrying(app, || async {
        let now = app.now();
        let round_key = repo::placement_round_key(section_name, period);
        let Some(round) = load::<Round>(&*app.store, round_key).await? else {
            return Ok(None);
        };
        if round.value.filled_at.is_some() {
            return Ok(None);
        }
        let section: Option<Versioned<Section>> =
            load(&*app.store, repo::placement_section_key(section_name)).await?;
        let Some(section) = section.map(|s| s.value) else {
            // The section is gone: nothing to show; the round is closed empty.
            let closed = Round {
                filled_at: Some(now),
                ..round.value.clone()
            };
            let item = repo::placement_round_item(section_name, period, &closed, None);
            written(app.transact(vec![repo::put(item, Some(&round))]).await)?;
            return Ok(Some(0));
        };
        let calendar = super::calendar::around(app, start_of(period)).await?;
        let bounds = period_of(&calendar, section.period_days, period);
        if now < bounds.starts_at {
            let item =
                repo::placement_round_item(section_name, period, &round.value, Some(bounds.starts_at));
            written(app.transact(vec![repo::put(item, Some(&round))]).await)?;
            tracing::info!(section = section_name, %period, starts_at = %bounds.starts_at, "placement period starts later (weekend or holiday, M4)");
            return Ok(None);
        }
        let winners = choose(app, &section, period, bounds.starts_at, now).await?;
        let filled = Round {
            filled_at: Some(now),
            winners: winners.clone(),
            ..round.value.clone()
        };
        let mut writes = vec![repo::put(
            repo::placement_round_item(section_name, period, &filled, None),
            Some(&round),
        )];
        let featured_key = repo::featured_key(section_name);
        let shown: Option<Versioned<Featured>> = load(&*app.store, featured_key.clone()).await?;
        // A late round never replaces a later period's winners.
        if shown.as_ref().is_none_or(|f| f.value.period < period) {
            let featured = Featured {
                section: section_name.to_owned(),
                period,
                starts_at: bounds.starts_at,
                ends_at: bounds.ends_at,
                winners: winners.clone(),
                chosen_at: now,
            };
            writes.push(repo::put(
                repo::plain_item(featured_key, &featured),
                shown.as_ref(),
            ));
        }
        written(app.transact(writes).await)?;
        tracing::info!(section = section_name, %period, winners = winners.len(), "placement winners chosen (M4)");
        Ok(Some(winners.len()))
    })
    .await
}

/// Reads what the section's rule needs of each applicant and asks the core for winners.
async fn choose(
    app: &App,
    section: &Section,
    period: NaiveDate,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, Attempt> {
    let applied = applications(app, &section.name, period).await?;
    let keys: Vec<(String, String)> = applied
        .iter()
        .filter_map(|a| a.listing_id.parse::<ListingId>().ok())
        .map(|id| repo::listing_key(&id))
        .collect();
    let mut listings = BTreeMap::new();
    for item in app.store.get_many(&keys).await? {
        let listing = repo::decode::<Listing>(&item)?.value;
        listings.insert(listing.id.to_string(), listing);
    }
    let mut volumes: BTreeMap<AccountId, Decimal> = BTreeMap::new();
    if section.rule == PlacementRule::Sales {
        let from = starts_at - Duration::days(SALES_WINDOW_DAYS);
        for listing in listings.values() {
            if !volumes.contains_key(&listing.seller) {
                let volume = sales_volume(app, &listing.seller, from, starts_at).await?;
                volumes.insert(listing.seller.clone(), volume);
            }
        }
    }
    let applicants: Vec<Applicant> = applied
        .iter()
        .filter_map(|a| {
            let listing = listings.get(&a.listing_id)?;
            Some(Applicant {
                listing_id: a.listing_id.clone(),
                applied_at: a.applied_at,
                active: listing.status_at(now).0 == ListingStatus::Active,
                seller_sales: volumes.get(&listing.seller).copied().unwrap_or_default(),
                listed_at: listing.created_at,
                price_drop: listing.first_price.map_or(Decimal::ZERO, |first| {
                    price_drop(first.amount(), listing.price.amount())
                }),
            })
        })
        .collect();
    Ok(select_winners(section.rule, section.slots, &applicants))
}

/// `GET /listings/featured?section=`: the winners of the running period, in slot order,
/// without those that ended since (a listing that ends leaves its slot). Judged at now
/// (E1): a period whose end passed shows nothing even before the sweep fills the next.
pub async fn featured(app: &App, section_name: &str) -> AppResult<FeaturedView> {
    section(app, section_name).await?;
    let now = app.now();
    let shown: Option<Versioned<Featured>> =
        load(&*app.store, repo::featured_key(section_name)).await?;
    let Some(shown) = shown
        .map(|f| f.value)
        .filter(|f| f.starts_at <= now && now < f.ends_at)
    else {
        return Ok(FeaturedView {
            section: section_name.to_owned(),
            starts_at: None,
            ends_at: None,
            items: Vec::new(),
            next_cursor: None,
        });
    };
    let keys: Vec<(String, String)> = shown
        .winners
        .iter()
        .filter_map(|id| id.parse::<ListingId>().ok())
        .map(|id| repo::listing_key(&id))
        .collect();
    let mut listings = BTreeMap::new();
    for item in app.store.get_many(&keys).await? {
        let listing = repo::decode::<Listing>(&item)?.value;
        listings.insert(listing.id.to_string(), listing);
    }
    let rate = super::listings::fee_rate(app, now).await?;
    let items = shown
        .winners
        .iter()
        .filter_map(|id| listings.get(id))
        .filter(|l| l.status_at(now).0 == ListingStatus::Active)
        .map(|l| ListingView::new(l, rate, now))
        .collect();
    Ok(FeaturedView {
        section: section_name.to_owned(),
        starts_at: Some(shown.starts_at),
        ends_at: Some(shown.ends_at),
        items,
        next_cursor: None,
    })
}
