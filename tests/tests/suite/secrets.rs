//! The Alipay keys from Secrets Manager, against moto: named by `ALIPAY_SECRET_ARN` as the
//! template does, read on first use and cached; a failed read is not cached, and a
//! notification that arrives while the keys cannot be read is retried, never refused.
use std::sync::Arc;

use chrono::Utc;
use serde_json::json;

use market_adapters::payment::alipay::{AlipayConfig, AlipayProvider};
use market_adapters::payment::keys::{KeySource, SecretKeys};
use market_adapters::payment::rsa2;
use market_adapters::payment::{PayRequest, PaymentProvider};
use market_adapters::store::embedded::EmbeddedStore;
use market_app::payments::{self, Applied};
use market_app::repo;
use market_app::store::Query;
use market_core::money::Money;
use market_tests::moto;
use market_tests::scene::Scene;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/fixtures/alipay/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The secret as an operator stores it: the identity and both PEM keys.
fn secret_json() -> String {
    json!({
        "app_id": "2021000000000000",
        "seller_id": "2088000000000000",
        "alipay_public_key": fixture("alipay_public.pem"),
        "app_private_key": fixture("app_private.pem"),
    })
    .to_string()
}

async fn secrets_manager() -> aws_sdk_secretsmanager::Client {
    let endpoint = moto::endpoint();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&sdk)
}

fn unique_name() -> String {
    format!(
        "market/alipay-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

#[tokio::test]
async fn the_keys_are_read_from_the_secret_on_first_use_and_cached() {
    let client = secrets_manager().await;
    let arn = client
        .create_secret()
        .name(unique_name())
        .secret_string(secret_json())
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();

    // As a Lambda builds it: only ALIPAY_SECRET_ARN, the SDK from the standard environment
    // (which `moto::endpoint` pointed at moto). Nothing is read yet.
    let config = market_tests::env::with_var("ALIPAY_SECRET_ARN", &arn, AlipayConfig::from_env)
        .await
        .unwrap()
        .expect("configured");
    assert!(matches!(config.keys, KeySource::Secret(_)));
    let alipay = AlipayProvider::new(config).unwrap();

    // Verified with the secret's Alipay public key (a vector signed by the real SDK).
    let n = alipay
        .verify(&fixture("notify_trade_success.txt"))
        .await
        .unwrap();
    assert_eq!(n.out_trade_no, "pay_01jfixture0000000000000000");
    let us = alipay.merchant().await.unwrap();
    assert_eq!(
        (us.app_id.as_str(), us.seller_id.as_str()),
        ("2021000000000000", "2088000000000000")
    );
    // Signed with the secret's app private key.
    let now = Utc::now();
    let url = alipay
        .pay_url(&PayRequest {
            out_trade_no: "pay_1",
            amount: Money::parse("88.00").unwrap(),
            subject: "order",
            expires_at: now + chrono::Duration::minutes(10),
            now,
        })
        .await
        .unwrap();
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
    let sign = &params.iter().find(|(k, _)| k == "sign").unwrap().1;
    let app_public = rsa2::parse_public_key(&fixture("app_public.pem")).unwrap();
    assert!(rsa2::verify(
        &app_public,
        &rsa2::request_signing_string(&params),
        sign
    ));

    // Cached: with the secret gone from Secrets Manager, the keys are still in hand.
    client
        .delete_secret()
        .secret_id(&arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert!(alipay
        .verify(&fixture("notify_trade_success.txt"))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_notification_is_retried_while_the_keys_cannot_be_read() {
    let client = secrets_manager().await;
    let name = unique_name();
    let alipay = AlipayProvider::new(AlipayConfig {
        keys: KeySource::Secret(SecretKeys::with_client(name.clone(), client.clone())),
        gateway: "http://127.0.0.1:9/gateway.do".into(),
        notify_url: None,
        return_url: None,
        timeout: std::time::Duration::from_secs(10),
        payout_keys: None,
    })
    .unwrap();
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    let app = market_app::App {
        store: scene.app.store.clone(),
        clock: scene.app.clock.clone(),
        timer: Arc::new(market_adapters::timer::TokioTimer),
        queue: scene.app.queue.clone(),
        provider: Arc::new(alipay),
        captcha: scene.app.captcha.clone(),
        second_factor: scene.app.second_factor.clone(),
        registrar: scene.app.registrar.clone(),
        mailer: scene.app.mailer.clone(),
        outbox_feed: scene.app.outbox_feed.clone(),
        search: scene.app.search.clone(),
        search_feed: market_app::search::feed::SearchFeed::Inline(Default::default()),
        partner: scene.app.partner.clone(),
        cards: scene.app.cards.clone(),
        paypal: scene.app.paypal.clone(),
        policy: scene.app.policy.clone(),
        caches: Default::default(),
    };
    let body = fixture("notify_trade_success.txt");
    let audited = || async {
        let mut n = 0;
        for pk in repo::audit_partitions(app.now()) {
            n += app.store.query(Query::table(pk)).await.unwrap().items.len();
        }
        n
    };

    // No such secret yet: an error (SQS redelivers the message), nothing refused or audited.
    let err = payments::apply(&app, &body).await.unwrap_err();
    assert!(format!("{err:#}").contains("Alipay secret"), "{err:#}");
    assert_eq!(audited().await, 0);

    // The failure was not cached: once the secret exists, the redelivery verifies (and is
    // refused for what it says, a trade we do not know, not for its signature).
    client
        .create_secret()
        .name(&name)
        .secret_string(secret_json())
        .send()
        .await
        .unwrap();
    let applied = payments::apply(&app, &body).await.unwrap();
    assert!(
        matches!(&applied, Applied::Rejected(r) if r.starts_with("unknown out_trade_no")),
        "{applied:?}"
    );
    assert_eq!(audited().await, 1);
}
