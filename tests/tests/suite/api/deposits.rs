//! M1 sellers' deposits over HTTP: categories of TLDs (IDN ones normalised), listing and
//! pushing refused without the deposit, a deposit paid once through the notification path
//! however often it is notified, a late payment refunded, an unpaid one expiring with its
//! window, forfeits as ledger entries never exceeding what is held. The bodies are shared
//! with the DynamoDB run (`on_dynamodb`).
use rust_decimal::Decimal;
use serde_json::{json, Value};

use market_core::ids::AccountId;
use market_core::ledger::LedgerAccount;
use market_tests::client::spawn_app;
use market_tests::{Reply, TestApp};

use crate::api::helpers::*;

/// `cn-premium` = `cn, 中国, 公司, 网络` with a deposit of `deposit`.
pub async fn premium_category(app: &TestApp, deposit: &str) {
    let reply = app
        .put(
            "/admin/categories/cn-premium",
            Some("admin"),
            json!({ "tlds": ["cn", "中国", ".公司", "网络"], "deposit": deposit }),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// Opens a deposit of `category` as `who`.
pub async fn open_deposit(app: &TestApp, who: &str, category: &str) -> Reply {
    app.post("/me/deposits", Some(who), json!({ "category": category }))
        .await
}

/// Opens and pays the deposit of `category`; answers the deposit's id.
pub async fn paid_deposit(app: &TestApp, who: &str, category: &str) -> String {
    let opened = open_deposit(app, who, category).await;
    assert_eq!(opened.status, 201, "{opened:?}");
    let otn = opened.body["payment"]["out_trade_no"].as_str().unwrap();
    let paid = app.provider_says(otn, "TRADE_SUCCESS").await;
    assert_eq!(paid.body["payment_status"], "succeeded", "{paid:?}");
    opened.body["id"].as_str().unwrap().to_owned()
}

/// `GET /me/deposits` of `who`.
pub async fn deposits_of(app: &TestApp, who: &str) -> Value {
    let reply = app.get("/me/deposits", Some(who)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body
}

async fn try_list(app: &TestApp, who: &str, domain: &str) -> Reply {
    app.post(
        "/listings",
        Some(who),
        json!({ "domain": domain, "price": "100.00" }),
    )
    .await
}

/// Every ledger account a deposit of `who` touches.
pub fn deposit_accounts(who: &str) -> Vec<LedgerAccount> {
    let id = AccountId::parse(who).unwrap();
    vec![
        LedgerAccount::Provider,
        LedgerAccount::Escrow(id.clone()),
        LedgerAccount::Deposits(id),
        LedgerAccount::DepositsForfeited,
    ]
}

/// The sum of one ledger account.
pub async fn sum(app: &TestApp, account: LedgerAccount) -> Decimal {
    ledger_sum(app, &[account]).await
}

#[tokio::test]
async fn m1_listing_needs_the_deposit_and_one_is_held_once_however_often_notified_embedded() {
    m1_listing_needs_the_deposit_and_one_is_held_once_however_often_notified(&spawn_app().await)
        .await;
}

/// M1 over either store: refusals; a deposit paid once through replays and duplicates;
/// deposits of several categories add up; listing then allowed.
pub async fn m1_listing_needs_the_deposit_and_one_is_held_once_however_often_notified(
    app: &TestApp,
) {
    alice_and_bob(app).await;
    premium_category(app, "500.00").await;
    let free = app
        .put(
            "/admin/categories/plain",
            Some("admin"),
            json!({ "tlds": ["com"] }),
        )
        .await;
    assert_eq!(free.status, 200, "{free:?}");
    assert_eq!(free.body["deposit"], Value::Null);
    // Operators only; a TLD that is not one is refused.
    let not_admin = app
        .put(
            "/admin/categories/x",
            Some("alice"),
            json!({ "tlds": ["cn"] }),
        )
        .await;
    assert_problem(&not_admin, 403, "FORBIDDEN");
    let bad = app
        .put(
            "/admin/categories/x",
            Some("admin"),
            json!({ "tlds": ["a.b"] }),
        )
        .await;
    assert_problem(&bad, 400, "INVALID_REQUEST");

    app.domain("例子.中国", "alice").await;
    app.domain("plain.com", "alice").await;
    app.domain("pushed.cn", "alice").await;
    let refused = try_list(app, "alice", "例子.中国").await;
    assert_problem(&refused, 403, "DEPOSIT_REQUIRED");
    assert_eq!(refused.body["amount"], "500.00");
    assert_eq!(try_list(app, "alice", "plain.com").await.status, 201);
    // A push sells too: the same refusal.
    let push = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["pushed.cn"], "buyer": "bob", "price": "10.00", "lock_60d": false }),
        )
        .await;
    assert_problem(&push, 403, "DEPOSIT_REQUIRED");

    assert_problem(&open_deposit(app, "alice", "nope").await, 404, "NOT_FOUND");
    assert_problem(
        &open_deposit(app, "alice", "plain").await,
        400,
        "INVALID_REQUEST",
    );
    let opened = open_deposit(app, "alice", "cn-premium").await;
    assert_eq!(opened.status, 201, "{opened:?}");
    assert_eq!(opened.body["status"], "awaiting_payment");
    assert_eq!(opened.body["amount"], "500.00");
    let otn = opened.body["payment"]["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    // A double click answers the same deposit and attempt.
    let again = open_deposit(app, "alice", "cn-premium").await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body["id"], opened.body["id"]);
    assert_eq!(again.body["payment"]["out_trade_no"], otn.as_str());

    // Replays and duplicates of the success: held once.
    for status in ["TRADE_SUCCESS", "TRADE_SUCCESS", "TRADE_FINISHED"] {
        let reply = app.provider_says(&otn, status).await;
        assert_eq!(reply.body["payment_status"], "succeeded", "{reply:?}");
    }
    let mine = deposits_of(app, "alice").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["items"][0]["status"], "held");
    assert_eq!(mine["items"][0]["held"], "500.00");
    assert_eq!(mine["held"]["cn-premium"], "500.00");
    let alice = AccountId::parse("alice").unwrap();
    assert_eq!(
        sum(app, LedgerAccount::Deposits(alice.clone())).await,
        Decimal::new(50000, 2)
    );
    assert_eq!(
        ledger_sum(app, &deposit_accounts("alice")).await,
        Decimal::ZERO
    );
    assert_problem(
        &open_deposit(app, "alice", "cn-premium").await,
        409,
        "DEPOSIT_ALREADY_HELD",
    );

    assert_eq!(try_list(app, "alice", "例子.中国").await.status, 201);
    let push = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["pushed.cn"], "buyer": "bob", "price": "10.00", "lock_60d": false }),
        )
        .await;
    assert_eq!(push.status, 201, "{push:?}");

    // Deposits of several categories add up.
    let biz = app
        .put(
            "/admin/categories/biz",
            Some("admin"),
            json!({ "tlds": ["biz"], "deposit": "300.00" }),
        )
        .await;
    assert_eq!(biz.status, 200, "{biz:?}");
    paid_deposit(app, "alice", "biz").await;
    let mine = deposits_of(app, "alice").await;
    assert_eq!(mine["total_held"], "800.00", "{mine}");
    assert_eq!(
        sum(app, LedgerAccount::Deposits(alice)).await,
        Decimal::new(80000, 2)
    );
    assert_eq!(
        ledger_sum(app, &deposit_accounts("alice")).await,
        Decimal::ZERO
    );
}

#[tokio::test]
async fn m1_an_unpaid_deposit_expires_and_a_late_payment_is_refunded_embedded() {
    m1_an_unpaid_deposit_expires_and_a_late_payment_is_refunded(&spawn_app().await).await;
}

/// M1, E1 over either store: the deposit's window is an order's; the sweep expires it; the
/// money that comes after is refunded whole and holds nothing.
pub async fn m1_an_unpaid_deposit_expires_and_a_late_payment_is_refunded(app: &TestApp) {
    alice_and_bob(app).await;
    premium_category(app, "500.00").await;
    let opened = open_deposit(app, "alice", "cn-premium").await;
    assert_eq!(opened.status, 201, "{opened:?}");
    let otn = opened.body["payment"]["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let swept = app.advance(11 * 60).await;
    let expired = swept.body["sweep"]["deposits_expired"].as_array().unwrap();
    assert_eq!(expired.len(), 1, "{swept:?}");
    assert_eq!(
        deposits_of(app, "alice").await["items"][0]["status"],
        "expired"
    );
    let late = app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(late.body["payment_status"], "refunded", "{late:?}");
    let again = app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(again.body["payment_status"], "refunded", "{again:?}");
    let mine = deposits_of(app, "alice").await;
    assert_eq!(mine["total_held"], "0.00", "{mine}");
    let refunds = app.running.sandbox.refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    let alice = AccountId::parse("alice").unwrap();
    assert_eq!(
        sum(app, LedgerAccount::Deposits(alice)).await,
        Decimal::ZERO
    );
    assert_eq!(sum(app, LedgerAccount::Provider).await, Decimal::ZERO);
    assert_eq!(
        ledger_sum(app, &deposit_accounts("alice")).await,
        Decimal::ZERO
    );
    // A new deposit can be opened after the expired one.
    assert_eq!(open_deposit(app, "alice", "cn-premium").await.status, 201);
}

#[tokio::test]
async fn m1_forfeits_are_ledger_entries_never_exceeding_what_is_held_embedded() {
    m1_forfeits_are_ledger_entries_never_exceeding_what_is_held(&spawn_app().await).await;
}

/// M1 over either store: part, then more, never more than held, each a ledger entry with
/// its reason; short of the deposit the seller tops it up before listing again.
pub async fn m1_forfeits_are_ledger_entries_never_exceeding_what_is_held(app: &TestApp) {
    alice_and_bob(app).await;
    premium_category(app, "500.00").await;
    let id = paid_deposit(app, "alice", "cn-premium").await;
    let forfeit = |amount: &'static str, reason: &'static str, who: &'static str| {
        let path = format!("/admin/deposits/{id}/forfeit");
        async move {
            app.post(
                &path,
                Some(who),
                json!({ "amount": amount, "reason": reason }),
            )
            .await
        }
    };
    assert_problem(&forfeit("10.00", "spam", "alice").await, 403, "FORBIDDEN");
    assert_problem(
        &forfeit("10.00", " ", "admin").await,
        400,
        "INVALID_REQUEST",
    );
    assert_problem(&forfeit("0", "spam", "admin").await, 400, "INVALID_AMOUNT");
    assert_problem(
        &forfeit("500.01", "spam", "admin").await,
        409,
        "INSUFFICIENT_FUNDS",
    );
    let first = forfeit("120.00", "counterfeit listings", "admin").await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.body["held"], "380.00");
    assert_eq!(first.body["status"], "held");
    assert_problem(
        &forfeit("380.01", "more", "admin").await,
        409,
        "INSUFFICIENT_FUNDS",
    );
    let unknown = app
        .post(
            "/admin/deposits/dep_01jd0000000000000000000000/forfeit",
            Some("admin"),
            json!({ "amount": "1.00", "reason": "x" }),
        )
        .await;
    assert_problem(&unknown, 404, "NOT_FOUND");

    let alice = AccountId::parse("alice").unwrap();
    assert_eq!(
        sum(app, LedgerAccount::DepositsForfeited).await,
        Decimal::new(12000, 2)
    );
    assert_eq!(
        sum(app, LedgerAccount::Deposits(alice.clone())).await,
        Decimal::new(38000, 2)
    );
    let entries =
        market_app::balances::entries_of(&app.running.app, &LedgerAccount::Deposits(alice.clone()))
            .await
            .unwrap();
    let forfeit_entry = entries
        .iter()
        .find(|e| e.journal_id.starts_with("deposit_forfeit:"))
        .expect("a forfeit entry");
    assert_eq!(
        forfeit_entry.reason.as_deref(),
        Some("counterfeit listings")
    );

    // Short of the deposit now: refused with what is missing, topped up, allowed.
    app.domain("short.cn", "alice").await;
    let refused = try_list(app, "alice", "short.cn").await;
    assert_problem(&refused, 403, "DEPOSIT_REQUIRED");
    assert_eq!(refused.body["amount"], "120.00");
    let top_up = open_deposit(app, "alice", "cn-premium").await;
    assert_eq!(top_up.body["amount"], "120.00", "{top_up:?}");
    let otn = top_up.body["payment"]["out_trade_no"].as_str().unwrap();
    app.provider_says(otn, "TRADE_SUCCESS").await;
    assert_eq!(try_list(app, "alice", "short.cn").await.status, 201);

    // All of what is left: forfeited in full.
    let rest = forfeit("380.00", "repeated breach", "admin").await;
    assert_eq!(rest.body["status"], "forfeited", "{rest:?}");
    assert_eq!(rest.body["held"], "0.00");
    assert_eq!(deposits_of(app, "alice").await["total_held"], "120.00");
    assert_eq!(
        ledger_sum(app, &deposit_accounts("alice")).await,
        Decimal::ZERO
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m1_one_deposit_notification_delivered_eight_times_at_once_is_held_once_embedded() {
    m1_one_deposit_notification_delivered_eight_times_at_once_is_held_once(&spawn_app().await)
        .await;
}

/// M1, S1 over either store: the very same signed notification (same `notify_id`)
/// delivered eight times at once through the notification path, then a `TRADE_FINISHED`:
/// one `paid`, the rest change nothing; 500 held once, one journal pair.
pub async fn m1_one_deposit_notification_delivered_eight_times_at_once_is_held_once(app: &TestApp) {
    use market_app::payments::{self, Applied};
    alice_and_bob(app).await;
    premium_category(app, "500.00").await;
    let opened = open_deposit(app, "alice", "cn-premium").await;
    let otn = opened.body["payment"]["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let amount = market_core::money::Money::parse("500.00").unwrap();
    let now = app.running.app.now();
    let body = app
        .running
        .sandbox
        .notification(&otn, "TRADE_SUCCESS", amount, now);
    let tasks = (0..8).map(|_| {
        let running = app.running.app.clone();
        let body = body.clone();
        tokio::spawn(async move { payments::apply(&running, &body).await.unwrap() })
    });
    let outcomes: Vec<Applied> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|t| t.unwrap())
        .collect();
    let paid = outcomes.iter().filter(|o| **o == Applied::Paid).count();
    assert_eq!(paid, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Applied::Paid | Applied::NoChange)),
        "{outcomes:?}"
    );
    let finished = app
        .running
        .sandbox
        .notification(&otn, "TRADE_FINISHED", amount, now);
    assert_eq!(
        payments::apply(&app.running.app, &finished).await.unwrap(),
        Applied::NoChange
    );
    let alice = AccountId::parse("alice").unwrap();
    let entries =
        market_app::balances::entries_of(&app.running.app, &LedgerAccount::Deposits(alice))
            .await
            .unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(deposits_of(app, "alice").await["total_held"], "500.00");
    assert_eq!(
        ledger_sum(app, &deposit_accounts("alice")).await,
        Decimal::ZERO
    );
}

#[tokio::test]
async fn m1_m3_a_restore_needs_the_deposit_a_new_listing_would_need() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("appealed.cn", "alice").await;
    let listing = app.list("alice", "appealed.cn", "120.00").await;
    let id = listing["id"].as_str().unwrap();
    // The category comes after the listing: it stays, but a restore is a listing again.
    premium_category(&app, "500.00").await;
    let down = app
        .post(
            &format!("/admin/listings/{id}/takedown"),
            Some("admin"),
            json!({ "reason": "breach" }),
        )
        .await;
    assert_eq!(down.status, 200, "{down:?}");
    let appealed = app
        .post(
            &format!("/listings/{id}/appeal"),
            Some("alice"),
            json!({ "text": "please look again" }),
        )
        .await;
    assert_eq!(appealed.status, 201, "{appealed:?}");
    let decide = || async {
        app.post(
            &format!("/admin/listings/{id}/appeal"),
            Some("admin"),
            json!({ "decision": "restore" }),
        )
        .await
    };
    let refused = decide().await;
    assert_problem(&refused, 409, "RESTORE_NOT_ALLOWED");
    assert_eq!(
        refused.body["errors"][0]["code"], "DEPOSIT_REQUIRED",
        "{refused:?}"
    );
    paid_deposit(&app, "alice", "cn-premium").await;
    let restored = decide().await;
    assert_eq!(restored.status, 200, "{restored:?}");
    assert_eq!(restored.body["status"], "active");
}
