//! Lists read through a filter at a bounded cost: fixed-size store pages, a fixed number of
//! them per request, and a cursor made from the last entry examined. A filter that matches
//! nothing costs at most [`MAX_PAGES`] queries and answers a short (even empty) page with a
//! cursor to read on; a filter that matches early stops inside a page and resumes there.
use super::views::PageView;
use super::{App, AppResult};
use crate::store::{Item, Query};

/// Store pages one list request reads at most.
pub const MAX_PAGES: usize = 2;
/// Entries per store page when a filter may drop some (a page without a filter reads only
/// what it answers).
pub const FILTERED_PAGE: usize = 200;

/// Reads up to `limit` entries of `query` that `keep` maps to a value. `filtering` says
/// whether `keep` may drop entries (then pages are [`FILTERED_PAGE`] entries, else `limit`).
pub async fn filtered<T>(
    app: &App,
    mut query: Query,
    limit: usize,
    filtering: bool,
    mut keep: impl FnMut(&Item) -> AppResult<Option<T>>,
) -> AppResult<PageView<T>> {
    let page_size = if filtering {
        FILTERED_PAGE.max(limit)
    } else {
        limit
    };
    let mut items = Vec::new();
    for pages in 1..=MAX_PAGES {
        query.limit = page_size;
        let page = app.store.query(query.clone()).await?;
        for (at, item) in page.items.iter().enumerate() {
            if let Some(value) = keep(item)? {
                items.push(value);
            }
            let last_of_page = at + 1 == page.items.len();
            if items.len() == limit && !last_of_page {
                // Enough, inside the page: resume right after this entry.
                let next_cursor = Some(app.store.cursor_after(&query, item)?);
                return Ok(PageView { items, next_cursor });
            }
        }
        match page.next {
            Some(next) if items.len() < limit && pages < MAX_PAGES && !page.items.is_empty() => {
                query.after = Some(next)
            }
            next_cursor => return Ok(PageView { items, next_cursor }),
        }
    }
    unreachable!("the loop returns on its last page")
}

/// Where a merged list stands in each of its partitions.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct MergedCursor {
    /// Per partition: the store cursor to read on from (`None`: from its start).
    after: Vec<Option<String>>,
    /// Per partition: read to its end.
    done: Vec<bool>,
}

fn bad_cursor() -> crate::AppError {
    market_core::error::Problem::new(
        market_core::error::Code::InvalidRequest,
        "the cursor is not one this list gave out",
    )
    .into()
}

/// [`filtered`] over one list kept in several partitions of an index (a sharded family):
/// each round reads a page of every partition not read to its end, at once, and merges
/// them by the index's sort key, as far as every partition's page reaches (an entry past
/// the end of a page with more behind it could be preceded by one not read yet). At most
/// [`MAX_PAGES`] rounds; the cursor holds each partition's place. With `full_pages`, every
/// partition reads a whole page each round, so that a page is short only at the list's end
/// (the partition the merge stops at gave that many entries); without, each reads its share
/// of a page and a page may come short with a cursor to read on.
pub async fn merged<T>(
    app: &App,
    queries: Vec<Query>,
    (limit, filtering, full_pages): (usize, bool, bool),
    mut keep: impl FnMut(&Item) -> AppResult<Option<T>>,
    cursor: Option<&str>,
) -> AppResult<PageView<T>> {
    use base64::Engine;
    let codec = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let n = queries.len();
    let mut at = match cursor {
        None => MergedCursor {
            after: vec![None; n],
            done: vec![false; n],
        },
        Some(text) => codec
            .decode(text)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<MergedCursor>(&bytes).ok())
            .filter(|c| c.after.len() == n && c.done.len() == n)
            .ok_or_else(bad_cursor)?,
    };
    let forward = queries.first().is_none_or(|q| q.forward);
    let wanted = if filtering {
        FILTERED_PAGE.max(limit)
    } else {
        limit
    };
    // Enough per partition for a full page when the list is spread evenly over them.
    let per_partition = match full_pages {
        true => wanted.max(1),
        false => (wanted.div_ceil(n.max(1)) + 2).min(wanted.max(1)),
    };
    let sort_key = |query: &Query, item: &Item| -> String {
        match query.index {
            Some(index) => item
                .indexes
                .get(&index)
                .map(|(_, sk)| sk.clone())
                .unwrap_or_default(),
            None => item.sk.clone(),
        }
    };
    let mut items = Vec::new();
    for _ in 0..MAX_PAGES {
        let reads = (0..n).filter(|p| !at.done[*p]).map(|p| {
            let mut query = queries[p].clone();
            query.limit = per_partition;
            query.after = at.after[p].clone();
            async move { app.store.query(query).await.map(|page| (p, page)) }
        });
        let pages = futures::future::try_join_all(reads).await?;
        // How far the merge may go: the nearest end of a page with more behind it.
        let frontier = pages
            .iter()
            .filter(|(_, page)| page.next.is_some() && !page.items.is_empty())
            .filter_map(|(p, page)| page.items.last().map(|i| sort_key(&queries[*p], i)))
            .reduce(|a, b| if forward { a.min(b) } else { a.max(b) });
        let queries = &queries;
        let mut candidates: Vec<(String, usize, &Item)> = pages
            .iter()
            .flat_map(|(p, page)| {
                page.items
                    .iter()
                    .map(move |i| (sort_key(&queries[*p], i), *p, i))
            })
            .collect();
        candidates.sort_by(|a, b| {
            let order = a.0.cmp(&b.0).then(a.1.cmp(&b.1));
            if forward {
                order
            } else {
                order.reverse()
            }
        });
        let mut consumed = vec![0usize; n];
        let mut full = false;
        for (key, p, item) in &candidates {
            let beyond = frontier
                .as_ref()
                .is_some_and(|f| if forward { key > f } else { key < f });
            if beyond || full {
                break;
            }
            if let Some(value) = keep(item)? {
                items.push(value);
            }
            consumed[*p] += 1;
            let mut query = queries[*p].clone();
            query.after = at.after[*p].clone();
            at.after[*p] = Some(app.store.cursor_after(&query, item)?);
            full = items.len() == limit;
        }
        for (p, page) in &pages {
            match &page.next {
                None if consumed[*p] == page.items.len() => at.done[*p] = true,
                // A page with nothing on it but more behind: read on from there.
                Some(next) if page.items.is_empty() => at.after[*p] = Some(next.clone()),
                _ => {}
            }
        }
        if full || at.done.iter().all(|d| *d) {
            break;
        }
    }
    let next_cursor = if at.done.iter().all(|d| *d) {
        None
    } else {
        let json = serde_json::to_vec(&at).map_err(|e| crate::AppError::Internal(e.into()))?;
        Some(codec.encode(json))
    };
    Ok(PageView { items, next_cursor })
}
