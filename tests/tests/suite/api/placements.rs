//! M4 featured placements and the operator's holidays, over HTTP with the dev clock: the
//! winners of a section with more applicants than slots, chosen in one sweep at the
//! period's start; a listing that ends leaving its slot; a start moved over a weekend and
//! holidays. The bodies are shared with the DynamoDB run (`on_dynamodb`).
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde_json::{json, Value};

use market_core::calendar::{market_date, start_of, Calendar};
use market_core::placement::next_period;
use market_tests::client::spawn_app;
use market_tests::TestApp;

use crate::api::helpers::*;

/// Moves the dev clock to `at` (and sweeps); answers the advance's reply.
pub async fn advance_to(app: &TestApp, at: DateTime<Utc>) -> Value {
    let now = app.now().await;
    assert!(at > now, "{at} is not after {now}");
    app.advance((at - now).num_seconds() + 1).await.body
}

/// Moves the clock to an hour after the next period start (of the default calendar), so
/// that the next period is two weeks away whenever the test runs: its setup never straddles
/// a start.
pub async fn just_after_a_period_start(app: &TestApp) {
    let start = next_period(&Calendar::default(), 15, app.now().await).starts_at;
    advance_to(app, start + Duration::hours(1)).await;
}

/// A completed sale of `domain` by `seller` to `buyer` (its volume counts for `sales`).
async fn sale(app: &TestApp, seller: &str, buyer: &str, domain: &str, price: &str) {
    app.domain(domain, seller).await;
    app.list(seller, domain, price).await;
    app.advance(180).await;
    let placed = app.order(buyer, &[domain]).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay(buyer, &id).await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some(buyer)).await.body["status"],
        "completed"
    );
}

/// A listing of `seller` that runs for 90 days; its id.
async fn long_listing(app: &TestApp, seller: &str, domain: &str, price: &str) -> String {
    app.domain(domain, seller).await;
    let now = app.now().await;
    let reply = app
        .post(
            "/listings",
            Some(seller),
            json!({ "domain": domain, "price": price, "ends_at": now + Duration::days(90) }),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn section(app: &TestApp, name: &str, slots: u32, rule: &str) {
    let reply = app
        .put(
            &format!("/admin/placements/{name}"),
            Some("admin"),
            json!({ "slots": slots, "period_days": 15, "rule": rule }),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

async fn apply(app: &TestApp, seller: &str, listing: &str, section: &str) -> market_tests::Reply {
    app.post(
        &format!("/listings/{listing}/placements"),
        Some(seller),
        json!({ "section": section }),
    )
    .await
}

async fn featured(app: &TestApp, section: &str) -> Vec<String> {
    let reply = app
        .get(&format!("/listings/featured?section={section}"), None)
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

fn filled(advance: &Value) -> Vec<String> {
    advance["sweep"]["placements_filled"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// M4 over either store: five listings of four sellers apply for four slots ranked by the
/// seller's recent sales volume; the sweep at the period's start chooses, in one go, the two
/// listings of the best seller (application order between them), then the next seller, then
/// of the two sellers without sales the one who applied first. No listing holds two slots;
/// a second sweep changes nothing; a listing that ends leaves its slot.
pub async fn m4_more_applicants_than_slots_win_by_sales_volume_then_application_time(
    app: &TestApp,
) {
    just_after_a_period_start(app).await;
    for who in ["alice", "bob", "carl", "dave", "erin"] {
        app.trader(who).await;
    }
    sale(app, "bob", "erin", "bob-sold.com", "500.00").await;
    sale(app, "carl", "erin", "carl-sold.com", "100.00").await;
    let dave1 = long_listing(app, "dave", "dave-one.com", "10.00").await;
    let bob1 = long_listing(app, "bob", "bob-one.com", "10.00").await;
    let carl1 = long_listing(app, "carl", "carl-one.com", "10.00").await;
    let alice1 = long_listing(app, "alice", "alice-one.com", "10.00").await;
    let bob2 = long_listing(app, "bob", "bob-two.com", "10.00").await;
    section(app, "home-banner", 4, "sales").await;

    let mut period = None;
    for (seller, listing) in [
        ("dave", &dave1),
        ("bob", &bob1),
        ("carl", &carl1),
        ("alice", &alice1),
        ("bob", &bob2),
    ] {
        let applied = apply(app, seller, listing, "home-banner").await;
        assert_eq!(applied.status, 201, "{applied:?}");
        assert_eq!(applied.body["listing_id"], listing.as_str());
        period = Some(applied.body.clone());
        app.advance(1).await; // distinct application times
    }
    let period = period.unwrap();
    // Refusals: a second application, another seller's listing, no such section.
    assert_problem(
        &apply(app, "bob", &bob1, "home-banner").await,
        409,
        "PLACEMENT_ALREADY_APPLIED",
    );
    assert_problem(
        &apply(app, "alice", &bob1, "home-banner").await,
        403,
        "FORBIDDEN",
    );
    assert_problem(&apply(app, "bob", &bob1, "nowhere").await, 404, "NOT_FOUND");
    assert!(featured(app, "home-banner").await.is_empty());

    let starts_at: DateTime<Utc> =
        serde_json::from_value(period["period_starts_at"].clone()).unwrap();
    let round = format!(
        "home-banner#{}",
        period["period"].as_str().unwrap().to_owned()
    );
    let before = advance_to(app, starts_at - Duration::minutes(2)).await;
    assert!(!filled(&before).contains(&round), "{before}");
    assert!(featured(app, "home-banner").await.is_empty());

    // One sweep at the start chooses every winner.
    let at_start = advance_to(app, starts_at + Duration::minutes(1)).await;
    assert_eq!(filled(&at_start), vec![round.clone()], "{at_start}");
    let winners = featured(app, "home-banner").await;
    assert_eq!(
        winners,
        vec![bob1.clone(), bob2.clone(), carl1.clone(), dave1.clone()]
    );
    let mut unique = winners.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), winners.len(), "a listing in two slots");

    // Deterministic and once: another sweep chooses nothing again.
    let again = app.post("/dev/sweep", None, json!({})).await;
    assert!(!filled(&json!({ "sweep": again.body })).contains(&round));
    assert_eq!(featured(app, "home-banner").await, winners);

    // A listing that ends leaves its slot (nobody moves up into it).
    let delisted = app.delete(&format!("/listings/{bob1}"), Some("bob")).await;
    assert_eq!(delisted.status, 200, "{delisted:?}");
    assert_eq!(
        featured(app, "home-banner").await,
        vec![bob2.clone(), carl1.clone(), dave1.clone()]
    );
    // An ended listing cannot apply for the next period.
    assert_problem(
        &apply(app, "bob", &bob1, "home-banner").await,
        409,
        "LISTING_NOT_ACTIVE",
    );
}

#[tokio::test]
async fn m4_more_applicants_than_slots_on_the_embedded_store() {
    m4_more_applicants_than_slots_win_by_sales_volume_then_application_time(&spawn_app().await)
        .await;
}

/// The holidays that move `nominal` over a weekend and a holiday, and the day it then
/// starts: on a weekday, every day from it to that week's Friday is a holiday (start: the
/// Monday after); on a weekend, the Monday after is (start: the Tuesday).
fn holidays_moving(nominal: NaiveDate) -> (Vec<NaiveDate>, NaiveDate) {
    let mut day = nominal;
    let mut holidays = Vec::new();
    if matches!(nominal.weekday(), Weekday::Sat | Weekday::Sun) {
        while day.weekday() != Weekday::Mon {
            day = day.succ_opt().unwrap();
        }
        holidays.push(day);
        return (holidays, day.succ_opt().unwrap());
    }
    while day.weekday() != Weekday::Sat {
        holidays.push(day);
        day = day.succ_opt().unwrap();
    }
    (holidays, day + Duration::days(2))
}

/// M4 over either store: the next period's 1st or 16th is made a holiday up to the weekend
/// (or, on a weekend, the Monday after is): the period starts on the first working day
/// after, and not a minute before; the winner is chosen by listing age (`newest`).
pub async fn m4_a_period_start_moves_over_a_weekend_and_a_holiday(app: &TestApp) {
    just_after_a_period_start(app).await;
    app.trader("alice").await;
    let old = long_listing(app, "alice", "older.com", "10.00").await;
    app.advance(60).await;
    let new = long_listing(app, "alice", "newer.com", "10.00").await;
    section(app, "new-listings", 1, "newest").await;
    let now = app.now().await;
    let nominal = next_period(&Calendar::default(), 15, now).nominal;
    let (holidays, start_day) = holidays_moving(nominal);
    let dates: Vec<String> = holidays.iter().map(|d| d.to_string()).collect();
    let set = app
        .put(
            &format!("/admin/holidays/{}", nominal.year()),
            Some("admin"),
            json!({ "dates": dates }),
        )
        .await;
    assert_eq!(set.status, 200, "{set:?}");
    assert_eq!(set.body["dates"], json!(dates));

    for listing in [&old, &new] {
        let applied = apply(app, "alice", listing, "new-listings").await;
        assert_eq!(applied.status, 201, "{applied:?}");
        assert_eq!(applied.body["period"], nominal.to_string());
        let starts_at: DateTime<Utc> =
            serde_json::from_value(applied.body["period_starts_at"].clone()).unwrap();
        assert_eq!(starts_at, start_of(start_day), "{applied:?}");
        assert_eq!(market_date(starts_at), start_day);
    }
    // The nominal day passes (Beijing midnight): not started yet.
    if start_of(nominal) > app.now().await {
        let nominal_day = advance_to(app, start_of(nominal) + Duration::hours(1)).await;
        assert!(filled(&nominal_day).is_empty(), "{nominal_day}");
    }
    let eve = advance_to(app, start_of(start_day) - Duration::minutes(1)).await;
    assert!(filled(&eve).is_empty(), "{eve}");
    assert!(featured(app, "new-listings").await.is_empty());
    let started = advance_to(app, start_of(start_day) + Duration::minutes(1)).await;
    assert_eq!(
        filled(&started),
        vec![format!("new-listings#{nominal}")],
        "{started}"
    );
    assert_eq!(featured(app, "new-listings").await, vec![new]);
}

#[tokio::test]
async fn m4_a_period_start_moves_over_a_weekend_and_a_holiday_on_the_embedded_store() {
    m4_a_period_start_moves_over_a_weekend_and_a_holiday(&spawn_app().await).await;
}

#[tokio::test]
async fn m4_deals_rank_by_price_drop_and_sections_are_operator_only_and_checked() {
    let app = spawn_app().await;
    just_after_a_period_start(&app).await;
    app.trader("alice").await;
    let small = long_listing(&app, "alice", "small-drop.com", "100.00").await;
    let big = long_listing(&app, "alice", "big-drop.com", "100.00").await;
    for (id, price) in [(&small, "90.00"), (&big, "40.00")] {
        let changed = app
            .patch(
                &format!("/listings/{id}"),
                Some("alice"),
                json!({ "price": price }),
            )
            .await;
        assert_eq!(changed.status, 200, "{changed:?}");
    }
    section(&app, "deals", 1, "deals").await;
    for id in [&small, &big] {
        assert_eq!(apply(&app, "alice", id, "deals").await.status, 201);
    }
    let starts = next_period(&Calendar::default(), 15, app.now().await).starts_at;
    // No holidays set: the calendar's own start is the one applied for.
    advance_to(&app, starts + Duration::minutes(1)).await;
    assert_eq!(featured(&app, "deals").await, vec![big]);

    for body in [
        json!({ "slots": 0, "period_days": 15, "rule": "sales" }),
        json!({ "slots": 5, "period_days": 20, "rule": "sales" }),
        json!({ "slots": 5, "period_days": 15, "rule": "random" }),
    ] {
        assert_problem(
            &app.put("/admin/placements/home", Some("admin"), body).await,
            400,
            "INVALID_REQUEST",
        );
    }
    assert_problem(
        &app.put(
            "/admin/placements/Home",
            Some("admin"),
            json!({ "slots": 5, "period_days": 15, "rule": "sales" }),
        )
        .await,
        400,
        "INVALID_REQUEST",
    );
    assert_problem(
        &app.put(
            "/admin/placements/home",
            Some("alice"),
            json!({ "slots": 5, "period_days": 30, "rule": "sales" }),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    assert_problem(
        &app.get("/listings/featured?section=nowhere", None).await,
        404,
        "NOT_FOUND",
    );
}

#[tokio::test]
async fn holidays_are_set_per_year_and_refuse_dates_of_another_year() {
    let app = spawn_app().await;
    let empty = app.get("/admin/holidays/2027", Some("admin")).await;
    assert_eq!(empty.status, 200, "{empty:?}");
    assert_eq!(empty.body["dates"], json!([]));
    let set = app
        .put(
            "/admin/holidays/2027",
            Some("admin"),
            json!({ "dates": ["2027-10-02", "2027-10-01", "2027-10-01"] }),
        )
        .await;
    assert_eq!(set.status, 200, "{set:?}");
    assert_eq!(
        app.get("/admin/holidays/2027", Some("admin")).await.body["dates"],
        json!(["2027-10-01", "2027-10-02"])
    );
    for body in [
        json!({ "dates": ["2028-01-01"] }),
        json!({ "dates": ["2027-02-30"] }),
        json!({ "dates": ["1 October"] }),
        json!({ "dates": [], "extra": 1 }),
    ] {
        assert_problem(
            &app.put("/admin/holidays/2027", Some("admin"), body).await,
            400,
            "INVALID_REQUEST",
        );
    }
    assert_problem(
        &app.get("/admin/holidays/twenty", Some("admin")).await,
        400,
        "INVALID_REQUEST",
    );
    assert_problem(
        &app.put(
            "/admin/holidays/2027",
            Some("alice"),
            json!({ "dates": [] }),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    // A refused list changed nothing.
    assert_eq!(
        app.get("/admin/holidays/2027", Some("admin")).await.body["dates"],
        json!(["2027-10-01", "2027-10-02"])
    );
}

#[tokio::test]
async fn m4_a_section_by_tld_takes_only_that_tlds_listings() {
    let app = spawn_app().await;
    just_after_a_period_start(&app).await;
    app.trader("alice").await;
    let cn = long_listing(&app, "alice", "shop.cn", "100.00").await;
    let zhongguo = long_listing(&app, "alice", "商店.中国", "100.00").await;
    let com = long_listing(&app, "alice", "shop.com", "100.00").await;
    for (name, tld) in [("cn-only", "cn"), ("zhongguo", "中国")] {
        let reply = app
            .put(
                &format!("/admin/placements/{name}"),
                Some("admin"),
                json!({ "slots": 5, "period_days": 15, "rule": "newest", "tld": tld }),
            )
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    // A Unicode TLD is kept as domains carry it.
    let shown = app
        .put(
            "/admin/placements/zhongguo",
            Some("admin"),
            json!({ "slots": 5, "period_days": 15, "rule": "newest", "tld": "中国" }),
        )
        .await;
    assert_eq!(shown.body["tld"], "xn--fiqs8s", "{shown:?}");
    assert_eq!(apply(&app, "alice", &cn, "cn-only").await.status, 201);
    assert_eq!(
        apply(&app, "alice", &zhongguo, "zhongguo").await.status,
        201
    );
    assert_problem(
        &apply(&app, "alice", &com, "cn-only").await,
        422,
        "NOT_IN_SECTION",
    );
    assert_problem(
        &apply(&app, "alice", &cn, "zhongguo").await,
        422,
        "NOT_IN_SECTION",
    );
    // A section for every TLD takes them all.
    section(&app, "all", 5, "newest").await;
    for id in [&cn, &zhongguo, &com] {
        assert_eq!(apply(&app, "alice", id, "all").await.status, 201);
    }
}
