//! The `pay-callback` Lambda handler on a real SQS event shape (from aws_lambda_events'
//! sample, `tests/fixtures/events/sqs-payments-batch.json`): partial batch failures name
//! exactly the records that failed; a malformed record is audited, not retried.
use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use market_tests::faults::FaultyStore;
use market_tests::scene::Scene;
use shared::app::repo;
use shared::core::model::{Payment, PaymentStatus};
use shared::store::embedded::EmbeddedStore;

#[tokio::test]
async fn a_batch_reports_only_the_records_that_failed() {
    let faulty = Arc::new(FaultyStore::new(
        Arc::new(EmbeddedStore::in_memory().unwrap()),
        1,
        0.0,
        0.0,
    ));
    let scene = Scene::over(faulty.clone());
    let paid = scene.paid_orders(2, 1, 2).await;
    let now = scene.app.now();
    let genuine =
        scene
            .sandbox
            .notification(&paid[0].out_trade_no, "TRADE_SUCCESS", paid[0].amount, now);
    let failing =
        scene
            .sandbox
            .notification(&paid[1].out_trade_no, "TRADE_SUCCESS", paid[1].amount, now);
    let template = std::fs::read_to_string(format!(
        "{}/fixtures/events/sqs-payments-batch.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let json = template
        .replace("{{GENUINE}}", &genuine)
        .replace("{{FAILING}}", &failing);
    let event: SqsEvent = serde_json::from_str(&json).unwrap();
    assert_eq!(event.records.len(), 3);
    faulty.poison(&format!("PAYMENT#{}", paid[1].out_trade_no));

    let response = fn_pay_callback::handle_batch(&scene.app, event.clone()).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["msg-3"]);
    let status = |otn: String| {
        let store = scene.app.store.clone();
        async move {
            repo::load::<Payment>(&*store, repo::payment_key(&otn))
                .await
                .unwrap()
                .unwrap()
                .value
                .status
        }
    };
    assert_eq!(
        status(paid[0].out_trade_no.clone()).await,
        PaymentStatus::Succeeded
    );
    assert_eq!(
        status(paid[1].out_trade_no.clone()).await,
        PaymentStatus::Pending
    );

    // Redelivered once the store recovers, the failed record applies; the batch is clean.
    faulty.poison("nothing-matches-this");
    let response = fn_pay_callback::handle_batch(&scene.app, event).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        status(paid[1].out_trade_no.clone()).await,
        PaymentStatus::Succeeded
    );
    // The response serialises as Lambda expects it.
    let shape = serde_json::to_value(&response).unwrap();
    assert!(shape["batchItemFailures"].as_array().unwrap().is_empty());
}
