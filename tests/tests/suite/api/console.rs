//! The web console's side of the local runner: its files at `/` beside the API, where it
//! finds the API (`/config.json`), the dev sign-in, the sandbox cashier page, and a `Date`
//! header that follows the server clock (the console's countdowns read it).
use std::path::PathBuf;

use market_tests::{spawn_app, spawn_app_with, TestApp};
use serde_json::json;

use super::helpers::{alice_and_bob, assert_problem, orderable_listing};

/// A built console in a fresh folder: an index page and one asset.
fn built_console() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("market-console-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Console</title><script src=/assets/app.js></script>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/app.js"), "console.log('market')").unwrap();
    dir
}

async fn app_with_console(dir: PathBuf, dev_routes: bool) -> TestApp {
    let mut settings = infra::Settings::for_tests();
    settings.console_dir = dir;
    settings.dev_routes = dev_routes;
    spawn_app_with(settings).await
}

async fn raw(app: &TestApp, method: reqwest::Method, path: &str) -> (u16, String, String) {
    let response = app
        .http
        .request(method, format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

#[tokio::test]
async fn console_files_are_served_at_the_root_beside_the_api() {
    let app = app_with_console(built_console(), true).await;
    let (status, kind, body) = raw(&app, reqwest::Method::GET, "/").await;
    assert_eq!((status, kind.as_str()), (200, "text/html"), "{body}");
    assert!(body.contains("<title>Console</title>"));
    let (status, kind, body) = raw(&app, reqwest::Method::GET, "/assets/app.js").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/javascript"), "{kind}");
    assert_eq!(body, "console.log('market')");
    // The API is untouched by the files beside it.
    let listings = app.get("/listings", None).await;
    assert_eq!(listings.status, 200);
    assert!(listings.body["items"].is_array());
}

#[tokio::test]
async fn what_is_neither_a_route_nor_a_file_is_the_api_404() {
    let app = app_with_console(built_console(), true).await;
    for path in [
        "/nope",
        "/assets/missing.js",
        "/assets/../../Cargo.toml",
        "/%2e%2e/Cargo.toml",
    ] {
        let reply = app.get(path, None).await;
        assert_problem(&reply, 404, "NOT_FOUND");
    }
    // Only GET and HEAD reach the files: a POST to a file is no route.
    let reply = app.post("/assets/app.js", None, json!({})).await;
    assert_problem(&reply, 404, "NOT_FOUND");
}

#[tokio::test]
async fn before_the_console_is_built_the_root_says_how_to_build_it() {
    let missing = std::env::temp_dir().join(format!("market-no-console-{}", ulid::Ulid::new()));
    let app = app_with_console(missing, true).await;
    let (status, kind, body) = raw(&app, reqwest::Method::GET, "/").await;
    assert_eq!(status, 404);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(body.contains(infra::console::BUILD_HINT), "{body}");
}

#[tokio::test]
async fn the_console_config_names_the_api_and_the_sign_in() {
    let app = app_with_console(built_console(), true).await;
    let config = app.get("/config.json", None).await;
    assert_eq!(config.status, 200);
    assert_eq!(config.body, json!({"api_base": "", "sign_in": "dev"}));
    // Without dev routes there is no dev sign-in to offer.
    let app = app_with_console(built_console(), false).await;
    let config = app.get("/config.json", None).await;
    assert_eq!(config.body["sign_in"], "none");
    let (status, _, _) = raw(&app, reqwest::Method::POST, "/dev/token").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_dev_sign_in_token_acts_as_its_account_and_roles() {
    let app = spawn_app().await;
    let signed = app
        .post("/dev/token", None, json!({"account": "bob"}))
        .await;
    assert_eq!(signed.status, 200, "{signed:?}");
    let token = signed.body["token"].as_str().unwrap();
    let orders = app
        .http
        .get(format!("{}/me/orders", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(orders.status(), 200);
    // Without the role, an operator route is refused; with it, it answers.
    let admin_route = format!("{}/admin/holidays/2026", app.base);
    let as_bob = app
        .http
        .get(&admin_route)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(as_bob.status(), 403);
    let ops = app
        .post(
            "/dev/token",
            None,
            json!({"account": "ops", "roles": ["admin"]}),
        )
        .await;
    let as_ops = app
        .http
        .get(&admin_route)
        .bearer_auth(ops.body["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(as_ops.status(), 200);
    for bad in [
        json!({"account": ""}),
        json!({"account": "bob", "roles": ["root"]}),
        json!({"account": "bob", "extra": 1}),
    ] {
        assert_problem(
            &app.post("/dev/token", None, bad).await,
            400,
            "INVALID_REQUEST",
        );
    }
}

#[tokio::test]
async fn the_sandbox_cashier_page_shows_the_amount_and_pays() {
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "cashier.com", "88.00").await;
    let order = app.order("bob", &["cashier.com"]).await;
    let order_id = order.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let paying = app
        .post(
            &format!("/orders/{order_id}/pay"),
            Some("bob"),
            json!({"method": "alipay"}),
        )
        .await;
    let pay_url = paying.body["pay_url"].as_str().unwrap().to_owned();
    let path = pay_url
        .strip_prefix(&app.base)
        .expect("a sandbox url")
        .to_owned();
    let (status, kind, page) = raw(
        &app,
        reqwest::Method::GET,
        &format!("{path}?return=%2F%23%2Forders%3C"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/html"));
    assert!(page.contains("¥88.00"), "{page}");
    assert!(page.contains(r#"id="pay""#) && page.contains(r#"id="fail""#));
    // What the page echoes is escaped.
    assert!(page.contains(r#"data-back="/#/orders&lt;""#), "{page}");
    // Its Pay button posts to the same path: the order is paid.
    let paid = app
        .post(&path, None, json!({"trade_status": "TRADE_SUCCESS"}))
        .await;
    assert_eq!(paid.status, 200, "{paid:?}");
    let order = app.get(&format!("/orders/{order_id}"), Some("bob")).await;
    assert_ne!(order.body["status"], "awaiting_payment", "{order:?}");
    let (status, _, _) = raw(
        &app,
        reqwest::Method::GET,
        "/dev/payments/no-such-trade/complete",
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_date_header_follows_the_server_clock() {
    let app = spawn_app().await;
    let date_of = |response: &reqwest::Response| {
        let text = response.headers()["date"].to_str().unwrap().to_owned();
        chrono::DateTime::parse_from_rfc2822(&text.replace("GMT", "+0000"))
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let before = app
        .http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    let before = date_of(&before);
    app.advance(2 * 24 * 3600).await;
    let after = app
        .http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    let moved = date_of(&after) - before;
    assert!(
        moved >= chrono::Duration::days(2)
            && moved < chrono::Duration::days(2) + chrono::Duration::minutes(5),
        "the Date header moved {moved}"
    );
    let now = app.get("/dev/clock", None).await.body["now"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = chrono::DateTime::parse_from_rfc3339(&now).unwrap();
    assert!(
        (date_of(&after) - now.with_timezone(&chrono::Utc))
            .num_seconds()
            .abs()
            <= 2
    );
}
