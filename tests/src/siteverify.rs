//! A fake captcha service speaking "siteverify" (Cloudflare Turnstile's, hCaptcha's and
//! reCAPTCHA's verify protocol) on a free local port, for the O7 tests. It checks what it
//! receives — a form with the right secret, the response token, a `remoteip` and an
//! `idempotency_key` — records it, and answers by the token's first part:
//!
//! | token            | answer                                                        |
//! |------------------|---------------------------------------------------------------|
//! | `order.…`        | success, action `order`, hostname `market.example`            |
//! | `push_accept.…`  | success, action `push_accept`, hostname `market.example`      |
//! | `login.…`        | success, action `login` (another action)                      |
//! | `elsewhere.…`    | success, action `order`, hostname `evil.example`              |
//! | `slow.…`         | as `order`, after 3 s                                         |
//! | `http500.…`      | HTTP 500                                                      |
//! | `garbage.…`      | HTTP 200, not JSON                                            |
//! | anything else    | `success: false`, `invalid-input-response`                    |
//!
//! A wrong secret is answered `success: false` with `invalid-input-secret`, whatever the
//! token; a form without its fields with `bad-request`. The real service spends a token on
//! its first verification; this one says `success` every time, so a test can show that the
//! marketplace refuses the second use by itself.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde_json::json;

/// The site the fake's widgets are on.
pub const HOSTNAME: &str = "market.example";

/// One verification the fake received: the form's fields, in order.
pub type Received = Vec<(String, String)>;

/// A running fake.
pub struct FakeSiteverify {
    /// `http://127.0.0.1:port/siteverify`.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Fake {
    secret: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeSiteverify {
    /// Starts a fake whose secret key is `secret`.
    pub async fn start(secret: &str) -> FakeSiteverify {
        let received = Arc::new(Mutex::new(Vec::new()));
        let fake = Fake {
            secret: secret.to_owned(),
            received: received.clone(),
        };
        let router = axum::Router::new()
            .route("/siteverify", axum::routing::post(verify))
            .with_state(fake);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let url = format!("http://{}/siteverify", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeSiteverify {
            url,
            received,
            server,
        }
    }

    /// Every verification received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("fake").clone()
    }

    /// The verifications received for `token`.
    pub fn received_for(&self, token: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|form| field(form, "response") == Some(token))
            .collect()
    }
}

impl Drop for FakeSiteverify {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The value of `name` in a received form.
pub fn field<'a>(form: &'a Received, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn answer(success: bool, codes: &[&str], action: &str, hostname: &str) -> Response {
    Json(json!({
        "success": success,
        "error-codes": codes,
        "challenge_ts": "2026-01-01T00:00:00.000Z",
        "hostname": hostname,
        "action": action,
        "cdata": "",
        "metadata": { "interactive": false },
    }))
    .into_response()
}

fn failure(code: &str) -> Response {
    Json(json!({ "success": false, "error-codes": [code], "messages": [] })).into_response()
}

async fn verify(State(fake): State<Fake>, Form(form): Form<Received>) -> Response {
    fake.received.lock().expect("fake").push(form.clone());
    let present = |name: &str| field(&form, name).is_some_and(|v| !v.is_empty());
    if !["secret", "response", "remoteip", "idempotency_key"]
        .iter()
        .all(|name| present(name))
    {
        return failure("bad-request");
    }
    if field(&form, "secret") != Some(fake.secret.as_str()) {
        return failure("invalid-input-secret");
    }
    let token = field(&form, "response").unwrap_or_default();
    match token.split('.').next().unwrap_or_default() {
        "order" => answer(true, &[], "order", HOSTNAME),
        "push_accept" => answer(true, &[], "push_accept", HOSTNAME),
        "login" => answer(true, &[], "login", HOSTNAME),
        "elsewhere" => answer(true, &[], "order", "evil.example"),
        "slow" => {
            // The external service being slow: the one place a test waits on purpose.
            tokio::time::sleep(Duration::from_secs(3)).await;
            answer(true, &[], "order", HOSTNAME)
        }
        "http500" => (StatusCode::INTERNAL_SERVER_ERROR, "upstream failed").into_response(),
        "garbage" => (StatusCode::OK, "<html>not json</html>").into_response(),
        _ => failure("invalid-input-response"),
    }
}
