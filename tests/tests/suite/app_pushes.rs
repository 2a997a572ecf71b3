//! Priced pushes through the use cases directly (`market_app::pushes`, `market_app::payments`,
//! the sweep), over the in-memory store with no HTTP in between: the whole exchange from
//! publication to the ledger's last posting, and P4's all-or-nothing failure, checked on the
//! stored records themselves. The HTTP contract of the same rules is in `api::pushes`.
use std::sync::Arc;

use chrono::Duration;
use rust_decimal::Decimal;

use market_adapters::store::embedded::EmbeddedStore;
use market_app::accounts::{self, entries_of, DomainRecord};
use market_app::payments::{self, Applied};
use market_app::ports::captcha::HumanCheck;
use market_app::pushes::{self, NewPush, PushView};
use market_app::repo;
use market_app::sweep;
use market_core::domain_name::DomainName;
use market_core::ids::{AccountId, PushId};
use market_core::ledger::LedgerAccount;
use market_core::model::{
    Domain, DomainFlags, Payment, PaymentStatus, PushStatus, Refund, RefundStatus, TradeKind,
};
use market_core::money::Money;
use market_tests::scene::Scene;

pub(crate) fn id(text: &str) -> AccountId {
    AccountId::parse(text).unwrap()
}

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

/// A scene over a fresh in-memory store, with alice (seller) and bob (buyer) verified and
/// Alipay bound.
pub(crate) async fn alice_and_bob() -> Scene {
    let scene = Scene::over(Arc::new(EmbeddedStore::in_memory().unwrap()));
    scene.traders(&["alice".into(), "bob".into()]).await;
    scene
}

/// Registers `domain` to `owner` as the registry has it: a year old, a year to run.
pub(crate) async fn own(scene: &Scene, domain: &str, owner: &str) {
    register(scene, domain, owner, DomainFlags::default()).await;
}

/// Registers `domain` to `owner` with the registry's `flags`.
pub(crate) async fn register(scene: &Scene, domain: &str, owner: &str, flags: DomainFlags) {
    let now = scene.app.now();
    accounts::upsert_domain(
        &scene.app,
        DomainRecord {
            name: DomainName::parse(domain).unwrap(),
            owner: id(owner),
            registered_at: now - Duration::days(365),
            expires_at: now + Duration::days(365),
            flags,
        },
    )
    .await
    .unwrap();
}

pub(crate) async fn domain(scene: &Scene, name: &str) -> Domain {
    repo::load::<Domain>(
        &*scene.app.store,
        repo::domain_key(&DomainName::parse(name).unwrap()),
    )
    .await
    .unwrap()
    .unwrap()
    .value
}

/// alice's domains `names` pushed to bob at `price`, and accepted by bob: the push and the
/// out_trade_no of its open payment.
pub(crate) async fn accepted_push(
    scene: &Scene,
    names: &[&str],
    price: &str,
    lock_60d: bool,
) -> (PushId, String) {
    for name in names {
        own(scene, name, "alice").await;
    }
    let new = NewPush {
        domains: names.iter().map(|d| d.to_string()).collect(),
        buyer: id("bob"),
        price: money(price),
        lock_60d,
        buyer_email: None,
        message: None,
        security_password: None,
    };
    let published = pushes::publish(&scene.app, &id("alice"), new)
        .await
        .unwrap();
    assert_eq!(published.status, PushStatus::Pending);
    let push_id = PushId::parse(&published.id).unwrap();
    for name in names {
        let hold = domain(scene, name)
            .await
            .trade
            .expect("held from publication");
        assert_eq!(
            (hold.kind(), hold.id()),
            (TradeKind::Push, published.id.as_str())
        );
    }
    let accepted = pushes::accept(
        &scene.app,
        &id("bob"),
        &push_id,
        &HumanCheck::new("pass"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(accepted.status, PushStatus::Accepted);
    let payment = accepted.payment.expect("a payment opened on acceptance");
    assert_eq!(payment.amount, money(price));
    (push_id, payment.out_trade_no)
}

/// The provider's TRADE_SUCCESS for the payment `otn` of `amount`, signed as it signs them.
pub(crate) fn trade_success(scene: &Scene, otn: &str, amount: &str) -> String {
    scene
        .sandbox
        .notification(otn, "TRADE_SUCCESS", money(amount), scene.app.now())
}

pub(crate) async fn push_of(scene: &Scene, push_id: &PushId, who: &str) -> PushView {
    pushes::get(&scene.app, &id(who), push_id).await.unwrap()
}

pub(crate) async fn payment(scene: &Scene, otn: &str) -> Payment {
    repo::load::<Payment>(&*scene.app.store, repo::payment_key(otn))
        .await
        .unwrap()
        .unwrap()
        .value
}

pub(crate) async fn refund(scene: &Scene, otn: &str) -> Refund {
    repo::load::<Refund>(
        &*scene.app.store,
        repo::refund_key(&format!("refund:{otn}:all")),
    )
    .await
    .unwrap()
    .expect("a refund recorded")
    .value
}

/// The sum of every posting of `account`.
pub(crate) async fn sum_of(scene: &Scene, account: LedgerAccount) -> Decimal {
    entries_of(&scene.app, &account)
        .await
        .unwrap()
        .iter()
        .map(|e| e.posting.amount)
        .sum()
}

/// The sum over every account a trade between alice and bob touches: zero when the ledger
/// balances.
pub(crate) async fn ledger_sum(scene: &Scene) -> Decimal {
    let mut sum = Decimal::ZERO;
    for account in [
        LedgerAccount::Provider,
        LedgerAccount::Fees,
        LedgerAccount::Registry,
        LedgerAccount::Escrow(id("bob")),
        LedgerAccount::Seller(id("alice")),
        LedgerAccount::SellerFrozen(id("alice")),
    ] {
        sum += sum_of(scene, account).await;
    }
    sum
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[tokio::test]
async fn p9_a_locked_push_goes_from_publication_to_a_settled_sale_with_the_ledger_balancing() {
    let scene = alice_and_bob().await;
    let (push_id, otn) = accepted_push(&scene, &["lock-a.com", "lock-b.com"], "300.00", true).await;
    let mut before = Vec::new();
    for name in ["lock-a.com", "lock-b.com"] {
        before.push(domain(&scene, name).await);
    }
    // Paying again while the attempt is open answers the same attempt (no second payment).
    let again = pushes::pay(
        &scene.app,
        &id("bob"),
        &push_id,
        market_core::order::PaymentMethod::Alipay,
    )
    .await
    .unwrap();
    assert_eq!(again.out_trade_no, otn);

    let applied = payments::apply(&scene.app, &trade_success(&scene, &otn, "300.00"))
        .await
        .unwrap();
    assert_eq!(applied, Applied::Paid);

    // Locked: completed at payment, forced, every domain bob's with the 60-day lock (P9)
    // and its expiry kept (A3), no hold left.
    let done = push_of(&scene, &push_id, "alice").await;
    assert_eq!(done.status, PushStatus::Completed);
    let completed_at = done.completed_at.unwrap();
    assert_eq!(
        done.transfer_lock_until,
        Some(completed_at + Duration::days(60))
    );
    for (name, before) in ["lock-a.com", "lock-b.com"].into_iter().zip(before) {
        let moved = domain(&scene, name).await;
        assert_eq!(moved.owner, id("bob"), "{name}");
        assert_eq!(moved.trade, None, "{name}");
        assert_eq!(
            moved.transfer_lock_until,
            Some(completed_at + Duration::days(60))
        );
        assert_eq!(moved.expires_at, before.expires_at, "A3: {name}");
    }
    assert_eq!(payment(&scene, &otn).await.status, PaymentStatus::Succeeded);

    // The money: in from the provider, through escrow, frozen with alice (no fee on a
    // push), and the ledger balances.
    assert_eq!(sum_of(&scene, LedgerAccount::Provider).await, dec("-300"));
    assert_eq!(
        sum_of(&scene, LedgerAccount::Escrow(id("bob"))).await,
        Decimal::ZERO
    );
    assert_eq!(
        sum_of(&scene, LedgerAccount::SellerFrozen(id("alice"))).await,
        dec("300")
    );
    assert_eq!(sum_of(&scene, LedgerAccount::Fees).await, Decimal::ZERO);
    assert_eq!(ledger_sum(&scene).await, Decimal::ZERO);

    // S4: the sweep after the settlement period makes the proceeds available, once.
    scene
        .clock
        .advance(Duration::days(7) + Duration::minutes(10));
    let report = sweep::sweep(&scene.app).await.unwrap();
    assert_eq!(report.settled.len(), 1, "{report:?}");
    assert_eq!(
        sum_of(&scene, LedgerAccount::SellerFrozen(id("alice"))).await,
        Decimal::ZERO
    );
    assert_eq!(
        sum_of(&scene, LedgerAccount::Seller(id("alice"))).await,
        dec("300")
    );
    let report = sweep::sweep(&scene.app).await.unwrap();
    assert!(report.settled.is_empty(), "{report:?}");
    assert_eq!(ledger_sum(&scene).await, Decimal::ZERO);
    assert!(scene.sandbox.refunds().is_empty());
}

#[tokio::test]
async fn p4_a_batch_push_whose_domain_left_the_seller_before_payment_fails_whole_with_a_full_refund(
) {
    let scene = alice_and_bob().await;
    let names = ["keep-1.com", "keep-2.com", "gone.com"];
    let (push_id, otn) = accepted_push(&scene, &names, "90.00", true).await;
    // The registry moves one domain to another account (a transfer out nobody told the
    // push about): the hold is still there, the owner is not alice.
    scene.traders(&["carol".into()]).await;
    own(&scene, "gone.com", "carol").await;

    let applied = payments::apply(&scene.app, &trade_success(&scene, &otn, "90.00"))
        .await
        .unwrap();
    assert_eq!(applied, Applied::Refunded);

    let failed = push_of(&scene, &push_id, "bob").await;
    assert_eq!(failed.status, PushStatus::Failed);
    assert!(
        failed
            .end_reason
            .as_deref()
            .is_some_and(|r| r.contains("gone.com")),
        "{failed:?}"
    );
    // Nothing moved; the deliverable domains are alice's and free again.
    for name in ["keep-1.com", "keep-2.com"] {
        let kept = domain(&scene, name).await;
        assert_eq!((kept.owner, kept.trade), (id("alice"), None), "{name}");
        assert_eq!(kept.transfer_lock_until, None, "{name}");
    }
    assert_eq!(domain(&scene, "gone.com").await.owner, id("carol"));
    // The whole payment refunded at the provider, once, and the ledger balances with
    // nothing left in escrow or with alice.
    assert_eq!(payment(&scene, &otn).await.status, PaymentStatus::Refunded);
    let refunds: Vec<(String, Money)> = scene.sandbox.refunds().into_values().collect();
    assert_eq!(refunds, vec![(otn.clone(), money("90.00"))]);
    assert_eq!(refund(&scene, &otn).await.status, RefundStatus::Confirmed);
    assert_eq!(sum_of(&scene, LedgerAccount::Provider).await, Decimal::ZERO);
    assert_eq!(
        sum_of(&scene, LedgerAccount::Escrow(id("bob"))).await,
        Decimal::ZERO
    );
    assert_eq!(
        sum_of(&scene, LedgerAccount::SellerFrozen(id("alice"))).await,
        Decimal::ZERO
    );
    assert_eq!(ledger_sum(&scene).await, Decimal::ZERO);

    // The same notification again changes nothing and refunds nothing twice (S1).
    let again = payments::apply(&scene.app, &trade_success(&scene, &otn, "90.00"))
        .await
        .unwrap();
    assert_eq!(again, Applied::NoChange);
    assert_eq!(scene.sandbox.refunds().len(), 1);

    // Free again: alice can push the domains she still has.
    accepted_push(&scene, &["keep-1.com", "keep-2.com"], "60.00", false).await;
}
