//! API.md conventions: request bodies over 1 MB are refused with 413 `PAYLOAD_TOO_LARGE`
//! (problem+json) on every route that takes one, and nothing is written; a body just under
//! the limit is read and judged as usual.
use market_tests::spawn_app;
use serde_json::json;

use crate::api::helpers::*;

/// A JSON object of about `bytes` bytes (a long `description`).
fn body_of(bytes: usize) -> serde_json::Value {
    json!({ "domain": "big.com", "price": "1.00", "description": "x".repeat(bytes - 60) })
}

#[tokio::test]
async fn a_body_over_one_megabyte_is_413_on_every_kind_of_route() {
    let app = spawn_app().await;
    app.trader("alice").await;
    app.domain("big.com", "alice").await;
    let over = body_of(market_web::MAX_BODY_BYTES + 100);
    for (method, path, who) in [
        (reqwest::Method::POST, "/listings", Some("alice")),
        (reqwest::Method::POST, "/me/payouts", Some("alice")),
        (reqwest::Method::PUT, "/admin/accounts/carol", Some("admin")),
        (reqwest::Method::POST, "/orders", Some("alice")),
    ] {
        let reply = app
            .send(method.clone(), path, who, Some(over.clone()), &[])
            .await;
        assert_problem(&reply, 413, "PAYLOAD_TOO_LARGE");
    }
    // Nothing was written.
    assert!(app.get("/me/listings", Some("alice")).await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    // Just under the limit the body is read and judged: here, a description over 500
    // characters (400), not a 413.
    let under = body_of(market_web::MAX_BODY_BYTES - 1000);
    let reply = app.post("/listings", Some("alice"), under).await;
    assert_eq!(reply.status, 400, "{}", reply.code());
}
