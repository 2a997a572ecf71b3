//! The registrar port's cloud adapter (P9, P11) against EventBridge's API (moto): an event
//! is put on the named bus with the marketplace as its source, its `type` as the
//! detail-type and the whole event (dedupe id included) as the detail; a bus that does not
//! exist is an error, so the outbox keeps the event and publishes it again.
use chrono::Utc;

use market_adapters::registrar::{
    EventBridgeRegistrar, Registrar, RegistrarDetail, RegistrarEvent,
};
use market_tests::moto;

async fn client() -> aws_sdk_eventbridge::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto::endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_eventbridge::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    aws_sdk_eventbridge::Client::new(&sdk)
}

fn lock_changed() -> RegistrarEvent {
    RegistrarEvent {
        id: "evt_1".into(),
        at: Utc::now(),
        detail: RegistrarDetail::DomainTransferLockChanged {
            domain: "locked.com".into(),
            locked: true,
            reason: Some("transfer_locked".into()),
            until: Some(Utc::now()),
        },
    }
}

#[tokio::test]
async fn p9_p11_a_lock_change_is_put_on_the_registrar_bus() {
    let client = client().await;
    let bus = format!("registrar-{}", ulid::Ulid::new().to_string().to_lowercase());
    let created = client.create_event_bus().name(&bus).send().await.unwrap();
    let arn = created.event_bus_arn().unwrap().to_owned();
    let registrar = EventBridgeRegistrar::with_client(arn.clone(), client.clone());
    let entry = registrar.entry(&lock_changed()).unwrap();
    assert_eq!(entry.source(), Some("market.marketplace"));
    assert_eq!(entry.detail_type(), Some("DomainTransferLockChanged"));
    assert_eq!(entry.event_bus_name(), Some(arn.as_str()));
    let detail: serde_json::Value = serde_json::from_str(entry.detail().unwrap()).unwrap();
    assert_eq!(
        detail["id"], "evt_1",
        "the dedupe id travels with the event"
    );
    assert_eq!(detail["domain"], "locked.com");
    registrar.publish(&lock_changed()).await.unwrap();
}

#[tokio::test]
async fn p9_p11_a_bus_that_does_not_exist_leaves_the_event_to_be_published_again() {
    let registrar = EventBridgeRegistrar::with_client(
        "arn:aws:events:us-east-1:123456789012:event-bus/no-such-bus",
        client().await,
    );
    assert!(registrar.publish(&lock_changed()).await.is_err());
}
