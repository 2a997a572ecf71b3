//! The due index (gsi5), as the sweep reads it: hourly buckets of [`shards::DUE`]
//! partitions each, and beside them one marker per hour that holds (or held) something,
//! so that the sweep queries the shards of those hours only, never of every hour between
//! its cursor and now (after a long pause: a day's 24 × 128 queries for nothing).
//!
//! A marker is written before the first transaction of a process that files an entry in
//! its hour (`App::transact`), and remembered by the process (`caches`), so each process
//! marks an hour once: the markers of the current hour take one write per process, not
//! one per sale. They are kept by day over [`shards::DUE_MARKERS`] partitions
//! (`DUEHOURS#{day}~{k}` / hour, k at random), so that thousands of processes marking the
//! hour that just began do not all write one item; the sweep reads every one of them.
use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};

use crate::repo::{bucket_of, due_bucket, time_key};
use crate::shards;
use crate::store::{Index, Query, SkRange, StoreError, Write};
use crate::App;

/// How long a marker is kept after its hour (far longer than anything stays due in one
/// bucket: an item that fails moves to a later one).
const MARKER_KEPT: Duration = Duration::days(400);

fn day_partition(day: &str) -> String {
    format!("DUEHOURS#{day}")
}

/// The marker of a due bucket (`DUE#{hour}`), in marker shard `k`.
fn marker_key(bucket: &str, k: u32) -> Option<(String, String)> {
    let hour = bucket.strip_prefix("DUE#")?;
    let day = hour.split('T').next()?;
    Some((shards::sharded(&day_partition(day), k), hour.to_owned()))
}

fn hour_of_bucket(bucket: &str) -> Option<DateTime<Utc>> {
    let hour = bucket.strip_prefix("DUE#")?;
    let at = NaiveDateTime::parse_from_str(&format!("{hour}:00:00"), "%Y-%m-%dT%H:%M:%S").ok()?;
    Some(Utc.from_utc_datetime(&at))
}

/// Marks the hours the due entries of `writes` are filed in that this process has not
/// marked yet. Before the writes: a marker of an hour whose entry then fails to commit
/// only costs the sweep a look.
pub(crate) async fn mark(app: &App, writes: &[Write]) -> Result<(), StoreError> {
    let buckets: BTreeSet<String> = writes
        .iter()
        .filter_map(|w| match w {
            Write::Put(item, _) => item.indexes.get(&Index::Gsi5),
            _ => None,
        })
        .map(|(partition, _)| bucket_of(partition).to_owned())
        .collect();
    let unmarked: Vec<String> = {
        let marked = app.caches.due_hours.lock().expect("due hours");
        buckets
            .into_iter()
            .filter(|b| !marked.contains(b))
            .collect()
    };
    if unmarked.is_empty() {
        return Ok(());
    }
    let marks = unmarked.iter().filter_map(|bucket| {
        let k = shards::shard_of(&app.ulid().to_string(), shards::DUE_MARKERS);
        let (pk, sk) = marker_key(bucket, k)?;
        let ttl = hour_of_bucket(bucket).map(|h| (h + MARKER_KEPT).timestamp());
        Some(async move { app.store.increment(&pk, &sk, u64::MAX, ttl).await })
    });
    futures::future::try_join_all(marks).await?;
    app.caches
        .due_hours
        .lock()
        .expect("due hours")
        .extend(unmarked);
    Ok(())
}

/// The hours from `from` to `to` (both included) whose buckets were marked, in order.
pub(crate) async fn marked_hours(
    app: &App,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let (first, last) = (due_bucket(from), due_bucket(to));
    let (first, last) = (&first["DUE#".len()..], &last["DUE#".len()..]);
    let mut days = Vec::new();
    let mut day = from.date_naive();
    while day <= to.date_naive() {
        days.push(day_partition(&day.format("%Y-%m-%d").to_string()));
        day += Duration::days(1);
    }
    // One day's marker shards at once; a long pause reads day after day.
    let mut hours = BTreeSet::new();
    for family in days {
        let reads = shards::all(&family, shards::DUE_MARKERS).map(|partition| async move {
            let mut query = Query::table(partition);
            query.range = SkRange::Between(first.to_owned(), last.to_owned());
            query.limit = 24;
            let mut found = Vec::new();
            loop {
                let page = app.store.query(query.clone()).await?;
                found.extend(
                    page.items
                        .iter()
                        .filter_map(|i| hour_of_bucket(&format!("DUE#{}", i.sk))),
                );
                match page.next {
                    Some(next) if !page.items.is_empty() => query.after = Some(next),
                    _ => return Ok::<_, StoreError>(found),
                }
            }
        });
        for found in futures::future::try_join_all(reads).await? {
            hours.extend(found);
        }
    }
    Ok(hours.into_iter().collect())
}

/// The queries of every shard of one hour's bucket, for the entries due by `now` (and
/// at `since` or later, when given).
pub(crate) fn shard_queries(
    hour: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<Query> {
    let bucket = due_bucket(hour);
    let low = since.map_or_else(|| "0".to_owned(), time_key);
    shards::all(&bucket, shards::DUE)
        .map(|partition| {
            let mut query = Query::index(Index::Gsi5, partition);
            query.range = SkRange::Between(low.clone(), format!("{}~", time_key(now)));
            query
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_is_marked_under_its_day_and_read_back_as_its_hour() {
        let hour: DateTime<Utc> = "2026-12-07T18:00:00Z".parse().unwrap();
        let bucket = due_bucket(hour + Duration::minutes(42));
        assert_eq!(
            marker_key(&bucket, 3),
            Some((
                "DUEHOURS#2026-12-07~3".to_owned(),
                "2026-12-07T18".to_owned()
            ))
        );
        assert_eq!(hour_of_bucket(&bucket), Some(hour));
        assert_eq!(shard_queries(hour, None, hour).len(), shards::DUE as usize);
    }
}
