//! The operations the capacity bench prices, each run N times on independent sellers,
//! buyers and domains (and one seller's N sales), through the whole request: the HTTP
//! route of the local runner, and the work it sets off (the payment queue's consumer,
//! delivery, the outbox and the notifier) drained before the next run.
use std::sync::Arc;

use serde_json::{json, Value};

use super::{Capacity, CapacityStore};
use crate::client::{spawn_app_with, TestApp};
use infra::{GivenStore, Settings, StoreChoice};
use market_app::store::Store;

/// A marketplace over `store`, priced by a meter: charging starts at `begin`.
pub struct Metered {
    pub app: TestApp,
    pub meter: Arc<CapacityStore>,
}

impl Metered {
    /// A marketplace whose every store request goes through a meter over `store`.
    pub async fn over(store: Arc<dyn Store>) -> Metered {
        let meter = Arc::new(CapacityStore::new(store));
        let mut settings = Settings::for_tests();
        settings.store = StoreChoice::Given(GivenStore(meter.clone() as Arc<dyn Store>));
        // No order rate limit to reach: the runs are many orders in a minute on purpose.
        settings.policy.order_rate_per_minute = u32::MAX;
        let app = spawn_app_with(settings).await;
        Metered { app, meter }
    }

    /// Runs what the request set off in the background (the payment queue's consumer,
    /// the notifier) until nothing is left: its work is charged to the run.
    pub async fn settle(&self) {
        let running = &self.app.running;
        loop {
            running
                .notifier
                .caught_up(std::time::Duration::from_secs(10))
                .await;
            if infra::pump::deliver_due(&running.app, &running.queue).await == 0 {
                break;
            }
        }
        running
            .notifier
            .caught_up(std::time::Duration::from_secs(10))
            .await;
    }

    /// Charges `run` to run `n`, then settles it.
    async fn charged<F, Fut>(&self, n: usize, run: F)
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        self.meter.begin(n);
        run().await;
        self.settle().await;
        self.meter.pause();
    }

    /// The figures of everything charged since the last call.
    fn figures(&self, operation: &str, runs: usize) -> Capacity {
        Capacity::of(operation, runs, &self.meter.take())
    }
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

/// `runs` sellers (`{tag}s{i}`) with one domain each, listed, past the cool-down.
async fn listings(
    app: &TestApp,
    tag: &str,
    runs: usize,
    one_seller: bool,
) -> Vec<(String, String)> {
    let mut made = Vec::with_capacity(runs);
    for i in 0..runs {
        let seller = if one_seller {
            format!("{tag}s")
        } else {
            format!("{tag}s{i}")
        };
        if i == 0 || !one_seller {
            app.trader(&seller).await;
        }
        let domain = format!("{tag}{i}.com");
        app.domain(&domain, &seller).await;
        let listing = app.list(&seller, &domain, "10.00").await;
        made.push((text(&listing["id"]), domain));
    }
    app.advance(180).await;
    made
}

async fn buyers(app: &TestApp, tag: &str, runs: usize) -> Vec<String> {
    let mut made = Vec::with_capacity(runs);
    for i in 0..runs {
        let buyer = format!("{tag}b{i}");
        app.trader(&buyer).await;
        made.push(buyer);
    }
    made
}

/// A placed order's id, its total, and a payment started on it.
async fn order_and_pay(app: &TestApp, buyer: &str, domain: &str) -> (String, String) {
    let placed = app.order(buyer, &[domain]).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let order = &placed.body["orders"][0];
    let order_id = text(&order["id"]);
    let out_trade_no = app.pay(buyer, &order_id).await;
    (out_trade_no, text(&order["total"]))
}

/// The provider's signed notification of a paid trade, posted to the notify route.
async fn paid(app: &TestApp, out_trade_no: &str, amount: &str) {
    let now = app.running.app.now();
    let amount = market_core::money::Money::parse(amount).expect("an amount");
    let body = app
        .running
        .sandbox
        .notification(out_trade_no, "TRADE_SUCCESS", amount, now);
    let reply = app.notify_raw(body.into_bytes()).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// Every operation of the bench's table, `runs` times each, on a fresh store from `fresh`.
pub async fn measure<F, Fut>(fresh: F, runs: usize) -> Vec<Capacity>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Store>>,
{
    let mut rows = Vec::new();

    // Views and the market's first page, over the same listings.
    let m = Metered::over(fresh().await).await;
    let made = listings(&m.app, "v", runs, false).await;
    for (n, (id, _)) in made.iter().enumerate() {
        m.charged(n, || async {
            let reply = m.app.get(&format!("/listings/{id}"), None).await;
            assert_eq!(reply.status, 200, "{reply:?}");
        })
        .await;
    }
    rows.push(m.figures("GET /listings/{id}", runs));
    for n in 0..runs {
        m.charged(n, || async {
            let reply = m.app.get("/listings", None).await;
            assert_eq!(reply.status, 200, "{reply:?}");
        })
        .await;
    }
    rows.push(m.figures("GET /listings first page", runs));

    // Publishing.
    let m = Metered::over(fresh().await).await;
    for i in 0..runs {
        m.app.trader(&format!("ps{i}")).await;
        m.app.domain(&format!("p{i}.com"), &format!("ps{i}")).await;
    }
    for n in 0..runs {
        m.charged(n, || async {
            m.app
                .list(&format!("ps{n}"), &format!("p{n}.com"), "10.00")
                .await;
        })
        .await;
    }
    rows.push(m.figures("POST /listings", runs));

    // Ordering one domain.
    let m = Metered::over(fresh().await).await;
    let made = listings(&m.app, "o", runs, false).await;
    let who = buyers(&m.app, "o", runs).await;
    for (n, (_, domain)) in made.iter().enumerate() {
        m.charged(n, || async {
            let placed = m.app.order(&who[n], &[domain]).await;
            assert_eq!(placed.status, 201, "{placed:?}");
        })
        .await;
    }
    rows.push(m.figures("POST /orders (1 domain)", runs));

    // A cart of 50 domains of one seller, a few times (each run its own seller and buyer).
    let carts = runs.min(4);
    let m = Metered::over(fresh().await).await;
    let mut cart_of = Vec::with_capacity(carts);
    for run in 0..carts {
        let made = listings(&m.app, &format!("c{run}x"), 50, true).await;
        cart_of.push(made.into_iter().map(|(_, d)| d).collect::<Vec<_>>());
    }
    let who = buyers(&m.app, "c", carts).await;
    for (n, cart) in cart_of.iter().enumerate() {
        m.charged(n, || async {
            let names: Vec<&str> = cart.iter().map(String::as_str).collect();
            let placed = m.app.order(&who[n], &names).await;
            assert_eq!(placed.status, 201, "{placed:?}");
        })
        .await;
    }
    rows.push(m.figures("POST /orders (50 domains of one seller)", carts));

    // A whole sale, on independent sellers, then one seller's.
    for (operation, tag, one_seller) in [
        ("sale: order + pay + notification + delivery", "s", false),
        ("one seller's sales (order + pay + delivery)", "t", true),
    ] {
        let m = Metered::over(fresh().await).await;
        let made = listings(&m.app, tag, runs, one_seller).await;
        let who = buyers(&m.app, tag, runs).await;
        for (n, (_, domain)) in made.iter().enumerate() {
            m.charged(n, || async {
                let (out_trade_no, total) = order_and_pay(&m.app, &who[n], domain).await;
                paid(&m.app, &out_trade_no, &total).await;
            })
            .await;
        }
        rows.push(m.figures(operation, runs));
    }

    // A push accepted, paid and completed (locked: the change is forced at payment).
    let m = Metered::over(fresh().await).await;
    for i in 0..runs {
        m.app.trader(&format!("us{i}")).await;
        m.app.trader(&format!("ub{i}")).await;
        m.app.domain(&format!("u{i}.com"), &format!("us{i}")).await;
    }
    for n in 0..runs {
        m.charged(n, || async {
            let pushed = m
                .app
                .post(
                    "/pushes",
                    Some(&format!("us{n}")),
                    json!({ "domains": [format!("u{n}.com")], "buyer": format!("ub{n}"), "price": "20.00", "lock_60d": true }),
                )
                .await;
            assert_eq!(pushed.status, 201, "{pushed:?}");
            let accepted = m
                .app
                .post(
                    &format!("/pushes/{}/accept", text(&pushed.body["id"])),
                    Some(&format!("ub{n}")),
                    json!({ "captcha_token": "pass" }),
                )
                .await;
            assert_eq!(accepted.status, 200, "{accepted:?}");
            let out_trade_no = text(&accepted.body["payment"]["out_trade_no"]);
            paid(&m.app, &out_trade_no, "20.00").await;
        })
        .await;
        let pushes = m
            .app
            .get("/me/pushes?role=received", Some(&format!("ub{n}")))
            .await;
        assert_eq!(pushes.body["items"][0]["status"], "completed", "{pushes:?}");
    }
    rows.push(m.figures("push accepted + paid + completed", runs));
    rows
}
