//! `spawn_app()` and a small client that speaks the HTTP contract.
use chrono::{Duration, Utc};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use infra::{start, Running, Settings, StoreChoice};
use market_web::auth::sign_token;

/// A marketplace started for one test, and a client for it.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub running: Running,
}

/// An answer: status, JSON body (or the text as a JSON string), content type.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

impl Reply {
    /// The problem `code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

/// Starts a marketplace on the embedded store in memory, on a free port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::for_tests()).await
}

/// Starts a marketplace on DynamoDB's API (moto), on a fresh table.
pub async fn spawn_app_on_dynamo() -> TestApp {
    let mut settings = Settings::for_tests();
    settings.store = StoreChoice::Dynamo {
        table: crate::moto::fresh_table_name(),
    };
    spawn_app_with(settings).await
}

/// Starts a marketplace on DynamoDB's and SQS's APIs (moto): the cloud's adapters end to end.
pub async fn spawn_app_on_aws_apis() -> TestApp {
    let mut settings = Settings::for_tests();
    settings.store = StoreChoice::Dynamo {
        table: crate::moto::fresh_table_name(),
    };
    settings.sqs = true;
    spawn_app_with(settings).await
}

/// Starts a marketplace with these settings.
pub async fn spawn_app_with(settings: Settings) -> TestApp {
    market_adapters::payment::alipay::install_crypto_provider();
    // It reads `ALIPAY_*` from the environment: not while another test has one set.
    let env = crate::env::reading().await;
    let running = start(settings).await.expect("the marketplace starts");
    drop(env);
    test_app(running)
}

/// Starts a marketplace that reads these environment variables at start (as the local
/// runner does, e.g. `ALIPAY_GATEWAY`); they are set only while it starts.
pub async fn spawn_app_with_env(settings: Settings, vars: &[(&str, String)]) -> TestApp {
    market_adapters::payment::alipay::install_crypto_provider();
    let held = crate::env::writing().await;
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    let running = start(settings).await;
    for (name, _) in vars {
        std::env::remove_var(name);
    }
    drop(held);
    test_app(running.expect("the marketplace starts"))
}

fn test_app(running: infra::Running) -> TestApp {
    TestApp {
        base: running.base_url(),
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("client"),
        running,
    }
}

impl TestApp {
    /// A valid token for `account`.
    pub fn token(&self, account: &str) -> String {
        sign_token(
            self.running.settings.jwt_secret.expose_secret(),
            account,
            &[],
            (Utc::now() + Duration::hours(1)).timestamp(),
        )
    }

    /// A valid operator token.
    pub fn admin_token(&self) -> String {
        sign_token(
            self.running.settings.jwt_secret.expose_secret(),
            "ops",
            &["admin"],
            (Utc::now() + Duration::hours(1)).timestamp(),
        )
    }

    /// Sends a request as `who` (an account id, `"admin"` for the operator, or nobody).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        who: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        match who {
            Some("admin") => request = request.bearer_auth(self.admin_token()),
            Some(account) => request = request.bearer_auth(self.token(account)),
            None => {}
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        crate::contract::check(method.as_str(), path, status, &content_type, &body);
        Reply {
            status,
            body,
            content_type,
            retry_after,
        }
    }

    pub async fn get(&self, path: &str, who: Option<&str>) -> Reply {
        self.send(reqwest::Method::GET, path, who, None, &[]).await
    }

    pub async fn post(&self, path: &str, who: Option<&str>, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, who, Some(body), &[])
            .await
    }

    pub async fn patch(&self, path: &str, who: Option<&str>, body: Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, who, Some(body), &[])
            .await
    }

    pub async fn put(&self, path: &str, who: Option<&str>, body: Value) -> Reply {
        self.send(reqwest::Method::PUT, path, who, Some(body), &[])
            .await
    }

    pub async fn delete(&self, path: &str, who: Option<&str>) -> Reply {
        self.send(reqwest::Method::DELETE, path, who, None, &[])
            .await
    }

    /// Creates a verified account with an Alipay binding (or as told).
    pub async fn account(&self, id: &str, verified: bool, payout: Option<&str>) {
        let reply = self
            .put(
                &format!("/admin/accounts/{id}"),
                Some("admin"),
                json!({
                    "real_name_verified": verified,
                    "real_name": verified.then(|| format!("{id} Test")),
                    "payout_account": payout,
                }),
            )
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }

    /// A verified trader.
    pub async fn trader(&self, id: &str) {
        self.account(id, true, Some(&format!("{id}@example.com")))
            .await;
    }

    /// Creates a domain of `owner`, registered `age_days` ago, expiring in `days_left`.
    pub async fn domain_with(
        &self,
        name: &str,
        owner: &str,
        age_days: i64,
        days_left: i64,
        flags: Value,
    ) -> Reply {
        let now = self.now().await;
        self.put(
            &format!("/admin/domains/{name}"),
            Some("admin"),
            json!({
                "owner": owner,
                "registered_at": now - Duration::days(age_days),
                "expires_at": now + Duration::days(days_left),
                "flags": flags,
            }),
        )
        .await
    }

    /// A plain tradeable domain of `owner` (a year old, a year to run).
    pub async fn domain(&self, name: &str, owner: &str) {
        let reply = self.domain_with(name, owner, 365, 365, json!({})).await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }

    /// Lists `domain` at `price` as `seller`; returns the listing.
    pub async fn list(&self, seller: &str, domain: &str, price: &str) -> Value {
        let reply = self
            .post(
                "/listings",
                Some(seller),
                json!({ "domain": domain, "price": price }),
            )
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.body
    }

    /// The server clock.
    pub async fn now(&self) -> chrono::DateTime<Utc> {
        let reply = self.get("/dev/clock", None).await;
        serde_json::from_value(reply.body["now"].clone()).expect("a time")
    }

    /// Moves the server clock forward (and runs what became due).
    pub async fn advance(&self, seconds: i64) -> Reply {
        let reply = self
            .post("/dev/clock/advance", None, json!({ "seconds": seconds }))
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        reply
    }

    /// Moves the server clock forward and runs nothing that became due: the sweeper is late
    /// (E1) until the next [`TestApp::advance`].
    pub async fn advance_late(&self, seconds: i64) -> Reply {
        let reply = self
            .post(
                "/dev/clock/advance",
                None,
                json!({ "seconds": seconds, "sweep": false }),
            )
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(reply.body["sweep"].is_null(), "{reply:?}");
        reply
    }

    /// Orders `domains` as `buyer` with a passing captcha.
    pub async fn order(&self, buyer: &str, domains: &[&str]) -> Reply {
        self.post(
            "/orders",
            Some(buyer),
            json!({ "domains": domains, "captcha_token": "pass" }),
        )
        .await
    }

    /// Starts a payment; returns the `out_trade_no`.
    pub async fn pay(&self, buyer: &str, order_id: &str) -> String {
        let reply = self
            .post(
                &format!("/orders/{order_id}/pay"),
                Some(buyer),
                json!({ "method": "alipay" }),
            )
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.body["out_trade_no"]
            .as_str()
            .expect("out_trade_no")
            .to_owned()
    }

    /// Posts `body` to the provider's notification route as the provider would (a form).
    pub async fn notify_raw(&self, body: Vec<u8>) -> Reply {
        let response = self
            .http
            .post(format!("{}/payments/alipay/notify", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("the request is answered");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            body,
            content_type,
            retry_after: None,
        }
    }

    /// Makes the sandbox provider notify a result for a payment.
    pub async fn provider_says(&self, out_trade_no: &str, trade_status: &str) -> Reply {
        self.post(
            &format!("/dev/payments/{out_trade_no}/complete"),
            None,
            json!({ "trade_status": trade_status }),
        )
        .await
    }

    /// Stops the marketplace.
    pub fn stop(self) {
        self.running.stop();
    }
}
