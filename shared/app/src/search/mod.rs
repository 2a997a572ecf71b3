//! The market's search (Q1): `GET /listings` runs on the search engine, never on a table
//! partition every request shares; the engine is fed from the table (`feed`) and can be
//! rebuilt from it (`rebuild`). What a search shows may lag the table by seconds; ordering
//! reads the listing itself again (O1).
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use market_core::model::Listing;
use market_core::search::name::{Charset, NameTraits};
use market_core::search::query::{Facet, SearchParams, SearchQuery, WINDOW};

use crate::views::ListingView;
use crate::{App, AppError, AppResult};

pub mod feed;
pub mod rebuild;

/// One listing found: the listing view and what search knows of its name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SearchItem)]
pub struct SearchItemView {
    #[serde(flatten)]
    pub listing: ListingView,
    /// Characters of the name without its TLD (`abc.com` → 3; an IDN in Unicode).
    pub length: u32,
    /// `digits`, `letters`, `alnum`, `hyphen` or `idn`.
    #[schema(value_type = String, example = "letters")]
    pub charset: Charset,
    /// For a name of letters that splits into pinyin syllables: the fewest it splits into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinyin_syllables: Option<u8>,
}

/// How many matches have one value of a facet.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FacetCount {
    /// The TLD, the length (a number) or the charset word (`pinyin` among them).
    #[schema(value_type = serde_json::Value)]
    pub value: serde_json::Value,
    pub count: u64,
}

/// A page of search results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SearchPage)]
pub struct SearchPageView {
    pub items: Vec<SearchItemView>,
    /// The cursor of the next page; null on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// How many listings match (exact up to 10,000).
    pub total: u64,
    /// True when more than 10,000 match: `total` is then 10,000.
    pub total_is_lower_bound: bool,
    /// The facets asked for (`facets=`), counted over every match, not only the page.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub facets: BTreeMap<String, Vec<FacetCount>>,
}

impl SearchItemView {
    pub fn new(listing: &Listing, fee_rate: rust_decimal::Decimal, now: DateTime<Utc>) -> Self {
        let traits = NameTraits::of(&listing.domain);
        SearchItemView {
            listing: ListingView::new(listing, fee_rate, now),
            length: traits.length,
            charset: traits.charset,
            pinyin_syllables: traits.syllables,
        }
    }
}

/// `GET /listings`: the parameters checked (`INVALID_QUERY`), planned and run on the
/// engine; the page's listings come from the index (no table read), shown as of now.
pub async fn search(app: &App, params: &SearchParams) -> AppResult<SearchPageView> {
    let query = SearchQuery::parse(params)?;
    let now = app.now();
    let plan = query.plan(now);
    let (hits, rate) = futures::join!(
        app.search.search(&plan),
        crate::listings::fee_rate(app, now)
    );
    let hits = hits.map_err(feed::from_search)?;
    let rate = rate?;
    let items = hits
        .listings
        .iter()
        .map(|json| {
            serde_json::from_str::<Listing>(json)
                .map(|l| SearchItemView::new(&l, rate, now))
                .map_err(|e| AppError::Internal(anyhow::anyhow!("a corrupt search document: {e}")))
        })
        .collect::<AppResult<Vec<_>>>()?;
    let facets = hits
        .facets
        .into_iter()
        .map(|(facet, counts)| {
            let counts = counts
                .into_iter()
                .map(|(value, count)| FacetCount {
                    value: match facet {
                        Facet::Length => value
                            .parse::<u64>()
                            .map_or(serde_json::Value::String(value), serde_json::Value::from),
                        _ => serde_json::Value::String(value),
                    },
                    count,
                })
                .collect();
            (facet.as_str().to_owned(), counts)
        })
        .collect();
    Ok(SearchPageView {
        items,
        next_cursor: query.next_cursor(hits.total),
        total: hits.total.min(WINDOW as u64),
        total_is_lower_bound: hits.total > WINDOW as u64,
        facets,
    })
}
