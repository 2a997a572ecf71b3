//! Notifications that got past the door but fail in the consumer are audited compactly: the
//! body's SHA-256, its length and at most 2 KB of it, in one of the day's eight audit
//! partitions (so that a flood of forgeries never makes one hot partition). The same test
//! body runs on the embedded store and on DynamoDB's API (moto).
use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use market_adapters::store::embedded::EmbeddedStore;
use market_app::payments::door::AUDIT_BODY_BYTES;
use market_app::payments::{self, Applied};
use market_app::repo;
use market_app::store::{Item, Query, Store};
use market_tests::moto::fresh_table_store;
use market_tests::scene::Scene;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every audit record of today, with the partition it is in.
async fn audit_records(scene: &Scene) -> Vec<Item> {
    let mut items = Vec::new();
    for pk in repo::audit_partitions(scene.app.now()) {
        items.extend(scene.app.store.query(Query::table(pk)).await.unwrap().items);
    }
    items
}

async fn refused_notifications_are_audited_compactly(store: Arc<dyn Store>) {
    let scene = Scene::over(store);
    let paid = scene.paid_orders(1, 1, 1).await;
    let otn = &paid[0].out_trade_no;

    // Looks genuine (a form with our trade and a signature), is not signed by the
    // provider, and is large: 9 KB of multi-byte text (under the 16 KB door).
    let forged = format!(
        "notify_id=f1&app_id=2021000000000000&out_trade_no={otn}&trade_no=1&trade_status=TRADE_SUCCESS&total_amount={}&body={}&sign_type=RSA2&sign=AAAA",
        paid[0].amount,
        "域".repeat(3000)
    );
    assert!(forged.len() > 9000);
    let applied = payments::apply(&scene.app, &forged).await.unwrap();
    assert_eq!(applied, Applied::Rejected("bad signature".into()));

    let records = audit_records(&scene).await;
    assert_eq!(records.len(), 1);
    let record = &records[0];
    let body: Value = serde_json::from_str(&record.body).unwrap();
    let kept = body["body"].as_str().unwrap();
    assert!(kept.len() <= AUDIT_BODY_BYTES, "at most 2 KB kept");
    assert!(
        kept.len() > AUDIT_BODY_BYTES - 4,
        "as much as fits in whole characters"
    );
    assert!(forged.starts_with(kept));
    let digest = Sha256::digest(forged.as_bytes());
    assert_eq!(
        body["body_sha256"],
        hex(&digest),
        "the hash of the whole body"
    );
    assert_eq!(body["body_bytes"], forged.len());
    assert_eq!(body["truncated"], true);
    assert_eq!(body["reason"], "bad signature");
    assert_eq!(
        record.pk,
        format!(
            "AUDIT#{}#{}",
            scene.app.now().format("%Y-%m-%d"),
            digest[0] % 8
        ),
        "the partition follows from the hash"
    );
    assert!(record.ttl.is_some(), "audit records expire");

    // Validly signed, but for another app (a wrong app_id in a deployment): audited too,
    // whole, since it is small.
    let other_app = scene.sandbox.sign_notification(vec![
        ("notify_id".into(), "f2".into()),
        ("app_id".into(), "2021999999999999".into()),
        ("out_trade_no".into(), otn.clone()),
        ("trade_no".into(), "2".into()),
        ("trade_status".into(), "TRADE_SUCCESS".into()),
        ("total_amount".into(), paid[0].amount.to_string()),
    ]);
    let other_app = serde_urlencoded::to_string(&other_app).unwrap();
    let applied = payments::apply(&scene.app, &other_app).await.unwrap();
    assert!(
        matches!(&applied, Applied::Rejected(r) if r.contains("app_id")),
        "{applied:?}"
    );
    let records = audit_records(&scene).await;
    let small = records
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
        .find(|b| b["reason"].as_str().unwrap().contains("app_id"))
        .expect("audited");
    assert_eq!(small["body"], other_app.as_str());
    assert_eq!(small["truncated"], false);

    // Many different forgeries spread over the day's partitions.
    for i in 0..40 {
        let junk = format!("notify_id=j{i}&out_trade_no={otn}&sign=AAAA");
        payments::apply(&scene.app, &junk).await.unwrap();
    }
    let records = audit_records(&scene).await;
    assert_eq!(records.len(), 42);
    let partitions: BTreeSet<&str> = records.iter().map(|r| r.pk.as_str()).collect();
    assert!(
        partitions.len() >= 4,
        "spread over several partitions: {partitions:?}"
    );
}

#[tokio::test]
async fn refused_notifications_are_audited_compactly_on_the_embedded_store() {
    refused_notifications_are_audited_compactly(Arc::new(EmbeddedStore::in_memory().unwrap()))
        .await;
}

#[tokio::test]
async fn refused_notifications_are_audited_compactly_on_dynamodb() {
    refused_notifications_are_audited_compactly(Arc::new(fresh_table_store().await)).await;
}
