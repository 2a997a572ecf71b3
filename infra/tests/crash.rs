//! Crash safety of the local runner on its default persistent embedded store: the real
//! binary is killed with SIGKILL mid-stream and restarted on the same data folder.
//!
//! 1. Payments: N orders are paid with Alipay-signed notifications, sent 16 at a time; the
//!    runner is killed once about half are acknowledged (`success`). After the restart every
//!    acknowledged payment is applied, exactly once; the unacknowledged ones are sent again
//!    (as Alipay resends what was not acknowledged, duplicates included) and apply once too:
//!    every order completed, no order left `processing`, the ledger exact.
//! 2. A sweep: M unpaid orders are expired by a sweep that is killed while it runs; after
//!    the restart every one of them is expired and its listing free again.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};

use market_adapters::payment::rsa2;
use market_adapters::payment::wire::beijing;

const SECRET: &str = "crash-test-secret";
const APP_ID: &str = "2021000000000001";
const SELLER_ID: &str = "2088000000000001";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/alipay")
        .join(name);
    std::fs::read_to_string(path).expect("the Alipay fixtures")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The runner binary on `data`, on a fresh port.
struct Runner {
    child: Child,
    base: String,
}

impl Runner {
    async fn start(data: &Path) -> Runner {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_marketplace"))
            .env("MARKET_DATA", data.join("market.redb"))
            .env("MARKET_ADDR", format!("127.0.0.1:{port}"))
            .env("MARKET_SEED", "0")
            .env("MARKET_JWT_SECRET", SECRET)
            .env("MARKET_ORDER_RATE", "100000")
            .env("ALIPAY_APP_ID", APP_ID)
            .env("ALIPAY_SELLER_ID", SELLER_ID)
            .env("ALIPAY_PUBLIC_KEY_PEM", fixture("alipay_public.pem"))
            .env("ALIPAY_APP_PRIVATE_KEY_PEM", fixture("app_private.pem"))
            // Nothing answers there: a lookup's outcome is unknown, never assumed.
            .env("ALIPAY_GATEWAY", "http://127.0.0.1:9/gateway.do")
            .env("ALIPAY_TIMEOUT_MS", "500")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the runner starts");
        let runner = Runner {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..600 {
            if reqwest::get(format!("{}/health", runner.base))
                .await
                .is_ok()
            {
                return runner;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the runner did not come up");
    }

    /// SIGKILL: nothing runs after it.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Client {
    http: reqwest::Client,
}

impl Client {
    fn token(who: &str) -> String {
        let roles: &[&str] = if who == "ops" { &["admin"] } else { &[] };
        market_web::auth::sign_token(
            SECRET,
            who,
            roles,
            (Utc::now() + chrono::Duration::hours(1)).timestamp(),
        )
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: String,
        who: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, url);
        if let Some(who) = who {
            request = request.bearer_auth(Self::token(who));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("answered");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, runner: &Runner, path: &str, who: Option<&str>, body: Value) -> Value {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                format!("{}{path}", runner.base),
                who,
                Some(body),
            )
            .await;
        assert!(status < 300, "POST {path}: {status} {body}");
        body
    }

    async fn put(&self, runner: &Runner, path: &str, body: Value) {
        let (status, body) = self
            .call(
                reqwest::Method::PUT,
                format!("{}{path}", runner.base),
                Some("ops"),
                Some(body),
            )
            .await;
        assert!(status < 300, "PUT {path}: {status} {body}");
    }

    async fn get(&self, runner: &Runner, path: &str, who: &str) -> Value {
        let (status, body) = self
            .call(
                reqwest::Method::GET,
                format!("{}{path}", runner.base),
                Some(who),
                None,
            )
            .await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

/// alice and bob, and `n` listings of alice's past their cool-down.
async fn market(client: &Client, runner: &Runner, prefix: &str, n: usize) -> Vec<String> {
    for who in ["alice", "bob"] {
        client
            .put(
                runner,
                &format!("/admin/accounts/{who}"),
                json!({ "real_name_verified": true, "real_name": who, "payout_account": format!("{who}@example.com") }),
            )
            .await;
    }
    let now = Utc::now();
    let mut domains = Vec::new();
    for i in 0..n {
        let domain = format!("{prefix}{i}.com");
        client
            .put(
                runner,
                &format!("/admin/domains/{domain}"),
                json!({ "owner": "alice", "registered_at": now - chrono::Duration::days(400), "expires_at": now + chrono::Duration::days(400) }),
            )
            .await;
        client
            .post(
                runner,
                "/listings",
                Some("alice"),
                json!({ "domain": domain, "price": "10.00" }),
            )
            .await;
        domains.push(domain);
    }
    client
        .post(
            runner,
            "/dev/clock/advance",
            None,
            json!({ "seconds": 180 }),
        )
        .await;
    domains
}

/// A notification as Alipay signs it.
fn signed_notification(
    key: &rsa2::PrivateKey,
    out_trade_no: &str,
    amount: &str,
    n: usize,
) -> String {
    let now = Utc::now();
    let mut params: Vec<(String, String)> = vec![
        ("notify_id".into(), format!("ntf{n:04}")),
        ("notify_time".into(), beijing(now)),
        ("notify_type".into(), "trade_status_sync".into()),
        ("app_id".into(), APP_ID.into()),
        ("seller_id".into(), SELLER_ID.into()),
        ("out_trade_no".into(), out_trade_no.into()),
        ("trade_no".into(), format!("2026{n:08}")),
        ("trade_status".into(), "TRADE_SUCCESS".into()),
        ("total_amount".into(), amount.into()),
        ("gmt_payment".into(), beijing(now)),
        ("charset".into(), "utf-8".into()),
        ("version".into(), "1.0".into()),
    ];
    let signature = rsa2::sign(key, &rsa2::notification_signing_string(&params));
    params.push(("sign_type".into(), "RSA2".into()));
    params.push(("sign".into(), signature));
    serde_urlencoded::to_string(&params).unwrap()
}

async fn notify(http: &reqwest::Client, base: &str, body: String) -> bool {
    match http
        .post(format!("{base}/payments/alipay/notify"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
    {
        Ok(response) => {
            response.status() == 200 && response.text().await.unwrap_or_default() == "success"
        }
        Err(_) => false,
    }
}

fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("market-crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn order_status(client: &Client, runner: &Runner, id: &str) -> String {
    client.get(runner, &format!("/orders/{id}"), "bob").await["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s1_every_acknowledged_payment_survives_a_sigkill_and_applies_once() {
    const N: usize = 60;
    let data = data_dir("payments");
    market_adapters::payment::alipay::install_crypto_provider();
    let client = Client {
        http: reqwest::Client::new(),
    };
    let runner = Runner::start(&data).await;
    let domains = market(&client, &runner, "paid", N).await;
    let mut payments = Vec::new();
    for domain in &domains {
        let placed = client
            .post(
                &runner,
                "/orders",
                Some("bob"),
                json!({ "domains": [domain], "captcha_token": "pass" }),
            )
            .await;
        let id = placed["orders"][0]["id"].as_str().unwrap().to_owned();
        let pay = client
            .post(
                &runner,
                &format!("/orders/{id}/pay"),
                Some("bob"),
                json!({ "method": "alipay" }),
            )
            .await;
        payments.push((id, pay["out_trade_no"].as_str().unwrap().to_owned()));
    }
    let key = rsa2::parse_private_key(&fixture("alipay_private.pem")).unwrap();
    let bodies: Vec<String> = payments
        .iter()
        .enumerate()
        .map(|(n, (_, otn))| signed_notification(&key, otn, "10.00", n))
        .collect();

    // Sixteen at a time; SIGKILL once about half are acknowledged.
    let acknowledged: Arc<std::sync::Mutex<Vec<usize>>> = Arc::default();
    let acked_count = Arc::new(AtomicUsize::new(0));
    let base = runner.base.clone();
    let sender = {
        let (acknowledged, acked_count, bodies) =
            (acknowledged.clone(), acked_count.clone(), bodies.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let next = Arc::new(AtomicUsize::new(0));
            let workers = (0..16).map(|_| {
                let (http, base, bodies, next) =
                    (http.clone(), base.clone(), bodies.clone(), next.clone());
                let (acknowledged, acked_count) = (acknowledged.clone(), acked_count.clone());
                tokio::spawn(async move {
                    loop {
                        let n = next.fetch_add(1, Ordering::SeqCst);
                        if n >= bodies.len() {
                            return;
                        }
                        if notify(&http, &base, bodies[n].clone()).await {
                            acknowledged.lock().unwrap().push(n);
                            acked_count.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            });
            futures::future::join_all(workers).await;
        })
    };
    while acked_count.load(Ordering::SeqCst) < N / 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    runner.kill();
    sender.await.unwrap();
    let acked: Vec<usize> = acknowledged.lock().unwrap().clone();
    assert!(
        acked.len() >= N / 2 && acked.len() < N,
        "killed mid-stream: {} acknowledged",
        acked.len()
    );
    // What the kill caught: acknowledged notifications still in the queue, not yet applied
    // (the in-memory queue of old lost exactly these).
    let backlog = stored_queue_depth(&data).await;
    assert!(
        backlog > 0,
        "the kill caught acknowledged notifications not yet applied"
    );

    // Restart on the same data: what was acknowledged is delivered (once visible again).
    let runner = Runner::start(&data).await;
    client
        .post(
            &runner,
            "/dev/clock/advance",
            None,
            json!({ "seconds": 31, "sweep": false }),
        )
        .await;
    let mut applied = 0;
    for _ in 0..400 {
        applied = 0;
        for &n in &acked {
            if order_status(&client, &runner, &payments[n].0).await == "completed" {
                applied += 1;
            }
        }
        if applied == acked.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "crash test: {N} notifications, {} acknowledged before SIGKILL, {backlog} notifications stored in the queue and not yet applied at the kill, {applied} of the acknowledged applied after the restart",
        acked.len()
    );
    assert_eq!(
        applied,
        acked.len(),
        "every acknowledged payment is applied after the restart"
    );

    // Alipay resends what was not acknowledged (and, here, everything again: duplicates).
    let http = reqwest::Client::new();
    for body in &bodies {
        assert!(notify(&http, &runner.base, body.clone()).await);
    }
    for _ in 0..400 {
        let mut done = 0;
        for (id, _) in &payments {
            if order_status(&client, &runner, id).await == "completed" {
                done += 1;
            }
        }
        if done == N {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (id, _) in &payments {
        assert_eq!(
            order_status(&client, &runner, id).await,
            "completed",
            "no order stays processing"
        );
    }
    // Exactly once: N sales of 10.00 less 1%, and bob's escrow back to zero.
    let alice = client.get(&runner, "/me/ledger?limit=200", "alice").await;
    let sales = alice["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "sale")
        .count();
    assert_eq!(sales, N);
    assert_eq!(
        alice["balances"]["frozen"],
        format!("{:.2}", N as f64 * 9.90)
    );
    let mut escrow = 0i64;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/me/ledger?limit=200&cursor={c}"),
            None => "/me/ledger?limit=200".to_owned(),
        };
        let page = client.get(&runner, &path, "bob").await;
        for entry in page["items"].as_array().unwrap() {
            let cents: f64 = entry["amount"].as_str().unwrap().parse().unwrap();
            escrow += (cents * 100.0).round() as i64;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(escrow, 0, "bob's escrow filled and emptied exactly");
    drop(runner);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o3_e1_a_sweep_killed_mid_batch_is_finished_after_the_restart() {
    const M: usize = 400;
    let data = data_dir("sweep");
    market_adapters::payment::alipay::install_crypto_provider();
    let client = Client {
        http: reqwest::Client::new(),
    };
    let runner = Runner::start(&data).await;
    let domains = market(&client, &runner, "unpaid", M).await;
    let mut orders = Vec::new();
    for domain in &domains {
        let placed = client
            .post(
                &runner,
                "/orders",
                Some("bob"),
                json!({ "domains": [domain], "captcha_token": "pass" }),
            )
            .await;
        orders.push(placed["orders"][0]["id"].as_str().unwrap().to_owned());
    }
    // The deadlines pass with the sweeper late (E1); then the sweep that expires them all
    // runs inside one request, and the runner is killed once a tenth of them are expired.
    client
        .post(
            &runner,
            "/dev/clock/advance",
            None,
            json!({ "seconds": 601, "sweep": false }),
        )
        .await;
    let http = reqwest::Client::new();
    let sweep = tokio::spawn({
        let url = format!("{}/dev/sweep", runner.base);
        async move {
            let _ = http.post(url).json(&json!({})).send().await;
        }
    });
    // Every read already shows them expired (E1); what the kill interrupts is the sweep's
    // writes, so the evidence is the stored state, read from the data file once it is dead.
    tokio::time::sleep(Duration::from_millis(250)).await;
    runner.kill();
    let _ = sweep.await;
    let expired_before = stored_expired(&data).await;
    assert!(
        expired_before > 0 && expired_before < M,
        "the kill landed mid-batch ({expired_before} of {M} stored as expired)"
    );

    let runner = Runner::start(&data).await;
    client.post(&runner, "/dev/sweep", None, json!({})).await;
    let mut expired = 0;
    for id in &orders {
        if order_status(&client, &runner, id).await == "expired" {
            expired += 1;
        }
    }
    runner.kill();
    let stored_after = stored_expired(&data).await;
    let runner = Runner::start(&data).await;
    println!("crash test: {M} orders due, a sweep killed with {expired_before} of them stored as expired; after the restart's sweep {stored_after} stored and {expired} shown as expired");
    assert_eq!(expired, M, "every due order expired");
    assert_eq!(stored_after, M, "and stored so, not only shown (E1)");
    let mut active = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/me/listings?limit=200&cursor={c}"),
            None => "/me/listings?limit=200".to_owned(),
        };
        let page = client.get(&runner, &path, "alice").await;
        active += page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["status"] == "active")
            .count();
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(active, M, "every listing is free again");
    let (status, _) = client
        .call(
            reqwest::Method::POST,
            format!("{}/orders", runner.base),
            Some("bob"),
            Some(json!({ "domains": [domains[0]], "captcha_token": "pass" })),
        )
        .await;
    assert_eq!(status, 201, "and can be ordered");
    drop(runner);
    let _ = std::fs::remove_dir_all(&data);
}

/// How many payment notifications the data file holds in the queue (acknowledged to the
/// sender, not yet applied).
async fn stored_queue_depth(data: &Path) -> usize {
    use market_adapters::store::embedded::EmbeddedStore;
    use market_app::store::{Query, Store};
    let store = EmbeddedStore::open(&data.join("market.redb")).expect("the data file opens");
    let mut query = Query::table("QUEUE#payments");
    query.limit = 1000;
    store.query(query).await.expect("the queue").items.len()
}

/// How many of bob's orders the data file holds as expired (the runner must be stopped: the
/// embedded store is one process's at a time).
async fn stored_expired(data: &Path) -> usize {
    use market_adapters::store::embedded::EmbeddedStore;
    use market_app::store::{Index, Query, Store};
    let store = EmbeddedStore::open(&data.join("market.redb")).expect("the data file opens");
    let mut query = Query::index(Index::Gsi1, "BUYER#bob");
    query.limit = 1000;
    let page = store.query(query).await.expect("bob's orders");
    page.items
        .iter()
        .filter(|item| {
            serde_json::from_str::<Value>(&item.body).is_ok_and(|o| o["status"] == "expired")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sigterm_lets_the_request_in_flight_finish_and_exits_cleanly() {
    const M: usize = 120;
    market_adapters::payment::alipay::install_crypto_provider();
    let data = data_dir("sigterm");
    let client = Client {
        http: reqwest::Client::new(),
    };
    let runner = Runner::start(&data).await;
    let domains = market(&client, &runner, "term", M).await;
    for domain in &domains {
        client
            .post(
                &runner,
                "/orders",
                Some("bob"),
                json!({ "domains": [domain], "captcha_token": "pass" }),
            )
            .await;
    }
    client
        .post(
            &runner,
            "/dev/clock/advance",
            None,
            json!({ "seconds": 601, "sweep": false }),
        )
        .await;
    let sweep = tokio::spawn({
        let url = format!("{}/dev/sweep", runner.base);
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({}))
                .send()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut runner = runner;
    let pid = runner.child.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let answer = sweep
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(answer.status(), 200);
    let report: Value = answer.json().await.unwrap();
    let mut exited = None;
    for _ in 0..240 {
        if let Ok(Some(status)) = runner.child.try_wait() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = exited.expect("the runner exits within the grace period");
    assert!(status.success(), "a clean exit: {status}");
    println!(
        "crash test: SIGTERM during a sweep: the sweep answered ({} expired) and the runner exited with {status}",
        report["expired_orders"].as_array().map_or(0, Vec::len)
    );
    assert_eq!(
        stored_expired(&data).await,
        M,
        "the sweep in hand finished before the exit"
    );
    let _ = std::fs::remove_dir_all(&data);
}
