//! S6: a seller's money out. Proceeds settle (S4), then the seller pays them out to the
//! bound Alipay account through the provider, exactly once: requested amounts leave
//! `available` at once and never overdraw it, a transfer whose answer is lost is looked up
//! and paid once, a refused one comes back with its reason, and a debt blocks payouts.
use std::sync::Arc;

use market_core::ids::AccountId;
use market_core::ledger::LedgerAccount;
use market_tests::{spawn_app, Reply, TestApp};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::api::helpers::*;

/// Every ledger account a sale and a payout between these traders touch.
fn payout_accounts(seller: &str, buyer: &str) -> Vec<LedgerAccount> {
    let mut accounts = sale_accounts(seller, buyer);
    accounts.push(LedgerAccount::PayoutPending(
        AccountId::parse(seller).unwrap(),
    ));
    accounts
}

/// alice sells `domain` to bob at `price`; the settlement period passes: alice's net
/// proceeds (price less 1%) are available. Returns the order id.
pub async fn settled_sale(app: &TestApp, domain: &str, price: &str) -> String {
    orderable_listing(app, domain, price).await;
    let placed = app.order("bob", &[domain]).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay("bob", &id).await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    app.advance(7 * 24 * 3600 + 60).await;
    id
}

async fn balances(app: &TestApp, who: &str) -> Value {
    let reply = app.get("/me/ledger?limit=200", Some(who)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["balances"].clone()
}

async fn payout(app: &TestApp, who: &str, body: Value) -> Reply {
    app.post("/me/payouts", Some(who), body).await
}

async fn fail_next(app: &TestApp, operation: &str, count: u32, mode: &str) {
    let reply = app
        .post(
            "/dev/provider/fail-next",
            None,
            json!({ "operation": operation, "count": count, "mode": mode }),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// The ledger balances (every journal sums to zero) and the stored available balance,
/// which payouts are conditioned on, equals the sum of alice's available postings.
async fn assert_conserved(app: &TestApp) {
    assert_eq!(
        ledger_sum(app, &payout_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
    let alice = AccountId::parse("alice").unwrap();
    let stored = market_app::balances::stored_available(&app.running.app, &alice)
        .await
        .unwrap();
    let posted = market_app::balances::sum_of(&app.running.app, &LedgerAccount::Seller(alice))
        .await
        .unwrap();
    assert_eq!(
        stored.expect("alice's balance item, written with her first settlement"),
        posted
    );
}

/// S6 over either store: 60% then the rest, balances exact at each step, each transfer
/// made once to the bound account, nothing left to pay out after.
pub async fn s6_a_seller_pays_out_sixty_percent_then_the_rest(app: &TestApp) {
    alice_and_bob(app).await;
    settled_sale(app, "payout.com", "1000.00").await;
    assert_eq!(balances(app, "alice").await["available"], "990.00");

    let first = payout(app, "alice", json!({ "amount": "594.00" })).await;
    assert_eq!(first.status, 202, "{first:?}");
    assert_eq!(first.body["amount"], "594.00");
    assert_eq!(
        first.body["status"], "succeeded",
        "the sandbox pays at once"
    );
    assert_eq!(first.body["payout_account"], "alice@example.com");
    let after_first = balances(app, "alice").await;
    assert_eq!(
        (
            after_first["available"].as_str(),
            after_first["paying_out"].as_str()
        ),
        (Some("396.00"), Some("0.00"))
    );

    let rest = payout(app, "alice", json!({})).await;
    assert_eq!(rest.status, 202, "{rest:?}");
    assert_eq!(rest.body["amount"], "396.00", "the default is all of it");
    assert_eq!(rest.body["status"], "succeeded");
    assert_eq!(balances(app, "alice").await["available"], "0.00");

    let nothing = payout(app, "alice", json!({})).await;
    assert_problem(&nothing, 409, "INSUFFICIENT_FUNDS");

    let transfers = app.running.sandbox.transfers();
    let mut paid: Vec<String> = transfers.values().map(|t| t.amount.to_string()).collect();
    paid.sort();
    assert_eq!(paid, vec!["396.00", "594.00"]);
    assert!(transfers
        .values()
        .all(|t| t.payee_account == "alice@example.com"));

    let listed = app.get("/me/payouts", Some("alice")).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    let ids: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            rest.body["id"].as_str().unwrap(),
            first.body["id"].as_str().unwrap()
        ],
        "newest first"
    );
    let kinds: Vec<String> = app.get("/me/ledger?limit=200", Some("alice")).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .filter(|k| k == "payout")
        .collect();
    assert_eq!(
        kinds.len(),
        6,
        "each payout: out of available, into flight, out of flight to the provider"
    );
    assert_conserved(app).await;
}

#[tokio::test]
async fn s6_a_seller_pays_out_sixty_percent_then_the_rest_embedded() {
    s6_a_seller_pays_out_sixty_percent_then_the_rest(&spawn_app().await).await;
}

/// S6 over either store: `n` payouts of the whole balance at once: one is paid, every
/// other is refused with 409 INSUFFICIENT_FUNDS, and only one transfer is made.
pub async fn s6_concurrent_payouts_of_the_whole_balance_cannot_overdraw(
    app: Arc<TestApp>,
    n: usize,
) {
    alice_and_bob(&app).await;
    settled_sale(&app, "race.com", "500.00").await;
    let attempts = (0..n).map(|_| {
        let app = app.clone();
        tokio::spawn(async move { payout(&app, "alice", json!({ "amount": "495.00" })).await })
    });
    let replies: Vec<Reply> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let paid: Vec<&Reply> = replies.iter().filter(|r| r.status == 202).collect();
    assert_eq!(paid.len(), 1, "{replies:?}");
    for refused in replies.iter().filter(|r| r.status != 202) {
        assert_problem(refused, 409, "INSUFFICIENT_FUNDS");
    }
    assert_eq!(app.running.sandbox.transfers().len(), 1);
    assert_eq!(balances(&app, "alice").await["available"], "0.00");
    assert_conserved(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s6_concurrent_payouts_of_the_whole_balance_cannot_overdraw_embedded() {
    s6_concurrent_payouts_of_the_whole_balance_cannot_overdraw(Arc::new(spawn_app().await), 8)
        .await;
}

#[tokio::test]
async fn s6_a_transfer_whose_answer_is_lost_is_looked_up_and_paid_once_embedded() {
    s6_a_transfer_whose_answer_is_lost_is_looked_up_and_paid_once(&spawn_app().await).await;
}

/// Over either store.
pub async fn s6_a_transfer_whose_answer_is_lost_is_looked_up_and_paid_once(app: &TestApp) {
    alice_and_bob(app).await;
    settled_sale(app, "timeout.com", "200.00").await;
    fail_next(app, "transfer", 1, "timeout").await;
    fail_next(app, "query", 1, "error").await;

    let requested = payout(app, "alice", json!({})).await;
    assert_eq!(requested.status, 202, "{requested:?}");
    assert_eq!(requested.body["status"], "pending", "the answer was lost");
    let id = requested.body["id"].as_str().unwrap().to_owned();
    let waiting = balances(app, "alice").await;
    assert_eq!(
        (
            waiting["available"].as_str(),
            waiting["paying_out"].as_str()
        ),
        (Some("0.00"), Some("198.00")),
        "the money left available when asked for, and waits in flight"
    );
    assert_eq!(app.running.sandbox.transfers().len(), 1, "it did happen");
    assert_eq!(app.running.sandbox.transfer_calls(), 1);

    // First sweep: the lookup is not answered either: still pending, tried again later.
    let swept = app.advance(120).await;
    assert!(
        swept.body["sweep"]["payouts_waiting"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == id.as_str()),
        "{swept:?}"
    );
    assert_eq!(
        app.get(&format!("/me/payouts/{id}"), Some("alice"))
            .await
            .body["status"],
        "pending"
    );
    // Next sweep: the lookup finds the transfer: paid, once, never sent again.
    app.advance(300).await;
    let done = app.get(&format!("/me/payouts/{id}"), Some("alice")).await;
    assert_eq!(done.body["status"], "succeeded", "{done:?}");
    assert_eq!(app.running.sandbox.transfers().len(), 1);
    assert_eq!(
        app.running.sandbox.transfer_calls(),
        1,
        "found, never sent again"
    );
    let after = balances(app, "alice").await;
    assert_eq!(
        (after["available"].as_str(), after["paying_out"].as_str()),
        (Some("0.00"), Some("0.00"))
    );
    app.advance(3600).await;
    assert_eq!(app.running.sandbox.transfers().len(), 1);
    assert_conserved(app).await;
}

#[tokio::test]
async fn s6_a_refused_transfer_returns_the_money_with_the_reason_embedded() {
    s6_a_refused_transfer_returns_the_money_with_the_reason(&spawn_app().await).await;
}

/// Over either store.
pub async fn s6_a_refused_transfer_returns_the_money_with_the_reason(app: &TestApp) {
    alice_and_bob(app).await;
    settled_sale(app, "refused.com", "300.00").await;
    fail_next(app, "transfer", 1, "error").await;

    let refused = payout(app, "alice", json!({ "amount": "100.00" })).await;
    assert_eq!(refused.status, 202, "{refused:?}");
    assert_eq!(refused.body["status"], "failed");
    let reason = refused.body["failure_reason"].as_str().unwrap();
    assert!(reason.contains("PAYEE_NOT_EXIST"), "{reason}");
    assert_eq!(balances(app, "alice").await["available"], "297.00");
    let ledger = app.get("/me/ledger?limit=200", Some("alice")).await.body;
    let returned: Vec<&Value> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "payout_returned" && e["account"] == "seller:alice")
        .collect();
    assert_eq!(returned.len(), 1, "{ledger}");
    assert_eq!(returned[0]["amount"], "100.00");
    assert!(returned[0]["reason"]
        .as_str()
        .unwrap()
        .contains("PAYEE_NOT_EXIST"));
    assert!(app.running.sandbox.transfers().is_empty());

    // The money can be paid out again, to the last fen.
    let again = payout(app, "alice", json!({})).await;
    assert_eq!(
        (again.body["status"].as_str(), again.body["amount"].as_str()),
        (Some("succeeded"), Some("297.00"))
    );
    assert_conserved(app).await;
}

#[tokio::test]
async fn s4_s6_no_payout_while_a_debt_is_open_embedded() {
    s4_s6_no_payout_while_a_debt_is_open(&spawn_app().await).await;
}

/// Over either store.
pub async fn s4_s6_no_payout_while_a_debt_is_open(app: &TestApp) {
    alice_and_bob(app).await;
    let order = settled_sale(app, "debt.com", "100.00").await;
    let paid = payout(app, "alice", json!({})).await;
    assert_eq!(paid.body["status"], "succeeded", "{paid:?}");
    // An operator's ruling refunds the completed sale: alice owes the whole price.
    let ruling = app
        .post(
            &format!("/admin/orders/{order}/refund"),
            Some("admin"),
            json!({ "domain": "debt.com", "reason": "arbitration" }),
        )
        .await;
    assert_eq!(ruling.status, 200, "{ruling:?}");
    assert_eq!(balances(app, "alice").await["available"], "-100.00");
    let refused = payout(app, "alice", json!({ "amount": "0.10" })).await;
    assert_problem(&refused, 409, "INSUFFICIENT_FUNDS");
    assert!(refused.body["detail"].as_str().unwrap().contains("debt"));
    assert_eq!(app.running.sandbox.transfers().len(), 1);
    assert_conserved(app).await;
}

#[tokio::test]
async fn s6_bad_payout_requests_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.account("carol", true, None).await;
    settled_sale(&app, "bad.com", "100.00").await;

    assert_problem(
        &payout(&app, "carol", json!({})).await,
        422,
        "NO_PAYOUT_ACCOUNT",
    );
    for amount in ["0.09", "1.001", "-1.00", "ten"] {
        assert_problem(
            &payout(&app, "alice", json!({ "amount": amount })).await,
            400,
            "INVALID_AMOUNT",
        );
    }
    assert_problem(
        &payout(&app, "alice", json!({ "amount": "99.01" })).await,
        409,
        "INSUFFICIENT_FUNDS",
    );
    assert_problem(
        &payout(&app, "alice", json!({ "amount": "1.00", "to": "mallory" })).await,
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(app.post("/me/payouts", None, json!({})).await.status, 401);
    assert_eq!(balances(&app, "alice").await["available"], "99.00");
    assert!(app.get("/me/payouts", Some("alice")).await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(app.running.sandbox.transfers().is_empty());
}

#[tokio::test]
async fn s6_a_retried_payout_request_pays_once_and_others_cannot_read_it() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    settled_sale(&app, "retry.com", "100.00").await;
    let key = [("idempotency-key", "payout-1")];
    let body = json!({ "amount": "50.00" });
    let first = app
        .send(
            reqwest::Method::POST,
            "/me/payouts",
            Some("alice"),
            Some(body.clone()),
            &key,
        )
        .await;
    let again = app
        .send(
            reqwest::Method::POST,
            "/me/payouts",
            Some("alice"),
            Some(body),
            &key,
        )
        .await;
    assert_eq!(first.status, 202, "{first:?}");
    assert_eq!(again.body, first.body, "the first answer, replayed");
    assert_eq!(app.running.sandbox.transfers().len(), 1);
    assert_eq!(balances(&app, "alice").await["available"], "49.00");
    let id = first.body["id"].as_str().unwrap();
    assert_problem(
        &app.get(&format!("/me/payouts/{id}"), Some("bob")).await,
        404,
        "NOT_FOUND",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s6_concurrent_retries_of_one_payout_request_pay_once() {
    let app = Arc::new(spawn_app().await);
    alice_and_bob(&app).await;
    settled_sale(&app, "same-key.com", "100.00").await;
    let attempts = (0..6).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            app.send(
                reqwest::Method::POST,
                "/me/payouts",
                Some("alice"),
                Some(json!({ "amount": "10.00" })),
                &[("idempotency-key", "one-payout")],
            )
            .await
        })
    });
    let replies: Vec<Reply> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    for reply in &replies {
        assert!(
            reply.status == 202 || reply.code() == "IDEMPOTENCY_IN_PROGRESS",
            "{reply:?}"
        );
    }
    assert_eq!(app.running.sandbox.transfers().len(), 1);
    assert_eq!(balances(&app, "alice").await["available"], "89.00");
    let listed = app.get("/me/payouts", Some("alice")).await.body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
}
