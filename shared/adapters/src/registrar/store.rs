//! The local registrar core: the events it would receive, kept in the store under
//! `REGISTRAR#events` (sorted by their time-ordered ids), each written once by its id, so
//! an event published twice is recorded once. It can be made to fail the next N publishes
//! (like the sandbox provider's `fail_next`), to show a failed delivery retried.
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use market_app::ports::registrar::{Registrar, RegistrarEvent};
use market_app::repo::REGISTRAR_EVENTS;
use market_app::store::{Expect, Item, Query, Store, StoreError, Write};

/// Records the events in the store.
pub struct StoreRegistrar {
    store: Arc<dyn Store>,
    failing: AtomicU32,
}

impl StoreRegistrar {
    pub fn new(store: Arc<dyn Store>) -> StoreRegistrar {
        StoreRegistrar {
            store,
            failing: AtomicU32::new(0),
        }
    }

    /// The next `count` publishes fail (0 clears).
    pub fn fail_next(&self, count: u32) {
        self.failing.store(count, Ordering::SeqCst);
    }

    /// Every event recorded, oldest first (as JSON: `{type, domain, …, id, at}`).
    pub async fn events(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let mut query = Query::table(REGISTRAR_EVENTS);
        let mut events = Vec::new();
        loop {
            let page = self.store.query(query.clone()).await?;
            for item in &page.items {
                events.push(serde_json::from_str(&item.body)?);
            }
            match page.next {
                Some(next) if !page.items.is_empty() => query.after = Some(next),
                _ => break,
            }
        }
        Ok(events)
    }
}

#[async_trait]
impl Registrar for StoreRegistrar {
    async fn publish(&self, event: &RegistrarEvent) -> anyhow::Result<()> {
        let failing = self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            anyhow::bail!("the registrar core is failing (fail_next)");
        }
        let item = Item::new(
            REGISTRAR_EVENTS,
            event.id.clone(),
            serde_json::to_string(event)?,
        );
        match self
            .store
            .transact(vec![Write::Put(item, Expect::Absent)])
            .await
        {
            // Already recorded: the same event published again.
            Ok(()) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
