//! L10: partner listings. A partner's signed feed → browse shows it (`source: "partner"`)
//! → buyers without real-name verification pay from their balance (topped up through
//! Alipay) or by bank transfer (confirmed by an operator, or expiring after 3 days) → the
//! partner is told by a signed webhook and confirms the delivery, or its failure refunds
//! the buyer; forged, stale and replayed partner requests are refused; the balance never
//! goes negative; the ledger balances.
use market_app::partners::signing::sign;
use market_app::ports::partner::PartnerKey;
use market_core::ids::AccountId;
use market_core::ledger::LedgerAccount;
use market_core::partner::canonical_request;
use market_tests::{spawn_app, Reply, TestApp};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::api::helpers::*;

const ACME_KEY: &str = "acme-test-key";
const GLOBEX_KEY: &str = "globex-test-key";
const ACME_HOOK: &str = "https://acme.example/market/deliveries";

/// How a test signs a partner request.
pub struct Signing<'a> {
    pub partner: &'a str,
    pub key: &'a str,
    /// Seconds added to the server's clock for `X-Timestamp`.
    pub skew: i64,
    pub nonce: Option<String>,
}

impl Signing<'_> {
    pub fn acme() -> Signing<'static> {
        Signing {
            partner: "acme",
            key: ACME_KEY,
            skew: 0,
            nonce: None,
        }
    }
}

fn fresh_nonce() -> String {
    format!("n{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// Sends a signed partner request (the body is signed as the client sends it).
pub async fn signed(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    how: &Signing<'_>,
) -> Reply {
    let bytes = body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let timestamp = (app.now().await.timestamp() + how.skew).to_string();
    let nonce = how.nonce.clone().unwrap_or_else(fresh_nonce);
    let signature = sign(
        &PartnerKey::new(how.key.as_bytes().to_vec()),
        &canonical_request(method.as_str(), path, &timestamp, &nonce, &bytes),
    );
    app.send(
        method,
        path,
        None,
        body,
        &[
            ("X-Partner-Id", how.partner),
            ("X-Timestamp", &timestamp),
            ("X-Nonce", &nonce),
            ("X-Signature", &signature),
        ],
    )
    .await
}

/// The operator defines acme (and globex, whose key is configured too).
pub async fn partners_defined(app: &TestApp) {
    for (id, name, hook) in [
        ("acme", "Acme Domains", ACME_HOOK),
        ("globex", "Globex Names", "https://globex.example/hook"),
    ] {
        let reply = app
            .put(
                &format!("/admin/partners/{id}"),
                Some("admin"),
                json!({ "name": name, "webhook_url": hook }),
            )
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.body["name"], name);
    }
}

/// acme feeds `domain` at `price`.
pub async fn feed(app: &TestApp, domain: &str, price: &str) -> Reply {
    signed(
        app,
        reqwest::Method::PUT,
        &format!("/partner/listings/{domain}"),
        Some(json!({ "price": price })),
        &Signing::acme(),
    )
    .await
}

/// `who` tops the balance up by `amount` through the sandbox provider.
pub async fn top_up(app: &TestApp, who: &str, amount: &str) {
    let reply = app
        .post(
            "/me/balance/top-ups",
            Some(who),
            json!({ "amount": amount }),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let otn = reply.body["out_trade_no"].as_str().unwrap().to_owned();
    let done = app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(done.status, 200, "{done:?}");
    // The same notification again changes nothing (applied once).
    app.provider_says(&otn, "TRADE_SUCCESS").await;
}

async fn balance(app: &TestApp, who: &str) -> String {
    let reply = app.get("/me/balance", Some(who)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["available"].as_str().unwrap().to_owned()
}

pub async fn partner_order(app: &TestApp, who: &str, domains: &[&str], payment: &str) -> Reply {
    app.post(
        "/orders",
        Some(who),
        json!({ "domains": domains, "captcha_token": "pass", "payment": payment }),
    )
    .await
}

async fn deliver(app: &TestApp, order: &str, status: &str, how: &Signing<'_>) -> Reply {
    signed(
        app,
        reqwest::Method::POST,
        &format!("/partner/deliveries/{order}"),
        Some(json!({ "status": status })),
        how,
    )
    .await
}

/// Every recorded webhook, each checked as acme would: its signature over the canonical
/// request with acme's key. Returns their bodies.
async fn webhooks(app: &TestApp) -> Vec<Value> {
    let reply = app.get("/dev/partner/webhooks", None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let mut bodies = Vec::new();
    for hook in reply.body["items"].as_array().unwrap() {
        assert_eq!(hook["url"], ACME_HOOK);
        let header = |name: &str| {
            hook["headers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h[0] == name)
                .map(|h| h[1].as_str().unwrap().to_owned())
                .unwrap()
        };
        let body = hook["body"].as_str().unwrap();
        let expected = sign(
            &PartnerKey::new(ACME_KEY.as_bytes().to_vec()),
            &canonical_request(
                "POST",
                "/market/deliveries",
                &header("X-Timestamp"),
                &header("X-Nonce"),
                body.as_bytes(),
            ),
        );
        assert_eq!(header("X-Signature"), expected, "the webhook is signed");
        assert_eq!(header("X-Partner-Id"), "acme");
        bodies.push(serde_json::from_str(body).unwrap());
    }
    bodies
}

fn l10_accounts(buyers: &[&str]) -> Vec<LedgerAccount> {
    let mut accounts = vec![
        LedgerAccount::Provider,
        LedgerAccount::BankTransfers,
        LedgerAccount::PartnerPayable("acme".into()),
    ];
    for b in buyers {
        let id = AccountId::parse(b).unwrap();
        accounts.push(LedgerAccount::BuyerBalance(id.clone()));
        accounts.push(LedgerAccount::Escrow(id));
    }
    accounts
}

/// The ledger balances and each buyer's stored balance equals the sum of its postings.
pub async fn assert_l10_conserved(app: &TestApp, buyers: &[&str]) {
    assert_eq!(ledger_sum(app, &l10_accounts(buyers)).await, Decimal::ZERO);
    for b in buyers {
        let id = AccountId::parse(b).unwrap();
        let posted = market_app::balances::sum_of(
            &app.running.app,
            &LedgerAccount::BuyerBalance(id.clone()),
        )
        .await
        .unwrap();
        let stored = market_app::partners::balance::stored(&app.running.app, &id)
            .await
            .unwrap()
            .unwrap_or(Decimal::ZERO);
        assert_eq!(stored, posted, "{b}'s stored balance");
        assert!(stored >= Decimal::ZERO, "{b}'s balance is never negative");
    }
}

/// L10 end to end over either store: signed feed → browse → a balance order by a buyer
/// with no verification → signed webhook → delivered → completed, partner paid.
pub async fn l10_feed_browse_balance_order_delivered(app: &TestApp) {
    partners_defined(app).await;
    let fed = feed(app, "partnerdeal.com", "100.00").await;
    assert_eq!(fed.status, 201, "{fed:?}");
    assert_eq!(fed.body["source"], "partner");
    assert_eq!(fed.body["partner"], "Acme Domains");
    let listing_id = fed.body["id"].as_str().unwrap().to_owned();
    // A change by the same partner: 200, the new price.
    let changed = feed(app, "partnerdeal.com", "90.00").await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.body["id"], listing_id.as_str());
    assert_eq!(changed.body["price"], "90.00");

    let browse = app.get("/listings", None).await;
    let item = browse.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["domain"] == "partnerdeal.com")
        .cloned()
        .expect("browse shows the partner listing");
    assert_eq!(item["source"], "partner");
    assert_eq!(item["partner"], "Acme Domains");
    let one = app.get(&format!("/listings/{listing_id}"), None).await;
    assert_eq!(one.body["source"], "partner");

    // L10: carol is no verified trader, has no Alipay bound: she tops up and buys.
    top_up(app, "carol", "150.00").await;
    assert_eq!(balance(app, "carol").await, "150.00");
    let early = partner_order(app, "carol", &["partnerdeal.com"], "balance").await;
    assert_problem(&early, 409, "COOLING_DOWN");
    app.advance(180).await;
    let placed = partner_order(app, "carol", &["partnerdeal.com"], "balance").await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let order = &placed.body["orders"][0];
    assert_eq!(order["status"], "delivering");
    assert_eq!(order["source"], "partner");
    let id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(balance(app, "carol").await, "60.00");
    // Sold: gone from the market, not orderable again.
    let again = partner_order(app, "carol", &["partnerdeal.com"], "balance").await;
    assert_problem(&again, 409, "LISTING_NOT_ACTIVE");

    let hooks = webhooks(app).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["delivery_id"], id.as_str());
    assert_eq!(hooks[0]["domain"], "partnerdeal.com");
    assert_eq!(hooks[0]["price"], "90.00");

    // Another partner cannot answer acme's delivery.
    let globex = Signing {
        partner: "globex",
        key: GLOBEX_KEY,
        skew: 0,
        nonce: None,
    };
    assert_problem(
        &deliver(app, &id, "delivered", &globex).await,
        404,
        "NOT_FOUND",
    );
    let done = deliver(app, &id, "delivered", &Signing::acme()).await;
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.body["status"], "completed");
    // The same answer again: nothing more; the other answer now: refused.
    let repeat = deliver(app, &id, "delivered", &Signing::acme()).await;
    assert_eq!(repeat.body["status"], "completed");
    assert_problem(
        &deliver(app, &id, "failed", &Signing::acme()).await,
        409,
        "DELIVERY_NOT_PENDING",
    );
    let read = app.get(&format!("/orders/{id}"), Some("carol")).await;
    assert_eq!(read.body["status"], "completed", "{read:?}");
    assert_eq!(balance(app, "carol").await, "60.00");
    let payable = market_app::balances::sum_of(
        &app.running.app,
        &LedgerAccount::PartnerPayable("acme".into()),
    )
    .await
    .unwrap();
    assert_eq!(payable, Decimal::new(9000, 2));
    assert_l10_conserved(app, &["carol"]).await;

    // The partner ends another listing: gone from browse; ending it again is 404.
    assert_eq!(feed(app, "gone.net", "5.00").await.status, 201);
    let ended = signed(
        app,
        reqwest::Method::DELETE,
        "/partner/listings/gone.net",
        None,
        &Signing::acme(),
    )
    .await;
    assert_eq!(ended.status, 204, "{ended:?}");
    let browse = app.get("/listings", None).await;
    assert!(!browse.body.to_string().contains("gone.net"));
    let twice = signed(
        app,
        reqwest::Method::DELETE,
        "/partner/listings/gone.net",
        None,
        &Signing::acme(),
    )
    .await;
    assert_problem(&twice, 404, "NOT_FOUND");
}

#[tokio::test]
async fn l10_feed_browse_balance_order_delivered_on_the_embedded_store() {
    let app = spawn_app().await;
    l10_feed_browse_balance_order_delivered(&app).await;
}

#[tokio::test]
async fn l10_a_failed_delivery_refunds_the_whole_price_to_the_balance() {
    let app = spawn_app().await;
    partners_defined(&app).await;
    assert_eq!(feed(&app, "nope.org", "40.00").await.status, 201);
    top_up(&app, "dave", "40.00").await;
    app.advance(180).await;
    let placed = partner_order(&app, "dave", &["nope.org"], "balance").await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(balance(&app, "dave").await, "0.00");
    let failed = deliver(&app, &id, "failed", &Signing::acme()).await;
    assert_eq!(failed.status, 200, "{failed:?}");
    assert_eq!(failed.body["status"], "refunded");
    assert_eq!(balance(&app, "dave").await, "40.00");
    // Once: a repeat refunds nothing more.
    deliver(&app, &id, "failed", &Signing::acme()).await;
    assert_eq!(balance(&app, "dave").await, "40.00");
    assert_l10_conserved(&app, &["dave"]).await;
    // Too little balance for a dearer one: refused, nothing taken.
    assert_eq!(feed(&app, "dear.org", "40.01").await.status, 201);
    app.advance(180).await;
    let poor = partner_order(&app, "dave", &["dear.org"], "balance").await;
    assert_problem(&poor, 409, "INSUFFICIENT_FUNDS");
    assert_eq!(balance(&app, "dave").await, "40.00");
}

#[tokio::test]
async fn l10_bank_transfers_confirmed_by_an_operator_or_expired_after_three_days() {
    let app = spawn_app().await;
    partners_defined(&app).await;
    assert_eq!(feed(&app, "wire-a.com", "300.00").await.status, 201);
    assert_eq!(feed(&app, "wire-b.com", "200.00").await.status, 201);
    app.advance(180).await;

    let a = partner_order(&app, "erin", &["wire-a.com"], "bank_transfer").await;
    assert_eq!(a.status, 201, "{a:?}");
    let a = a.body["orders"][0].clone();
    assert_eq!(a["status"], "awaiting_transfer");
    assert!(a["reference"].as_str().unwrap().starts_with("PT-"), "{a}");
    let a_id = a["id"].as_str().unwrap().to_owned();
    // L5: held while the transfer is awaited.
    let held = partner_order(&app, "frank", &["wire-a.com"], "bank_transfer").await;
    assert_problem(&held, 409, "ORDER_PENDING");
    // Nothing is announced before the money is confirmed.
    assert!(webhooks(&app).await.is_empty());
    let confirmed = app
        .post(
            &format!("/admin/orders/{a_id}/confirm-transfer"),
            Some("admin"),
            json!({}),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{confirmed:?}");
    assert_eq!(confirmed.body["status"], "delivering");
    assert_eq!(webhooks(&app).await.len(), 1);
    let done = deliver(&app, &a_id, "delivered", &Signing::acme()).await;
    assert_eq!(done.body["status"], "completed", "{done:?}");

    let b = partner_order(&app, "erin", &["wire-b.com"], "bank_transfer").await;
    let b_id = b.body["orders"][0]["id"].as_str().unwrap().to_owned();
    app.advance(3 * 24 * 3600 + 60).await;
    let read = app.get(&format!("/orders/{b_id}"), Some("erin")).await;
    assert_eq!(read.body["status"], "expired", "{read:?}");
    let late = app
        .post(
            &format!("/admin/orders/{b_id}/confirm-transfer"),
            Some("admin"),
            json!({}),
        )
        .await;
    assert_problem(&late, 409, "ORDER_NOT_PAYABLE");
    // The listing is free again.
    top_up(&app, "frank", "200.00").await;
    let freed = partner_order(&app, "frank", &["wire-b.com"], "balance").await;
    assert_eq!(freed.status, 201, "{freed:?}");
    assert_l10_conserved(&app, &["erin", "frank"]).await;
}

#[tokio::test]
async fn l10_forged_stale_and_replayed_partner_requests_are_refused() {
    let app = spawn_app().await;
    partners_defined(&app).await;
    let path = "/partner/listings/forged.com";
    let body = json!({ "price": "1.00" });
    // No signature at all.
    let bare = app
        .send(reqwest::Method::PUT, path, None, Some(body.clone()), &[])
        .await;
    assert_problem(&bare, 401, "PARTNER_SIGNATURE_INVALID");
    // Signed with another partner's key, or by a partner nobody defined.
    let wrong_key = Signing {
        partner: "acme",
        key: GLOBEX_KEY,
        skew: 0,
        nonce: None,
    };
    let forged = signed(
        &app,
        reqwest::Method::PUT,
        path,
        Some(body.clone()),
        &wrong_key,
    )
    .await;
    assert_problem(&forged, 401, "PARTNER_SIGNATURE_INVALID");
    let stranger = Signing {
        partner: "initech",
        key: ACME_KEY,
        skew: 0,
        nonce: None,
    };
    let unknown = signed(
        &app,
        reqwest::Method::PUT,
        path,
        Some(body.clone()),
        &stranger,
    )
    .await;
    assert_problem(&unknown, 401, "PARTNER_SIGNATURE_INVALID");
    // A body changed after signing.
    let timestamp = app.now().await.timestamp().to_string();
    let signature = sign(
        &PartnerKey::new(ACME_KEY.as_bytes().to_vec()),
        &canonical_request("PUT", path, &timestamp, "tampered1", br#"{"price":"1.00"}"#),
    );
    let tampered = app
        .send(
            reqwest::Method::PUT,
            path,
            None,
            Some(json!({ "price": "0.01" })),
            &[
                ("X-Partner-Id", "acme"),
                ("X-Timestamp", &timestamp),
                ("X-Nonce", "tampered1"),
                ("X-Signature", &signature),
            ],
        )
        .await;
    assert_problem(&tampered, 401, "PARTNER_SIGNATURE_INVALID");
    // Stale: more than 5 minutes behind or ahead.
    for skew in [-301, 301] {
        let stale = Signing {
            skew,
            ..Signing::acme()
        };
        let reply = signed(&app, reqwest::Method::PUT, path, Some(body.clone()), &stale).await;
        assert_problem(&reply, 401, "PARTNER_REQUEST_STALE");
    }
    // Nothing was listed by any of them.
    let browse = app.get("/listings", None).await;
    assert!(!browse.body.to_string().contains("forged.com"));
    // A genuine request passes once; its replay is refused.
    let once = Signing {
        nonce: Some("only-once-123".into()),
        ..Signing::acme()
    };
    let first = signed(&app, reqwest::Method::PUT, path, Some(body.clone()), &once).await;
    assert_eq!(first.status, 201, "{first:?}");
    let replay = signed(&app, reqwest::Method::PUT, path, Some(body.clone()), &once).await;
    assert_problem(&replay, 401, "PARTNER_REQUEST_REPLAYED");
}

#[tokio::test]
async fn l10_registered_domains_cannot_be_fed_and_mixed_carts_are_refused() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    partners_defined(&app).await;
    orderable_listing(&app, "ours.com", "10.00").await;
    // A domain registered here is its owner's to list (A2).
    let ours = feed(&app, "ours.com", "10.00").await;
    assert_problem(&ours, 409, "PARTNER_LISTING_CONFLICT");
    // One partner per domain.
    assert_eq!(feed(&app, "theirs.com", "10.00").await.status, 201);
    let globex = Signing {
        partner: "globex",
        key: GLOBEX_KEY,
        skew: 0,
        nonce: None,
    };
    let taken = signed(
        &app,
        reqwest::Method::PUT,
        "/partner/listings/theirs.com",
        Some(json!({ "price": "9.00" })),
        &globex,
    )
    .await;
    assert_problem(&taken, 409, "PARTNER_LISTING_CONFLICT");
    // Browse tells the two apart.
    let browse = app.get("/listings", None).await;
    for item in browse.body["items"].as_array().unwrap() {
        let want = if item["domain"] == "ours.com" {
            "registrar"
        } else {
            "partner"
        };
        assert_eq!(item["source"], want, "{item}");
    }
    app.advance(180).await;
    let mixed = partner_order(&app, "bob", &["ours.com", "theirs.com"], "balance").await;
    assert_problem(&mixed, 422, "MIXED_CART");
    let card = partner_order(&app, "bob", &["theirs.com"], "card").await;
    assert_problem(&card, 400, "PAYMENT_METHOD_NOT_ALLOWED");
    // A seller's routes never change a partner's listing.
    let listing = feed(&app, "theirs.com", "11.00").await;
    let id = listing.body["id"].as_str().unwrap();
    let patched = app
        .patch(
            &format!("/listings/{id}"),
            Some("bob"),
            json!({ "price": "1.00" }),
        )
        .await;
    assert_eq!(patched.status, 403, "{patched:?}");
}

/// L10 over either store: buyers racing for the same balance: it never goes negative.
pub async fn l10_the_balance_never_goes_negative_under_concurrent_orders(app: &TestApp) {
    partners_defined(app).await;
    let domains: Vec<String> = (0..6).map(|i| format!("race{i}.io")).collect();
    for d in &domains {
        assert_eq!(feed(app, d, "60.00").await.status, 201);
    }
    top_up(app, "gina", "100.00").await;
    app.advance(180).await;
    let carts: Vec<[&str; 1]> = domains.iter().map(|d| [d.as_str()]).collect();
    let replies = futures::future::join_all(
        carts
            .iter()
            .map(|cart| partner_order(app, "gina", cart, "balance")),
    )
    .await;
    let won = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(won, 1, "{replies:?}");
    for lost in replies.iter().filter(|r| r.status != 201) {
        assert!(
            ["INSUFFICIENT_FUNDS", "BUSY"].contains(&lost.code()),
            "{lost:?}"
        );
    }
    assert_eq!(balance(app, "gina").await, "40.00");
    assert_l10_conserved(app, &["gina"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn l10_the_balance_never_goes_negative_on_the_embedded_store() {
    let app = spawn_app().await;
    l10_the_balance_never_goes_negative_under_concurrent_orders(&app).await;
}

#[tokio::test]
async fn l10_alipay_orders_pay_online_and_a_failed_delivery_is_refunded_through_the_provider() {
    let app = spawn_app().await;
    partners_defined(&app).await;
    assert_eq!(feed(&app, "online.cn", "120.00").await.status, 201);
    assert_eq!(feed(&app, "unpaid.cn", "30.00").await.status, 201);
    app.advance(180).await;
    let placed = partner_order(&app, "hana", &["online.cn"], "alipay").await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let order = placed.body["orders"][0].clone();
    assert_eq!(order["status"], "awaiting_payment");
    assert!(order["pay_url"].is_string(), "{order}");
    let id = order["id"].as_str().unwrap().to_owned();
    let otn = order["out_trade_no"].as_str().unwrap().to_owned();
    // Nothing is announced before the money comes.
    assert!(webhooks(&app).await.is_empty());
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    let read = app.get(&format!("/orders/{id}"), Some("hana")).await;
    assert_eq!(read.body["status"], "delivering", "{read:?}");
    assert_eq!(webhooks(&app).await.len(), 1);
    let failed = deliver(&app, &id, "failed", &Signing::acme()).await;
    assert_eq!(failed.body["status"], "refunded", "{failed:?}");
    // The money went back to the provider, not to the balance; the ledger balances.
    assert_eq!(balance(&app, "hana").await, "0.00");
    let provider = market_app::balances::sum_of(&app.running.app, &LedgerAccount::Provider)
        .await
        .unwrap();
    assert_eq!(provider, Decimal::ZERO);
    assert_l10_conserved(&app, &["hana"]).await;

    // Unpaid within the payment window: expired, the listing free again.
    let unpaid = partner_order(&app, "hana", &["unpaid.cn"], "alipay").await;
    let unpaid_id = unpaid.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let held = partner_order(&app, "ivan", &["unpaid.cn"], "alipay").await;
    assert_problem(&held, 409, "ORDER_PENDING");
    app.advance(11 * 60).await;
    let read = app.get(&format!("/orders/{unpaid_id}"), Some("hana")).await;
    assert_eq!(read.body["status"], "expired", "{read:?}");
    let again = partner_order(&app, "ivan", &["unpaid.cn"], "alipay").await;
    assert_eq!(again.status, 201, "{again:?}");
}
