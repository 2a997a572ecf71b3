//! The human check (O7) against a fake siteverify service (`market_tests::siteverify`): the
//! cloud's verifier passes a token only when the service says success for the expected
//! action on our hostname, spends each token once (claimed in the store before the service
//! is asked), and fails closed on a slow, failing or garbled service and on a secret it
//! cannot read; refusals are logged with their reason, never the token or the secret. Then
//! the handlers: the action and the client's address reach the verifier from API Gateway's
//! event and from the local runner's socket.
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Value};
use tower::ServiceExt;
use tracing::Instrument;

use market_adapters::captcha::secret::{ManagedSecret, SecretSetting, SecretSource};
use market_adapters::captcha::{SiteverifyCaptcha, SiteverifyConfig};
use market_adapters::config::CaptchaMode;
use market_adapters::store::embedded::EmbeddedStore;
use market_app::ports::captcha::{Captcha, CaptchaAction, HumanCheck};
use market_app::ports::clock::SystemClock;
use market_app::store::Store;
use market_tests::moto;
use market_tests::scene::Scene;
use market_tests::siteverify::{field, FakeSiteverify, HOSTNAME};

const SECRET: &str = "0x4AAAAAAA-fake-secret-key";
const CLIENT: &str = "203.0.113.7";

fn config(fake: &FakeSiteverify, secret: &str) -> SiteverifyConfig {
    SiteverifyConfig {
        verify_url: fake.url.clone(),
        hostnames: vec!["www.market.example".into(), HOSTNAME.into()],
        secret: SecretSetting::Value(secret.into()),
    }
}

fn verifier_over(fake: &FakeSiteverify, secret: &str, store: Arc<dyn Store>) -> SiteverifyCaptcha {
    SiteverifyCaptcha::new(config(fake, secret), store, Arc::new(SystemClock)).unwrap()
}

/// The verifier with the fake's secret, over a fresh embedded store.
fn verifier(fake: &FakeSiteverify) -> SiteverifyCaptcha {
    verifier_over(fake, SECRET, Arc::new(EmbeddedStore::in_memory().unwrap()))
}

/// A token the fake answers as its `kind` says, unique to this test.
fn token(kind: &str) -> String {
    format!("{kind}.{}", ulid::Ulid::new().to_string().to_lowercase())
}

fn from_client(token: &str) -> HumanCheck {
    HumanCheck::new(token).from_ip(Some(CLIENT.parse().unwrap()))
}

#[tokio::test]
async fn o7_siteverify_a_solved_token_passes_and_the_service_gets_the_whole_form() {
    let fake = FakeSiteverify::start(SECRET).await;
    let captcha = verifier(&fake);
    let (order, push) = (token("order"), token("push_accept"));
    assert!(
        captcha
            .verify(CaptchaAction::Order, &from_client(&order))
            .await
    );
    assert!(
        captcha
            .verify(CaptchaAction::PushAccept, &from_client(&push))
            .await
    );
    let received = fake.received();
    assert_eq!(received.len(), 2);
    for (form, token) in received.iter().zip([&order, &push]) {
        assert_eq!(field(form, "secret"), Some(SECRET));
        assert_eq!(field(form, "response"), Some(token.as_str()));
        assert_eq!(field(form, "remoteip"), Some(CLIENT));
        let key = field(form, "idempotency_key").expect("an idempotency_key");
        assert_eq!((key.len(), &key[14..15]), (36, "4"), "a UUID v4: {key}");
    }
    assert_ne!(
        field(&received[0], "idempotency_key"),
        field(&received[1], "idempotency_key"),
        "a key per request"
    );
}

#[tokio::test]
async fn o7_siteverify_a_token_solved_for_another_action_fails() {
    let fake = FakeSiteverify::start(SECRET).await;
    let captcha = verifier(&fake);
    // Solved for an order, spent on a push acceptance; solved for some other page.
    assert!(
        !captcha
            .verify(CaptchaAction::PushAccept, &from_client(&token("order")))
            .await
    );
    assert!(
        !captcha
            .verify(CaptchaAction::Order, &from_client(&token("login")))
            .await
    );
    assert_eq!(
        fake.received().len(),
        2,
        "the service said success both times"
    );
}

#[tokio::test]
async fn o7_siteverify_a_token_solved_on_another_site_fails() {
    let fake = FakeSiteverify::start(SECRET).await;
    assert!(
        !verifier(&fake)
            .verify(CaptchaAction::Order, &from_client(&token("elsewhere")))
            .await
    );
}

/// A token serves one request: the claim is written before the service is asked, so the
/// second use is refused without asking, although this service would say success again.
async fn a_token_serves_one_request(store: Arc<dyn Store>) {
    let fake = FakeSiteverify::start(SECRET).await;
    let captcha = Arc::new(verifier_over(&fake, SECRET, store));
    let once = token("order");
    assert!(
        captcha
            .verify(CaptchaAction::Order, &from_client(&once))
            .await
    );
    assert!(
        !captcha
            .verify(CaptchaAction::Order, &from_client(&once))
            .await
    );
    assert!(
        !captcha
            .verify(CaptchaAction::PushAccept, &from_client(&once))
            .await
    );
    assert_eq!(fake.received_for(&once).len(), 1, "asked once");

    // Two requests racing with one token: exactly one wins.
    let raced = token("order");
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let (captcha, raced) = (captcha.clone(), raced.clone());
            tokio::spawn(async move {
                captcha
                    .verify(CaptchaAction::Order, &from_client(&raced))
                    .await
            })
        })
        .collect();
    let mut passed = 0;
    for run in runs {
        passed += usize::from(run.await.unwrap());
    }
    assert_eq!(passed, 1);
    assert_eq!(fake.received_for(&raced).len(), 1);
}

#[tokio::test]
async fn o7_siteverify_a_token_serves_one_request_on_the_embedded_store() {
    a_token_serves_one_request(Arc::new(EmbeddedStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn o7_siteverify_a_token_serves_one_request_on_dynamodb() {
    a_token_serves_one_request(Arc::new(moto::fresh_table_store().await)).await;
}

#[tokio::test]
async fn o7_siteverify_a_slow_service_fails_closed_within_two_seconds() {
    let fake = FakeSiteverify::start(SECRET).await;
    let captcha = verifier(&fake);
    let started = Instant::now();
    assert!(
        !captcha
            .verify(CaptchaAction::Order, &from_client(&token("slow")))
            .await
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_millis(2900),
        "gave up after the 2 s bound, not the service's 3 s: {took:?}"
    );
}

#[tokio::test]
async fn o7_siteverify_a_wrong_secret_fails() {
    let fake = FakeSiteverify::start(SECRET).await;
    let store = Arc::new(EmbeddedStore::in_memory().unwrap());
    let captcha = verifier_over(&fake, "0x4AAAAAAA-not-the-key", store);
    let t = token("order");
    assert!(!captcha.verify(CaptchaAction::Order, &from_client(&t)).await);
    assert_eq!(fake.received_for(&t).len(), 1);
}

#[tokio::test]
async fn o7_siteverify_an_http_error_a_garbled_answer_or_no_service_fails() {
    let fake = FakeSiteverify::start(SECRET).await;
    let captcha = verifier(&fake);
    for kind in ["http500", "garbage", "unknown"] {
        assert!(
            !captcha
                .verify(CaptchaAction::Order, &from_client(&token(kind)))
                .await,
            "{kind}"
        );
    }
    // Nothing listening: refused at once.
    let mut gone = config(&fake, SECRET);
    gone.verify_url = "http://127.0.0.1:9/siteverify".into();
    let captcha = SiteverifyCaptcha::new(
        gone,
        Arc::new(EmbeddedStore::in_memory().unwrap()),
        Arc::new(SystemClock),
    )
    .unwrap();
    assert!(
        !captcha
            .verify(CaptchaAction::Order, &from_client(&token("order")))
            .await
    );
}

#[tokio::test]
async fn o7_siteverify_no_token_is_refused_without_asking() {
    let fake = FakeSiteverify::start(SECRET).await;
    let captcha = verifier(&fake);
    assert!(!captcha.verify(CaptchaAction::Order, &from_client("")).await);
    assert!(
        !captcha
            .verify(CaptchaAction::Order, &from_client(&"x".repeat(9000)))
            .await
    );
    assert!(fake.received().is_empty());
}

async fn secrets_manager() -> aws_sdk_secretsmanager::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto::endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&sdk)
}

#[tokio::test]
async fn o7_siteverify_the_secret_is_read_from_secrets_manager_and_an_unreadable_one_fails_closed()
{
    let fake = FakeSiteverify::start(SECRET).await;
    let client = secrets_manager().await;
    let name = format!(
        "market/captcha-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let captcha = SiteverifyCaptcha::with_secret(
        config(&fake, "unused"),
        SecretSource::Manager(ManagedSecret::with_client(name.clone(), client.clone())),
        Arc::new(EmbeddedStore::in_memory().unwrap()),
        Arc::new(SystemClock),
    )
    .unwrap();
    // No such secret yet: refused, the service never asked, and the token not spent.
    let t = token("order");
    assert!(!captcha.verify(CaptchaAction::Order, &from_client(&t)).await);
    assert!(fake.received().is_empty());
    // The failure was not cached; the same token passes once the secret exists.
    let arn = client
        .create_secret()
        .name(&name)
        .secret_string(json!({ "secret": SECRET }).to_string())
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    assert!(captcha.verify(CaptchaAction::Order, &from_client(&t)).await);
    // Cached: with the secret gone, the key is still in hand.
    client
        .delete_secret()
        .secret_id(&arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert!(
        captcha
            .verify(CaptchaAction::Order, &from_client(&token("order")))
            .await
    );
}

#[tokio::test]
async fn o7_siteverify_refusals_are_logged_with_their_reason_never_the_token_or_the_secret() {
    let logs = market_tests::logs::capture_process();
    let fake = FakeSiteverify::start(SECRET).await;
    let captcha = verifier(&fake);
    let wrong_secret = verifier_over(
        &fake,
        "0x4AAAAAAA-wrong-secret-key",
        Arc::new(EmbeddedStore::in_memory().unwrap()),
    );
    let case = ulid::Ulid::new().to_string();
    let reused = token("order");
    let cases: Vec<(&SiteverifyCaptcha, CaptchaAction, String, &str)> = vec![
        (
            &captcha,
            CaptchaAction::PushAccept,
            token("order"),
            "wrong action",
        ),
        (
            &captcha,
            CaptchaAction::Order,
            token("elsewhere"),
            "wrong hostname",
        ),
        (&captcha, CaptchaAction::Order, token("nope"), "error-codes"),
        (
            &wrong_secret,
            CaptchaAction::Order,
            token("order"),
            "error-codes",
        ),
        (
            &captcha,
            CaptchaAction::Order,
            token("http500"),
            "http status",
        ),
        (
            &captcha,
            CaptchaAction::Order,
            token("garbage"),
            "malformed answer",
        ),
        (&captcha, CaptchaAction::Order, reused.clone(), "passed"),
        (&captcha, CaptchaAction::Order, reused.clone(), "reused"),
    ];
    let mut tokens = Vec::new();
    for (n, (verifier, action, token, reason)) in cases.iter().enumerate() {
        let span = tracing::info_span!("captcha_case", case = %format!("{case}-{n}"));
        let passed = verifier
            .verify(*action, &from_client(token))
            .instrument(span)
            .await;
        assert_eq!(passed, *reason == "passed", "{reason}");
        tokens.push(token.clone());
    }
    let lines = logs.lines();
    for (n, (_, action, _, reason)) in cases.iter().enumerate() {
        let mine: Vec<&Value> = lines
            .iter()
            .filter(|l| l["span"]["case"] == format!("{case}-{n}"))
            .filter(|l| l["fields"]["message"] == "human check refused (O7)")
            .collect();
        if *reason == "passed" {
            assert!(mine.is_empty(), "{mine:?}");
            continue;
        }
        assert_eq!(mine.len(), 1, "{reason}: {lines:#?}");
        let fields = &mine[0]["fields"];
        assert_eq!(fields["reason"], *reason, "{fields}");
        assert_eq!(fields["action"], action.as_str(), "{fields}");
        assert_eq!(mine[0]["level"], "WARN");
    }
    let codes = |n: usize| {
        lines
            .iter()
            .find(|l| {
                l["span"]["case"] == format!("{case}-{n}")
                    && l["fields"]["message"] == "human check refused (O7)"
            })
            .map(|l| l["fields"]["error_codes"].clone())
    };
    assert_eq!(codes(2), Some(json!("invalid-input-response")));
    assert_eq!(codes(3), Some(json!("invalid-input-secret")));
    let everything = lines
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    for secret in tokens
        .iter()
        .map(String::as_str)
        .chain([SECRET, "wrong-secret-key"])
    {
        assert!(!everything.contains(secret), "{secret} was logged");
    }
}

/// A verifier that records what it was asked and refuses.
#[derive(Default)]
struct Recording(Mutex<Vec<(CaptchaAction, String, Option<IpAddr>)>>);

#[async_trait]
impl Captcha for Recording {
    async fn verify(&self, action: CaptchaAction, check: &HumanCheck) -> bool {
        self.0
            .lock()
            .unwrap()
            .push((action, check.token.clone(), check.remote_ip));
        false
    }
}

/// An API Gateway v2 request event with the JWT authorizer's claims, from `source_ip`.
fn apigw(path: &str, body: Value, source_ip: &str) -> lambda_http::Request {
    let text = std::fs::read_to_string(format!(
        "{}/fixtures/events/apigw-v2-jwt-request.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["rawPath"] = json!(path);
    event["routeKey"] = json!(format!("POST {path}"));
    event["requestContext"]["http"]["method"] = json!("POST");
    event["requestContext"]["http"]["path"] = json!(path);
    event["requestContext"]["http"]["sourceIp"] = json!(source_ip);
    event["requestContext"]["authorizer"]["jwt"]["claims"] =
        json!({ "sub": "buyer", "iss": "https://issuer.example", "aud": "market" });
    event["headers"]["content-type"] = json!("application/json");
    // A client-written header never stands in for the source address.
    event["headers"]["x-forwarded-for"] = json!("192.0.2.66");
    event["body"] = json!(body.to_string());
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event")
}

#[tokio::test]
async fn o7_the_lambdas_pass_the_action_and_api_gateways_source_ip() {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    scene.traders(&["buyer".to_owned()]).await;
    let recording = Arc::new(Recording::default());
    let app = Arc::new(market_app::App {
        store: scene.app.store.clone(),
        clock: scene.app.clock.clone(),
        timer: Arc::new(market_adapters::timer::TokioTimer),
        queue: scene.app.queue.clone(),
        provider: scene.app.provider.clone(),
        captcha: recording.clone(),
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
    });
    let order = market_web::lambda_router(fn_order::router(), app.clone());
    let push = market_web::lambda_router(fn_push::router(), app);
    let body = json!({ "domains": ["d0.com"], "captcha_token": "tok-order" });
    let response = order
        .oneshot(apigw("/orders", body, "198.51.100.23"))
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "refused by the recording verifier");
    let path = format!(
        "/pushes/psh_{}/accept",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let body = json!({ "captcha_token": "tok-push" });
    push.oneshot(apigw(&path, body, "2001:db8::5"))
        .await
        .unwrap();
    let asked = recording.0.lock().unwrap().clone();
    assert_eq!(
        asked,
        vec![
            (
                CaptchaAction::Order,
                "tok-order".to_owned(),
                Some("198.51.100.23".parse().unwrap())
            ),
            (
                CaptchaAction::PushAccept,
                "tok-push".to_owned(),
                Some("2001:db8::5".parse().unwrap())
            ),
        ]
    );
}

#[tokio::test]
async fn o7_the_local_runner_verifies_with_siteverify_from_the_socket_peer() {
    let fake = FakeSiteverify::start(SECRET).await;
    let mut settings = infra::Settings::for_tests();
    settings.captcha = CaptchaMode::Siteverify(config(&fake, SECRET));
    let app = market_tests::spawn_app_with(settings).await;
    app.trader("alice").await;
    app.trader("bob").await;
    for d in ["human.com", "pushed.com"] {
        app.domain(d, "alice").await;
    }
    app.list("alice", "human.com", "10.00").await;
    app.advance(180).await;

    let once = token("order");
    let place = |token: String| {
        app.post(
            "/orders",
            Some("bob"),
            json!({ "domains": ["human.com"], "captcha_token": token }),
        )
    };
    let placed = place(once.clone()).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let form = &fake.received_for(&once)[0];
    assert_eq!(
        field(form, "remoteip"),
        Some("127.0.0.1"),
        "the socket's peer"
    );
    let again = place(once.clone()).await;
    assert_eq!(
        (again.status, again.code()),
        (400, "CAPTCHA_FAILED"),
        "spent"
    );
    assert_eq!(fake.received_for(&once).len(), 1);

    let pushed = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["pushed.com"], "buyer": "bob", "price": "0.00", "lock_60d": false }),
        )
        .await;
    assert_eq!(pushed.status, 201, "{pushed:?}");
    let accept = format!("/pushes/{}/accept", pushed.body["id"].as_str().unwrap());
    let accept_with =
        |token: String| app.post(&accept, Some("bob"), json!({ "captcha_token": token }));
    let wrong = accept_with(token("order")).await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (400, "CAPTCHA_FAILED"),
        "an order's token"
    );
    let accepted = accept_with(token("push_accept")).await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    app.stop();
}
