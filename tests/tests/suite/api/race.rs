//! Races with real parallel requests: one listing, many buyers.
use std::collections::BTreeSet;
use std::sync::Arc;

use market_tests::{spawn_app, TestApp};

use crate::api::helpers::*;

/// `buyers` accounts order the same listing at once; returns the statuses and codes.
pub async fn race_for_one_listing(app: Arc<TestApp>, buyers: usize) -> Vec<(u16, String)> {
    for i in 0..buyers {
        app.trader(&format!("buyer{i}")).await;
    }
    let tasks: Vec<_> = (0..buyers)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let reply = app.order(&format!("buyer{i}"), &["contested.com"]).await;
                (reply.status, reply.code().to_owned())
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    outcomes
}

/// Exactly one order exists among all buyers, and exactly one was answered 201.
pub async fn assert_one_winner(app: &TestApp, outcomes: &[(u16, String)], buyers: usize) {
    let created = outcomes.iter().filter(|o| o.0 == 201).count();
    assert_eq!(created, 1, "{outcomes:?}");
    let losers: BTreeSet<&str> = outcomes
        .iter()
        .filter(|o| o.0 != 201)
        .map(|o| o.1.as_str())
        .collect();
    assert_eq!(losers, BTreeSet::from(["ORDER_PENDING"]), "{outcomes:?}");
    let mut orders = 0;
    for i in 0..buyers {
        orders += app.get("/me/orders", Some(&format!("buyer{i}"))).await.body["items"]
            .as_array()
            .unwrap()
            .len();
    }
    assert_eq!(orders, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_buyers_race_for_one_listing_and_exactly_one_gets_it() {
    let app = Arc::new(spawn_app().await);
    alice_and_bob(&app).await;
    orderable_listing(&app, "contested.com", "88.00").await;
    let outcomes = race_for_one_listing(app.clone(), 40).await;
    assert_one_winner(&app, &outcomes, 40).await;
}
