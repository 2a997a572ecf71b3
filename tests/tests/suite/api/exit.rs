//! M2 a seller's exit over HTTP with the dev clock (no sleeps): refused with every reason
//! until none remains; the window of applications on the 19th, the 20th and the 31st
//! across months with holidays set by operators; processed by the sweep (deposits refunded
//! less forfeits, the balance paid out, the ledger conserved, no more selling); blocked at
//! processing, recorded and visible, then processed once clear. The bodies are shared with
//! the DynamoDB run (`on_dynamodb`).
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use market_core::calendar::{first_of_next_month, market_date, start_of};
use market_core::ids::AccountId;
use market_core::ledger::LedgerAccount;
use market_core::model::{Refund, RefundStatus};
use market_tests::client::spawn_app;
use market_tests::{Reply, TestApp};

use crate::api::deposits::{deposits_of, paid_deposit, premium_category, sum};
use crate::api::helpers::*;
use crate::api::placements::advance_to;

async fn apply(app: &TestApp, who: &str) -> Reply {
    app.post("/me/exit", Some(who), json!({})).await
}

async fn exit_of(app: &TestApp, who: &str) -> Value {
    let reply = app.get("/me/exit", Some(who)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body
}

fn codes(reply: &Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

fn date(v: &Value) -> NaiveDate {
    NaiveDate::parse_from_str(v.as_str().unwrap(), "%Y-%m-%d").unwrap()
}

/// The last 7 working days of a month, counted here on their own: back from the month's
/// last day, skipping Saturdays, Sundays and `holidays`.
fn expected_window(year: i32, month: u32, holidays: &[NaiveDate]) -> (NaiveDate, NaiveDate) {
    let mut day = first_of_next_month(NaiveDate::from_ymd_opt(year, month, 1).unwrap())
        .pred_opt()
        .unwrap();
    let mut found = Vec::new();
    while found.len() < 7 {
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        if !weekend && !holidays.contains(&day) {
            found.push(day);
        }
        day = day.pred_opt().unwrap();
    }
    (*found.last().unwrap(), found[0])
}

/// The last Monday–Friday of the month of `day`.
fn last_weekday(day: NaiveDate) -> NaiveDate {
    let mut d = first_of_next_month(day).pred_opt().unwrap();
    while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d = d.pred_opt().unwrap();
    }
    d
}

/// Moves the clock to `at`, or a second on when `at` has passed (a window already open).
async fn advance_past(app: &TestApp, at: DateTime<Utc>) -> Value {
    let now = app.now().await;
    advance_to(app, at.max(now + Duration::seconds(1))).await
}

/// 10:00 in Beijing on `day`.
fn beijing_morning(day: NaiveDate) -> DateTime<Utc> {
    start_of(day) + Duration::hours(10)
}

#[tokio::test]
async fn m2_exit_is_refused_with_every_reason_until_none_remains_embedded() {
    m2_exit_is_refused_with_every_reason_until_none_remains(&spawn_app().await).await;
}

/// M2 over either store: an open listing, a push, an order, a deposit payment and frozen
/// proceeds each block; every one is named; cleared one by one, the exit is accepted.
pub async fn m2_exit_is_refused_with_every_reason_until_none_remains(app: &TestApp) {
    alice_and_bob(app).await;
    premium_category(app, "500.00").await;
    // Proceeds frozen for 7 days (S4): alice sells sold.com to bob.
    orderable_listing(app, "sold.com", "250.00").await;
    let order = app.order("bob", &["sold.com"]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let otn = app.pay("bob", &order).await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    // An open listing, a push to bob, an order of bob's listing, a deposit payment open.
    let listing = app
        .list("alice", &domain(app, "open.com", "alice").await, "80.00")
        .await;
    app.domain("pushed.com", "alice").await;
    let push = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["pushed.com"], "buyer": "bob", "price": "10.00", "lock_60d": false }),
        )
        .await;
    assert_eq!(push.status, 201, "{push:?}");
    orderable_listing_of(app, "bob", "bobs.com").await;
    let mine = app.order("alice", &["bobs.com"]).await;
    assert_eq!(mine.status, 201, "{mine:?}");
    let opened = app
        .post(
            "/me/deposits",
            Some("alice"),
            json!({ "category": "cn-premium" }),
        )
        .await;
    assert_eq!(opened.status, 201, "{opened:?}");

    let refused = apply(app, "alice").await;
    assert_problem(&refused, 409, "EXIT_BLOCKED");
    assert_eq!(
        codes(&refused),
        [
            "OPEN_LISTINGS",
            "OPEN_PUSHES",
            "OPEN_ORDERS",
            "DEPOSIT_PAYMENT_OPEN",
            "FROZEN_FUNDS"
        ]
    );
    assert!(refused.body["errors"][0]["detail"].is_string());
    assert_problem(&app.get("/me/exit", Some("alice")).await, 404, "NOT_FOUND");

    // Cleared one by one: each answer names what is left.
    let delisted = app
        .delete(
            &format!("/listings/{}", listing["id"].as_str().unwrap()),
            Some("alice"),
        )
        .await;
    assert!(delisted.status < 300, "{delisted:?}");
    let withdrawn = app
        .post(
            &format!("/pushes/{}/withdraw", push.body["id"].as_str().unwrap()),
            Some("alice"),
            json!({}),
        )
        .await;
    assert!(withdrawn.status < 300, "{withdrawn:?}");
    let cancelled = app
        .post(
            &format!(
                "/orders/{}/cancel",
                mine.body["orders"][0]["id"].as_str().unwrap()
            ),
            Some("alice"),
            json!({}),
        )
        .await;
    assert!(cancelled.status < 300, "{cancelled:?}");
    assert_eq!(
        codes(&apply(app, "alice").await),
        ["DEPOSIT_PAYMENT_OPEN", "FROZEN_FUNDS"]
    );
    app.advance(11 * 60).await; // the deposit's window ends unpaid
    assert_eq!(codes(&apply(app, "alice").await), ["FROZEN_FUNDS"]);
    app.advance(7 * 24 * 3600).await; // settled (S4)
    let accepted = apply(app, "alice").await;
    assert_eq!(accepted.status, 201, "{accepted:?}");
    assert_eq!(accepted.body["status"], "scheduled");
    // A second application answers the first.
    let again = apply(app, "alice").await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body["applied_at"], accepted.body["applied_at"]);
}

/// A plain domain of `owner`; its name.
async fn domain(app: &TestApp, name: &str, owner: &str) -> String {
    app.domain(name, owner).await;
    name.to_owned()
}

/// A listing of `seller` that others can order now.
async fn orderable_listing_of(app: &TestApp, seller: &str, name: &str) {
    app.domain(name, seller).await;
    app.list(seller, name, "30.00").await;
    app.advance(180).await;
}

#[tokio::test]
async fn m2_a_payout_in_flight_then_a_debt_block_the_exit_embedded() {
    m2_a_payout_in_flight_then_a_debt_block_the_exit(&spawn_app().await).await;
}

/// M2, S4, S6 over either store: a payout whose answer was lost is in flight and blocks;
/// once paid, an operator's refund of the sale leaves a debt, which blocks too.
pub async fn m2_a_payout_in_flight_then_a_debt_block_the_exit(app: &TestApp) {
    alice_and_bob(app).await;
    let order = crate::api::payouts::settled_sale(app, "owed.com", "100.00").await;
    for (operation, mode) in [("transfer", "timeout"), ("query", "error")] {
        let failing = app
            .post(
                "/dev/provider/fail-next",
                None,
                json!({ "operation": operation, "count": 1, "mode": mode }),
            )
            .await;
        assert_eq!(failing.status, 200, "{failing:?}");
    }
    let pending = app.post("/me/payouts", Some("alice"), json!({})).await;
    assert_eq!(pending.body["status"], "pending", "{pending:?}");
    let refused = apply(app, "alice").await;
    assert_problem(&refused, 409, "EXIT_BLOCKED");
    assert_eq!(codes(&refused), ["PAYOUT_IN_FLIGHT"]);
    // The sweep looks the transfer up (after its backoff): paid.
    let id = pending.body["id"].as_str().unwrap();
    for _ in 0..10 {
        app.advance(300).await;
        let payout = app.get(&format!("/me/payouts/{id}"), Some("alice")).await;
        if payout.body["status"] == "succeeded" {
            break;
        }
    }
    let ruling = app
        .post(
            &format!("/admin/orders/{order}/refund"),
            Some("admin"),
            json!({ "domain": "owed.com", "reason": "arbitration" }),
        )
        .await;
    assert_eq!(ruling.status, 200, "{ruling:?}");
    let refused = apply(app, "alice").await;
    assert_problem(&refused, 409, "EXIT_BLOCKED");
    assert_eq!(codes(&refused), ["UNPAID_DEBT"]);
    assert!(refused.body["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("100.00"));
}

#[tokio::test]
async fn m2_windows_of_the_19th_20th_and_31st_across_holidays_embedded() {
    m2_windows_of_the_19th_20th_and_31st_across_holidays(&spawn_app().await).await;
}

/// M2 over either store: applications on the 19th and the 20th (the seed: up to the 20th
/// inclusive) are processed in the last 7 working days of that month, one on the 31st in
/// the next month's; holidays set by operators move both windows; the sweep processes the
/// first two when their window opens.
pub async fn m2_windows_of_the_19th_20th_and_31st_across_holidays(app: &TestApp) {
    for who in ["s19", "s20", "s31"] {
        app.trader(who).await;
    }
    // The next month with a 31st whose 19th is still ahead.
    let today = market_date(app.now().await);
    let mut month = first_of_next_month(today);
    while first_of_next_month(month).pred_opt().unwrap().day() != 31 {
        month = first_of_next_month(month);
    }
    let next = first_of_next_month(month);
    // A holiday on the last weekday of each month: both windows start a working day earlier.
    let holidays = [last_weekday(month), last_weekday(next)];
    let mut years: Vec<i32> = holidays.iter().map(|d| d.year()).collect();
    years.dedup();
    for year in years {
        let dates: Vec<String> = holidays
            .iter()
            .filter(|d| d.year() == year)
            .map(|d| d.to_string())
            .collect();
        let set = app
            .put(
                &format!("/admin/holidays/{year}"),
                Some("admin"),
                json!({ "dates": dates }),
            )
            .await;
        assert_eq!(set.status, 200, "{set:?}");
    }
    let this_window = expected_window(month.year(), month.month(), &holidays);
    let next_window = expected_window(next.year(), next.month(), &holidays);
    assert!(this_window.1 < holidays[0] && next_window.1 < holidays[1]);
    assert!(this_window.0 < expected_window(month.year(), month.month(), &[]).0);

    let mut windows = Vec::new();
    for (who, day) in [("s19", 19), ("s20", 20), ("s31", 31)] {
        advance_to(app, beijing_morning(month.with_day(day).unwrap())).await;
        let applied = apply(app, who).await;
        assert_eq!(applied.status, 201, "{who}: {applied:?}");
        windows.push((
            date(&applied.body["processing_from"]),
            date(&applied.body["processing_until"]),
        ));
    }
    assert_eq!(windows, [this_window, this_window, next_window]);
    // Moving to the 31st crossed this month's window: the first two are processed.
    for who in ["s19", "s20"] {
        let exit = exit_of(app, who).await;
        assert_eq!(exit["status"], "processed", "{who}: {exit}");
        assert_eq!(exit["payout_note"], "nothing to pay out");
        let processed: DateTime<Utc> =
            serde_json::from_value(exit["processed_at"].clone()).unwrap();
        assert!(processed >= start_of(this_window.0), "{exit}");
    }
    let s31 = exit_of(app, "s31").await;
    assert_eq!(s31["status"], "scheduled");
    assert_eq!(date(&s31["processing_from"]), next_window.0);
}

#[tokio::test]
async fn m2_m1_an_exit_refunds_deposits_less_forfeits_and_pays_out_embedded() {
    m2_m1_an_exit_refunds_deposits_less_forfeits_and_pays_out(&spawn_app().await).await;
}

/// M1, M2, S6 over either store: a deposit of 500 with 120 forfeited and 247.50 of settled
/// proceeds; the sweep processes the exit in its window: 380 refunded through the
/// provider, 247.50 paid out, nothing left in deposits or available, every posting summing
/// to zero; the account can no longer list or open deposits.
pub async fn m2_m1_an_exit_refunds_deposits_less_forfeits_and_pays_out(app: &TestApp) {
    alice_and_bob(app).await;
    premium_category(app, "500.00").await;
    let deposit = paid_deposit(app, "alice", "cn-premium").await;
    let forfeit = app
        .post(
            &format!("/admin/deposits/{deposit}/forfeit"),
            Some("admin"),
            json!({ "amount": "120.00", "reason": "misleading descriptions" }),
        )
        .await;
    assert_eq!(forfeit.status, 200, "{forfeit:?}");
    crate::api::payouts::settled_sale(app, "exit.com", "250.00").await;

    let applied = apply(app, "alice").await;
    assert_eq!(applied.status, 201, "{applied:?}");
    let from = date(&applied.body["processing_from"]);
    // Before the window: still scheduled.
    if start_of(from) - Duration::hours(2) > app.now().await {
        advance_to(app, start_of(from) - Duration::hours(2)).await;
        assert_eq!(exit_of(app, "alice").await["status"], "scheduled");
    }
    let swept = advance_past(app, start_of(from) + Duration::minutes(1)).await;
    assert_eq!(
        swept["sweep"]["exits_processed"],
        json!(["alice"]),
        "{swept}"
    );
    let exit = exit_of(app, "alice").await;
    assert_eq!(exit["status"], "processed", "{exit}");
    assert!(exit["payout_id"].is_string(), "{exit}");

    let mine = deposits_of(app, "alice").await;
    assert_eq!(mine["items"][0]["status"], "refunded", "{mine}");
    assert_eq!(mine["items"][0]["refunded"], "380.00");
    assert_eq!(mine["total_held"], "0.00");
    let store = &app.running.app.store;
    let refund: market_app::repo::Versioned<Refund> = market_app::repo::load(
        &**store,
        market_app::repo::refund_key(&format!("deposit_refund:{deposit}")),
    )
    .await
    .unwrap()
    .expect("the deposit's refund");
    assert_eq!(refund.value.status, RefundStatus::Confirmed);
    assert_eq!(refund.value.amount.to_string(), "380.00");
    let transfers = app.running.sandbox.transfers();
    assert_eq!(transfers.len(), 1, "{transfers:?}");

    let alice = AccountId::parse("alice").unwrap();
    assert_eq!(
        sum(app, LedgerAccount::Deposits(alice.clone())).await,
        Decimal::ZERO
    );
    assert_eq!(
        sum(app, LedgerAccount::Seller(alice.clone())).await,
        Decimal::ZERO
    );
    assert_eq!(
        sum(app, LedgerAccount::DepositsForfeited).await,
        Decimal::new(12000, 2)
    );
    let mut every = sale_accounts("alice", "bob");
    every.extend([
        LedgerAccount::Escrow(alice.clone()),
        LedgerAccount::Deposits(alice.clone()),
        LedgerAccount::DepositsForfeited,
        LedgerAccount::PayoutPending(alice),
    ]);
    assert_eq!(ledger_sum(app, &every).await, Decimal::ZERO);

    // No more selling, no new deposit.
    app.domain("after.com", "alice").await;
    let refused = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "after.com", "price": "10.00" }),
        )
        .await;
    assert_problem(&refused, 403, "SELLER_EXITED");
    let refused = app
        .post(
            "/me/deposits",
            Some("alice"),
            json!({ "category": "cn-premium" }),
        )
        .await;
    assert_problem(&refused, 403, "SELLER_EXITED");
}

#[tokio::test]
async fn m2_an_exit_blocked_at_processing_records_why_then_goes_ahead_embedded() {
    m2_an_exit_blocked_at_processing_records_why_then_goes_ahead(&spawn_app().await).await;
}

/// M2 over either store: listed again after applying, the exit is blocked when its window
/// opens: the reason is recorded and shown, and it is looked at again the next working
/// day, when (delisted by then) it is processed.
pub async fn m2_an_exit_blocked_at_processing_records_why_then_goes_ahead(app: &TestApp) {
    alice_and_bob(app).await;
    let applied = apply(app, "alice").await;
    assert_eq!(applied.status, 201, "{applied:?}");
    let from = date(&applied.body["processing_from"]);
    app.domain("late.com", "alice").await;
    let now = app.now().await;
    let listing = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": "late.com", "price": "10.00", "ends_at": now + Duration::days(80) }),
        )
        .await;
    assert_eq!(listing.status, 201, "{listing:?}");
    let swept = advance_past(app, start_of(from) + Duration::minutes(1)).await;
    assert_eq!(swept["sweep"]["exits_blocked"], json!(["alice"]), "{swept}");
    let exit = exit_of(app, "alice").await;
    assert_eq!(exit["status"], "blocked", "{exit}");
    assert_eq!(exit["blocked"][0]["code"], "OPEN_LISTINGS");
    let next_check: DateTime<Utc> = serde_json::from_value(exit["next_check_at"].clone()).unwrap();
    assert!(next_check > start_of(from), "{exit}");
    // Still selling while blocked.
    let delisted = app
        .delete(
            &format!("/listings/{}", listing.body["id"].as_str().unwrap()),
            Some("alice"),
        )
        .await;
    assert!(delisted.status < 300, "{delisted:?}");
    let swept = advance_to(app, next_check + Duration::minutes(1)).await;
    assert_eq!(
        swept["sweep"]["exits_processed"],
        json!(["alice"]),
        "{swept}"
    );
    let exit = exit_of(app, "alice").await;
    assert_eq!(exit["status"], "processed", "{exit}");
    assert_eq!(exit["blocked"], json!([]));
}
