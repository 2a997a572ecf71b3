//! S3: payment methods of the international site over HTTP: cards by the sandbox
//! processor's Stripe test ids (and through a stand-in of Stripe's API), PayPal, bank
//! transfer; each refusal with its code; one card, one account (under a race too); the
//! pre-authorisation placed and released; the preferred and the last method kept.
use chrono::TimeZone;
use serde_json::{json, Value};

use market_tests::client::spawn_app_with_env;
use market_tests::stripe::{FakeStripe, SECRET_KEY};
use market_tests::{spawn_app, Reply, TestApp};

use crate::api::helpers::*;
use crate::api::payouts::settled_sale;

async fn bind(app: &TestApp, who: &str, body: Value) -> Reply {
    app.post("/me/payment-methods", Some(who), body).await
}

async fn card(app: &TestApp, who: &str, token: &str) -> Reply {
    bind(app, who, json!({ "kind": "card", "token": token })).await
}

async fn methods(app: &TestApp, who: &str) -> Vec<Value> {
    let reply = app.get("/me/payment-methods?limit=200", Some(who)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn s3_cards_of_the_four_brands_bind_and_the_first_is_preferred() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (token, brand, last4) in [
        ("pm_card_visa", "visa", "4242"),
        ("pm_card_mastercard", "mastercard", "4444"),
        ("pm_card_amex", "amex", "8431"),
        ("pm_card_jcb", "jcb", "0505"),
        ("pm_card_visa_debit", "visa", "5556"),
    ] {
        let bound = card(&app, "alice", token).await;
        assert_eq!(bound.status, 201, "{bound:?}");
        assert_eq!(bound.body["kind"], "card");
        assert_eq!(bound.body["brand"], brand);
        assert_eq!(bound.body["last4"], last4);
        assert_eq!(bound.body["preferred"], ids.is_empty(), "{bound:?}");
        assert!(bound.body.get("token").is_none() && bound.body.get("fingerprint").is_none());
        ids.push(bound.body["id"].as_str().unwrap().to_owned());
    }
    // Paginated per the conventions, in binding order.
    let first = app.get("/me/payment-methods?limit=2", Some("alice")).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .get(
            &format!("/me/payment-methods?limit=200&cursor={cursor}"),
            Some("alice"),
        )
        .await;
    let mut seen: Vec<String> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest.body["items"].as_array().unwrap())
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rest.body["next_cursor"], Value::Null);
    seen.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected);
    // Every binding placed 1.00 USD and released it at once.
    let preauths = app.running.cards.preauthorizations();
    assert_eq!(preauths.len(), 5, "{preauths:?}");
    for p in &preauths {
        assert_eq!((p.amount_minor, p.currency.as_str()), (100, "usd"));
        assert_eq!(p.status, "canceled", "{p:?}");
    }
    assert!(methods(&app, "bob").await.is_empty());
}

#[tokio::test]
async fn s3_refused_cards_each_with_their_code_and_nothing_written() {
    let app = spawn_app().await;
    assert_problem(
        &card(&app, "alice", "pm_card_unionpay").await,
        422,
        "CARD_TYPE_NOT_ACCEPTED",
    );
    assert_problem(
        &card(&app, "alice", "pm_card_mastercard_prepaid").await,
        422,
        "CARD_TYPE_NOT_ACCEPTED",
    );
    // The pre-authorisation is declined: refused, nothing bound, nothing held.
    assert_problem(
        &card(&app, "alice", "pm_card_chargeDeclined").await,
        422,
        "PREAUTHORIZATION_FAILED",
    );
    assert!(methods(&app, "alice").await.is_empty());
    assert!(app.running.cards.preauthorizations().is_empty());
    // A refused card is not claimed: another account binds nothing of it either.
    assert_problem(
        &card(&app, "bob", "pm_card_chargeDeclined").await,
        422,
        "PREAUTHORIZATION_FAILED",
    );
    for body in [
        json!({ "kind": "card", "token": "4242424242424242" }),
        json!({ "kind": "card" }),
        json!({ "kind": "cash" }),
        json!({ "kind": "bank_transfer", "token": "x" }),
        json!({ "kind": "card", "token": "pm_card_visa", "number": "4242" }),
    ] {
        assert_problem(&bind(&app, "alice", body).await, 400, "INVALID_REQUEST");
    }
    assert!(methods(&app, "alice").await.is_empty());
}

#[tokio::test]
async fn s3_a_card_expiring_this_month_is_refused() {
    let app = spawn_app().await;
    // The sandbox's test cards expire 12/2030: move the server clock into that month.
    let now = app.now().await;
    let december = chrono::Utc.with_ymd_and_hms(2030, 12, 3, 0, 0, 0).unwrap();
    app.advance_late((december - now).num_seconds()).await;
    assert_problem(
        &card(&app, "alice", "pm_card_visa").await,
        422,
        "CARD_EXPIRING",
    );
    assert!(app.running.cards.preauthorizations().is_empty());
}

#[tokio::test]
async fn s3_paypal_binds_unless_registered_in_mainland_china() {
    let app = spawn_app().await;
    let refused = bind(
        &app,
        "alice",
        json!({ "kind": "paypal", "token": "paypal_sandbox_cn" }),
    )
    .await;
    assert_problem(&refused, 422, "PAYPAL_REGION_NOT_ACCEPTED");
    let bound = bind(
        &app,
        "alice",
        json!({ "kind": "paypal", "token": "paypal_sandbox_us" }),
    )
    .await;
    assert_eq!(bound.status, 201, "{bound:?}");
    assert_eq!(
        (
            bound.body["kind"].as_str(),
            bound.body["preferred"].as_bool()
        ),
        (Some("paypal"), Some(true))
    );
    assert!(bound.body.get("brand").is_none() && bound.body.get("last4").is_none());
    // One PayPal account, one platform account.
    let elsewhere = bind(
        &app,
        "bob",
        json!({ "kind": "paypal", "token": "paypal_sandbox_us" }),
    )
    .await;
    assert_problem(&elsewhere, 409, "ALREADY_BOUND_ELSEWHERE");
    assert_problem(
        &bind(
            &app,
            "alice",
            json!({ "kind": "paypal", "token": "paypal_nosuch" }),
        )
        .await,
        400,
        "INVALID_REQUEST",
    );
}

#[tokio::test]
async fn s3_bank_transfer_only_for_an_enterprise_on_credit_control() {
    let app = spawn_app().await;
    let account = |id: &str, enterprise: bool, credit_control: bool| json!({ "real_name_verified": true, "enterprise": enterprise, "credit_control": credit_control, "real_name": id });
    for (id, enterprise, credit_control) in [
        ("solo", false, false),
        ("acme", true, false),
        ("odd", false, true),
    ] {
        let put = app
            .put(
                &format!("/admin/accounts/{id}"),
                Some("admin"),
                account(id, enterprise, credit_control),
            )
            .await;
        assert_eq!(put.status, 200, "{put:?}");
        assert_problem(
            &bind(&app, id, json!({ "kind": "bank_transfer" })).await,
            422,
            "BANK_TRANSFER_NOT_ALLOWED",
        );
    }
    // An account unknown to the marketplace is no enterprise either.
    assert_problem(
        &bind(&app, "ghost", json!({ "kind": "bank_transfer" })).await,
        422,
        "BANK_TRANSFER_NOT_ALLOWED",
    );
    // The operator puts acme on credit control.
    let put = app
        .put(
            "/admin/accounts/acme",
            Some("admin"),
            account("acme", true, true),
        )
        .await;
    assert_eq!(put.body["credit_control"], true, "{put:?}");
    let bound = bind(&app, "acme", json!({ "kind": "bank_transfer" })).await;
    assert_eq!(bound.status, 201, "{bound:?}");
    assert_eq!(bound.body["kind"], "bank_transfer");
    // Once per account: binding it again answers the same method.
    let again = bind(&app, "acme", json!({ "kind": "bank_transfer" })).await;
    assert_eq!(again.body["id"], bound.body["id"], "{again:?}");
    assert_eq!(methods(&app, "acme").await.len(), 1);
}

#[tokio::test]
async fn s3_a_card_binds_to_one_account_until_it_is_removed() {
    let app = spawn_app().await;
    let alice = card(&app, "alice", "pm_card_visa").await;
    assert_eq!(alice.status, 201, "{alice:?}");
    let bob = card(&app, "bob", "pm_card_visa").await;
    assert_problem(&bob, 409, "ALREADY_BOUND_ELSEWHERE");
    // Refused before any pre-authorisation: only alice's was placed.
    assert_eq!(app.running.cards.preauthorizations().len(), 1);
    // alice binding it again gets the same method.
    let again = card(&app, "alice", "pm_card_visa").await;
    assert_eq!(again.body["id"], alice.body["id"], "{again:?}");
    assert_eq!(methods(&app, "alice").await.len(), 1);
    // Removed (the only one, nothing owed), the card is free to bind elsewhere.
    let id = alice.body["id"].as_str().unwrap();
    let removed = app
        .delete(&format!("/me/payment-methods/{id}"), Some("alice"))
        .await;
    assert_eq!(removed.status, 200, "{removed:?}");
    let bob = card(&app, "bob", "pm_card_visa").await;
    assert_eq!(bob.status, 201, "{bob:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_two_accounts_binding_one_card_at_once_embedded() {
    s3_two_accounts_binding_one_card_at_once(&spawn_app().await).await;
}

/// Over either store: several accounts bind one card at the same moment; exactly one wins.
pub async fn s3_two_accounts_binding_one_card_at_once(app: &TestApp) {
    let who = ["r1", "r2", "r3", "r4"];
    let replies = futures::future::join_all(who.iter().map(|w| card(app, w, "pm_card_amex"))).await;
    let won: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(won.len(), 1, "{replies:#?}");
    for lost in replies.iter().filter(|r| r.status != 201) {
        assert_problem(lost, 409, "ALREADY_BOUND_ELSEWHERE");
    }
    let mut holders = 0;
    for w in who {
        holders += methods(app, w).await.len();
    }
    assert_eq!(holders, 1);
    // Every hold placed (the winner's, and any a loser placed before losing) is released.
    let preauths = app.running.cards.preauthorizations();
    assert!(!preauths.is_empty());
    assert!(
        preauths.iter().all(|p| p.status == "canceled"),
        "{preauths:?}"
    );
}

#[tokio::test]
async fn s3_the_preferred_method_cannot_be_removed_while_there_are_others() {
    let app = spawn_app().await;
    let visa = card(&app, "alice", "pm_card_visa").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let master = card(&app, "alice", "pm_card_mastercard").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = |id: &str| format!("/me/payment-methods/{id}");
    assert_problem(
        &app.delete(&path(&visa), Some("alice")).await,
        409,
        "PREFERRED_METHOD",
    );
    // Nobody else's: 404.
    assert_problem(
        &app.delete(&path(&master), Some("bob")).await,
        404,
        "NOT_FOUND",
    );
    assert_problem(
        &app.post(
            &format!("{}/preferred", path(&master)),
            Some("bob"),
            json!({}),
        )
        .await,
        404,
        "NOT_FOUND",
    );
    assert_problem(
        &app.delete("/me/payment-methods/mth_nosuch", Some("alice"))
            .await,
        404,
        "NOT_FOUND",
    );
    let preferred = app
        .post(
            &format!("{}/preferred", path(&master)),
            Some("alice"),
            json!({}),
        )
        .await;
    assert_eq!(preferred.status, 200, "{preferred:?}");
    assert_eq!(preferred.body["preferred"], true);
    let listed = methods(&app, "alice").await;
    let flag = |id: &str| listed.iter().find(|m| m["id"] == id).unwrap()["preferred"].clone();
    assert_eq!((flag(&visa), flag(&master)), (json!(false), json!(true)));
    assert_eq!(app.delete(&path(&visa), Some("alice")).await.status, 200);
    // The only one left, nothing owed: it may go too.
    assert_eq!(app.delete(&path(&master), Some("alice")).await.status, 200);
    assert!(methods(&app, "alice").await.is_empty());
}

#[tokio::test]
async fn s3_the_only_method_stays_while_a_bill_is_unpaid() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    let order = settled_sale(&app, "owed.com", "100.00").await;
    // An operator's ruling refunds the settled sale: alice owes the platform (S4).
    let ruling = app
        .post(
            &format!("/admin/orders/{order}/refund"),
            Some("admin"),
            json!({ "domain": "owed.com", "reason": "arbitration" }),
        )
        .await;
    assert_eq!(ruling.status, 200, "{ruling:?}");
    let ledger = app.get("/me/ledger?limit=200", Some("alice")).await;
    assert!(
        dec(&ledger.body["balances"]["available"]).is_sign_negative(),
        "{ledger:?}"
    );

    let only = card(&app, "alice", "pm_card_jcb").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/me/payment-methods/{only}");
    assert_problem(
        &app.delete(&path, Some("alice")).await,
        409,
        "LAST_METHOD_IN_USE",
    );
    // With a second method, the first (no longer preferred) may go: another stands behind
    // the debt.
    let second = card(&app, "alice", "pm_card_visa").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let prefer = app
        .post(
            &format!("/me/payment-methods/{second}/preferred"),
            Some("alice"),
            json!({}),
        )
        .await;
    assert_eq!(prefer.status, 200, "{prefer:?}");
    assert_eq!(app.delete(&path, Some("alice")).await.status, 200);
    assert_problem(
        &app.delete(&format!("/me/payment-methods/{second}"), Some("alice"))
            .await,
        409,
        "LAST_METHOD_IN_USE",
    );
}

#[tokio::test]
async fn s3_cards_never_pay_for_a_trade() {
    // O8: a trade's payment takes Alipay only, whatever the buyer has bound.
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    assert_eq!(card(&app, "bob", "pm_card_visa").await.status, 201);
    orderable_listing(&app, "o8card.com", "10.00").await;
    let placed = app.order("bob", &["o8card.com"]).await;
    let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    for method in ["card", "paypal", "bank_transfer"] {
        let paid = app
            .post(
                &format!("/orders/{id}/pay"),
                Some("bob"),
                json!({ "method": method }),
            )
            .await;
        assert_eq!(paid.status, 400, "{method}: {paid:?}");
    }
}

#[tokio::test]
async fn s3_the_runner_binds_through_stripe_when_configured() {
    let stripe = FakeStripe::start().await;
    let app = spawn_app_with_env(
        infra::Settings::for_tests(),
        &[
            ("STRIPE_SECRET_KEY", SECRET_KEY.to_owned()),
            ("STRIPE_API_BASE", stripe.base()),
        ],
    )
    .await;
    // A brand S3 does not take: refused before any hold.
    assert_problem(
        &card(&app, "alice", "pm_card_discover").await,
        422,
        "CARD_BRAND_NOT_ACCEPTED",
    );
    assert!(stripe.intents().is_empty());
    let bound = card(&app, "alice", "pm_card_visa").await;
    assert_eq!(bound.status, 201, "{bound:?}");
    assert_eq!(
        (bound.body["brand"].as_str(), bound.body["last4"].as_str()),
        (Some("visa"), Some("4242"))
    );
    let intents = stripe.intents();
    assert_eq!(intents.len(), 1, "{intents:?}");
    assert_eq!(
        (
            intents[0].amount.as_str(),
            intents[0].currency.as_str(),
            intents[0].status.as_str()
        ),
        ("100", "usd", "canceled")
    );
    let posts: Vec<_> = stripe
        .received()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 2);
    assert!(posts.iter().all(|p| p.idempotency_key.is_some()));
    // The sandbox was not used.
    assert!(app.running.cards.preauthorizations().is_empty());
    assert_problem(
        &card(&app, "alice", "pm_card_chargeDeclined").await,
        422,
        "PREAUTHORIZATION_FAILED",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_tokens_and_the_stripe_key_are_never_logged() {
    let logs = market_tests::logs::capture_process();
    let stripe = FakeStripe::start().await;
    let app = spawn_app_with_env(
        infra::Settings::for_tests(),
        &[
            ("STRIPE_SECRET_KEY", SECRET_KEY.to_owned()),
            ("STRIPE_API_BASE", stripe.base()),
        ],
    )
    .await;
    assert_eq!(card(&app, "logs1", "pm_card_visa").await.status, 201);
    for token in [
        "pm_card_discover",
        "pm_card_chargeDeclined",
        "pm_card_nosuch",
    ] {
        assert!(card(&app, "logs1", token).await.status >= 400);
    }
    let sandbox = spawn_app().await;
    assert_eq!(card(&sandbox, "logs2", "pm_card_jcb").await.status, 201);
    let paypal = json!({ "kind": "paypal", "token": "paypal_sandbox_cn" });
    assert_eq!(bind(&sandbox, "logs2", paypal).await.status, 422);
    let lines = logs.lines();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "payment method bound (S3)"),
        "bindings are logged"
    );
    for line in lines {
        let text = line.to_string();
        for secret in [SECRET_KEY, "pm_card_", "paypal_sandbox_"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}
