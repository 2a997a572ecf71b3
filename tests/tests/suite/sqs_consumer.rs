//! The `pay-callback` Lambda handler on a real SQS event shape (from aws_lambda_events'
//! sample, `tests/fixtures/events/sqs-payments-batch.json`): partial batch failures name
//! exactly the records that failed; a malformed record is audited, not retried.

use aws_lambda_events::event::sqs::SqsEvent;
use market_app::repo;
use market_core::model::{Payment, PaymentStatus};
use market_tests::faults::FaultyStore;
use market_tests::scene::Scene;
use serde_json::Value;

#[tokio::test]
async fn a_batch_reports_only_the_records_that_failed() {
    let faulty = FaultyStore::in_memory(1, 0.0, 0.0);
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

    // Other tests of this binary log too: this batch's lines are in the spans of its records.
    let logs = market_tests::logs::capture_process();
    let ours = |lines: Vec<Value>| -> Vec<Value> {
        lines
            .into_iter()
            .filter(|l| {
                l["spans"].as_array().is_some_and(|spans| {
                    spans.iter().any(|s| {
                        s["consumer"] == "pay-callback"
                            && ["msg-1", "msg-2", "msg-3"]
                                .contains(&s["message_id"].as_str().unwrap_or(""))
                    })
                })
            })
            .collect()
    };
    let response = fn_pay_callback::handle_batch(&scene.app, event.clone()).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["msg-3"]);
    // The failed record is logged at error level with its message id and the error, in the
    // span of that record; the others' lines are in theirs.
    let errors: Vec<Value> = ours(logs.at("ERROR"));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["fields"]["message_id"], "msg-3");
    assert!(
        errors[0]["fields"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("injected crash")),
        "{}",
        errors[0]
    );
    assert_eq!(errors[0]["span"]["name"], "record");
    assert_eq!(errors[0]["span"]["message_id"], "msg-3");
    assert_eq!(errors[0]["span"]["consumer"], "pay-callback");
    let spans: std::collections::BTreeSet<String> = ours(logs.lines())
        .iter()
        .filter_map(|l| l["span"]["message_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(spans.len(), 3, "a span per record: {spans:?}");
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
