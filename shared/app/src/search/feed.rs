//! The feed from the table to the search index (Q1): every write that changes a listing
//! hands its id on once it committed, and the listing is read again and put into the index
//! (or removed from it). In the cloud the table's DynamoDB Stream is the feed (the `indexer`
//! function calls [`index`] for the listings of its records); locally the write does it
//! before it returns, and what fails is kept and retried ([`Retries`]). Reading the item
//! again, rather than trusting the record, makes a late or repeated change harmless: the
//! index keeps the newest version it was given.
use std::collections::BTreeSet;
use std::sync::Mutex;

use market_core::ids::ListingId;
use market_core::model::Listing;
use market_core::search::doc::SearchDoc;

use crate::ports::search::{SearchChange, SearchError};
use crate::repo;
use crate::store::{Expect, Item, Write};
use crate::{App, AppError, AppResult};

/// How the index learns of changes.
pub enum SearchFeed {
    /// The table's stream feeds the `indexer` function (the cloud).
    Stream,
    /// The write indexes what it changed before it returns (the local runner, tests);
    /// what fails waits here for [`retry`].
    Inline(Retries),
}

/// Listings whose indexing failed, to be tried again.
#[derive(Default)]
pub struct Retries(Mutex<BTreeSet<ListingId>>);

impl Retries {
    fn keep(&self, ids: impl IntoIterator<Item = ListingId>) {
        self.0.lock().expect("search retries").extend(ids);
    }

    fn take(&self) -> Vec<ListingId> {
        std::mem::take(&mut *self.0.lock().expect("search retries"))
            .into_iter()
            .collect()
    }

    /// How many listings wait.
    pub fn len(&self) -> usize {
        self.0.lock().expect("search retries").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The listing a key is the item of (`LISTING#<id>` / `L`).
pub fn listing_of(pk: &str, sk: &str) -> Option<ListingId> {
    let id = pk.strip_prefix("LISTING#")?;
    (sk == "L").then(|| ListingId::parse(id).ok()).flatten()
}

/// A listing a write changed, and its item as written with the version it took when the
/// write says (a put on a version or on absence); otherwise it is read again.
pub struct Changed {
    pub id: ListingId,
    pub written: Option<Item>,
}

/// The listings a set of writes changes.
pub fn changed_listings(writes: &[Write]) -> Vec<Changed> {
    writes
        .iter()
        .filter_map(|w| match w {
            Write::Put(item, expect) => listing_of(&item.pk, &item.sk).map(|id| {
                let version = match expect {
                    Expect::Absent => Some(1),
                    Expect::Version(v) => Some(v + 1),
                    _ => None,
                };
                let written = version.map(|version| Item {
                    version,
                    ..item.clone()
                });
                Changed { id, written }
            }),
            Write::Delete { pk, sk, .. } => {
                listing_of(pk, sk).map(|id| Changed { id, written: None })
            }
            _ => None,
        })
        .collect()
}

/// After a write committed: the inline feed indexes what it changed now, from the items
/// as written (no read), reading again only those whose new version the write leaves open.
pub async fn after_write(app: &App, changed: Vec<Changed>) {
    let SearchFeed::Inline(retries) = &app.search_feed else {
        return;
    };
    if changed.is_empty() {
        return;
    }
    let ids: Vec<ListingId> = changed.iter().map(|c| c.id.clone()).collect();
    let indexed = async {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for c in &changed {
            match &c.written {
                Some(item) => known.extend(readable(&c.id, change_of(&c.id, Some(item)))),
                None => unknown.push(c.id.clone()),
            }
        }
        app.search.apply(known).await.map_err(from_search)?;
        index(app, &unknown).await
    };
    if let Err(e) = indexed.await {
        tracing::error!(listings = ids.len(), first = %ids[0], error = %format!("{e:#}"), "indexing changed listings failed; kept for a retry");
        retries.keep(ids);
    }
}

/// Tries again what the inline feed could not index. Returns how many were indexed.
pub async fn retry(app: &App) -> usize {
    let SearchFeed::Inline(retries) = &app.search_feed else {
        return 0;
    };
    let ids = retries.take();
    if ids.is_empty() {
        return 0;
    }
    match index(app, &ids).await {
        Ok(()) => ids.len(),
        Err(e) => {
            tracing::warn!(listings = ids.len(), first = %ids[0], error = %format!("{e:#}"), "indexing still fails; kept for the next retry");
            retries.keep(ids);
            0
        }
    }
}

/// The change a listing's item (or its absence) makes to the index.
pub fn change_of(id: &ListingId, item: Option<&Item>) -> AppResult<SearchChange> {
    let Some(item) = item else {
        return Ok(SearchChange::Remove {
            id: id.to_string(),
            // Nothing is newer than its absence (OpenSearch takes versions up to i64::MAX).
            version: i64::MAX as u64,
        });
    };
    let listing = repo::decode::<Listing>(item)?;
    Ok(match SearchDoc::of(&listing.value, listing.version) {
        Some(doc) => SearchChange::Put(doc),
        None => SearchChange::Remove {
            id: id.to_string(),
            version: listing.version,
        },
    })
}

/// Reads the listings (strongly consistent: what was just committed) and puts or removes
/// their documents.
pub async fn index(app: &App, ids: &[ListingId]) -> AppResult<()> {
    for chunk in ids.chunks(100) {
        let keys: Vec<(String, String)> = chunk.iter().map(repo::listing_key).collect();
        let found = app.store.get_many(&keys).await?;
        let changes = chunk
            .iter()
            .filter_map(|id| {
                let (pk, sk) = repo::listing_key(id);
                readable(
                    id,
                    change_of(id, found.iter().find(|i| i.pk == pk && i.sk == sk)),
                )
            })
            .collect();
        app.search.apply(changes).await.map_err(from_search)?;
    }
    Ok(())
}

/// A change, or nothing (logged) for a listing item that cannot be read: one corrupt item
/// never holds up the others, or a rebuild, forever.
pub fn readable(id: &ListingId, change: AppResult<SearchChange>) -> Option<SearchChange> {
    match change {
        Ok(change) => Some(change),
        Err(e) => {
            tracing::error!(listing = %id, error = %format!("{e:#}"), "a listing item that cannot be read is left out of the search index");
            None
        }
    }
}

/// A search engine's failure as the app reports it: busy is a 503 to retry.
pub fn from_search(e: SearchError) -> AppError {
    match e {
        SearchError::Busy(detail) => market_core::error::Problem::busy(detail).into(),
        SearchError::Failed(detail) => AppError::Internal(anyhow::anyhow!(detail)),
    }
}
