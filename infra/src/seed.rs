//! Demo data for a first start: a seller with domains in every interesting state, a buyer,
//! an unverified account, and one listing already on the market.
use chrono::Duration;

use market_app::accounts::{self, DomainRecord};
use market_app::listings::{self, NewListing};
use market_app::store::{Expect, Item, Write};
use market_app::App;
use market_core::domain_name::DomainName;
use market_core::ids::AccountId;
use market_core::model::{Account, DomainFlags};
use market_core::money::Money;

/// The demo accounts: (id, verified, Alipay account).
pub const ACCOUNTS: [(&str, bool, Option<&str>); 3] = [
    ("alice", true, Some("alice@example.com")),
    ("bob", true, Some("bob@example.com")),
    ("carol", false, None),
];

fn id(text: &str) -> AccountId {
    AccountId::parse(text).expect("demo ids are valid")
}

/// Seeds once: a marker item written with a condition makes a restart (or two runners on
/// one store) seed nothing twice.
pub async fn seed_if_empty(app: &App) -> anyhow::Result<bool> {
    let marker = Write::Put(Item::new("META#seed", "M", "{}".into()), Expect::Absent);
    match app.store.transact(vec![marker]).await {
        Ok(()) => {}
        Err(market_app::store::StoreError::Conflict { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let now = app.now();
    for (account, verified, payout) in ACCOUNTS {
        accounts::upsert_account(
            app,
            Account {
                id: id(account),
                real_name_verified: verified,
                // Demo real names, so a payout names its payee as in production (S6).
                real_name: verified.then(|| format!("{account} (demo)")),
                payout_account: payout.map(str::to_owned),
                email: Some(format!("{account}@example.com")),
                enterprise: false,
                credit_control: false,
                // N1: alice reads her notices in English, the others in Chinese.
                locale: if account == "alice" {
                    market_core::notice::Locale::En
                } else {
                    market_core::notice::Locale::ZhCn
                },
            },
        )
        .await?;
    }
    let year = Duration::days(365);
    let domains = [
        ("example.com", now - Duration::days(400), now + year),
        ("例子.中国", now - Duration::days(30), now + year),
        ("shop.cn", now - Duration::days(60), now + year),
        ("fresh.cn", now - Duration::days(2), now + year),
        (
            "expiring.com",
            now - Duration::days(360),
            now + Duration::days(3),
        ),
    ];
    for (name, registered_at, expires_at) in domains {
        accounts::upsert_domain(
            app,
            DomainRecord {
                name: DomainName::parse(name)?,
                owner: id("alice"),
                registered_at,
                expires_at,
                flags: DomainFlags::default(),
            },
        )
        .await?;
    }
    listings::publish(
        app,
        &id("alice"),
        NewListing {
            domain: DomainName::parse("example.com")?,
            price: Money::parse("1999.00")?,
            ends_at: None,
            description: "A short, memorable .com".into(),
        },
    )
    .await?;
    Ok(true)
}
