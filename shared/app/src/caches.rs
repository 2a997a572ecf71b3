//! What one process keeps between requests, so that no request of a hot path reads an
//! item every request shares (one partition key takes 3,000 reads a second at most):
//! - the operator's settings every sale or view reads (the fee schedules, the listing
//!   categories), kept for at most [`SETTINGS_TTL`]: S5 announces every rate change in
//!   advance, and a period a process has not seen yet is at most that old;
//! - the due index's hours this process has marked as holding something, so that it marks
//!   each hour once (`due_index`).
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::store::{Item, StoreError};
use crate::App;

/// How long a process uses a settings item it read before reading it again.
pub const SETTINGS_TTL: Duration = Duration::seconds(60);

/// A settings item as read (absent: none is stored) and when.
type Kept = (DateTime<Utc>, Option<Item>);

/// A process's caches (see the module's doc). Empty at start.
#[derive(Default)]
pub struct Caches {
    settings: Mutex<HashMap<(String, String), Kept>>,
    pub(crate) due_hours: Mutex<HashSet<String>>,
}

impl Caches {
    /// Forgets a settings item (this process just wrote it).
    pub fn forget(&self, key: &(String, String)) {
        self.settings.lock().expect("settings cache").remove(key);
    }
}

/// The settings items at `keys`, from this process's cache while younger than
/// [`SETTINGS_TTL`] by the app's clock, else read (all the stale ones in one request).
pub async fn settings(
    app: &App,
    keys: &[(String, String)],
) -> Result<Vec<Option<Item>>, StoreError> {
    let now = app.now();
    let fresh = |at: &DateTime<Utc>| *at <= now && now - *at < SETTINGS_TTL;
    let stale: Vec<(String, String)> = {
        let cache = app.caches.settings.lock().expect("settings cache");
        keys.iter()
            .filter(|k| !cache.get(*k).is_some_and(|(at, _)| fresh(at)))
            .cloned()
            .collect()
    };
    if !stale.is_empty() {
        let found = app.store.get_many(&stale).await?;
        let mut cache = app.caches.settings.lock().expect("settings cache");
        for key in stale {
            let item = found
                .iter()
                .find(|i| i.pk == key.0 && i.sk == key.1)
                .cloned();
            cache.insert(key, (now, item));
        }
    }
    let cache = app.caches.settings.lock().expect("settings cache");
    Ok(keys
        .iter()
        .map(|k| cache.get(k).and_then(|(_, item)| item.clone()))
        .collect())
}

/// One settings item (see [`settings`]).
pub async fn setting(app: &App, key: (String, String)) -> Result<Option<Item>, StoreError> {
    Ok(settings(app, &[key]).await?.pop().flatten())
}
