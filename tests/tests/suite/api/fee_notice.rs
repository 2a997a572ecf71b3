//! S5, the fee-change notice: a change announced mid-month applies from the first working
//! day of the next month (a holiday on the 1st moves it on), a pure reduction at once. The
//! rate in force is read where a sale would use it: a listing's `fee_rate`.
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde_json::json;

use market_core::calendar::{first_of_next_month, market_date, start_of};
use market_tests::client::spawn_app;
use market_tests::TestApp;

use crate::api::helpers::*;
use crate::api::placements::advance_to;

async fn fee_rate(app: &TestApp, listing: &str) -> String {
    app.get(&format!("/listings/{listing}"), None).await.body["fee_rate"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A listing of alice's running 90 days; its id.
async fn listing(app: &TestApp, domain: &str) -> String {
    app.domain(domain, "alice").await;
    let now = app.now().await;
    let reply = app
        .post(
            "/listings",
            Some("alice"),
            json!({ "domain": domain, "price": "100.00", "ends_at": now + Duration::days(90) }),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.body["id"].as_str().unwrap().to_owned()
}

fn time(v: &serde_json::Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap_or_else(|_| panic!("not a time: {v}"))
}

/// The first weekday from `from` on that is not `holiday`.
fn first_working_day(from: NaiveDate, holiday: NaiveDate) -> NaiveDate {
    from.iter_days()
        .find(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && *d != holiday)
        .unwrap()
}

/// S5 over either store: on the 15th (10:00 Beijing) an operator raises the fixed-price fee
/// to 2% from "now"; the 1st of next month is a holiday, so the rise applies from the
/// first working day after it, at Beijing midnight, and not a minute earlier. A period
/// that would end before then is refused.
pub async fn s5_an_increase_announced_mid_month_waits_for_the_first_working_day_of_next_month(
    app: &TestApp,
) {
    let today = market_date(app.now().await);
    let fifteenth = first_of_next_month(today).with_day(15).unwrap();
    advance_to(app, start_of(fifteenth) + Duration::hours(10)).await;
    app.trader("alice").await;
    let id = listing(app, "notice.com").await;
    assert_eq!(fee_rate(app, &id).await, "0.01");

    let first = first_of_next_month(fifteenth);
    let holiday = app
        .put(
            &format!("/admin/holidays/{}", first.year()),
            Some("admin"),
            json!({ "dates": [first.to_string()] }),
        )
        .await;
    assert_eq!(holiday.status, 200, "{holiday:?}");
    let takes_effect = start_of(first_working_day(first, first));

    let now = app.now().await;
    let rise = app
        .put(
            "/admin/fees",
            Some("admin"),
            json!({ "kind": "fixed_price", "rate": "0.02", "from": now }),
        )
        .await;
    assert_eq!(rise.status, 200, "{rise:?}");
    assert_eq!(time(&rise.body["from"]), takes_effect, "{rise:?}");
    assert_eq!(rise.body["reduction"], false);
    assert!(time(&rise.body["announced_at"]) >= now);
    assert_eq!(
        fee_rate(app, &id).await,
        "0.01",
        "not before the notice ends"
    );

    assert_problem(
        &app.put(
            "/admin/fees",
            Some("admin"),
            json!({ "kind": "fixed_price", "rate": "0.03", "until": takes_effect }),
        )
        .await,
        400,
        "INVALID_REQUEST",
    );

    advance_to(app, takes_effect - Duration::minutes(1)).await;
    assert_eq!(fee_rate(app, &id).await, "0.01");
    advance_to(app, takes_effect + Duration::minutes(1)).await;
    assert_eq!(fee_rate(app, &id).await, "0.02");
}

#[tokio::test]
async fn s5_an_increase_announced_mid_month_waits_on_the_embedded_store() {
    s5_an_increase_announced_mid_month_waits_for_the_first_working_day_of_next_month(
        &spawn_app().await,
    )
    .await;
}

/// S5 over either store: a change marked as a reduction applies at once; one marked so
/// that would raise the rate is refused; a reduction marked `false` gives notice anyway.
pub async fn s5_a_reduction_takes_effect_at_once(app: &TestApp) {
    app.trader("alice").await;
    let id = listing(app, "cheaper.com").await;
    let cut = app
        .put(
            "/admin/fees",
            Some("admin"),
            json!({ "kind": "fixed_price", "rate": "0.005", "reduction": true }),
        )
        .await;
    assert_eq!(cut.status, 200, "{cut:?}");
    assert_eq!(cut.body["reduction"], true);
    assert!(cut.body["from"].is_null(), "{cut:?}");
    assert_eq!(fee_rate(app, &id).await, "0.005");

    assert_problem(
        &app.put(
            "/admin/fees",
            Some("admin"),
            json!({ "kind": "fixed_price", "rate": "0.02", "reduction": true }),
        )
        .await,
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(fee_rate(app, &id).await, "0.005");

    let noticed = app
        .put(
            "/admin/fees",
            Some("admin"),
            json!({ "kind": "fixed_price", "rate": "0.001", "reduction": false }),
        )
        .await;
    assert_eq!(noticed.status, 200, "{noticed:?}");
    assert!(time(&noticed.body["from"]) > app.now().await);
    assert_eq!(fee_rate(app, &id).await, "0.005");
}

#[tokio::test]
async fn s5_a_reduction_takes_effect_at_once_on_the_embedded_store() {
    s5_a_reduction_takes_effect_at_once(&spawn_app().await).await;
}

#[tokio::test]
async fn s5_the_notice_runs_from_announce_at_which_cannot_be_in_the_past() {
    let app = spawn_app().await;
    let now = app.now().await;
    let next_first = first_of_next_month(market_date(now));
    // Announced an hour before next month begins (Beijing): effective next month.
    let late_this_month = app
        .put(
            "/admin/fees",
            Some("admin"),
            json!({ "kind": "push", "rate": "0.01", "announce_at": start_of(next_first) - Duration::hours(1) }),
        )
        .await;
    assert_eq!(late_this_month.status, 200, "{late_this_month:?}");
    let weekend = NaiveDate::MIN; // no holidays set: only weekends move it
    assert_eq!(
        time(&late_this_month.body["from"]),
        start_of(first_working_day(next_first, weekend))
    );
    // Announced an hour into next month: the month after.
    let early_next_month = app
        .put(
            "/admin/fees",
            Some("admin"),
            json!({ "kind": "push", "rate": "0.01", "announce_at": start_of(next_first) + Duration::hours(1) }),
        )
        .await;
    assert_eq!(early_next_month.status, 200, "{early_next_month:?}");
    assert_eq!(
        time(&early_next_month.body["from"]),
        start_of(first_working_day(first_of_next_month(next_first), weekend))
    );
    assert_problem(
        &app.put(
            "/admin/fees",
            Some("admin"),
            json!({ "kind": "push", "rate": "0.01", "announce_at": now - Duration::days(1) }),
        )
        .await,
        400,
        "INVALID_REQUEST",
    );
}
