//! How an order is kept. A small order is one item (`ORDER#{id}` / `O`) with its lines in
//! it. An order of more than [`INLINE_LINES`] lines keeps a header there (the order without
//! its lines, and how many it has) and its lines apart, [`LINES_PER_PAGE`] to an item
//! (`ORDER#{id}` / `L#{page}`), so that a delivery batch or a refund writes the header and
//! the pages of the lines it changed, never the whole order (a 500-domain order of long
//! names is ~125 KB: rewritten by each of its 50 delivery batches it cost ~12,500 WCU).
//!
//! Every write of an order is conditional on the header's version; its pages are written in
//! the same transaction on no condition of their own (`Expect::Any`), which the header's
//! guards. A new order is its header and all its pages in one transaction (50 pages at
//! most: O2's 500 domains), so an order is seen whole or not at all.
use serde::{Deserialize, Serialize};

use crate::repo::{self, order_key, Versioned};
use crate::store::{Expect, Item, Query, SkRange, Store, Write};
use crate::{AppError, AppResult};
use market_core::ids::OrderId;
use market_core::model::{Order, OrderItem};

/// The most lines an order keeps in its own item.
pub const INLINE_LINES: usize = 50;

/// Lines to an item when they are apart: a delivery batch (10 domains) changes one or two.
pub const LINES_PER_PAGE: usize = 10;

/// Pages read in one query (a 500-line order of long names is ~125 KB: one query).
const PAGES_PER_QUERY: usize = 100;

const LINE_PREFIX: &str = "L#";

/// The header as stored: the order (its lines in it, or none when they are apart) and the
/// number of lines kept apart.
#[derive(Serialize, Deserialize)]
struct Header {
    #[serde(flatten)]
    order: Order,
    #[serde(default, skip_serializing_if = "is_zero")]
    lines_apart: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Whether `order` keeps its lines as items of their own.
pub fn lines_apart(order: &Order) -> bool {
    order.items.len() > INLINE_LINES
}

fn page_key(id: &OrderId, page: usize) -> (String, String) {
    (order_key(id).0, format!("{LINE_PREFIX}{page:03}"))
}

fn page_item(id: &OrderId, page: usize, lines: &[OrderItem]) -> Item {
    let (pk, sk) = page_key(id, page);
    Item::new(pk, sk, repo::body(&lines))
}

/// The pages of `order`'s lines, as writes (no condition of their own), those of `only`.
fn page_writes(order: &Order, only: impl Fn(usize) -> bool) -> Vec<Write> {
    order
        .items
        .chunks(LINES_PER_PAGE)
        .enumerate()
        .filter(|(page, _)| only(*page))
        .map(|(page, lines)| Write::Put(page_item(&order.id, page, lines), Expect::Any))
        .collect()
}

/// The order's own item: the whole order, or its header when its lines are apart.
pub fn header_item(order: &Order) -> Item {
    let mut item = repo::order_item(order);
    if lines_apart(order) {
        let header = Header {
            order: Order {
                items: Vec::new(),
                ..order.clone()
            },
            lines_apart: order.items.len(),
        };
        item.body = repo::body(&header);
    }
    item
}

/// The writes of a new order, for one transaction: its header, absent until now, and its
/// pages when its lines are apart ([`writes_of_new`] of them at most).
pub fn new_order(order: &Order) -> Vec<Write> {
    let mut writes = vec![Write::Put(header_item(order), Expect::Absent)];
    if lines_apart(order) {
        writes.extend(page_writes(order, |_| true));
    }
    writes
}

/// How many writes [`new_order`] makes for an order of `lines` lines.
pub fn writes_of_new(lines: usize) -> usize {
    match lines > INLINE_LINES {
        true => 1 + lines.div_ceil(LINES_PER_PAGE),
        false => 1,
    }
}

/// The writes of `next`, read as `read`: the header, on the condition that it has not
/// changed since, and the pages of the lines that changed.
pub fn update(next: &Order, read: &Versioned<Order>) -> Vec<Write> {
    let mut writes = vec![Write::Put(header_item(next), read.expect())];
    if lines_apart(next) {
        let changed = |page: usize| {
            let lines = page * LINES_PER_PAGE..((page + 1) * LINES_PER_PAGE).min(next.items.len());
            read.value.items.get(lines.clone()) != next.items.get(lines)
        };
        writes.extend(page_writes(next, changed));
    }
    writes
}

/// Reads an order whole: its item, and its lines when they are apart.
pub async fn load(store: &dyn Store, id: &OrderId) -> AppResult<Option<Versioned<Order>>> {
    let (pk, sk) = order_key(id);
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(None);
    };
    whole(store, &item).await.map(Some)
}

/// An order from its own item (read alone, or from a list's query), its lines read when
/// they are apart.
pub async fn whole(store: &dyn Store, item: &Item) -> AppResult<Versioned<Order>> {
    let header: Versioned<Header> = repo::decode(item)?;
    let Versioned {
        value: Header {
            mut order,
            lines_apart: kept_apart_count,
        },
        version,
    } = header;
    if kept_apart_count > 0 {
        order.items = lines(store, &order.id, kept_apart_count).await?;
    } else if lines_apart(&order) {
        return kept_apart(store, order, version).await;
    }
    Ok(Versioned {
        value: order,
        version,
    })
}

/// A large order written before lines were kept apart (all its lines in its item): its
/// pages written and its item made a header, once, on the condition that it has not
/// changed (else it is read again), so that later writes of a page or two find the rest.
async fn kept_apart(store: &dyn Store, order: Order, version: u64) -> AppResult<Versioned<Order>> {
    let mut writes = vec![Write::Put(header_item(&order), Expect::Version(version))];
    writes.extend(page_writes(&order, |_| true));
    match store.transact(writes).await {
        Ok(()) => {
            tracing::info!(order = %order.id, lines = order.items.len(), "an order written whole before now keeps its lines apart");
            Ok(Versioned {
                value: order,
                version: version + 1,
            })
        }
        Err(crate::store::StoreError::Conflict { .. }) => {
            let (pk, sk) = order_key(&order.id);
            let item = store.get(&pk, &sk).await?.ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("order {} vanished", order.id))
            })?;
            let header: Versioned<Header> = repo::decode(&item)?;
            let mut reread = header.value.order;
            if header.value.lines_apart > 0 {
                reread.items = lines(store, &reread.id, header.value.lines_apart).await?;
            }
            Ok(Versioned {
                value: reread,
                version: header.version,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The `count` lines kept apart of order `id`, in order.
async fn lines(store: &dyn Store, id: &OrderId, count: usize) -> AppResult<Vec<OrderItem>> {
    let mut query = Query::table(order_key(id).0);
    query.range = SkRange::Prefix(LINE_PREFIX.to_owned());
    query.limit = PAGES_PER_QUERY;
    let mut lines = Vec::with_capacity(count);
    loop {
        let page = store.query(query.clone()).await?;
        for item in &page.items {
            lines.extend(repo::decode::<Vec<OrderItem>>(item)?.value);
        }
        match page.next {
            Some(next) if !page.items.is_empty() => query.after = Some(next),
            _ => break,
        }
    }
    if lines.len() != count {
        return Err(AppError::Internal(anyhow::anyhow!(
            "order {id} has {} of its {count} lines",
            lines.len()
        )));
    }
    Ok(lines)
}
