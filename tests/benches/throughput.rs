//! `cargo bench -p market-tests --bench throughput`: the local runner under load (issue 15,
//! part 3), next to a bare axum JSON handler measured in the same run on the same machine
//! (the local physical limit), all printed:
//!
//! - `GET /listings/{id}` from 64 connections for a few seconds: requests/s, p50, p99, and
//!   the share of the bare handler's throughput (goal ≥ 50 %, p99 ≤ 2× its p99);
//! - 256 buyers racing for one listing, round after round: order attempts/s (goal ≥ 10,000),
//!   exactly one order per listing, no 5xx.
//!
//! The load comes from this process (the same client for every case), the marketplace runs
//! in it on the embedded store in memory, with no log subscriber (a deployed function's log
//! lines are CloudWatch's cost, not the handler's).
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::routing::get;
use market_tests::{spawn_app_with, TestApp};
use serde_json::json;

const CONNECTIONS: usize = 64;
const LOAD: Duration = Duration::from_secs(5);
const RACERS: usize = 256;
const ROUNDS: usize = 40;

/// What a load run saw.
struct Figures {
    requests: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
    statuses: BTreeMap<u16, usize>,
}

impl Figures {
    fn of(mut latencies: Vec<Duration>, statuses: BTreeMap<u16, usize>, took: Duration) -> Self {
        latencies.sort_unstable();
        let at =
            |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        Figures {
            requests: latencies.len(),
            per_second: latencies.len() as f64 / took.as_secs_f64(),
            p50: at(0.50),
            p99: at(0.99),
            statuses,
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS * 4)
        .build()
        .expect("client")
}

/// `CONNECTIONS` loops of GET `url` for [`LOAD`].
async fn hammer(url: String) -> Figures {
    let http = client();
    // Warm the pool and the server.
    for _ in 0..CONNECTIONS {
        http.get(&url).send().await.unwrap().bytes().await.unwrap();
    }
    let started = Instant::now();
    let deadline = started + LOAD;
    let loops: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let response = http.get(&url).send().await.expect("answered");
                    let status = response.status().as_u16();
                    response.bytes().await.expect("a body");
                    seen.push(sent.elapsed());
                    *statuses.entry(status).or_default() += 1;
                }
                (seen, statuses)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut statuses = BTreeMap::new();
    for task in loops {
        let (seen, counted) = task.await.unwrap();
        latencies.extend(seen);
        for (status, n) in counted {
            *statuses.entry(status).or_default() += n;
        }
    }
    Figures::of(latencies, statuses, started.elapsed())
}

/// The local physical limit: a bare axum handler answering a listing-sized JSON body.
async fn bare_handler() -> String {
    let router = axum::Router::new().route(
        "/listings/{id}",
        get(|Path(id): Path<String>| async move {
            axum::Json(json!({
                "id": id, "domain": "bench.com", "domain_unicode": "bench.com",
                "seller": "alice", "price": "1999.00", "status": "active",
                "description": "", "created_at": "2026-11-26T00:00:00Z",
                "buyable_at": "2026-11-26T00:03:00Z", "fee": "19.99"
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn marketplace() -> TestApp {
    let mut settings = infra::Settings::for_tests();
    // The race measures the listing's contention, not the per-account limit (O7).
    settings.policy.order_rate_per_minute = 1_000_000;
    spawn_app_with(settings).await
}

/// Rounds of `RACERS` buyers at once ordering one listing each round.
async fn race(app: &TestApp) -> (Figures, usize) {
    app.trader("alice").await;
    let tokens: Vec<String> = (0..RACERS)
        .map(|i| {
            let buyer = format!("racer{i}");
            app.token(&buyer)
        })
        .collect();
    for i in 0..RACERS {
        app.trader(&format!("racer{i}")).await;
    }
    for round in 0..ROUNDS {
        let domain = format!("contested{round}.com");
        app.domain(&domain, "alice").await;
        app.list("alice", &domain, "5.00").await;
    }
    app.advance(180).await;
    let http = client();
    let url = format!("{}/orders", app.base);
    let mut latencies = Vec::new();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut one_order_each = 0;
    let mut racing = Duration::ZERO;
    for round in 0..ROUNDS {
        let body = json!({"domains": [format!("contested{round}.com")], "captcha_token": "pass"});
        let started = Instant::now();
        let attempts: Vec<_> = tokens
            .iter()
            .map(|token| {
                let request = http.post(&url).bearer_auth(token).json(&body);
                tokio::spawn(async move {
                    let sent = Instant::now();
                    let status = request.send().await.expect("answered").status().as_u16();
                    (status, sent.elapsed())
                })
            })
            .collect();
        let mut orders = 0;
        for attempt in attempts {
            let (status, took) = attempt.await.unwrap();
            orders += usize::from(status == 201);
            latencies.push(took);
            *statuses.entry(status).or_default() += 1;
        }
        racing += started.elapsed();
        one_order_each += usize::from(orders == 1);
    }
    (Figures::of(latencies, statuses, racing), one_order_each)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let runtime = market_tests::bench_runtime();
    runtime.block_on(async {
        let bare = hammer(format!("{}/listings/lst_bench", bare_handler().await)).await;
        let app = marketplace().await;
        app.trader("alice").await;
        app.domain("bench.com", "alice").await;
        let listing = app.list("alice", "bench.com", "1999.00").await;
        let id = listing["id"].as_str().expect("a listing id").to_owned();
        let view = hammer(format!("{}/listings/{id}", app.base)).await;
        let (orders, exact) = race(&marketplace().await).await;
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        println!("local runner throughput ({CONNECTIONS} connections, {} s each, {cores} cores, load from the same process)", LOAD.as_secs());
        println!("| case | requests | per second | p50 | p99 | answers |\n|---|---|---|---|---|---|");
        for (case, f) in [
            ("bare axum JSON handler", &bare),
            ("GET /listings/{id} (embedded store)", &view),
            ("POST /orders, 256 buyers racing for one listing", &orders),
        ] {
            println!(
                "| {case} | {} | {:.0} | {} | {} | {:?} |",
                f.requests, f.per_second, ms(f.p50), ms(f.p99), f.statuses
            );
        }
        println!(
            "listing view: {:.0} % of the bare handler's throughput (goal ≥ 50 %), p99 {:.2}× its p99 (goal ≤ 2×)",
            view.per_second * 100.0 / bare.per_second,
            view.p99.as_secs_f64() / bare.p99.as_secs_f64()
        );
        let errors: usize = orders.statuses.range(500..600).map(|(_, n)| n).sum();
        println!(
            "contended orders: {:.0} attempts/s (goal ≥ 10,000) over {ROUNDS} rounds of {RACERS}; exactly one order in {exact} of {ROUNDS} rounds; {errors} answers of 5xx",
            orders.per_second
        );
        assert_eq!(exact, ROUNDS, "exactly one order per listing");
        assert_eq!(errors, 0, "no 5xx");
    });
}
