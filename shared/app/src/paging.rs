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
