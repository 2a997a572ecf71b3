//! Every function's handler, fed the event shapes AWS sends (samples from aws_lambda_events,
//! kept in `tests/fixtures/events/`): API Gateway HTTP API v2 requests with the JWT
//! authorizer's claims, SQS batches (one malformed record), the EventBridge schedule. The
//! handlers are the very values the binaries run.
use std::sync::Arc;

use axum::Router;
use chrono::Duration;
use serde_json::{json, Value};
use tower::ServiceExt;

use lambda_http::RequestExt;
use market_adapters::queue::{QueueConsumer, Topic};
use market_adapters::store::embedded::EmbeddedStore;
use market_app::orders;
use market_app::ports::captcha::HumanCheck;
use market_core::ids::AccountId;
use market_tests::faults::{FaultyStore, RecordingQueue};
use market_tests::scene::Scene;
use market_web::{lambda_router, AppState};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// An API Gateway v2 request event, as the JWT authorizer passes it on.
fn apigw(
    method: &str,
    path: &str,
    claims: Option<Value>,
    body: Option<String>,
    content_type: &str,
) -> lambda_http::Request {
    let mut event: Value = serde_json::from_str(&fixture("apigw-v2-jwt-request.json")).unwrap();
    event["rawPath"] = json!(path);
    event["routeKey"] = json!(format!("{method} {path}"));
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["headers"]["content-type"] = json!(content_type);
    match claims {
        Some(claims) => event["requestContext"]["authorizer"]["jwt"]["claims"] = claims,
        None => event["requestContext"]["authorizer"] = Value::Null,
    }
    event["body"] = body.map_or(Value::Null, Value::String);
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event")
}

async fn call(router: &Router, request: lambda_http::Request) -> (u16, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

fn claims(sub: &str, roles: &str) -> Option<Value> {
    Some(json!({ "sub": sub, "roles": roles, "iss": "https://issuer.example", "aud": "market" }))
}

async fn scene() -> Scene {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    scene.traders(&["buyer".to_owned()]).await;
    scene
}

fn router_of(app: AppState, router: axum::Router<AppState>) -> Router {
    lambda_router(router, app)
}

#[tokio::test]
async fn list_function_serves_public_and_authorised_routes() {
    let scene = scene().await;
    scene.listed(3, 1).await;
    let router = router_of(scene.app.clone(), fn_list::router());
    let (status, body) = call(
        &router,
        apigw("GET", "/listings", None, None, "application/json"),
    )
    .await;
    assert_eq!((status, body["items"].as_array().unwrap().len()), (200, 3));
    let (status, body) = call(
        &router,
        apigw("GET", "/me/listings", None, None, "application/json"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("UNAUTHENTICATED")),
        "no claims, no caller"
    );
    let (status, body) = call(
        &router,
        apigw(
            "GET",
            "/me/listings",
            claims("seller0", "[]"),
            None,
            "application/json",
        ),
    )
    .await;
    assert_eq!((status, body["items"].as_array().unwrap().len()), (200, 3));
}

#[tokio::test]
async fn order_function_takes_the_buyer_from_the_claims() {
    let scene = scene().await;
    scene.listed(1, 1).await;
    let router = router_of(scene.app.clone(), fn_order::router());
    let body = json!({ "domains": ["d0.com"], "captcha_token": "pass" }).to_string();
    let (status, placed) = call(
        &router,
        apigw(
            "POST",
            "/orders",
            claims("buyer", "[]"),
            Some(body.clone()),
            "application/json",
        ),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["orders"][0]["buyer"], "buyer");
    let (status, _) = call(
        &router,
        apigw("POST", "/orders", None, Some(body), "application/json"),
    )
    .await;
    assert_eq!(status, 401);
}

/// The scene's app with `queue` in place of its own (to see what a route queued).
fn with_queue(scene: &Scene, queue: Arc<dyn market_adapters::queue::Queue>) -> AppState {
    let app = &scene.app;
    Arc::new(market_app::App {
        store: app.store.clone(),
        clock: app.clock.clone(),
        timer: app.timer.clone(),
        queue,
        provider: app.provider.clone(),
        captcha: app.captcha.clone(),
        second_factor: app.second_factor.clone(),
        registrar: app.registrar.clone(),
        mailer: app.mailer.clone(),
        outbox_feed: app.outbox_feed.clone(),
        search: app.search.clone(),
        search_feed: market_app::search::feed::SearchFeed::Inline(Default::default()),
        partner: app.partner.clone(),
        cards: app.cards.clone(),
        paypal: app.paypal.clone(),
        policy: app.policy.clone(),
        caches: Default::default(),
    })
}

async fn notify(router: &Router, body: Vec<u8>) -> (u16, Value) {
    let mut request = apigw(
        "POST",
        "/payments/alipay/notify",
        None,
        None,
        "application/x-www-form-urlencoded",
    );
    *request.body_mut() = lambda_http::Body::Binary(body);
    call(router, request).await
}

#[tokio::test]
async fn pay_notify_function_queues_the_form_body_and_says_success() {
    let scene = scene().await;
    let queue = Arc::new(RecordingQueue::default());
    let router = router_of(with_queue(&scene, queue.clone()), fn_pay_callback::router());
    let form = "notify_id=1&out_trade_no=pay_1&trade_status=TRADE_SUCCESS&sign_type=RSA2&sign=AAAA"
        .to_owned();
    let (status, body) = call(
        &router,
        apigw(
            "POST",
            "/payments/alipay/notify",
            None,
            Some(form.clone()),
            "application/x-www-form-urlencoded",
        ),
    )
    .await;
    assert_eq!((status, body), (200, Value::String("success".into())));
    assert_eq!(
        queue.sent(),
        vec![(Topic::PaymentNotifications, form)],
        "queued exactly as received"
    );
}

#[tokio::test]
async fn pay_notify_function_turns_junk_away_at_the_door_and_queues_none_of_it() {
    let scene = scene().await;
    let queue = Arc::new(RecordingQueue::default());
    let router = router_of(with_queue(&scene, queue.clone()), fn_pay_callback::router());
    let signed = |padding: usize| {
        format!(
            "notify_id=1&out_trade_no=pay_1&trade_status=TRADE_SUCCESS&sign=AAAA&pad={}",
            "x".repeat(padding)
        )
        .into_bytes()
    };
    // Over 16 KB: 413, whatever it holds.
    let (status, body) = notify(&router, signed(16 * 1024)).await;
    assert_eq!(
        (status, body["code"].as_str(), body["status"].as_u64()),
        (413, Some("PAYLOAD_TOO_LARGE"), Some(413)),
        "{body}"
    );
    // Not a notification: 400.
    for junk in [
        b"notify_id=1&trade_status=TRADE_SUCCESS&sign=AAAA".to_vec(), // no out_trade_no
        b"notify_id=1&out_trade_no=pay_1&trade_status=TRADE_SUCCESS".to_vec(), // no sign
        b"{\"out_trade_no\":\"pay_1\",\"sign\":\"AAAA\"}".to_vec(),   // JSON, not a form
        vec![0xff, 0xfe, 0xfd],                                       // not text
        Vec::new(),                                                   // nothing
    ] {
        let (status, body) = notify(&router, junk.clone()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("INVALID_REQUEST")),
            "{:?}: {body}",
            String::from_utf8_lossy(&junk)
        );
    }
    assert!(queue.sent().is_empty(), "nothing refused was queued");
    // Just under the limit is a notification like any other.
    let (status, _) = notify(&router, signed(16 * 1024 - 100)).await;
    assert_eq!(status, 200);
    assert_eq!(queue.sent().len(), 1);
}

#[tokio::test]
async fn an_internal_error_is_logged_with_the_requests_context() {
    let faulty = FaultyStore::in_memory(7, 1.0, 0.0);
    let scene = Scene::over(faulty.clone());
    scene.traders(&["buyer".to_owned()]).await;
    scene.listed(1, 1).await;
    faulty.set_enabled(true); // every write fails from here on
    let router = router_of(scene.app.clone(), fn_order::router());
    let logs = market_tests::logs::capture_process();
    let mut context = lambda_http::Context::default();
    context.request_id = "lambda-req-7f3a".into();
    let request = apigw(
        "POST",
        "/orders",
        claims("buyer", "[]"),
        Some(json!({ "domains": ["d0.com"], "captcha_token": "pass" }).to_string()),
        "application/json",
    )
    .with_lambda_context(context);
    let (status, body) = call(&router, request).await;
    assert_eq!((status, body["code"].as_str()), (500, Some("INTERNAL")));
    assert!(
        !body.to_string().contains("injected"),
        "no internals in the answer: {body}"
    );
    // Other tests of this binary log too: this request's lines carry its Lambda request id.
    let errors: Vec<Value> = logs
        .at("ERROR")
        .into_iter()
        .filter(|l| l["span"]["request_id"] == "lambda-req-7f3a")
        .collect();
    let failure = errors
        .iter()
        .find(|l| l["fields"]["message"] == "request failed")
        .unwrap_or_else(|| panic!("the failure is logged: {:#?}", logs.lines()));
    assert!(
        failure["fields"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("injected crash")),
        "with the error: {failure}"
    );
    let span = &failure["span"];
    assert_eq!(span["name"], "request", "{failure}");
    assert_eq!(span["request_id"], "lambda-req-7f3a", "{failure}");
    assert_eq!(span["api_request_id"], "id", "API Gateway's id: {failure}");
    assert_eq!(span["method"], "POST");
    assert_eq!(span["route"], "/orders");
    assert_eq!(span["account"], "buyer", "recorded once identity is known");
    // And the answer itself is logged as an error in the same span.
    assert!(errors
        .iter()
        .any(|l| l["fields"]["status"] == 500 && l["span"]["request_id"] == "lambda-req-7f3a"));
}

#[tokio::test]
async fn admin_is_an_exact_role_entry() {
    let scene = scene().await;
    let admin = router_of(scene.app.clone(), fn_admin::router());
    let account =
        json!({ "real_name_verified": true, "payout_account": "x@example.com" }).to_string();
    let put = |roles: &str| {
        apigw(
            "PUT",
            "/admin/accounts/newbie",
            claims("ops", roles),
            Some(account.clone()),
            "application/json",
        )
    };
    for roles in ["[admin]", "[ops admin]", "admin", r#"["admin"]"#] {
        let (status, body) = call(&admin, put(roles)).await;
        assert_eq!(status, 200, "{roles}: {body}");
    }
    for roles in [
        "superadmin",
        "[superadmin]",
        "admin,x",
        "[admin,x]",
        "admin x",
        "[]",
    ] {
        let (status, body) = call(&admin, put(roles)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("FORBIDDEN")),
            "{roles}"
        );
    }
    // With the bearer token the authorizer verified, its claim is read exactly: one entry
    // "not admin" is not the two entries API Gateway's rendering suggests.
    // Its signature is API Gateway's to check, not the function's: any will do here.
    let token = |roles: Value| {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
        let payload =
            b64.encode(json!({ "sub": "ops", "exp": 2_000_000_000, "roles": roles }).to_string());
        format!("{header}.{payload}.c2lnbmF0dXJl")
    };
    let with_token = |roles: Value, rendered: &str| {
        let mut request = apigw(
            "PUT",
            "/admin/accounts/newbie",
            Some(json!({ "sub": "ops", "exp": "2000000000", "roles": rendered })),
            Some(account.clone()),
            "application/json",
        );
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", token(roles)).parse().unwrap(),
        );
        request
    };
    let (status, _) = call(&admin, with_token(json!(["not admin"]), "[not admin]")).await;
    assert_eq!(status, 403);
    let (status, _) = call(&admin, with_token(json!(["admin", "ops"]), "[admin ops]")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn push_admin_and_account_functions_read_claims_and_roles() {
    let scene = scene().await;
    let push = router_of(scene.app.clone(), fn_push::router());
    let (status, body) = call(
        &push,
        apigw(
            "GET",
            "/me/pushes",
            claims("buyer", "[]"),
            None,
            "application/json",
        ),
    )
    .await;
    assert_eq!(
        (status, body["items"].as_array().map(Vec::len)),
        (200, Some(0))
    );

    let admin = router_of(scene.app.clone(), fn_admin::router());
    let account =
        json!({ "real_name_verified": true, "payout_account": "x@example.com" }).to_string();
    let (status, _) = call(
        &admin,
        apigw(
            "PUT",
            "/admin/accounts/newbie",
            claims("ops", "[admin]"),
            Some(account.clone()),
            "application/json",
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &admin,
        apigw(
            "PUT",
            "/admin/accounts/newbie",
            claims("mallory", "[]"),
            Some(account),
            "application/json",
        ),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")));

    let me = router_of(scene.app.clone(), fn_account::router());
    let (status, body) = call(
        &me,
        apigw(
            "GET",
            "/me/ledger",
            claims("buyer", "[]"),
            None,
            "application/json",
        ),
    )
    .await;
    assert_eq!(
        (status, body["balances"]["available"].as_str()),
        (200, Some("0.00"))
    );
    let (status, _) = call(
        &me,
        apigw("GET", "/me/ledger", None, None, "application/json"),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn expire_sweeper_handles_deadline_batches_the_schedule_and_work_batches() {
    let scene = scene().await;
    let listed = scene.listed(2, 1).await;
    let buyer = AccountId::parse("buyer").unwrap();
    let first = orders::place(
        &scene.app,
        &buyer,
        std::slice::from_ref(&listed[0].0),
        &HumanCheck::new("pass"),
    )
    .await
    .unwrap()
    .orders[0]
        .id
        .clone();
    let second = orders::place(
        &scene.app,
        &buyer,
        std::slice::from_ref(&listed[1].0),
        &HumanCheck::new("pass"),
    )
    .await
    .unwrap()
    .orders[0]
        .id
        .clone();
    // Their notices delivered as the stream would: what is due is the orders alone.
    scene.stream().await;
    scene.clock.advance(Duration::minutes(11));

    // The SQS deadline batch: the first order's message, and a malformed one.
    let template: Value = serde_json::from_str(&fixture("sqs-payments-batch.json")).unwrap();
    let mut event = template.clone();
    event["Records"][0]["body"] = json!(first);
    event["Records"][1]["body"] = json!("not an order id");
    event["Records"].as_array_mut().unwrap().truncate(2);
    let answer = fn_expire_sweeper::handle(&scene.app, event).await.unwrap();
    assert_eq!(
        answer["batchItemFailures"],
        json!([]),
        "the malformed record is dropped, not retried"
    );

    // The EventBridge schedule runs the dispatcher: the second order's key is handed on to
    // the work queue...
    let schedule: Value = serde_json::from_str(&fixture("eventbridge-schedule.json")).unwrap();
    let handed = fn_expire_sweeper::handle(&scene.app, schedule)
        .await
        .unwrap();
    assert_eq!(handed["items_read"], json!(1), "{handed}");
    let work = scene
        .queue
        .receive(Topic::SweepWork, 10, Duration::minutes(6))
        .await
        .unwrap();
    assert_eq!(work.len(), 1);
    assert!(work[0].body.contains(&second), "{}", work[0].body);
    // ...whose record the same function works: the second order expires there.
    let mut event = template.clone();
    event["Records"][0]["body"] = json!(work[0].body);
    event["Records"].as_array_mut().unwrap().truncate(1);
    let answer = fn_expire_sweeper::handle(&scene.app, event).await.unwrap();
    assert_eq!(answer["batchItemFailures"], json!([]));
    let second_view = orders::get(
        &scene.app,
        &buyer,
        &market_core::ids::OrderId::parse(&second).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(serde_json::to_value(second_view.status).unwrap(), "expired");
    let view = orders::get(
        &scene.app,
        &buyer,
        &market_core::ids::OrderId::parse(&first).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(serde_json::to_value(view.status).unwrap(), "expired");
}

#[tokio::test]
async fn registry_events_function_ends_the_listing_of_an_event_from_eventbridge() {
    let scene = scene().await;
    scene.listed(1, 1).await;
    let event: Value = serde_json::from_str(&fixture("eventbridge-registry-event.json")).unwrap();
    let ended = fn_admin::handle_registry_event(&scene.app, event.clone())
        .await
        .unwrap();
    assert!(ended["listing"].is_string(), "{ended}");
    let browse = market_app::search::search(
        &scene.app,
        &market_core::search::query::SearchParams::default(),
    )
    .await
    .unwrap();
    assert!(browse.items.is_empty());
    // Not a registry event: refused without a change.
    let mut bad = event;
    bad["detail"]["type"] = json!("exploded");
    assert!(fn_admin::handle_registry_event(&scene.app, bad)
        .await
        .is_err());
}

#[tokio::test]
async fn contention_that_outlasts_the_retries_is_a_503_busy_with_retry_after_never_a_500() {
    let faulty = FaultyStore::in_memory(7, 0.0, 0.0);
    let scene = Scene::over(faulty.clone());
    scene.traders(&["buyer".to_owned()]).await;
    scene.listed(1, 1).await;
    let placed = market_app::orders::place(
        &scene.app,
        &market_core::ids::AccountId::parse("buyer").unwrap(),
        &["d0.com".to_owned()],
        &HumanCheck::new("pass"),
    )
    .await
    .unwrap();
    let order = placed.orders[0].id.clone();
    faulty.contend(true); // every write loses its race, again and again
    let router = router_of(scene.app.clone(), fn_order::router());
    let request = apigw(
        "POST",
        &format!("/orders/{order}/cancel"),
        claims("buyer", "[]"),
        Some("{}".into()),
        "application/json",
    );
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["code"], "BUSY", "{body}");
    // Nothing changed: once the contention is over, the same request succeeds.
    faulty.contend(false);
    let request = apigw(
        "POST",
        &format!("/orders/{order}/cancel"),
        claims("buyer", "[]"),
        Some("{}".into()),
        "application/json",
    );
    let (status, body) = call(&router, request).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("cancelled")));
}

/// A DynamoDB Stream event (keys only, as the table's stream sends) of new items.
fn stream_event(keys: &[(&str, &str)]) -> fn_notify::StreamEvent {
    market_tests::stream::event("INSERT", keys)
}

/// The emails the scene's mailbox kept.
async fn kept_mail(store: &dyn market_app::store::Store) -> Vec<Value> {
    let page = store
        .query(market_app::store::Query::table("MAIL#sent"))
        .await
        .unwrap();
    page.items
        .iter()
        .map(|i| serde_json::from_str(&i.body).unwrap())
        .collect()
}

#[tokio::test]
async fn n1_notify_function_delivers_each_new_outbox_item_once_and_reports_what_the_table_refused()
{
    let faulty = FaultyStore::in_memory(7, 0.0, 0.0);
    let scene = Scene::over(faulty.clone());
    let buyer = market_core::model::Account {
        id: AccountId::parse("buyer").unwrap(),
        real_name_verified: true,
        real_name: None,
        payout_account: None,
        email: Some("buyer@example.com".into()),
        enterprise: false,
        credit_control: false,
        locale: market_core::notice::Locale::En,
    };
    market_app::accounts::upsert_account(&scene.app, buyer)
        .await
        .unwrap();
    // A refund confirmed: its notice is written to the outbox and (no notifier here) waits.
    let now = scene.app.now();
    let refund = market_core::model::Refund {
        id: "rfd_1".into(),
        journal_id: "jrn_1".into(),
        payment_id: market_core::ids::PaymentId::parse("pay_01jd0000000000000000000000").unwrap(),
        buyer: AccountId::parse("buyer").unwrap(),
        amount: market_core::money::Money::parse("12.50").unwrap(),
        reason: "the listing ended".into(),
        status: market_core::model::RefundStatus::Confirmed,
        attempts: 1,
        next_attempt_at: now,
        created_at: now,
        confirmed_at: Some(now),
    };
    let write = market_app::notifications::refund_sent(&scene.app, &refund).unwrap();
    let market_app::store::Write::Put(item, _) = &write else {
        panic!("a put")
    };
    let key = item.pk.clone();
    scene.app.transact(vec![write]).await.unwrap();
    assert!(kept_mail(&*faulty).await.is_empty());

    // The table refuses: the record is reported by its sequence number, nothing is sent.
    faulty.set_enabled(true);
    faulty.poison("OUTBOX#");
    let event = stream_event(&[("ACCOUNT#x", "A"), (key.as_str(), "O")]);
    let answer = fn_notify::handle(&scene.app, event.clone()).await;
    let failed: Vec<String> = answer
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec!["101".to_owned()]);
    // What Lambda reads back.
    assert_eq!(
        serde_json::to_value(&answer).unwrap(),
        json!({ "batchItemFailures": [{ "itemIdentifier": "101" }] })
    );
    assert!(kept_mail(&*faulty).await.is_empty());

    // The stream retries the batch: delivered once; a redelivery of the record changes nothing.
    faulty.cure();
    let answer = fn_notify::handle(&scene.app, event.clone()).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    let answer = fn_notify::handle(&scene.app, event).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    let mail = kept_mail(&*faulty).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0]["to"], "buyer@example.com");
    assert!(
        mail[0]["subject"].as_str().unwrap().contains("12.50"),
        "{mail:?}"
    );
    let inbox = market_app::notifications::inbox::list(
        &scene.app,
        &AccountId::parse("buyer").unwrap(),
        None,
        50,
        None,
    )
    .await
    .unwrap();
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(inbox.items[0].id, mail[0]["id"].as_str().unwrap());
}
