//! The search engine (Q1): an index of the listings the market shows, fed from the table
//! (never from a request) and asked with the core's engine-neutral plan. Adapters: Tantivy
//! embedded beside the local store, OpenSearch in the cloud (`market-adapters::search`).
use async_trait::async_trait;

use market_core::search::doc::SearchDoc;
use market_core::search::query::{Facet, Plan};

/// One change to the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchChange {
    /// Adds the document or replaces the one with its id, unless the engine holds a newer
    /// version of it (or removed a newer one).
    Put(SearchDoc),
    /// Removes the document with this id (absent: nothing to do), unless the engine holds
    /// a newer version of it.
    Remove { id: String, version: u64 },
}

/// What a search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hits {
    /// The page's listings as the index keeps them (JSON of `Listing`), in order.
    pub listings: Vec<String>,
    /// How many documents match (at least [`market_core::search::query::WINDOW`] when
    /// there are more: engines need not count further).
    pub total: u64,
    /// For each facet asked for: its values and how many matches have each, most first.
    pub facets: Vec<(Facet, Vec<(String, u64)>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The engine refused for load (OpenSearch 429): the caller may retry.
    #[error("the search engine is busy: {0}")]
    Busy(String),
    #[error("the search engine failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Applies the changes; once it returns, searches see them.
    async fn apply(&self, changes: Vec<SearchChange>) -> Result<(), SearchError>;
    /// Runs a plan.
    async fn search(&self, plan: &Plan) -> Result<Hits, SearchError>;
    /// How many documents the index holds.
    async fn count(&self) -> Result<u64, SearchError>;
}
