//! O9: ownership moves with the buyer's verified contact details. Contact templates set by
//! operators (`PUT /admin/accounts/{id}/contacts/{contact_id}`, `GET /me/contacts`), chosen
//! with `contact_id` on `POST /orders` and `POST /pushes/{id}/accept` (unknown or unverified:
//! 422 CONTACT_NOT_VERIFIED), and the `RegistrantChanged` event each delivery publishes to
//! the registrar core through the outbox (`GET /dev/registrar/events`), with P9's `forced`
//! and `lock_until` for a forced push change.
use chrono::{DateTime, Duration, Utc};
use market_tests::{spawn_app, Reply, TestApp};
use serde_json::{json, Value};

use crate::api::helpers::*;

async fn set_contact(
    app: &TestApp,
    account: &str,
    id: &str,
    verified: bool,
    default: bool,
) -> Reply {
    app.put(
        &format!("/admin/accounts/{account}/contacts/{id}"),
        Some("admin"),
        json!({
            "name": format!("{account} {id}"),
            "organisation": "Example Ltd",
            "email": format!("{id}@example.com"),
            "phone": "+86.1234567890",
            "address": "1 Example Road, Beijing",
            "country": "CN",
            "verified": verified,
            "default": default,
        }),
    )
    .await
}

/// The `RegistrantChanged` events recorded for `domain`, oldest first.
async fn registrant_changes(app: &TestApp, domain: &str) -> Vec<Value> {
    let reply = app.get("/dev/registrar/events", None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["domain"] == domain && e["type"] == "RegistrantChanged")
        .cloned()
        .collect()
}

async fn order_with(app: &TestApp, domain: &str, contact_id: Option<&str>) -> Reply {
    let mut body = json!({ "domains": [domain], "captcha_token": "pass" });
    if let Some(id) = contact_id {
        body["contact_id"] = json!(id);
    }
    app.post("/orders", Some("bob"), body).await
}

async fn buy(app: &TestApp, domain: &str, contact_id: Option<&str>) {
    let placed = order_with(app, domain, contact_id).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay("bob", &id).await;
    let notified = app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(notified.status, 200, "{notified:?}");
    let done = app.get(&format!("/orders/{id}"), Some("bob")).await.body;
    assert_eq!(done["status"], "completed", "{done}");
}

/// O9: operators set templates; the account lists them; one default at a time.
pub async fn o9_contact_templates_are_set_by_operators_and_listed(app: &TestApp) {
    alice_and_bob(app).await;
    let set = set_contact(app, "bob", "home", true, true).await;
    assert_eq!(set.status, 200, "{set:?}");
    assert_eq!(set.body["id"], "home");
    assert_eq!(set.body["default"], true);
    assert_eq!(
        set_contact(app, "bob", "work", true, true).await.status,
        200
    );
    assert_eq!(
        set_contact(app, "bob", "draft", false, false).await.status,
        200
    );
    let listed = app.get("/me/contacts", Some("bob")).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    let items = listed.body["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["draft", "home", "work"], "{listed:?}");
    let defaults: Vec<&str> = items
        .iter()
        .filter(|c| c["default"] == true)
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(defaults, ["work"], "only one default: {listed:?}");
    assert_eq!(listed.body["next_cursor"], Value::Null);
    // Paginated.
    let first = app.get("/me/contacts?limit=2", Some("bob")).await;
    assert_eq!(
        first.body["items"].as_array().unwrap().len(),
        2,
        "{first:?}"
    );
    assert!(first.body["next_cursor"].is_string(), "{first:?}");
    // Another account sees only its own; operators only; a bad id; an unknown account.
    assert_eq!(
        app.get("/me/contacts", Some("alice")).await.body["items"],
        json!([])
    );
    assert_eq!(
        app.put(
            "/admin/accounts/bob/contacts/x",
            Some("bob"),
            json!({"name": "n", "email": "e@x.com", "phone": "1", "address": "a", "country": "CN", "verified": true}),
        )
        .await
        .status,
        403
    );
    assert_problem(
        &set_contact(app, "bob", "bad%20id", true, false).await,
        400,
        "INVALID_REQUEST",
    );
    assert_problem(
        &set_contact(app, "nobody", "home", true, false).await,
        404,
        "NOT_FOUND",
    );
}

/// O9: an unknown or unverified contact is refused and nothing is ordered.
pub async fn o9_an_order_with_an_unknown_or_unverified_contact_is_refused(app: &TestApp) {
    alice_and_bob(app).await;
    set_contact(app, "bob", "draft", false, false).await;
    orderable_listing(app, "o9refused.com", "50.00").await;
    for contact in ["nope", "draft"] {
        assert_problem(
            &order_with(app, "o9refused.com", Some(contact)).await,
            422,
            "CONTACT_NOT_VERIFIED",
        );
    }
    let orders = app.get("/me/orders", Some("bob")).await;
    assert_eq!(
        orders.body["items"],
        json!([]),
        "nothing ordered: {orders:?}"
    );
    // The listing is still free for anyone.
    assert_eq!(order_with(app, "o9refused.com", None).await.status, 201);
}

/// O9: a delivered sale tells the registrar core exactly once, with the chosen contact,
/// else the default template, else the verified identity (`contact: null`).
pub async fn o9_a_delivered_sale_publishes_one_registrant_change_with_the_buyers_contact(
    app: &TestApp,
) {
    alice_and_bob(app).await;
    orderable_listing(app, "o9none.com", "10.00").await;
    orderable_listing(app, "o9chosen.com", "10.00").await;
    orderable_listing(app, "o9default.com", "10.00").await;
    // No template at all: the verified identity.
    buy(app, "o9none.com", None).await;
    let told = registrant_changes(app, "o9none.com").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["from"], "alice");
    assert_eq!(told[0]["to"], "bob");
    assert_eq!(told[0]["contact"], Value::Null);
    assert_eq!(told[0]["forced"], false);
    assert_eq!(told[0]["lock_until"], Value::Null);

    set_contact(app, "bob", "home", true, true).await;
    set_contact(app, "bob", "work", true, false).await;
    buy(app, "o9chosen.com", Some("work")).await;
    let told = registrant_changes(app, "o9chosen.com").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["contact"]["id"], "work", "{told:?}");
    assert_eq!(told[0]["contact"]["email"], "work@example.com");
    assert_eq!(told[0]["contact"]["country"], "CN");

    buy(app, "o9default.com", None).await;
    let told = registrant_changes(app, "o9default.com").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["contact"]["id"], "home", "the default: {told:?}");
    // Later sweeps publish nothing again.
    app.advance(3600).await;
    assert_eq!(registrant_changes(app, "o9default.com").await.len(), 1);
}

/// O9, P9: a push with the 60-day lock: the change is forced, told with `forced: true` and
/// the lock's end, with the contact chosen at acceptance; an unverified one is refused.
pub async fn o9_p9_a_forced_push_change_publishes_forced_with_the_lock(app: &TestApp) {
    alice_and_bob(app).await;
    set_contact(app, "bob", "home", true, false).await;
    set_contact(app, "bob", "draft", false, false).await;
    app.domain("o9push.com", "alice").await;
    let published = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": ["o9push.com"], "buyer": "bob", "price": "30.00", "lock_60d": true }),
        )
        .await;
    assert_eq!(published.status, 201, "{published:?}");
    let pid = published.body["id"].as_str().unwrap().to_owned();
    let refused = app
        .post(
            &format!("/pushes/{pid}/accept"),
            Some("bob"),
            json!({ "captcha_token": "pass", "contact_id": "draft" }),
        )
        .await;
    assert_problem(&refused, 422, "CONTACT_NOT_VERIFIED");
    let still = app.get(&format!("/pushes/{pid}"), Some("bob")).await.body;
    assert_eq!(still["status"], "pending", "nothing changed: {still}");
    let accepted = app
        .post(
            &format!("/pushes/{pid}/accept"),
            Some("bob"),
            json!({ "captcha_token": "pass", "contact_id": "home" }),
        )
        .await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    let otn = accepted.body["payment"]["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.provider_says(&otn, "TRADE_SUCCESS").await.status, 200);
    let done = app.get(&format!("/pushes/{pid}"), Some("bob")).await.body;
    assert_eq!(done["status"], "completed", "{done}");
    let completed: DateTime<Utc> = serde_json::from_value(done["completed_at"].clone()).unwrap();
    let told = registrant_changes(app, "o9push.com").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["from"], "alice");
    assert_eq!(told[0]["to"], "bob");
    assert_eq!(told[0]["forced"], true);
    let lock_until: DateTime<Utc> = serde_json::from_value(told[0]["lock_until"].clone()).unwrap();
    assert_eq!(lock_until, completed + Duration::days(60), "{told:?}");
    assert_eq!(told[0]["contact"]["id"], "home", "{told:?}");
}

#[tokio::test]
async fn o9_contact_templates_are_set_by_operators_and_listed_embedded() {
    o9_contact_templates_are_set_by_operators_and_listed(&spawn_app().await).await;
}

#[tokio::test]
async fn o9_an_order_with_an_unknown_or_unverified_contact_is_refused_embedded() {
    o9_an_order_with_an_unknown_or_unverified_contact_is_refused(&spawn_app().await).await;
}

#[tokio::test]
async fn o9_a_delivered_sale_publishes_one_registrant_change_with_the_buyers_contact_embedded() {
    o9_a_delivered_sale_publishes_one_registrant_change_with_the_buyers_contact(&spawn_app().await)
        .await;
}

#[tokio::test]
async fn o9_p9_a_forced_push_change_publishes_forced_with_the_lock_embedded() {
    o9_p9_a_forced_push_change_publishes_forced_with_the_lock(&spawn_app().await).await;
}

/// O9, issue 15: an order reads the account's default template by key, from an item every
/// change of the templates keeps; an account whose templates predate that item still gets
/// its default (read from the templates once, the item written for the next orders), and a
/// default taken back is no longer used.
#[tokio::test]
async fn o9_the_default_template_is_used_even_when_saved_before_its_item_existed() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "o9legacy.com", "10.00").await;
    orderable_listing(&app, "o9undone.com", "10.00").await;
    set_contact(&app, "bob", "home", true, true).await;
    // As stored before the item existed: no default-contact item at all.
    let store = &app.running.app.store;
    let bob = market_core::ids::AccountId::parse("bob").unwrap();
    let (pk, sk) = market_app::repo::default_contact_key(&bob);
    let item = store
        .get(&pk, &sk)
        .await
        .unwrap()
        .expect("kept by the change");
    store
        .transact(vec![market_app::store::Write::Delete {
            pk: pk.clone(),
            sk: sk.clone(),
            expect: market_app::store::Expect::Version(item.version),
        }])
        .await
        .unwrap();
    buy(&app, "o9legacy.com", None).await;
    let told = registrant_changes(&app, "o9legacy.com").await;
    assert_eq!(told[0]["contact"]["id"], "home", "{told:?}");
    assert!(
        store.get(&pk, &sk).await.unwrap().is_some(),
        "written again"
    );
    // No longer the default: the verified identity.
    set_contact(&app, "bob", "home", true, false).await;
    buy(&app, "o9undone.com", None).await;
    let told = registrant_changes(&app, "o9undone.com").await;
    assert_eq!(told[0]["contact"], Value::Null, "{told:?}");
}
