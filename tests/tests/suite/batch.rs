//! Batch purchases at full size (O2, O7, O9): carts split into payment groups within every
//! limit, per-domain refusals, and a 500-domain group reserved while other buyers race for
//! some of the same listings.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::orders::{self, Placed};
use market_app::ports::captcha::HumanCheck;
use market_app::{order_store, repo};
use market_core::ids::{AccountId, OrderId};
use market_core::model::Order;
use market_tests::scene::Scene;

fn id(text: &str) -> AccountId {
    AccountId::parse(text).unwrap()
}

fn assert_within_o2(placed: &Placed) {
    for order in &placed.orders {
        assert!(order.items.len() <= 500);
        let mut per_seller: BTreeMap<&str, usize> = BTreeMap::new();
        for item in &order.items {
            *per_seller.entry(&item.seller).or_default() += 1;
        }
        assert!(per_seller.len() <= 40, "{} sellers", per_seller.len());
        assert!(per_seller.values().all(|&n| n <= 50), "{per_seller:?}");
    }
}

async fn scene() -> Scene {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    scene.traders(&["buyer".to_owned()]).await;
    scene
}

#[tokio::test]
async fn o2_120_domains_from_3_sellers_form_one_group() {
    let scene = scene().await;
    let listed = scene.listed(120, 3).await;
    let cart: Vec<String> = listed.iter().map(|(d, _)| d.clone()).collect();
    let placed = orders::place(&scene.app, &id("buyer"), &cart, &HumanCheck::new("pass"))
        .await
        .unwrap();
    assert!(placed.rejected.is_empty());
    assert_within_o2(&placed);
    assert_eq!(placed.orders.len(), 1);
    assert_eq!(placed.orders[0].items.len(), 120);
}

#[tokio::test]
async fn o2_501_domains_split_into_several_orders_within_all_limits() {
    let scene = scene().await;
    let listed = scene.listed(501, 11).await;
    let cart: Vec<String> = listed.iter().map(|(d, _)| d.clone()).collect();
    let placed = orders::place(&scene.app, &id("buyer"), &cart, &HumanCheck::new("pass"))
        .await
        .unwrap();
    assert!(placed.rejected.is_empty(), "{:?}", placed.rejected);
    assert_within_o2(&placed);
    assert!(placed.orders.len() >= 2);
    let ordered: BTreeSet<&str> = placed
        .orders
        .iter()
        .flat_map(|o| o.items.iter().map(|i| i.domain.as_str()))
        .collect();
    assert_eq!(ordered.len(), 501, "every domain in exactly one order");
    // Each order is paid separately: its total is its own items.
    for order in &placed.orders {
        let sum: rust_decimal::Decimal = order.items.iter().map(|i| i.price.amount()).sum();
        assert_eq!(order.total.amount(), sum);
    }
}

#[tokio::test]
async fn a_cart_with_unlisted_and_cooling_down_domains_orders_the_rest() {
    let scene = scene().await;
    let listed = scene.listed(150, 4).await;
    let mut cart: Vec<String> = listed.iter().map(|(d, _)| d.clone()).collect();
    // A listing changed just now cools down again (L4); an unlisted name is not found.
    let changed = cart[7].clone();
    let listing_id = {
        let name = market_core::domain_name::DomainName::parse(&changed).unwrap();
        let domain: market_core::model::Domain =
            repo::load(&*scene.app.store, repo::domain_key(&name))
                .await
                .unwrap()
                .unwrap()
                .value;
        domain
            .trade
            .unwrap()
            .listing()
            .cloned()
            .expect("a listing holds it")
    };
    let change = market_app::listings::ListingChange {
        price: None,
        ends_at: None,
        description: Some("new".into()),
    };
    market_app::listings::change(&scene.app, &id("seller3"), &listing_id, change)
        .await
        .unwrap();
    cart.push("nobody-listed-this.com".into());
    let placed = orders::place(&scene.app, &id("buyer"), &cart, &HumanCheck::new("pass"))
        .await
        .unwrap();
    let mut refused: Vec<(String, String)> = placed
        .rejected
        .iter()
        .map(|r| (r.domain.clone(), format!("{:?}", r.code)))
        .collect();
    refused.sort();
    assert_eq!(
        refused,
        vec![
            (changed.clone(), "CoolingDown".into()),
            ("nobody-listed-this.com".into(), "NotFound".into())
        ]
    );
    let ordered: usize = placed.orders.iter().map(|o| o.items.len()).sum();
    assert_eq!(ordered, 149);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_500_domain_group_races_20_buyers_and_no_listing_is_held_twice() {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    let listed = scene.listed(500, 10).await;
    let racers: Vec<String> = (0..20).map(|i| format!("racer{i}")).collect();
    scene.traders(&racers).await;
    scene.traders(&["big".to_owned()]).await;
    let cart: Vec<String> = listed.iter().map(|(d, _)| d.clone()).collect();
    let app = scene.app.clone();
    let big = {
        let (app, cart) = (app.clone(), cart.clone());
        tokio::spawn(async move {
            orders::place(&app, &id("big"), &cart, &HumanCheck::new("pass")).await
        })
    };
    // Each racer wants 10 domains spread over the cart.
    let small: Vec<_> = racers
        .iter()
        .enumerate()
        .map(|(r, racer)| {
            let app = app.clone();
            let racer = racer.clone();
            let wants: Vec<String> = (0..10)
                .map(|k| cart[(r * 23 + k * 47) % cart.len()].clone())
                .collect();
            tokio::spawn(async move {
                (
                    wants.clone(),
                    orders::place(&app, &id(&racer), &wants, &HumanCheck::new("pass")).await,
                )
            })
        })
        .collect();
    let big = big.await.unwrap();
    let mut holder: BTreeMap<String, String> = BTreeMap::new();
    let mut claim = |domain: &str, order: &str| {
        let previous = holder.insert(domain.to_owned(), order.to_owned());
        assert!(
            previous.is_none(),
            "{domain} held by {previous:?} and {order}"
        );
    };
    let mut accounted: BTreeMap<String, usize> = BTreeMap::new();
    if let Ok(placed) = &big {
        for o in &placed.orders {
            for i in &o.items {
                claim(&i.domain, &o.id);
            }
        }
        for r in &placed.rejected {
            assert_eq!(format!("{:?}", r.code), "OrderPending");
        }
        for d in placed
            .orders
            .iter()
            .flat_map(|o| o.items.iter().map(|i| i.domain.clone()))
            .chain(placed.rejected.iter().map(|r| r.domain.clone()))
        {
            *accounted.entry(d).or_default() += 1;
        }
    }
    assert!(
        accounted.values().all(|&n| n == 1),
        "every domain of the big cart answered exactly once"
    );
    assert_eq!(accounted.len(), 500);
    for task in small {
        let (wants, result) = task.await.unwrap();
        if let Ok(placed) = result {
            for o in &placed.orders {
                for i in &o.items {
                    claim(&i.domain, &o.id);
                }
            }
            assert_eq!(
                placed.orders.iter().map(|o| o.items.len()).sum::<usize>() + placed.rejected.len(),
                wants.len()
            );
        }
    }
    // The store agrees: every domain's hold names the order that claims it (on the domain's
    // trade hold, beside its listing's terms: issue 15).
    for (domain, order) in &holder {
        let name = market_core::domain_name::DomainName::parse(domain).unwrap();
        let d: market_core::model::Domain = repo::load(&*app.store, repo::domain_key(&name))
            .await
            .unwrap()
            .unwrap()
            .value;
        let trade = d.trade.expect("a listing holds it");
        assert!(trade.listing().is_some(), "{domain}: a listing holds it");
        assert_eq!(trade.order.unwrap().order_id.to_string(), *order);
        let o: Order = order_store::load(&*app.store, &OrderId::parse(order).unwrap())
            .await
            .unwrap()
            .unwrap()
            .value;
        assert!(o.items.iter().any(|i| i.domain.to_string() == *domain));
    }
}

#[tokio::test]
async fn o9_a_paid_batch_delivers_each_domain_or_refunds_it_alone() {
    paid_batch_with_one_domain_lost(57).await;
}

/// The first delivery batch goes in the payment's own transaction (issue 15): a domain
/// lost inside it is refunded in that transaction, and the rest of the order still goes.
#[tokio::test]
async fn o9_a_domain_lost_in_the_batch_delivered_with_the_payment_is_refunded_alone() {
    paid_batch_with_one_domain_lost(3).await;
}

/// A 120-domain order of 3 sellers, paid after the registrar moved its `lost`th domain
/// (in the order's items) away: that one is refunded, every other delivered, and the
/// ledger balances.
async fn paid_batch_with_one_domain_lost(lost: usize) {
    use market_app::accounts::entries_of;
    use market_core::ledger::LedgerAccount;
    use rust_decimal::Decimal;

    let scene = scene().await;
    let listed = scene.listed(120, 3).await;
    let cart: Vec<String> = listed.iter().map(|(d, _)| d.clone()).collect();
    let buyer = id("buyer");
    let placed = orders::place(&scene.app, &buyer, &cart, &HumanCheck::new("pass"))
        .await
        .unwrap();
    let order_id = OrderId::parse(&placed.orders[0].id).unwrap();
    let payment = orders::pay(
        &scene.app,
        &buyer,
        &order_id,
        market_core::order::PaymentMethod::Alipay,
    )
    .await
    .unwrap();
    // The registrar moves one domain away before the money lands.
    let placed_order: Order = order_store::load(&*scene.app.store, &order_id)
        .await
        .unwrap()
        .unwrap()
        .value;
    let lost = placed_order.items[lost].domain.clone();
    let mut domain: market_core::model::Domain =
        repo::load(&*scene.app.store, repo::domain_key(&lost))
            .await
            .unwrap()
            .unwrap()
            .value;
    domain.owner = id("someone-else");
    market_app::accounts::upsert_domain(
        &scene.app,
        market_app::accounts::DomainRecord {
            name: domain.name.clone(),
            owner: domain.owner.clone(),
            registered_at: domain.registered_at,
            expires_at: domain.expires_at,
            flags: domain.flags,
        },
    )
    .await
    .unwrap();
    let body = scene.sandbox.notification(
        &payment.out_trade_no,
        "TRADE_SUCCESS",
        payment.amount,
        scene.app.now(),
    );
    fn_pay_callback::handle_message(&scene.app, &body)
        .await
        .unwrap();

    let order: Order = order_store::load(&*scene.app.store, &order_id)
        .await
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(serde_json::to_value(order.status).unwrap(), "completed");
    let failed: Vec<String> = order
        .items
        .iter()
        .filter(|i| serde_json::to_value(i.status).unwrap() == "failed")
        .map(|i| i.domain.to_string())
        .collect();
    assert_eq!(failed, vec![lost.to_string()]);
    let completed = order
        .items
        .iter()
        .filter(|i| serde_json::to_value(i.status).unwrap() == "completed")
        .count();
    assert_eq!(completed, 119);
    // Money: the buyer's escrow is empty (paid out or refunded), and every account balances.
    let accounts: Vec<LedgerAccount> = ["seller0", "seller1", "seller2"]
        .iter()
        .flat_map(|s| {
            [
                LedgerAccount::Seller(id(s)),
                LedgerAccount::SellerFrozen(id(s)),
            ]
        })
        .chain([
            LedgerAccount::Provider,
            LedgerAccount::Fees,
            LedgerAccount::Escrow(buyer.clone()),
        ])
        .collect();
    let mut total = Decimal::ZERO;
    for account in &accounts {
        let sum: Decimal = entries_of(&scene.app, account)
            .await
            .unwrap()
            .iter()
            .map(|e| e.posting.amount)
            .sum();
        if *account == LedgerAccount::Escrow(buyer.clone()) {
            assert_eq!(sum, Decimal::ZERO);
        }
        total += sum;
    }
    assert_eq!(total, Decimal::ZERO);
}

/// How many of these listings an order still holds.
async fn still_held(scene: &Scene, domains: &[String]) -> usize {
    let mut held = 0;
    for domain in domains {
        let name = market_core::domain_name::DomainName::parse(domain).unwrap();
        let d: market_core::model::Domain = repo::load(&*scene.app.store, repo::domain_key(&name))
            .await
            .unwrap()
            .unwrap()
            .value;
        let trade = d.trade.expect("listed");
        assert!(trade.listing().is_some(), "a listing holds it");
        held += usize::from(trade.order.is_some());
    }
    held
}

async fn order_of(scene: &Scene, id: &str) -> Order {
    order_store::load(&*scene.app.store, &OrderId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap()
        .value
}

/// One order over the whole cart, asserting it took every domain.
async fn one_order(scene: &Scene, cart: &[String]) -> String {
    let placed = orders::place(&scene.app, &id("buyer"), cart, &HumanCheck::new("pass"))
        .await
        .unwrap();
    assert!(placed.rejected.is_empty(), "{:?}", placed.rejected);
    assert_eq!(placed.orders.len(), 1);
    assert_eq!(placed.orders[0].items.len(), cart.len());
    placed.orders[0].id.clone()
}

#[tokio::test]
async fn o3_orders_of_1_99_100_101_and_500_listings_cancel_and_expire_freeing_every_listing() {
    for n in [1usize, 99, 100, 101, 500] {
        let scene = scene().await;
        let listed = scene.listed(n, n.div_ceil(50)).await;
        let cart: Vec<String> = listed.iter().map(|(d, _)| d.clone()).collect();

        let first = one_order(&scene, &cart).await;
        let cancelled = orders::cancel(&scene.app, &id("buyer"), &OrderId::parse(&first).unwrap())
            .await
            .unwrap();
        assert_eq!(
            cancelled.status,
            market_core::model::OrderStatus::Cancelled,
            "{n}"
        );
        assert_eq!(still_held(&scene, &cart).await, 0, "cancel freed all {n}");
        assert!(!order_of(&scene, &first).await.releasing);

        let second = one_order(&scene, &cart).await;
        scene.clock.advance(chrono::Duration::minutes(11));
        let report = market_app::sweep::sweep(&scene.app).await.unwrap();
        assert_eq!(report.expired_orders, vec![second.clone()], "{n}");
        assert_eq!(report.failed, 0, "{n}: {:?}", report.failures);
        assert_eq!(still_held(&scene, &cart).await, 0, "expiry freed all {n}");
        assert!(!order_of(&scene, &second).await.releasing);
        // Free for real: the whole cart is one order again.
        one_order(&scene, &cart).await;
    }
}

#[tokio::test]
async fn a_crash_between_a_large_orders_end_and_its_releases_is_finished_by_the_sweep() {
    let faulty = market_tests::faults::FaultyStore::in_memory(7, 0.0, 0.0);
    let scene = Scene::over(faulty.clone());
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(120, 3).await;
    let cart: Vec<String> = listed.iter().map(|(d, _)| d.clone()).collect();
    let order = one_order(&scene, &cart).await;
    // Every write of a domain fails from now on (an order's holds are on its domains' trade
    // holds): the order ends, its domains stay held.
    faulty.poison("DOMAIN#");
    let cancelled = orders::cancel(&scene.app, &id("buyer"), &OrderId::parse(&order).unwrap())
        .await
        .unwrap();
    assert_eq!(cancelled.status, market_core::model::OrderStatus::Cancelled);
    assert_eq!(still_held(&scene, &cart).await, 120);
    assert!(order_of(&scene, &order).await.releasing);

    faulty.cure();
    let report = market_app::sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(report.holds_released, vec![order.clone()]);
    assert_eq!(still_held(&scene, &cart).await, 0);
    assert!(!order_of(&scene, &order).await.releasing);
}

/// Opens a payment attempt for the whole of `order_id` and returns the provider's notice of
/// its success, to apply.
async fn paid_in_full(scene: &Scene, buyer: &AccountId, order_id: &OrderId) -> String {
    let payment = orders::pay(
        &scene.app,
        buyer,
        order_id,
        market_core::order::PaymentMethod::Alipay,
    )
    .await
    .unwrap();
    scene.sandbox.notification(
        &payment.out_trade_no,
        "TRADE_SUCCESS",
        payment.amount,
        scene.app.now(),
    )
}

/// An order of `n` domains (of `n / 50 + 1` sellers) placed, paid and delivered; returns it
/// as read back, and the write units its own partition (`ORDER#id`) took from the payment
/// on.
async fn delivered(n: usize) -> (Order, f64) {
    let capacity = Arc::new(market_tests::capacity::CapacityStore::new(Arc::new(
        EmbeddedStore::in_memory().unwrap(),
    )));
    let scene = Scene::over(capacity.clone());
    scene.traders(&["buyer".to_owned()]).await;
    let listed = scene.listed(n, n / 50 + 1).await;
    let cart: Vec<String> = listed.iter().map(|(d, _)| d.clone()).collect();
    let buyer = id("buyer");
    let placed = orders::place(&scene.app, &buyer, &cart, &HumanCheck::new("pass"))
        .await
        .unwrap();
    assert_eq!(placed.orders.len(), 1, "one order of {n}");
    let order_id = OrderId::parse(&placed.orders[0].id).unwrap();
    let body = paid_in_full(&scene, &buyer, &order_id).await;
    capacity.take();
    capacity.begin(0);
    fn_pay_callback::handle_message(&scene.app, &body)
        .await
        .unwrap();
    let taken = capacity.take();
    let partition = format!("ORDER#{order_id}");
    let wcu = taken
        .keys
        .iter()
        .filter(|((space, key), _)| {
            *space == market_tests::capacity::Space::Table && *key == partition
        })
        .map(|(_, used)| used.wcu)
        .sum();
    let order = order_store::load(&*scene.app.store, &order_id)
        .await
        .unwrap()
        .unwrap()
        .value;
    (order, wcu)
}

#[tokio::test]
async fn orders_at_the_edge_of_keeping_their_lines_apart_deliver_every_domain_once() {
    for n in [1, 50, 51, 99, 100, 101] {
        let (order, _) = delivered(n).await;
        assert_eq!(order.items.len(), n, "read back whole");
        assert_eq!(
            order.status,
            market_core::model::OrderStatus::Completed,
            "{n}"
        );
        assert!(
            order
                .items
                .iter()
                .all(|i| i.status == market_core::model::ItemStatus::Completed),
            "{n}"
        );
        let domains: BTreeSet<String> = order.items.iter().map(|i| i.domain.to_string()).collect();
        assert_eq!(domains.len(), n, "each domain once");
    }
}

#[tokio::test]
async fn a_500_domain_orders_delivery_writes_its_lines_not_the_whole_order_each_batch() {
    let (order, wcu) = delivered(500).await;
    assert_eq!(order.items.len(), 500);
    assert!(order
        .items
        .iter()
        .all(|i| i.status == market_core::model::ItemStatus::Completed));
    // 50 batches, each a small header and a page or two of lines, doubled in a transaction:
    // ~500 WCU. The whole order rewritten by each batch took 8,612 (measured with every
    // order kept in one item).
    println!("a 500-domain order's payment and delivery: {wcu} WCU on its own partition");
    assert!(wcu < 1_000.0, "{wcu} WCU");
}

#[tokio::test]
async fn a_large_order_written_whole_in_one_item_before_is_kept_apart_at_its_first_read() {
    let scene = scene().await;
    let listed = scene.listed(60, 2).await;
    let cart: Vec<String> = listed.iter().map(|(d, _)| d.clone()).collect();
    let buyer = id("buyer");
    let placed = orders::place(&scene.app, &buyer, &cart, &HumanCheck::new("pass"))
        .await
        .unwrap();
    let order_id = OrderId::parse(&placed.orders[0].id).unwrap();
    // As an earlier version wrote it: every line in the order's own item, no pages.
    let order = order_store::load(&*scene.app.store, &order_id)
        .await
        .unwrap()
        .unwrap();
    let mut writes = vec![market_app::store::Write::Put(
        repo::order_item(&order.value),
        order.expect(),
    )];
    for page in 0..6 {
        writes.push(market_app::store::Write::Delete {
            pk: format!("ORDER#{order_id}"),
            sk: format!("L#{page:03}"),
            expect: market_app::store::Expect::Any,
        });
    }
    scene.app.store.transact(writes).await.unwrap();
    // Paid and delivered as any other: every line is there after each batch.
    let body = paid_in_full(&scene, &buyer, &order_id).await;
    fn_pay_callback::handle_message(&scene.app, &body)
        .await
        .unwrap();
    let delivered = order_store::load(&*scene.app.store, &order_id)
        .await
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(delivered.items.len(), 60);
    assert_eq!(delivered.status, market_core::model::OrderStatus::Completed);
    assert!(delivered
        .items
        .iter()
        .all(|i| i.status == market_core::model::ItemStatus::Completed));
}
