//! The market's search over HTTP (Q1): every parameter, `INVALID_QUERY`, the lag between a
//! change and search, listings leaving search when sold or ended, and a rebuild from the
//! store. (What each query means is the search contract's, on both engines.)
use std::time::{Duration, Instant};

use market_tests::TestApp;
use serde_json::{json, Value};

use crate::api::helpers::*;
use market_tests::spawn_app;

async fn domains(app: &TestApp, query: &str) -> Vec<String> {
    let reply = app.get(&format!("/listings?{query}"), None).await;
    assert_eq!(reply.status, 200, "{query}: {reply:?}");
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["domain_unicode"].as_str().unwrap().to_owned())
        .collect()
}

/// alice lists these (bob the last two), in this order.
const MARKET: &[(&str, &str)] = &[
    ("xiaomi.com", "5000.00"),
    ("8888.com", "20000.00"),
    ("4444.net", "100.00"),
    ("best-shop.cn", "800.00"),
    ("例子.中国", "1200.00"),
    ("woaini.com", "3333.00"),
    ("a1b2.com", "50.00"),
];

async fn market(app: &TestApp) {
    alice_and_bob(app).await;
    for (i, (domain, price)) in MARKET.iter().enumerate() {
        let seller = if i >= 5 { "bob" } else { "alice" };
        app.domain_with(domain, seller, 365, 200 + 30 * i as i64, json!({}))
            .await;
        app.list(seller, domain, price).await;
        // Distinct creation times: `newest` has one answer.
        app.advance_late(1).await;
    }
}

#[tokio::test]
async fn q1_every_parameter_of_the_search() {
    let app = spawn_app().await;
    market(&app).await;
    let now = app.now().await;
    let day = |d: i64| {
        (now + chrono::Duration::days(d))
            .format("%Y-%m-%d")
            .to_string()
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("q=xiaomi".into(), vec!["xiaomi.com"]),
        ("q=例子".into(), vec!["例子.中国"]),
        (
            "tld=net,cn&sort=price".into(),
            vec!["4444.net", "best-shop.cn"],
        ),
        (
            "min_len=4&max_len=4&sort=price".into(),
            vec!["a1b2.com", "4444.net", "8888.com"],
        ),
        (
            "charset=digits&sort=price".into(),
            vec!["4444.net", "8888.com"],
        ),
        ("charset=pinyin&syllables=3".into(), vec!["woaini.com"]),
        ("charset=idn".into(), vec!["例子.中国"]),
        ("charset=hyphen".into(), vec!["best-shop.cn"]),
        ("charset=alnum".into(), vec!["a1b2.com"]),
        (
            "charset=letters&sort=price".into(),
            vec!["woaini.com", "xiaomi.com"],
        ),
        ("starts_with=xiao".into(), vec!["xiaomi.com"]),
        ("ends_with=shop".into(), vec!["best-shop.cn"]),
        ("contains=88".into(), vec!["8888.com"]),
        ("charset=digits&excludes=4".into(), vec!["8888.com"]),
        (
            "min_price=100&max_price=1200&sort=-price".into(),
            vec!["例子.中国", "best-shop.cn", "4444.net"],
        ),
        (
            format!("expires_before={}&sort=expiry", day(260)),
            vec!["xiaomi.com", "8888.com"],
        ),
        (
            format!("expires_after={}&sort=expiry", day(350)),
            vec!["woaini.com", "a1b2.com"],
        ),
        (
            "source=registrar&seller=bob&sort=price".into(),
            vec!["a1b2.com", "woaini.com"],
        ),
        ("source=partner".into(), vec![]),
        ("sort=newest&limit=2".into(), vec!["a1b2.com", "woaini.com"]),
        ("sort=length&limit=1".into(), vec!["例子.中国"]),
        ("sort=ending_soon&limit=1".into(), vec!["xiaomi.com"]),
        ("sort=relevance&q=8888".into(), vec!["8888.com"]),
    ];
    for (query, expected) in &cases {
        assert_eq!(&domains(&app, query).await, expected, "{query}");
    }
    // Items carry what search knows of the name; the answer counts and facets.
    let reply = app
        .get(
            "/listings?charset=digits&facets=tld,length,charset&limit=1",
            None,
        )
        .await;
    assert_eq!(reply.body["total"], 2);
    assert_eq!(reply.body["total_is_lower_bound"], false);
    let item = &reply.body["items"][0];
    assert_eq!(item["length"], 4);
    assert_eq!(item["charset"], "digits");
    assert!(item["domain_expires_at"].is_string(), "{item}");
    assert_eq!(
        reply.body["facets"]["tld"],
        json!([{"value": "com", "count": 1}, {"value": "net", "count": 1}])
    );
    assert_eq!(
        reply.body["facets"]["length"],
        json!([{"value": 4, "count": 2}])
    );
    assert_eq!(
        reply.body["facets"]["charset"],
        json!([{"value": "digits", "count": 2}])
    );
    let next = reply.body["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get(
            &format!("/listings?charset=digits&limit=1&cursor={next}"),
            None,
        )
        .await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    assert!(second.body["next_cursor"].is_null());
    assert_ne!(second.body["items"][0]["id"], item["id"]);
    let pinyin = app.get("/listings?q=woaini", None).await;
    assert_eq!(pinyin.body["items"][0]["pinyin_syllables"], 3);
}

#[tokio::test]
async fn q1_a_malformed_or_contradictory_query_is_invalid_query() {
    let app = spawn_app().await;
    for query in [
        "min_len=5&max_len=2",
        "min_price=9&max_price=1",
        "syllables=2",
        "charset=pinyin&syllables=9",
        "charset=emoji",
        "sort=cheapest",
        "facets=colour",
        "expires_after=2030-01-01&expires_before=2029-01-01",
        "expires_before=soon",
        "source=auction",
        "min_len=x",
        "cursor=o9990",
    ] {
        assert_problem(
            &app.get(&format!("/listings?{query}"), None).await,
            400,
            "INVALID_QUERY",
        );
    }
    assert_problem(
        &app.get("/listings?min_price=1.234", None).await,
        400,
        "INVALID_AMOUNT",
    );
    // As on every list: a cursor this list did not give, a limit out of range.
    assert_problem(
        &app.get("/listings?cursor=nonsense", None).await,
        400,
        "INVALID_REQUEST",
    );
    assert_problem(
        &app.get("/listings?limit=500", None).await,
        400,
        "INVALID_REQUEST",
    );
    let unknown = app.get("/listings?colour=red", None).await;
    assert_eq!(unknown.status, 400, "{unknown:?}");
}

/// How long a change takes to show in search (goal: 5 s; locally a write indexes what it
/// changed before it answers).
async fn shows_within(app: &TestApp, query: &str, want: impl Fn(&[String]) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if want(&domains(app, query).await) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{query}: not in search within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn q1_a_change_shows_in_search_within_seconds_and_a_sold_or_ended_listing_leaves_it() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    for d in ["sold.com", "delisted.com", "ends.com", "reprice.com"] {
        app.domain(d, "alice").await;
    }
    let sold = app.list("alice", "sold.com", "10.00").await;
    assert!(shows_within(&app, "q=sold", |d| d == ["sold.com"]).await < Duration::from_secs(5));
    let delisted = app.list("alice", "delisted.com", "10.00").await;
    let reprice = app.list("alice", "reprice.com", "10.00").await;
    app.advance(180).await;
    // An edit shows (L4: the price changes after the cool-down).
    let patched = app
        .patch(
            &format!("/listings/{}", reprice["id"].as_str().unwrap()),
            Some("alice"),
            json!({ "price": "99.00" }),
        )
        .await;
    assert_eq!(patched.status, 200, "{patched:?}");
    shows_within(&app, "min_price=99", |d| d == ["reprice.com"]).await;
    // Delisted: gone.
    let gone = app
        .delete(
            &format!("/listings/{}", delisted["id"].as_str().unwrap()),
            Some("alice"),
        )
        .await;
    assert_eq!(gone.status, 200, "{gone:?}");
    shows_within(&app, "q=delisted", |d| d.is_empty()).await;
    // Sold: ordered (held, still found), paid, gone.
    let order = app.order("bob", &["sold.com"]).await;
    assert_eq!(order.status, 201, "{order:?}");
    assert_eq!(
        domains(&app, "q=sold").await,
        ["sold.com"],
        "held, not sold"
    );
    let otn = app
        .pay("bob", order.body["orders"][0]["id"].as_str().unwrap())
        .await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    shows_within(&app, "q=sold", |d| d.is_empty()).await;
    let view = app
        .get(&format!("/listings/{}", sold["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(view.body["status"], "sold");
    // Ended by its time (E1): not found from that moment, before any sweep.
    let ends = app
        .post("/listings", Some("alice"), json!({ "domain": "ends.com", "price": "5.00", "ends_at": app.now().await + chrono::Duration::days(1) }))
        .await;
    assert_eq!(ends.status, 201, "{ends:?}");
    assert_eq!(domains(&app, "q=ends").await, ["ends.com"]);
    app.advance_late(86_401).await;
    assert!(
        domains(&app, "q=ends").await.is_empty(),
        "past its end, before the sweep"
    );
}

#[tokio::test]
async fn q1_a_rebuild_from_the_store_mends_an_index_that_missed_changes() {
    let app = spawn_app().await;
    market(&app).await;
    let before = domains(&app, "min_price=7000").await;
    assert_eq!(before, ["8888.com"]);
    // Two listings change in the store behind the feed's back (a change the stream lost).
    let store = app.running.app.store.clone();
    let mut missed = Vec::new();
    for domain in ["xiaomi.com", "a1b2.com"] {
        let id = app.get(&format!("/listings?q={domain}"), None).await.body["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (pk, sk) = (format!("LISTING#{id}"), "L".to_owned());
        let mut item = store.get(&pk, &sk).await.unwrap().unwrap();
        let mut listing: Value = serde_json::from_str(&item.body).unwrap();
        listing["price"] = json!("7777.00");
        item.body = listing.to_string();
        let version = item.version;
        store
            .transact(vec![market_app::store::Write::Put(
                item,
                market_app::store::Expect::Version(version),
            )])
            .await
            .unwrap();
        missed.push(domain);
    }
    assert_eq!(
        domains(&app, "min_price=7000").await,
        ["8888.com"],
        "search missed them"
    );
    let refused = app
        .post("/admin/search/rebuild", Some("bob"), json!({}))
        .await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_problem(
        &app.get("/admin/search/rebuild", Some("admin")).await,
        404,
        "NOT_FOUND",
    );
    let started = app
        .post("/admin/search/rebuild", Some("admin"), json!({}))
        .await;
    assert_eq!(started.status, 202, "{started:?}");
    assert!(
        started.body["finished_at"].is_string(),
        "locally it runs to its end: {started:?}"
    );
    assert_eq!(started.body["listings"], MARKET.len());
    assert_eq!(started.body["indexed"], MARKET.len());
    let status = app.get("/admin/search/rebuild", Some("admin")).await;
    assert_eq!(status.body["id"], started.body["id"]);
    assert_eq!(
        domains(&app, "min_price=7000&sort=price").await,
        ["a1b2.com", "xiaomi.com", "8888.com"],
        "the rebuild read them from the store"
    );
}
