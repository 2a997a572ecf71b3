//! A stand-in for Stripe's REST API (S3), enough of it for the card processor adapter:
//! `GET /v1/payment_methods/{id}`, `POST /v1/payment_intents` and
//! `POST /v1/payment_intents/{id}/cancel`. It records every request as it arrived (method,
//! path, form body, `Idempotency-Key`, `Authorization`) and answers as Stripe does: a POST
//! without an `Idempotency-Key` or a wrong secret key is refused, a retried key gets the
//! first answer, `pm_card_chargeDeclined` is declined with a 402 `card_error`.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// The secret key the stand-in accepts.
pub const SECRET_KEY: &str = "sk_test_standin_0123456789";

/// A request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// The form body, in order.
    pub form: Vec<(String, String)>,
    pub idempotency_key: Option<String>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
}

impl Received {
    /// The form field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A PaymentIntent the stand-in holds.
#[derive(Debug, Clone)]
pub struct Intent {
    pub id: String,
    pub payment_method: String,
    pub amount: String,
    pub currency: String,
    pub status: String,
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    intents: Vec<Intent>,
    /// Idempotency keys answered: the first answer again.
    answered: HashMap<String, (u16, Value)>,
}

/// The running stand-in.
#[derive(Clone)]
pub struct FakeStripe {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl FakeStripe {
    /// Starts it on a free loopback port.
    pub async fn start() -> FakeStripe {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let router = Router::new()
            .route("/v1/payment_methods/{id}", get(payment_method))
            .route("/v1/payment_intents", post(create_intent))
            .route("/v1/payment_intents/{id}/cancel", post(cancel_intent))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, router).await.ok();
        });
        FakeStripe { addr, inner }
    }

    /// `http://127.0.0.1:port` (what `STRIPE_API_BASE` names).
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Every PaymentIntent created, oldest first.
    pub fn intents(&self) -> Vec<Intent> {
        self.inner.lock().unwrap().intents.clone()
    }
}

type Shared = Arc<Mutex<Inner>>;

fn error(status: StatusCode, kind: &str, code: &str, decline: Option<&str>) -> Response {
    let mut body = json!({ "error": { "type": kind, "code": code, "message": code } });
    if let Some(d) = decline {
        body["error"]["decline_code"] = json!(d);
    }
    (status, Json(body)).into_response()
}

/// Records the request; refuses a wrong key, and a POST without an idempotency key.
fn record(
    inner: &Shared,
    method: Method,
    path: String,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Received, Box<Response>> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let received = Received {
        method: method.to_string(),
        path,
        form: serde_urlencoded::from_bytes(body).unwrap_or_default(),
        idempotency_key: header("idempotency-key"),
        authorization: header("authorization"),
        content_type: header("content-type"),
    };
    inner.lock().unwrap().received.push(received.clone());
    if received.authorization.as_deref() != Some(&format!("Bearer {SECRET_KEY}")) {
        return Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "api_key_invalid",
            None,
        )));
    }
    if method == Method::POST && received.idempotency_key.is_none() {
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "idempotency_key_missing",
            None,
        )));
    }
    Ok(received)
}

/// (id, brand, funding, last4, fingerprint)
const CARDS: [(&str, &str, &str, &str, &str); 4] = [
    ("pm_card_visa", "visa", "credit", "4242", "Xt5EWLLDS7FJjR1c"),
    (
        "pm_card_discover",
        "discover",
        "credit",
        "1117",
        "DsC0vErfPr1nt001",
    ),
    (
        "pm_card_mastercard_prepaid",
        "mastercard",
        "prepaid",
        "5100",
        "MCpReP41dFpr1nt0",
    ),
    (
        "pm_card_chargeDeclined",
        "visa",
        "credit",
        "0002",
        "DeCl1n3dFpr1nt00",
    ),
];

async fn payment_method(
    State(inner): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = record(
        &inner,
        Method::GET,
        format!("/v1/payment_methods/{id}"),
        &headers,
        &[],
    ) {
        return *refused;
    }
    let Some((id, brand, funding, last4, fingerprint)) =
        CARDS.into_iter().find(|(known, ..)| *known == id)
    else {
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "resource_missing",
            None,
        );
    };
    Json(json!({
        "id": id,
        "object": "payment_method",
        "type": "card",
        "card": {
            "brand": brand,
            "funding": funding,
            "last4": last4,
            "fingerprint": fingerprint,
            "exp_month": 12,
            "exp_year": 2034,
            "country": "US",
            "networks": { "available": [brand], "preferred": null }
        }
    }))
    .into_response()
}

async fn create_intent(State(inner): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let received = match record(
        &inner,
        Method::POST,
        "/v1/payment_intents".into(),
        &headers,
        &body,
    ) {
        Ok(r) => r,
        Err(refused) => return *refused,
    };
    let key = received.idempotency_key.clone().unwrap_or_default();
    let mut state = inner.lock().unwrap();
    if let Some((status, body)) = state.answered.get(&key) {
        return (StatusCode::from_u16(*status).unwrap(), Json(body.clone())).into_response();
    }
    let pm = received
        .field("payment_method")
        .unwrap_or_default()
        .to_owned();
    let (status, body) = if pm == "pm_card_chargeDeclined" {
        (
            402,
            json!({ "error": { "type": "card_error", "code": "card_declined", "decline_code": "generic_decline" } }),
        )
    } else {
        let id = format!("pi_standin_{}", state.intents.len() + 1);
        state.intents.push(Intent {
            id: id.clone(),
            payment_method: pm,
            amount: received.field("amount").unwrap_or_default().into(),
            currency: received.field("currency").unwrap_or_default().into(),
            status: "requires_capture".into(),
        });
        (
            200,
            json!({ "id": id, "object": "payment_intent", "status": "requires_capture" }),
        )
    };
    state.answered.insert(key, (status, body.clone()));
    (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
}

async fn cancel_intent(
    State(inner): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = record(
        &inner,
        Method::POST,
        format!("/v1/payment_intents/{id}/cancel"),
        &headers,
        &body,
    ) {
        return *refused;
    }
    let mut state = inner.lock().unwrap();
    match state.intents.iter_mut().find(|i| i.id == id) {
        Some(intent) => {
            intent.status = "canceled".into();
            Json(json!({ "id": id, "object": "payment_intent", "status": "canceled" }))
                .into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "resource_missing",
            None,
        ),
    }
}
