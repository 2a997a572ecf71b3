//! One contract for both store adapters: the same test bodies run against the embedded
//! store and against DynamoDB's API (moto, started by the tests; they fail if it cannot).
use std::collections::BTreeSet;
use std::sync::Arc;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::store::{Expect, Index, Item, Query, SkRange, Store, StoreError, Write};
use market_tests::moto::fresh_table_store;

fn item(pk: &str, sk: &str, body: &str) -> Item {
    Item::new(pk, sk, body.to_owned())
}

fn put_new(item: Item) -> Write {
    Write::Put(item, Expect::Absent)
}

async fn all_pages(store: &dyn Store, mut query: Query) -> Vec<Item> {
    let mut out = Vec::new();
    loop {
        let page = store.query(query.clone()).await.unwrap();
        out.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return out,
        }
    }
}

async fn absent_condition_creates_once(store: Arc<dyn Store>) {
    store
        .transact(vec![put_new(item("A#1", "x", "first"))])
        .await
        .unwrap();
    let again = store
        .transact(vec![put_new(item("A#1", "x", "second"))])
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { ref failed }) if failed == &vec![0]),
        "{again:?}"
    );
    let got = store.get("A#1", "x").await.unwrap().unwrap();
    assert_eq!((got.body.as_str(), got.version), ("first", 1));
}

async fn version_condition_guards_updates(store: Arc<dyn Store>) {
    store
        .transact(vec![put_new(item("A#1", "x", "v1"))])
        .await
        .unwrap();
    store
        .transact(vec![Write::Put(item("A#1", "x", "v2"), Expect::Version(1))])
        .await
        .unwrap();
    let stale = store
        .transact(vec![Write::Put(
            item("A#1", "x", "stale"),
            Expect::Version(1),
        )])
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict { .. })));
    let got = store.get("A#1", "x").await.unwrap().unwrap();
    assert_eq!((got.body.as_str(), got.version), ("v2", 2));
    let missing = store
        .transact(vec![Write::Put(item("A#2", "x", "v"), Expect::Version(1))])
        .await;
    assert!(matches!(missing, Err(StoreError::Conflict { .. })));
}

async fn transactions_are_all_or_nothing_and_name_the_failed_writes(store: Arc<dyn Store>) {
    store
        .transact(vec![put_new(item("B#1", "x", "taken"))])
        .await
        .unwrap();
    let tx = vec![
        put_new(item("B#0", "x", "a")),
        put_new(item("B#1", "x", "b")),
        put_new(item("B#2", "x", "c")),
        Write::Check {
            pk: "B#9".into(),
            sk: "x".into(),
            expect: Expect::Version(1),
        },
    ];
    match store.transact(tx).await {
        Err(StoreError::Conflict { failed }) => assert_eq!(failed, vec![1, 3]),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(store.get("B#0", "x").await.unwrap().is_none());
    assert!(store.get("B#2", "x").await.unwrap().is_none());
}

async fn checks_and_deletes_are_conditional(store: Arc<dyn Store>) {
    store
        .transact(vec![put_new(item("C#1", "x", "a"))])
        .await
        .unwrap();
    store
        .transact(vec![
            Write::Check {
                pk: "C#1".into(),
                sk: "x".into(),
                expect: Expect::Version(1),
            },
            put_new(item("C#2", "x", "b")),
        ])
        .await
        .unwrap();
    let wrong = store
        .transact(vec![Write::Delete {
            pk: "C#1".into(),
            sk: "x".into(),
            expect: Expect::Version(7),
        }])
        .await;
    assert!(matches!(wrong, Err(StoreError::Conflict { .. })));
    store
        .transact(vec![Write::Delete {
            pk: "C#1".into(),
            sk: "x".into(),
            expect: Expect::Version(1),
        }])
        .await
        .unwrap();
    assert!(store.get("C#1", "x").await.unwrap().is_none());
}

async fn invalid_transactions_are_refused_alike(store: Arc<dyn Store>) {
    let twice = store
        .transact(vec![
            put_new(item("D#1", "x", "a")),
            put_new(item("D#1", "x", "b")),
        ])
        .await;
    assert!(matches!(twice, Err(StoreError::Other(_))), "{twice:?}");
    let too_many: Vec<Write> = (0..101)
        .map(|i| put_new(item(&format!("D#{i}"), "x", "a")))
        .collect();
    assert!(matches!(
        store.transact(too_many).await,
        Err(StoreError::Other(_))
    ));
    let hundred: Vec<Write> = (0..100)
        .map(|i| put_new(item(&format!("E#{i}"), "x", "a")))
        .collect();
    store.transact(hundred).await.unwrap();
    let keys: Vec<(String, String)> = (0..105)
        .map(|i| (format!("E#{i}"), "x".to_owned()))
        .collect();
    assert_eq!(store.get_many(&keys).await.unwrap().len(), 100);
}

async fn table_queries_order_filter_and_page(store: Arc<dyn Store>) {
    let writes: Vec<Write> = (0..25)
        .map(|i| put_new(item("P#1", &format!("k{i:02}"), &i.to_string())))
        .collect();
    store.transact(writes).await.unwrap();
    store
        .transact(vec![put_new(item("P#2", "k00", "other"))])
        .await
        .unwrap();
    let mut q = Query::table("P#1");
    q.limit = 7;
    let all = all_pages(&*store, q.clone()).await;
    let sks: Vec<String> = all.iter().map(|i| i.sk.clone()).collect();
    let expected: Vec<String> = (0..25).map(|i| format!("k{i:02}")).collect();
    assert_eq!(sks, expected);
    q.forward = false;
    let back: Vec<String> = all_pages(&*store, q.clone())
        .await
        .into_iter()
        .map(|i| i.sk)
        .collect();
    assert_eq!(back, expected.iter().rev().cloned().collect::<Vec<_>>());
    q.forward = true;
    q.range = SkRange::Prefix("k1".into());
    assert_eq!(all_pages(&*store, q.clone()).await.len(), 10);
    q.range = SkRange::Between("k05".into(), "k09".into());
    let between: Vec<String> = all_pages(&*store, q.clone())
        .await
        .into_iter()
        .map(|i| i.sk)
        .collect();
    assert_eq!(between, vec!["k05", "k06", "k07", "k08", "k09"]);
}

async fn indexes_are_sparse_and_follow_updates(store: Arc<dyn Store>) {
    let a = item("I#1", "x", "a").indexed(Index::Gsi2, "MKT", "0005#a");
    let b = item("I#2", "x", "b").indexed(Index::Gsi2, "MKT", "0001#b");
    let c = item("I#3", "x", "c");
    store
        .transact(vec![put_new(a), put_new(b), put_new(c)])
        .await
        .unwrap();
    let listed: Vec<String> = all_pages(&*store, Query::index(Index::Gsi2, "MKT"))
        .await
        .into_iter()
        .map(|i| i.pk)
        .collect();
    assert_eq!(listed, vec!["I#2", "I#1"]);
    // Moving out of the index (a sold listing) removes it; a new key moves it.
    let sold = item("I#2", "x", "b sold");
    store
        .transact(vec![Write::Put(sold, Expect::Version(1))])
        .await
        .unwrap();
    let moved = item("I#1", "x", "a").indexed(Index::Gsi2, "MKT", "0009#a");
    store
        .transact(vec![Write::Put(moved, Expect::Version(1))])
        .await
        .unwrap();
    let listed = all_pages(&*store, Query::index(Index::Gsi2, "MKT")).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].indexes.get(&Index::Gsi2).map(|k| k.1.as_str()),
        Some("0009#a")
    );
    let mut ranged = Query::index(Index::Gsi2, "MKT");
    ranged.range = SkRange::Between("0000".into(), "0005#~".into());
    assert!(all_pages(&*store, ranged).await.is_empty());
}

async fn index_pages_visit_every_item_once(store: Arc<dyn Store>) {
    let writes: Vec<Write> = (0..30)
        .map(|i| {
            put_new(item(&format!("J#{i}"), "x", "j").indexed(
                Index::Gsi1,
                "SELLER#s",
                format!("{:03}#{i}", i % 7),
            ))
        })
        .collect();
    store.transact(writes).await.unwrap();
    let mut q = Query::index(Index::Gsi1, "SELLER#s");
    q.limit = 4;
    let seen: Vec<String> = all_pages(&*store, q)
        .await
        .into_iter()
        .map(|i| i.pk)
        .collect();
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (30, 30));
}

async fn a_foreign_cursor_is_refused(store: Arc<dyn Store>) {
    let mut q = Query::table("P#1");
    q.after = Some("not-a-cursor!".into());
    assert!(matches!(store.query(q).await, Err(StoreError::BadCursor)));
}

async fn forty_racing_writers_one_winner(store: Arc<dyn Store>) {
    store
        .transact(vec![put_new(item("R#1", "x", "free"))])
        .await
        .unwrap();
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let hold = item("R#1", "x", &format!("held by {i}"));
                let order = put_new(item(&format!("ORDER#{i}"), "O", "order"));
                store
                    .transact(vec![order, Write::Put(hold, Expect::Version(1))])
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => winners += 1,
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(winners, 1);
    let got = store.get("R#1", "x").await.unwrap().unwrap();
    assert_eq!(got.version, 2);
    let orders: usize = futures::future::join_all((0..40).map(|i| {
        let store = store.clone();
        async move {
            store
                .get(&format!("ORDER#{i}"), "O")
                .await
                .unwrap()
                .is_some() as usize
        }
    }))
    .await
    .into_iter()
    .sum();
    assert_eq!(orders, 1, "only the winner's order exists");
}

async fn increments_count_up_to_the_ceiling_and_no_further(store: Arc<dyn Store>) {
    for expected in 1..=3 {
        let count = store.increment("RATE#a", "R", 3, Some(1_900_000_000)).await;
        assert_eq!(count.unwrap(), Some(expected));
    }
    let refused = store.increment("RATE#a", "R", 3, Some(1_900_000_000)).await;
    assert_eq!(refused.unwrap(), None, "at the ceiling nothing is counted");
    let counter = store.get("RATE#a", "R").await.unwrap().unwrap();
    assert_eq!(counter.version, 3, "the count is the version");
    assert_eq!(counter.ttl, Some(1_900_000_000));
    let other = store.increment("RATE#b", "R", 3, None).await.unwrap();
    assert_eq!(other, Some(1), "each key counts on its own");
}

async fn sixty_concurrent_increments_count_exactly_to_the_ceiling(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..60)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.increment("RATE#race", "R", 25, None).await })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        // No lost races: every call is answered, counted or refused, never an error.
        if let Some(n) = task.await.unwrap().unwrap() {
            counts.push(n);
        }
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=25).collect::<Vec<u64>>(),
        "each count given out once"
    );
}

fn add(pk: &str, by: &str) -> Write {
    Write::Add {
        pk: pk.into(),
        sk: "S".into(),
        by: by.parse().unwrap(),
    }
}

async fn adds_keep_a_running_sum_in_a_transaction_or_alone(store: Arc<dyn Store>) {
    store.transact(vec![add("SUM#a", "10.25")]).await.unwrap();
    store
        .transact(vec![add("SUM#a", "-0.30"), put_new(item("X#1", "x", "x"))])
        .await
        .unwrap();
    let sum = store.get("SUM#a", "S").await.unwrap().unwrap();
    assert_eq!(
        market_app::store::sum_of(&sum).unwrap(),
        "9.95".parse().unwrap()
    );
    assert_eq!(sum.version, 2, "the version counts the adds");
    // A transaction that fails adds nothing.
    let refused = store
        .transact(vec![
            add("SUM#a", "100"),
            put_new(item("X#1", "x", "again")),
        ])
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict { .. })),
        "{refused:?}"
    );
    let sum = store.get("SUM#a", "S").await.unwrap().unwrap();
    assert_eq!(
        market_app::store::sum_of(&sum).unwrap(),
        "9.95".parse().unwrap()
    );
}

async fn thirty_concurrent_adds_lose_none(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                // As a use case does: a lost race (a conflict) is tried again.
                loop {
                    match store.transact(vec![add("SUM#race", "1.01")]).await {
                        Ok(()) => return,
                        Err(StoreError::Conflict { .. } | StoreError::Busy(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let sum = store.get("SUM#race", "S").await.unwrap().unwrap();
    assert_eq!(
        market_app::store::sum_of(&sum).unwrap(),
        "30.30".parse().unwrap()
    );
}

async fn a_cursor_after_an_item_resumes_right_after_it(store: Arc<dyn Store>) {
    let mut writes = Vec::new();
    for n in 0..7 {
        writes.push(put_new(item("P#1", &format!("s{n}"), "x").indexed(
            Index::Gsi2,
            "G",
            format!("k{n}"),
        )));
    }
    store.transact(writes).await.unwrap();
    for index in [None, Some(Index::Gsi2)] {
        let mut query = match index {
            None => Query::table("P#1"),
            Some(i) => Query::index(i, "G"),
        };
        query.limit = 5;
        let page = store.query(query.clone()).await.unwrap();
        // Stop inside the page, after its third item.
        query.after = Some(store.cursor_after(&query, &page.items[2]).unwrap());
        let rest = all_pages(&*store, query.clone()).await;
        let sks: Vec<&str> = rest.iter().map(|i| i.sk.as_str()).collect();
        assert_eq!(sks, ["s3", "s4", "s5", "s6"], "{index:?}");
        query.forward = false;
        query.after = None;
        let page = store.query(query.clone()).await.unwrap();
        query.after = Some(store.cursor_after(&query, &page.items[0]).unwrap());
        let rest = all_pages(&*store, query).await;
        assert_eq!(rest.len(), 6, "backwards too: {index:?}");
        assert_eq!(rest[0].sk, "s5");
    }
}

/// A scan (the search rebuild's) reads every item under a key prefix once, page by page,
/// and nothing else; a page may hold fewer than asked (DynamoDB filters after reading)
/// with a cursor to read on.
async fn scans_read_every_item_of_a_prefix_once(store: Arc<dyn Store>) {
    let mut writes = Vec::new();
    for n in 0..7 {
        writes.push(put_new(item(&format!("SCAN#{n}"), "L", "s")));
    }
    writes.push(put_new(item("SCAM#0", "L", "other")));
    writes.push(put_new(item("OTHER#0", "L", "other")));
    store.transact(writes).await.unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..20 {
        let page = store.scan("SCAN#", 2, cursor.clone()).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|i| i.pk.clone()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    seen.sort();
    let want: Vec<String> = (0..7).map(|n| format!("SCAN#{n}")).collect();
    assert_eq!(seen, want, "each once, nothing of another prefix");
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(Arc::new(EmbeddedStore::in_memory().unwrap())).await;
                }
            )*
        }
        mod dynamodb {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(Arc::new(fresh_table_store().await)).await;
                }
            )*
        }
    };
}

contract!(
    absent_condition_creates_once,
    version_condition_guards_updates,
    transactions_are_all_or_nothing_and_name_the_failed_writes,
    checks_and_deletes_are_conditional,
    invalid_transactions_are_refused_alike,
    table_queries_order_filter_and_page,
    indexes_are_sparse_and_follow_updates,
    index_pages_visit_every_item_once,
    a_foreign_cursor_is_refused,
    forty_racing_writers_one_winner,
    increments_count_up_to_the_ceiling_and_no_further,
    sixty_concurrent_increments_count_exactly_to_the_ceiling,
    a_cursor_after_an_item_resumes_right_after_it,
    adds_keep_a_running_sum_in_a_transaction_or_alone,
    thirty_concurrent_adds_lose_none,
    scans_read_every_item_of_a_prefix_once,
);

#[tokio::test]
async fn the_embedded_store_keeps_its_data_across_restarts() {
    let dir = std::env::temp_dir().join(format!("market-{}", ulid::Ulid::new()));
    let path = dir.join("m.redb");
    {
        let store = EmbeddedStore::open(&path).unwrap();
        store
            .transact(vec![put_new(item("K#1", "x", "kept"))])
            .await
            .unwrap();
    }
    let reopened = EmbeddedStore::open(&path).unwrap();
    assert_eq!(
        reopened.get("K#1", "x").await.unwrap().unwrap().body,
        "kept"
    );
    std::fs::remove_dir_all(dir).ok();
}
