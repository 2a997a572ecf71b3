//! The same marketplace on DynamoDB's API (moto): the sale end to end and the race.
use std::sync::Arc;

use market_tests::client::spawn_app_on_dynamo;
use rust_decimal::Decimal;

use crate::helpers::*;
use crate::race::{assert_one_winner, race_for_one_listing};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sale_end_to_end_on_dynamodb() {
    let app = spawn_app_on_dynamo().await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "dyn.com", "250.00").await;
    let placed = app.order("bob", &["dyn.com"]).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay("bob", &id).await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "completed"
    );
    let ledger = app.get("/me/ledger", Some("alice")).await.body;
    assert_eq!(ledger["balances"]["frozen"], "247.50");
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_buyers_race_on_dynamodb_and_exactly_one_wins() {
    let app = Arc::new(spawn_app_on_dynamo().await);
    alice_and_bob(&app).await;
    orderable_listing(&app, "contested.com", "88.00").await;
    let outcomes = race_for_one_listing(app.clone(), 20).await;
    assert_one_winner(&app, &outcomes, 20).await;
}
