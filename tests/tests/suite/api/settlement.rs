//! S4: a seller binds a settlement account (enterprise Alipay, or a bank sub-account) in
//! the name of its verified company, with the authorisation for deductions; an operator
//! verifies it; payouts then go to it, and only once it is verified.
use market_tests::{spawn_app, Reply, TestApp};
use serde_json::{json, Value};

use crate::api::helpers::*;
use crate::api::payouts::settled_sale;

const COMPANY: &str = "Alice Trading Co., Ltd.";

/// alice as a verified enterprise named [`COMPANY`], with her A1 Alipay binding.
async fn alice_the_enterprise(app: &TestApp, enterprise: bool) {
    let reply = app
        .put(
            "/admin/accounts/alice",
            Some("admin"),
            json!({
                "real_name_verified": true,
                "real_name": COMPANY,
                "payout_account": "alice@example.com",
                "enterprise": enterprise,
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

fn enterprise_alipay(account: &str, company: &str) -> Value {
    json!({
        "kind": "enterprise_alipay",
        "account": account,
        "company_name": company,
        "deduction_authorised": true,
    })
}

async fn bind(app: &TestApp, who: &str, body: Value) -> Reply {
    app.put("/me/settlement-account", Some(who), body).await
}

async fn verify(app: &TestApp, account: &str) -> Reply {
    app.post(
        &format!("/admin/accounts/{account}/settlement-account/verify"),
        Some("admin"),
        json!({}),
    )
    .await
}

async fn available(app: &TestApp) -> String {
    app.get("/me/ledger?limit=200", Some("alice")).await.body["balances"]["available"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// S4 over either store: bound, held back until verified, then paid to it (not to the A1
/// binding), with the deduction authorisation recorded and shown.
pub async fn s4_a_payout_goes_to_the_verified_settlement_account(app: &TestApp) {
    alice_and_bob(app).await;
    alice_the_enterprise(app, true).await;
    settled_sale(app, "s4paid.com", "1000.00").await;
    assert_eq!(available(app).await, "990.00");

    let bound = bind(
        app,
        "alice",
        enterprise_alipay("finance@alice.example", COMPANY),
    )
    .await;
    assert_eq!(bound.status, 200, "{bound:?}");
    assert_eq!(bound.body["status"], "pending_verification");
    assert_eq!(bound.body["kind"], "enterprise_alipay");
    assert_eq!(bound.body["company_name"], COMPANY);
    assert_eq!(bound.body["deduction_authorised"], true);
    assert!(bound.body["verified_at"].is_null());
    let shown = app.get("/me/settlement-account", Some("alice")).await;
    assert_eq!(shown.status, 200, "{shown:?}");
    assert_eq!(shown.body["account"], "finance@alice.example");

    // Bound but not verified: payouts wait (not to the A1 binding meanwhile), nothing moves.
    let held = app.post("/me/payouts", Some("alice"), json!({})).await;
    assert_problem(&held, 422, "SETTLEMENT_ACCOUNT_NOT_VERIFIED");
    assert_eq!(available(app).await, "990.00");
    assert!(app.running.sandbox.transfers().is_empty());

    let verified = verify(app, "alice").await;
    assert_eq!(verified.status, 200, "{verified:?}");
    assert_eq!(verified.body["status"], "verified");
    assert!(verified.body["verified_at"].is_string());
    // Verifying again answers it unchanged.
    let again = verify(app, "alice").await;
    assert_eq!(again.body["verified_at"], verified.body["verified_at"]);

    let paid = app
        .post("/me/payouts", Some("alice"), json!({ "amount": "600.00" }))
        .await;
    assert_eq!(paid.status, 202, "{paid:?}");
    assert_eq!(paid.body["status"], "succeeded");
    assert_eq!(paid.body["payout_account"], "finance@alice.example");
    assert_eq!(paid.body["payee_kind"], "alipay");
    let transfers = app.running.sandbox.transfers();
    assert_eq!(transfers.len(), 1);
    let transfer = transfers.values().next().unwrap();
    assert_eq!(transfer.payee_account, "finance@alice.example");
    assert_eq!(transfer.payee_name.as_deref(), Some(COMPANY));
    assert_eq!(available(app).await, "390.00");

    // The same account again (only the authorisation changes) stays verified.
    let mut same = enterprise_alipay("finance@alice.example", COMPANY);
    same["deduction_authorised"] = json!(false);
    let rebound = bind(app, "alice", same).await;
    assert_eq!(rebound.body["status"], "verified", "{rebound:?}");
    assert_eq!(rebound.body["deduction_authorised"], false);
    // Another account needs verifying again; payouts wait meanwhile.
    let other = bind(app, "alice", enterprise_alipay("2088123412341234", COMPANY)).await;
    assert_eq!(other.body["status"], "pending_verification");
    let held = app.post("/me/payouts", Some("alice"), json!({})).await;
    assert_problem(&held, 422, "SETTLEMENT_ACCOUNT_NOT_VERIFIED");
    assert_eq!(available(app).await, "390.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s4_a_payout_goes_only_to_the_verified_settlement_account() {
    s4_a_payout_goes_to_the_verified_settlement_account(&spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s4_a_bank_sub_account_is_paid_as_a_bank_account() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    alice_the_enterprise(&app, true).await;
    settled_sale(&app, "s4bank.com", "100.00").await;
    let bound = bind(
        &app,
        "alice",
        json!({
            "kind": "bank_sub_account",
            "account": "6228480012345678901",
            "company_name": COMPANY,
            "deduction_authorised": true,
        }),
    )
    .await;
    assert_eq!(bound.status, 200, "{bound:?}");
    assert_eq!(verify(&app, "alice").await.status, 200);
    let paid = app.post("/me/payouts", Some("alice"), json!({})).await;
    assert_eq!(paid.status, 202, "{paid:?}");
    assert_eq!(paid.body["payout_account"], "6228480012345678901");
    assert_eq!(paid.body["payee_kind"], "bank_account");
    assert_eq!(paid.body["amount"], "99.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s4_every_binding_refusal() {
    let app = spawn_app().await;
    // Not real-name verified.
    app.account("carol", false, None).await;
    assert_problem(
        &bind(
            &app,
            "carol",
            enterprise_alipay("pay@carol.example", "Carol Ltd"),
        )
        .await,
        422,
        "NOT_VERIFIED",
    );
    // Unknown to the marketplace.
    assert_problem(
        &bind(&app, "nobody", enterprise_alipay("pay@x.example", "X Ltd")).await,
        422,
        "NOT_VERIFIED",
    );
    // Verified, but a person, not an enterprise.
    alice_the_enterprise(&app, false).await;
    assert_problem(
        &bind(
            &app,
            "alice",
            enterprise_alipay("finance@alice.example", COMPANY),
        )
        .await,
        422,
        "NOT_ENTERPRISE_ACCOUNT",
    );
    // An enterprise, but another company's name.
    alice_the_enterprise(&app, true).await;
    let mismatch = bind(
        &app,
        "alice",
        enterprise_alipay("finance@alice.example", "Alice Trading Ltd"),
    )
    .await;
    assert_problem(&mismatch, 422, "COMPANY_NAME_MISMATCH");
    assert!(mismatch.body["detail"].as_str().unwrap().contains(COMPANY));
    // Shapes: an unknown kind, a bank number that is not one, a blank account or name, a
    // missing authorisation, an unknown field.
    let mut unknown_kind = enterprise_alipay("finance@alice.example", COMPANY);
    unknown_kind["kind"] = json!("paypal");
    assert_problem(
        &bind(&app, "alice", unknown_kind).await,
        400,
        "INVALID_REQUEST",
    );
    let mut bad_bank = enterprise_alipay("62284800x", COMPANY);
    bad_bank["kind"] = json!("bank_sub_account");
    assert_problem(&bind(&app, "alice", bad_bank).await, 400, "INVALID_REQUEST");
    assert_problem(
        &bind(&app, "alice", enterprise_alipay(" ", COMPANY)).await,
        400,
        "INVALID_REQUEST",
    );
    assert_problem(
        &bind(
            &app,
            "alice",
            enterprise_alipay("finance@alice.example", " "),
        )
        .await,
        400,
        "INVALID_REQUEST",
    );
    let mut missing = enterprise_alipay("finance@alice.example", COMPANY);
    missing
        .as_object_mut()
        .unwrap()
        .remove("deduction_authorised");
    assert_problem(&bind(&app, "alice", missing).await, 400, "INVALID_REQUEST");
    let mut extra = enterprise_alipay("finance@alice.example", COMPANY);
    extra["iban"] = json!("x");
    assert_problem(&bind(&app, "alice", extra).await, 400, "INVALID_REQUEST");
    let anonymous = app
        .put(
            "/me/settlement-account",
            None,
            enterprise_alipay("finance@alice.example", COMPANY),
        )
        .await;
    assert_problem(&anonymous, 401, "UNAUTHENTICATED");
    // Nothing was bound by any of these.
    assert_problem(
        &app.get("/me/settlement-account", Some("alice")).await,
        404,
        "NOT_FOUND",
    );
    // Verifying: nothing bound, not an operator.
    assert_problem(&verify(&app, "alice").await, 404, "NOT_FOUND");
    let bound = bind(
        &app,
        "alice",
        enterprise_alipay("finance@alice.example", COMPANY),
    )
    .await;
    assert_eq!(bound.status, 200, "{bound:?}");
    let by_seller = app
        .post(
            "/admin/accounts/alice/settlement-account/verify",
            Some("alice"),
            json!({}),
        )
        .await;
    assert_problem(&by_seller, 403, "FORBIDDEN");
    // The verified company name changed before the operator looked: refused.
    let renamed = app
        .put(
            "/admin/accounts/alice",
            Some("admin"),
            json!({ "real_name_verified": true, "real_name": "Alice Holdings", "payout_account": "alice@example.com", "enterprise": true }),
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_problem(&verify(&app, "alice").await, 422, "COMPANY_NAME_MISMATCH");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s4_a_payout_is_refused_when_the_verified_name_no_longer_matches() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    alice_the_enterprise(&app, true).await;
    settled_sale(&app, "s4renamed.com", "100.00").await;
    bind(
        &app,
        "alice",
        enterprise_alipay("finance@alice.example", COMPANY),
    )
    .await;
    assert_eq!(verify(&app, "alice").await.status, 200);
    app.put(
        "/admin/accounts/alice",
        Some("admin"),
        json!({ "real_name_verified": true, "real_name": "Alice Holdings", "payout_account": "alice@example.com", "enterprise": true }),
    )
    .await;
    let refused = app.post("/me/payouts", Some("alice"), json!({})).await;
    assert_problem(&refused, 422, "COMPANY_NAME_MISMATCH");
    assert_eq!(available(&app).await, "99.00");
    assert!(app.running.sandbox.transfers().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s4_without_a_settlement_account_the_a1_binding_is_still_paid() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    settled_sale(&app, "s4legacy.com", "100.00").await;
    assert_problem(
        &app.get("/me/settlement-account", Some("alice")).await,
        404,
        "NOT_FOUND",
    );
    let paid = app.post("/me/payouts", Some("alice"), json!({})).await;
    assert_eq!(paid.status, 202, "{paid:?}");
    assert_eq!(paid.body["payout_account"], "alice@example.com");
    assert_eq!(paid.body["payee_kind"], "alipay");
}
