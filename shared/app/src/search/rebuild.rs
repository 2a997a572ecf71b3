//! Rebuilding the index from the table (Q1): every listing item read page by page (a scan
//! of the table, never on a buyer's path) and put into the index or removed from it. A
//! rebuild racing live changes is harmless (the index keeps the newest version).
//!
//! A rebuild is an item of the table (`SEARCH#rebuild`) holding where it is: an operator
//! starts it (`POST /admin/search/rebuild`), and each step indexes one page and writes the
//! cursor of the next. In the cloud every write of the item reaches the `indexer` function
//! through the table's stream, which takes the next step (only the indexer writes to the
//! engine); a step that fails is retried by the stream from the cursor kept. Locally the
//! request takes the steps itself.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ports::search::SearchChange;
use crate::repo::{self, load, Versioned};
use crate::search::feed::{change_of, from_search, listing_of, readable, SearchFeed};
use crate::store::{Expect, Item};
use crate::App;
use crate::AppResult;

/// The rebuild item's key.
pub fn rebuild_key() -> (String, String) {
    ("SEARCH#rebuild".to_owned(), "R".to_owned())
}

/// Whether a key is the rebuild item's (the indexer's stream filter passes it).
pub fn is_rebuild(pk: &str, sk: &str) -> bool {
    (pk, sk) == ("SEARCH#rebuild", "R")
}

/// Where a rebuild is.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rebuild {
    pub id: String,
    /// Where the next page starts; null once finished.
    #[schema(required = true)]
    pub cursor: Option<String>,
    pub pages: u64,
    /// Listings read so far.
    pub listings: u64,
    /// Of them, put into the index (the active ones).
    pub indexed: u64,
    pub started_at: DateTime<Utc>,
    #[schema(required = true)]
    pub finished_at: Option<DateTime<Utc>>,
}

/// The most listings one step reads.
pub const STEP: usize = 500;

fn rebuild_item(rebuild: &Rebuild) -> Item {
    let (pk, sk) = rebuild_key();
    Item::new(pk, sk, repo::body(rebuild))
}

/// Starts a rebuild from the start of the table (one already running starts over). With
/// the inline feed it runs to its end before this returns.
pub async fn start(app: &App) -> AppResult<Rebuild> {
    let now = app.now();
    let rebuild = Rebuild {
        id: format!("rbd_{}", app.ulid().to_string().to_lowercase()),
        cursor: None,
        pages: 0,
        listings: 0,
        indexed: 0,
        started_at: now,
        finished_at: None,
    };
    // On the version read (or absence), never on whatever is there: a step of the rebuild
    // this one replaces, still in flight, then fails its own condition instead of writing
    // over this one.
    let before = load::<Rebuild>(&*app.store, rebuild_key()).await?;
    let expect = before.map_or(Expect::Absent, |b| Expect::Version(b.version));
    app.write(vec![crate::store::Write::Put(
        rebuild_item(&rebuild),
        expect,
    )])
    .await?;
    tracing::info!(rebuild = %rebuild.id, "search rebuild started");
    if matches!(app.search_feed, SearchFeed::Inline(_)) {
        while step(app).await? {}
        return Ok(status(app).await?.unwrap_or(rebuild));
    }
    Ok(rebuild)
}

/// The rebuild last started, if any.
pub async fn status(app: &App) -> AppResult<Option<Rebuild>> {
    Ok(load::<Rebuild>(&*app.store, rebuild_key())
        .await?
        .map(|v| v.value))
}

/// Takes the next step of the rebuild under way: one page indexed and the cursor moved on
/// (on the condition that no other step moved it meanwhile). Returns whether steps remain.
pub async fn step(app: &App) -> AppResult<bool> {
    let Some(Versioned {
        value: mut rebuild,
        version,
    }) = load::<Rebuild>(&*app.store, rebuild_key()).await?
    else {
        return Ok(false);
    };
    if rebuild.finished_at.is_some() {
        return Ok(false);
    }
    let done = page(app, rebuild.cursor.clone(), STEP).await?;
    rebuild.pages += 1;
    rebuild.listings += done.listings as u64;
    rebuild.indexed += done.indexed as u64;
    rebuild.cursor = done.next_cursor;
    if rebuild.cursor.is_none() {
        rebuild.finished_at = Some(app.now());
        tracing::info!(rebuild = %rebuild.id, listings = rebuild.listings, indexed = rebuild.indexed, "search rebuild finished");
    }
    let more = rebuild.finished_at.is_none();
    match app
        .write(vec![crate::store::Write::Put(
            rebuild_item(&rebuild),
            Expect::Version(version),
        )])
        .await
    {
        Ok(()) => Ok(more),
        // Another step (a retried record, a restart) moved it first: that one goes on.
        Err(crate::store::StoreError::Conflict { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The most items a page reads.
pub const MAX_PAGE: usize = 1000;

/// What one page of a rebuild did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RebuildPage {
    /// Listings read.
    pub listings: usize,
    /// Put into the index (active ones).
    pub indexed: usize,
    /// Removed from it (sold, ended, delisted, taken down).
    pub removed: usize,
    /// Where the next page starts; null when the whole table was read.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// One page of a rebuild, from `cursor` (none: the start of the table).
pub async fn page(app: &App, cursor: Option<String>, limit: usize) -> AppResult<RebuildPage> {
    let page = app
        .store
        .scan("LISTING#", limit.clamp(1, MAX_PAGE), cursor)
        .await?;
    let mut changes = Vec::new();
    for item in &page.items {
        if let Some(id) = listing_of(&item.pk, &item.sk) {
            changes.extend(readable(&id, change_of(&id, Some(item))));
        }
    }
    let indexed = changes
        .iter()
        .filter(|c| matches!(c, SearchChange::Put(_)))
        .count();
    let listings = changes.len();
    for chunk in changes.chunks(500) {
        app.search
            .apply(chunk.to_vec())
            .await
            .map_err(from_search)?;
    }
    Ok(RebuildPage {
        listings,
        indexed,
        removed: listings - indexed,
        next_cursor: page.next,
    })
}

/// A whole rebuild in one go, keeping no item (the local runner's start when the index is
/// missing or stale).
pub async fn all(app: &App) -> AppResult<usize> {
    let mut cursor = None;
    let mut indexed = 0;
    loop {
        let page = page(app, cursor, MAX_PAGE).await?;
        indexed += page.indexed;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(indexed),
        }
    }
}
