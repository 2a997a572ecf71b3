//! L11: legacy offline-negotiation listings. Operators import them, the public sees them,
//! nobody orders them, and their seller converts one, once, into a fixed-price listing that
//! passes every check of a new listing and cools down like one.
use market_tests::{spawn_app, Reply, TestApp};
use serde_json::{json, Value};

use crate::api::helpers::*;

async fn import(app: &TestApp, domain: &str, body: Value) -> Reply {
    app.put(
        &format!("/admin/legacy-listings/{domain}"),
        Some("admin"),
        body,
    )
    .await
}

async fn legacy_list(app: &TestApp) -> Vec<Value> {
    let reply = app.get("/legacy-listings", None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["items"].as_array().unwrap().clone()
}

async fn convert(app: &TestApp, who: &str, id: &str, price: &str) -> Reply {
    app.post(
        &format!("/legacy-listings/{id}/convert"),
        Some(who),
        json!({ "price": price }),
    )
    .await
}

/// alice's legacy listing of `domain` (a domain of hers); returns its id.
async fn imported(app: &TestApp, domain: &str) -> String {
    app.domain(domain, "alice").await;
    let reply = import(
        app,
        domain,
        json!({ "seller": "alice", "asking_price": "5000.00", "description": "negotiable" }),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["status"], "open");
    reply.body["id"].as_str().unwrap().to_owned()
}

pub async fn l11_operators_import_the_public_sees_and_nobody_orders(app: &TestApp) {
    alice_and_bob(app).await;
    let id = imported(app, "old.com").await;
    let listed = legacy_list(app).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["asking_price"], "5000.00");
    assert_eq!(listed[0]["seller"], "alice");
    // Imported again: the same listing, updated.
    let again = import(
        app,
        "OLD.com",
        json!({ "seller": "alice", "description": "make an offer" }),
    )
    .await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body["id"], id.as_str());
    assert_eq!(again.body["asking_price"], Value::Null);
    assert_eq!(legacy_list(app).await[0]["description"], "make an offer");
    // Only operators import, only for accounts, with sound fields.
    let body = json!({ "seller": "alice", "description": "x" });
    assert_problem(
        &app.put(
            "/admin/legacy-listings/new.com",
            Some("alice"),
            body.clone(),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    assert_problem(
        &import(
            app,
            "new.com",
            json!({ "seller": "nobody", "description": "x" }),
        )
        .await,
        404,
        "NOT_FOUND",
    );
    assert_problem(
        &import(
            app,
            "new.com",
            json!({ "seller": "alice", "asking_price": "1.001", "description": "x" }),
        )
        .await,
        400,
        "INVALID_AMOUNT",
    );
    assert_problem(
        &import(
            app,
            "new.com",
            json!({ "seller": "alice", "description": "x".repeat(501) }),
        )
        .await,
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(
        legacy_list(app).await.len(),
        1,
        "refused imports wrote nothing"
    );
    // Nobody orders a legacy listing: there is nothing to buy until it is converted.
    let order = app.order("bob", &["old.com"]).await;
    assert!(order.status >= 400 && order.status < 500, "{order:?}");
    let mine = app.get("/me/orders", Some("bob")).await;
    assert_eq!(mine.status, 200, "{mine:?}");
    assert!(
        mine.body["items"].as_array().unwrap().is_empty(),
        "{mine:?}"
    );
}

pub async fn l11_the_seller_converts_once_into_a_listing_checked_like_any(app: &TestApp) {
    alice_and_bob(app).await;
    let id = imported(app, "convert.com").await;
    assert_problem(&convert(app, "bob", &id, "100.00").await, 403, "FORBIDDEN");
    assert_problem(
        &convert(app, "alice", &id, "0.00").await,
        400,
        "INVALID_AMOUNT",
    );
    assert_problem(
        &convert(app, "alice", "lgc_nope", "100.00").await,
        404,
        "NOT_FOUND",
    );
    // L2 holds: a domain the registry prohibits from transfer is not listed, and the legacy
    // listing stays open.
    app.domain_with(
        "locked.com",
        "alice",
        365,
        365,
        json!({ "transfer_prohibited": true }),
    )
    .await;
    let locked = import(
        app,
        "locked.com",
        json!({ "seller": "alice", "description": "x" }),
    )
    .await;
    let locked_id = locked.body["id"].as_str().unwrap();
    assert_problem(
        &convert(app, "alice", locked_id, "100.00").await,
        422,
        "TRANSFER_PROHIBITED",
    );
    assert_eq!(legacy_list(app).await.len(), 2);

    let converted = convert(app, "alice", &id, "100.00").await;
    assert_eq!(converted.status, 201, "{converted:?}");
    let listing = &converted.body;
    assert_eq!(listing["domain"], "convert.com");
    assert_eq!(listing["status"], "active");
    assert_eq!(listing["price"], "100.00");
    assert_eq!(listing["description"], "negotiable");
    // L4: it cools down like any new listing.
    assert_problem(
        &app.order("bob", &["convert.com"]).await,
        409,
        "COOLING_DOWN",
    );
    app.advance(180).await;
    assert_eq!(app.order("bob", &["convert.com"]).await.status, 201);
    // Converted once: gone from the legacy list, never again, never re-imported.
    let open: Vec<Value> = legacy_list(app).await;
    assert!(open.iter().all(|l| l["id"] != id.as_str()), "{open:?}");
    assert_problem(
        &convert(app, "alice", &id, "90.00").await,
        409,
        "ALREADY_CONVERTED",
    );
    assert_problem(
        &import(
            app,
            "convert.com",
            json!({ "seller": "alice", "description": "again" }),
        )
        .await,
        409,
        "ALREADY_CONVERTED",
    );
}

pub async fn l11_racing_conversions_make_one_listing(app: &TestApp) {
    alice_and_bob(app).await;
    let id = imported(app, "race.com").await;
    let tries = (0..6).map(|n| {
        let id = id.clone();
        async move { convert(app, "alice", &id, &format!("{}.00", 100 + n)).await }
    });
    let replies = futures::future::join_all(tries).await;
    let won: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(won.len(), 1, "{replies:?}");
    for lost in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(lost.status, 409, "{lost:?}");
        assert!(
            ["ALREADY_CONVERTED", "ALREADY_IN_TRADE"].contains(&lost.code()),
            "{lost:?}"
        );
    }
    let mine = app.get("/me/listings", Some("alice")).await;
    let race: Vec<&Value> = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["domain"] == "race.com")
        .collect();
    assert_eq!(race.len(), 1, "{mine:?}");
}

#[tokio::test]
async fn l11_operators_import_the_public_sees_and_nobody_orders_embedded() {
    l11_operators_import_the_public_sees_and_nobody_orders(&spawn_app().await).await;
}

#[tokio::test]
async fn l11_the_seller_converts_once_into_a_listing_checked_like_any_embedded() {
    l11_the_seller_converts_once_into_a_listing_checked_like_any(&spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn l11_racing_conversions_make_one_listing_embedded() {
    l11_racing_conversions_make_one_listing(&spawn_app().await).await;
}
