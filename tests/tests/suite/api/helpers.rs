//! Shared fixtures of the API tests.
use market_tests::{Reply, TestApp};
use rust_decimal::Decimal;
use serde_json::Value;

use market_app::accounts::entries_of;
use market_core::ids::AccountId;
use market_core::ledger::LedgerAccount;

/// Asserts an RFC 9457 problem with this status and code.
pub fn assert_problem(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(reply.code(), code, "{reply:?}");
    assert!(
        reply.content_type.starts_with("application/problem+json"),
        "{reply:?}"
    );
    for field in ["type", "title", "status", "detail"] {
        assert!(
            !reply.body[field].is_null(),
            "problem without {field}: {reply:?}"
        );
    }
}

/// alice sells, bob buys: both verified with Alipay bound.
pub async fn alice_and_bob(app: &TestApp) {
    app.trader("alice").await;
    app.trader("bob").await;
}

/// A listing of alice's that bob can order right now (cool-down passed).
pub async fn orderable_listing(app: &TestApp, domain: &str, price: &str) -> Value {
    app.domain(domain, "alice").await;
    let listing = app.list("alice", domain, price).await;
    app.advance(180).await;
    listing
}

/// The sum of every posting of the given ledger accounts (zero when the ledger balances).
/// Each person's account's running sum (what balances are read from) is checked against
/// its postings on the way.
pub async fn ledger_sum(app: &TestApp, accounts: &[LedgerAccount]) -> Decimal {
    let mut sum = Decimal::ZERO;
    for account in accounts {
        let entries = entries_of(&app.running.app, account).await.unwrap();
        let of_account: Decimal = entries.iter().map(|e| e.posting.amount).sum();
        let running = market_app::balances::running_sum(&app.running.app, account)
            .await
            .unwrap();
        if let Some(running) = running {
            assert_eq!(running, of_account, "{account:?}: running sum vs postings");
        } else if account.key().contains(':') {
            assert!(
                entries.is_empty(),
                "{account:?}: postings without a running sum"
            );
        }
        sum += of_account;
    }
    sum
}

/// Every ledger account a sale between these traders touches.
pub fn sale_accounts(seller: &str, buyer: &str) -> Vec<LedgerAccount> {
    vec![
        LedgerAccount::Provider,
        LedgerAccount::Fees,
        LedgerAccount::Seller(AccountId::parse(seller).unwrap()),
        LedgerAccount::SellerFrozen(AccountId::parse(seller).unwrap()),
        LedgerAccount::Escrow(AccountId::parse(buyer).unwrap()),
    ]
}

/// A decimal from a JSON string.
pub fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}
