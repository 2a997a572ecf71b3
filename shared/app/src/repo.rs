//! The key layout of the single table, and typed reads and writes of the entities.
//!
//! | entity    | pk                 | sk                        | indexes                                   |
//! |-----------|--------------------|---------------------------|-------------------------------------------|
//! | account   | `ACCOUNT#{id}`     | `A`                       |                                           |
//! | domain    | `DOMAIN#{name}`    | `D`                       | gsi1 `OWNER#{owner}~{n}` / name (`shards::PERSON_LISTS`); gsi5 due at expiry while in a trade |
//! | listing   | `LISTING#{id}`     | `L`                       | gsi1 `SELLER#{id}~{n}` / created#id; active only: gsi5 due at its end (the market is the search index's, fed from the table's changes) |
//! | order     | `ORDER#{id}`       | `O`                       | gsi1 `BUYER#{id}` / created#id; gsi5 `DUE#{hour}~{n}` / due#pk while it has a deadline (`shards::DUE`, keys only) |
//! | due hour  | `DUEHOURS#{day}`   | `{hour}`                  | an hour whose due bucket holds something (`due_index`) |
//! | push      | `PUSH#{id}`        | `P`                       | gsi1 `SENT#{seller}`, gsi2 `RECEIVED#{buyer}` / created#id; gsi5 due at its deadline while open |
//! | payment   | `PAYMENT#{id}`     | `P`                       |                                           |
//! | journal   | `JOURNAL#{id}`     | `J`                       | (the guard: written once)                 |
//! | posting   | `LEDGER#{account}` | `{at}#{journal}#{n}`      | `LEDGER#{account}~{n}` by journal where the account takes many sales (`shards::ledger_count`) |
//! | running sum | `LEDGERSUM#{account}` | `S`                   | a person's account's balance, added to by every journal posting to it (sharded like the postings) |
//! | refund    | `REFUND#{journal}` | `R`                       | gsi5 `DUE#{hour}` / next attempt while pending |
//! | settlement| `SETTLE#{sale journal}` | `S`                  | gsi5 `DUE#{hour}` / due while unsettled   |
//! | balance   | `BALANCE#{seller}` | `B`                       | (available, written with every posting to it) |
//! | payout    | `PAYOUT#{id}`      | `P`                       | gsi1 `PAYOUTS#{seller}` / created#id; gsi5 next try while pending |
//! | notification | `NOTIFY#{notify_id}`, `TRADE#{out_trade_no}#{paid|closed}` | `N` | (dedupe guards) |
//! | fee period| `FEES#{kind}`      | `{created}#{ulid}`        |                                           |
//! | idempotency | `IDEM#{account}#{key}` | `I`                 | ttl                                       |
//! | rate      | `RATE#{what}#{account}#{minute}` | `R`         | ttl; the count is the version (atomic increment); P12's tries are `p12try`/`p12right` |
//! | security password | `SECPW#{account}` | `S`            | the Argon2id hash (PHC string), never the password (P12) |
//! | sweep failure | `SWEEPFAIL#{pk}#{sk}` | `F`                 | ttl (failures in a row of a due item)    |
//! | audit     | `AUDIT#{day}#{shard}` | `{at}#{ulid}`          | ttl; shard = first byte of the body's SHA-256 mod 8 |
//! | outbox    | `OUTBOX#{id}`      | `O`                       | gsi5 `DUE#{hour}` / next try while undelivered (a generic `kind` + JSON payload) |
//! | registrar event (local) | `REGISTRAR#events` | `{event id}` | (written once: the local registrar adapter's record, P9/P11) |
//! | contact   | `CONTACT#{account}` | `{contact_id}`           | a registrant contact template (O9); one of an account's may be its default |
//! | captcha claim | `CAPTCHA#{token sha256}` | `C`            | ttl; written once: a token serves one request (O7) |
//! | holidays  | `HOLIDAYS#{year}`  | `H`                       | the operator's holidays of a year (M2, M4, S5 working days) |
//! | placement section | `PLACESECTION#{section}` | `S`          | M4: slots, period length, rule |
//! | placement application | `PLACEAPP#{section}#{period}` | `{listing id}` | M4: written once: a listing applies once a period |
//! | placement round | `PLACEROUND#{section}#{period}` | `R`     | M4: gsi5 due at the period's start until its winners are chosen |
//! | featured  | `FEATURED#{section}` | `F`                     | M4: the winners of the section's latest chosen period |
//! | settlement account | `SETTLEACCT#{account}` | `S`          | the seller's bound settlement account (S4): one per account |
//! | partner   | `PARTNER#{id}`     | `P`                       | L10: name and webhook (the key is in Secrets Manager / config) |
//! | partner feed | `PFEED#{domain}` | `F`                      | L10: which partner lists the domain, and its listing |
//! | partner nonce | `PNONCE#{partner}#{nonce}` | `N`          | L10: ttl; written once: a signed request serves once |
//! | partner order | `PORDER#{id}`  | `O`                       | L10: gsi1 `PBUYER#{id}` / created#id; gsi5 due at `pay_by` while awaiting a transfer |
//! | buyer balance | `BUYERBAL#{account}` | `B`                 | L10: available balance, written with every posting to `balance:{account}` |
//! | payment method | `PAYMETHOD#{account}` | `{method id}`      | S3: a bound card, PayPal account or bank transfer |
//! | method list | `PAYMETHODS#{account}` | `L`                  | S3: the account's methods and the preferred one (every change writes it on its version) |
//! | method binding | `PAYBIND#{kind}#{fingerprint}` | `B`      | S3: written once: a card or PayPal account binds to one account |
//! | categories | `CATEGORIES`      | `C`                       | M1: every listing category (TLDs, deposit), one item |
//! | deposit   | `DEPOSIT#{id}`     | `D`                       | M1: gsi1 `DEPOSITS#{account}` / created#id; gsi5 due at its payment deadline while unpaid |
//! | standing  | `STANDING#{account}` | `S`                     | M1, M2: deposits held per category, deposit payments open, exited; every listing is conditioned on it |
//! | exit      | `EXIT#{account}`   | `X`                       | M2: gsi5 due at its next check until processed and paid out |
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{AppError, AppResult};
use crate::shards;
use crate::store::{Expect, Index, Item, Store, Write};
use market_core::domain_name::DomainName;
use market_core::ids::{AccountId, ListingId, OrderId, PushId};
use market_core::ledger::Journal;
use market_core::model::{
    Account, Domain, Listing, ListingStatus, Order, OrderStatus, Payment, PendingSettlement, Push,
    PushStatus, Refund, RefundStatus,
};
use market_core::payout::{Payout, PayoutStatus};

/// An entity with the version it was read at.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

impl<T> Versioned<T> {
    /// The condition for writing this entity back: unchanged since it was read.
    pub fn expect(&self) -> Expect {
        Expect::Version(self.version)
    }
}

/// Times in keys: fixed width, so that string order is time order.
pub fn time_key(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The due-index bucket of a deadline: its hour. The sweeper reads the buckets up to now,
/// so its work follows what is due, not the table size. Each bucket is a family of
/// [`shards::DUE`] partitions (`DUE#{hour}~{n}`, n by a hash of the item's key): every
/// deadline of every kind lands in the current hour's bucket, far more often than one
/// partition takes.
pub fn due_bucket(at: DateTime<Utc>) -> String {
    format!("DUE#{}", at.format("%Y-%m-%dT%H"))
}

/// The due-index entry of the item at `pk`, due at `due`: its bucket's shard for the item,
/// and the due time (then the key) as the sort key.
pub fn due_entry(pk: &str, due: DateTime<Utc>) -> (String, String) {
    (
        shards::shard_for(&due_bucket(due), pk, shards::DUE),
        format!("{}#{pk}", time_key(due)),
    )
}

/// The item, in the due index at `due`.
pub fn due_at(item: Item, due: DateTime<Utc>) -> Item {
    let (bucket, sort) = due_entry(&item.pk, due);
    item.indexed(Index::Gsi5, bucket, sort)
}

/// The hour bucket a due entry's partition belongs to (`DUE#{hour}` of `DUE#{hour}~{n}`).
pub fn bucket_of(partition: &str) -> &str {
    shards::split(partition).map_or(partition, |(family, _)| family)
}

/// A per-minute counter of what `account` did (rate limits, O7).
pub fn rate_key(what: &str, account: &AccountId, now: DateTime<Utc>) -> (String, String) {
    (
        format!("RATE#{what}#{account}#{}", now.format("%Y%m%d%H%M")),
        "R".into(),
    )
}

/// P12: the counts of one minute's security-password tries of `account` (counted before
/// the check) and of those that were right; the wrong ones lock the checks.
pub fn security_try_keys(
    account: &AccountId,
    minute: DateTime<Utc>,
) -> ((String, String), (String, String)) {
    (
        rate_key("p12try", account, minute),
        rate_key("p12right", account, minute),
    )
}

/// P12: where the second-factor adapter keeps what proves `account`'s security password
/// (its hash; never the password).
pub fn security_password_key(account: &AccountId) -> (String, String) {
    (format!("SECPW#{account}"), "S".into())
}

/// The failures in a row of one due item the sweep could not handle (its backoff).
pub fn sweep_failure_key(pk: &str, sk: &str) -> (String, String) {
    (format!("SWEEPFAIL#{pk}#{sk}"), "F".into())
}

/// Files an item's due entry at `now` when it is due earlier (see `App::write`): the sweep's
/// dispatcher reads what became due since its last run, so an entry is never filed behind
/// it; what is due already is due at once.
pub fn file_due_no_earlier_than(item: &mut Item, now: DateTime<Utc>) {
    let Some((_, sort)) = item.indexes.get(&Index::Gsi5) else {
        return;
    };
    if sort.as_str() < time_key(now).as_str() {
        let entry = due_entry(&item.pk, now);
        item.indexes.insert(Index::Gsi5, entry);
    }
}

/// The index partitions the lists read (each written by the item builders below). A
/// person's domains and listings are spread over [`shards::PERSON_LISTS`] partitions by
/// the item's key (one seller's sales rewrite them all the time); their lists merge them.
pub fn owner_partition(owner: &AccountId) -> String {
    format!("OWNER#{owner}")
}
pub fn seller_partition(seller: &AccountId) -> String {
    format!("SELLER#{seller}")
}
pub fn owner_partitions(owner: &AccountId) -> Vec<String> {
    shards::all(&owner_partition(owner), shards::PERSON_LISTS).collect()
}
pub fn seller_partitions(seller: &AccountId) -> Vec<String> {
    shards::all(&seller_partition(seller), shards::PERSON_LISTS).collect()
}
pub fn buyer_partition(buyer: &AccountId) -> String {
    format!("BUYER#{buyer}")
}
pub fn sent_partition(seller: &AccountId) -> String {
    format!("SENT#{seller}")
}
pub fn received_partition(buyer: &AccountId) -> String {
    format!("RECEIVED#{buyer}")
}

/// The fee periods of a trade kind (S5).
pub fn fees_partition(kind: &str) -> String {
    format!("FEES#{kind}")
}

/// A remembered answer to an `Idempotency-Key`.
pub fn idempotency_key(account: &AccountId, key: &str) -> (String, String) {
    (format!("IDEM#{account}#{key}"), "I".into())
}

/// The dedupe records of a notification: by the provider's notification id, and by trade
/// and outcome (`paid`, `closed`, `waiting`), so the same result applies once however it
/// arrives (S1).
pub fn notification_dedupe_keys(
    notify_id: &str,
    out_trade_no: &str,
    outcome: &str,
) -> [(String, String); 2] {
    [
        (format!("NOTIFY#{notify_id}"), "N".into()),
        (format!("TRADE#{out_trade_no}#{outcome}"), "N".into()),
    ]
}

/// The claim of a captcha token (O7), by the hex SHA-256 of the token (never the token
/// itself): written once, on the condition that it is absent, before the token is verified,
/// so one token never serves two requests.
pub fn captcha_claim_key(token_sha256_hex: &str) -> (String, String) {
    (format!("CAPTCHA#{token_sha256_hex}"), "C".into())
}

/// Where the sweep's cursor is kept.
pub fn sweep_cursor_key() -> (String, String) {
    ("SWEEP#cursor".into(), "C".into())
}

/// What a due-index entry is, read back from its item's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    Order(String),
    Refund(String),
    Push(String),
    Settlement(String),
    Listing(String),
    Domain(String),
    Payout(String),
    Outbox(String),
    /// M4: a section's period whose start came (`{section}#{period}`).
    PlacementRound(String),
    /// L10: a partner order whose bank-transfer window ended.
    PartnerOrder(String),
    /// M1: a deposit whose payment window ended.
    Deposit(String),
    /// M2: an account's exit to process (or to pay out).
    Exit(String),
    Unknown,
}

/// The kind of due item `pk` is (the inverse of the keys above).
pub fn due_kind(pk: &str) -> Due {
    let after = |prefix: &str| pk.strip_prefix(prefix).map(str::to_owned);
    if let Some(id) = after("ORDER#") {
        Due::Order(id)
    } else if let Some(id) = after("REFUND#") {
        Due::Refund(id)
    } else if let Some(id) = after("PUSH#") {
        Due::Push(id)
    } else if let Some(id) = after("SETTLE#") {
        Due::Settlement(id)
    } else if let Some(id) = after("LISTING#") {
        Due::Listing(id)
    } else if let Some(name) = after("DOMAIN#") {
        Due::Domain(name)
    } else if let Some(id) = after("PAYOUT#") {
        Due::Payout(id)
    } else if let Some(id) = after("OUTBOX#") {
        Due::Outbox(id)
    } else if let Some(round) = after("PLACEROUND#") {
        Due::PlacementRound(round)
    } else if let Some(id) = after("PORDER#") {
        Due::PartnerOrder(id)
    } else if let Some(id) = after("DEPOSIT#") {
        Due::Deposit(id)
    } else if let Some(account) = after("EXIT#") {
        Due::Exit(account)
    } else {
        Due::Unknown
    }
}

/// An outbox message (see `crate::outbox`).
pub fn outbox_key(id: &str) -> (String, String) {
    (format!("OUTBOX#{id}"), "O".into())
}

/// The partition the local registrar adapter records the events it was given in (sorted by
/// their time-ordered ids; each written once).
pub const REGISTRAR_EVENTS: &str = "REGISTRAR#events";

pub fn account_key(id: &AccountId) -> (String, String) {
    (format!("ACCOUNT#{id}"), "A".into())
}
pub fn domain_key(name: &DomainName) -> (String, String) {
    (format!("DOMAIN#{name}"), "D".into())
}
pub fn listing_key(id: &ListingId) -> (String, String) {
    (format!("LISTING#{id}"), "L".into())
}
pub fn order_key(id: &OrderId) -> (String, String) {
    (format!("ORDER#{id}"), "O".into())
}
pub fn payment_key(out_trade_no: &str) -> (String, String) {
    (format!("PAYMENT#{out_trade_no}"), "P".into())
}
/// The partition of a person's ledger account (`seller:alice`, `escrow:bob`, …).
pub fn ledger_partition(account_key: &str) -> String {
    format!("LEDGER#{account_key}")
}

/// Whether a ledger account is the platform's own (`provider`, `fees`, `registry`, …: no
/// person in its key).
fn is_platform_account(account_key: &str) -> bool {
    !account_key.contains(':')
}

/// The partition a journal's posting to an account is kept in: the accounts every sale (or
/// every sale of one seller) posts to are spread over partitions by journal
/// (`shards::ledger_count`); the others are one partition.
pub fn ledger_partition_of(account_key: &str, journal_id: &str) -> String {
    let partition = ledger_partition(account_key);
    match shards::ledger_count(account_key) {
        1 => partition,
        count => shards::shard_for(&partition, journal_id, count),
    }
}

/// Every partition an account's postings are kept in.
pub fn ledger_partitions(account_key: &str) -> Vec<String> {
    let partition = ledger_partition(account_key);
    match shards::ledger_count(account_key) {
        1 => vec![partition],
        count => shards::all(&partition, count).collect(),
    }
}

/// The running sum a journal adds its postings to a person's ledger account to: every
/// journal that posts to the account adds to it in the same transaction (`Write::Add`), so
/// a balance is a read of its sums whatever the account's history; a seller's proceeds
/// sums are spread by journal like their postings. (The platform's accounts, which every
/// sale posts to, keep none.)
pub fn ledger_sum_key(account_key: &str, journal_id: &str) -> Option<(String, String)> {
    if is_platform_account(account_key) {
        return None;
    }
    let family = format!("LEDGERSUM#{account_key}");
    let pk = match shards::ledger_count(account_key) {
        1 => family,
        count => shards::shard_for(&family, journal_id, count),
    };
    Some((pk, "S".into()))
}

/// Every running sum of a person's ledger account (none for the platform's).
pub fn ledger_sum_keys(account_key: &str) -> Vec<(String, String)> {
    if is_platform_account(account_key) {
        return Vec::new();
    }
    let family = format!("LEDGERSUM#{account_key}");
    match shards::ledger_count(account_key) {
        1 => vec![(family, "S".into())],
        count => shards::all(&family, count)
            .map(|pk| (pk, "S".into()))
            .collect(),
    }
}
/// A seller's available balance (S4, S6).
pub fn balance_key(seller: &AccountId) -> (String, String) {
    (format!("BALANCE#{seller}"), "B".into())
}
pub fn payout_key(id: &market_core::ids::PayoutId) -> (String, String) {
    (format!("PAYOUT#{id}"), "P".into())
}
pub fn payouts_partition(seller: &AccountId) -> String {
    format!("PAYOUTS#{seller}")
}

/// A payout: listed under its seller; due at its next try while pending (S6).
pub fn payout_item(payout: &Payout) -> Item {
    let (pk, sk) = payout_key(&payout.id);
    let created = format!("{}#{}", time_key(payout.created_at), payout.id);
    let mut item = Item::new(pk.clone(), sk, body(payout)).indexed(
        Index::Gsi1,
        payouts_partition(&payout.seller),
        created,
    );
    if payout.status == PayoutStatus::Pending {
        let due = payout.next_attempt_at;
        item = due_at(item, due);
    }
    item
}

/// How many partitions a day's audit records are spread over.
pub const AUDIT_SHARDS: u8 = 8;

/// The key of the audit record of a refused notification. The day's records are spread over
/// [`AUDIT_SHARDS`] partitions by the body's hash: the notify route is public, and a flood
/// of forged notifications written to one `AUDIT#{day}` partition would hit DynamoDB's
/// per-partition write limit (about 1,000 writes/s) and throttle the consumer that also
/// applies genuine payments. Copies of one body land together, which is where an auditor
/// looks for them.
pub fn audit_key(at: DateTime<Utc>, body_sha256: &[u8; 32], id: ulid::Ulid) -> (String, String) {
    let shard = body_sha256[0] % AUDIT_SHARDS;
    (
        format!("AUDIT#{}#{shard}", at.format("%Y-%m-%d")),
        format!("{}#{id}", time_key(at)),
    )
}

/// Every audit partition of the day of `at` (a reader queries each).
pub fn audit_partitions(at: DateTime<Utc>) -> Vec<String> {
    (0..AUDIT_SHARDS)
        .map(|shard| format!("AUDIT#{}#{shard}", at.format("%Y-%m-%d")))
        .collect()
}

/// An entity as an item's JSON body.
pub fn body<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("entities serialise")
}

/// Reads and decodes one entity.
pub async fn load<T: DeserializeOwned>(
    store: &dyn Store,
    key: (String, String),
) -> AppResult<Option<Versioned<T>>> {
    let Some(item) = store.get(&key.0, &key.1).await? else {
        return Ok(None);
    };
    Ok(Some(decode(&item)?))
}

/// Decodes a stored item.
pub fn decode<T: DeserializeOwned>(item: &Item) -> AppResult<Versioned<T>> {
    let value = serde_json::from_str(&item.body).map_err(|e| {
        AppError::Internal(anyhow::anyhow!("corrupt item {}/{}: {e}", item.pk, item.sk))
    })?;
    Ok(Versioned {
        value,
        version: item.version,
    })
}

/// O9: the partition of an account's contact templates.
pub fn contacts_partition(account: &AccountId) -> String {
    format!("CONTACT#{account}")
}
pub fn contact_key(account: &AccountId, contact_id: &str) -> (String, String) {
    (contacts_partition(account), contact_id.to_owned())
}
/// O9: a copy of the account's verified default template, kept by every change of its
/// templates, so that an order reads it by key with its other reads (issue 15) instead of
/// querying the templates.
pub fn default_contact_key(account: &AccountId) -> (String, String) {
    (format!("CONTACT_DEFAULT#{account}"), "D".into())
}
pub fn contact_item(contact: &market_core::model::Contact) -> Item {
    let (pk, sk) = contact_key(&contact.account, &contact.details.id);
    Item::new(pk, sk, body(contact))
}

/// S4: a seller's settlement account (kept apart from the account, which the registrar's
/// side replaces whole).
pub fn settlement_account_key(owner: &AccountId) -> (String, String) {
    (format!("SETTLEACCT#{owner}"), "S".into())
}
pub fn settlement_account_item(settlement: &market_core::settlement::SettlementAccount) -> Item {
    let (pk, sk) = settlement_account_key(&settlement.owner);
    Item::new(pk, sk, body(settlement))
}

pub fn account_item(account: &Account) -> Item {
    let (pk, sk) = account_key(&account.id);
    Item::new(pk, sk, body(account))
}

pub fn domain_item(domain: &Domain) -> Item {
    let (pk, sk) = domain_key(&domain.name);
    let owner = shards::shard_for(&owner_partition(&domain.owner), &pk, shards::PERSON_LISTS);
    let mut item =
        Item::new(pk.clone(), sk, body(domain)).indexed(Index::Gsi1, owner, domain.name.ascii());
    // L7: while a domain is in a trade, its expiry is a deadline the sweep must see.
    if domain.trade.is_some() {
        let due = domain.expires_at;
        item = due_at(item, due);
    }
    item
}

pub fn listing_item(listing: &Listing) -> Item {
    let (pk, sk) = listing_key(&listing.id);
    let created = format!("{}#{}", time_key(listing.created_at), listing.id);
    let seller = shards::shard_for(
        &seller_partition(&listing.seller),
        &pk,
        shards::PERSON_LISTS,
    );
    let mut item = Item::new(pk, sk, body(listing)).indexed(Index::Gsi1, seller, &created);
    // The market is searched on the search engine (Q1), fed from the table's changes: a
    // listing is in no index every listing shares. An active listing is due at its end
    // time (L3, L6).
    if listing.status == ListingStatus::Active {
        item = due_at(item, listing.ends_at);
    }
    item
}

pub fn order_item(order: &Order) -> Item {
    let (pk, sk) = order_key(&order.id);
    let created = format!("{}#{}", time_key(order.created_at), order.id);
    let mut item = Item::new(pk.clone(), sk, body(order)).indexed(
        Index::Gsi1,
        buyer_partition(&order.buyer),
        created,
    );
    // An unpaid order is due at its deadline; a paid one with undelivered domains is due at
    // once, so that the sweeper finishes a delivery a crash interrupted.
    // An ended order that still holds listings is due at once, so that the sweep frees them.
    let due = match order.status {
        OrderStatus::AwaitingPayment | OrderStatus::Processing => Some(order.pay_by),
        OrderStatus::Paid => Some(order.paid_at.unwrap_or(order.updated_at)),
        _ if order.releasing => Some(order.updated_at),
        _ => None,
    };
    if let Some(due) = due {
        item = due_at(item, due);
    }
    item
}

pub fn payment_item(payment: &Payment) -> Item {
    let (pk, sk) = payment_key(payment.id.as_str());
    Item::new(pk, sk, body(payment))
}

/// A journal as writes: its guard item (absent: a replay fails here) and one posting per
/// account partition.
pub fn journal_writes(journal: &Journal) -> Vec<Write> {
    assert!(
        journal.is_balanced(),
        "journal {} does not balance",
        journal.id
    );
    let mut writes = vec![Write::Put(
        Item::new(format!("JOURNAL#{}", journal.id), "J", body(journal)),
        Expect::Absent,
    )];
    let mut sums: Vec<(&str, rust_decimal::Decimal)> = Vec::new();
    for (n, entry) in journal.entries().iter().enumerate() {
        let sk = format!("{}#{}#{n}", time_key(journal.at), journal.id);
        writes.push(Write::Put(
            Item::new(
                ledger_partition_of(&entry.posting.account, &journal.id),
                sk,
                body(entry),
            ),
            Expect::Absent,
        ));
    }
    for posting in &journal.postings {
        match sums.iter_mut().find(|(a, _)| *a == posting.account) {
            Some((_, sum)) => *sum += posting.amount,
            None => sums.push((&posting.account, posting.amount)),
        }
    }
    for (account, by) in sums {
        if let Some((pk, sk)) = ledger_sum_key(account, &journal.id) {
            writes.push(Write::Add { pk, sk, by });
        }
    }
    writes
}

/// Merges the adds of one transaction to the same running sum into one (a transaction
/// writes a key once; a delivery batch posts several sales to one seller).
pub fn coalesce_sums(writes: &mut Vec<Write>) {
    let mut merged: Vec<Write> = Vec::with_capacity(writes.len());
    for write in writes.drain(..) {
        if let Write::Add { pk, sk, by } = &write {
            let same = merged.iter_mut().find_map(|w| match w {
                Write::Add {
                    pk: p,
                    sk: s,
                    by: total,
                } if p == pk && s == sk => Some(total),
                _ => None,
            });
            if let Some(total) = same {
                *total += *by;
                continue;
            }
        }
        merged.push(write);
    }
    *writes = merged;
}

/// A put of a new item (condition: absent).
pub fn create(item: Item) -> Write {
    Write::Put(item, Expect::Absent)
}

/// A put of an entity read earlier (condition: unchanged) or new (condition: absent).
pub fn put<T>(item: Item, read: Option<&Versioned<T>>) -> Write {
    Write::Put(item, read.map_or(Expect::Absent, Versioned::expect))
}

pub fn refund_key(journal_id: &str) -> (String, String) {
    (format!("REFUND#{journal_id}"), "R".into())
}

pub fn refund_item(refund: &Refund) -> Item {
    let (pk, sk) = refund_key(&refund.journal_id);
    let mut item = Item::new(pk.clone(), sk, body(refund));
    if refund.status == RefundStatus::Pending {
        let due = refund.next_attempt_at;
        item = due_at(item, due);
    }
    item
}

pub fn settlement_key(sale_journal_id: &str) -> (String, String) {
    (format!("SETTLE#{sale_journal_id}"), "S".into())
}

pub fn settlement_item(settlement: &PendingSettlement) -> Item {
    let (pk, sk) = settlement_key(&settlement.sale_journal_id);
    let mut item = Item::new(pk.clone(), sk, body(settlement));
    if !settlement.settled {
        let due = settlement.due_at;
        item = due_at(item, due);
    }
    item
}

pub fn journal_key(journal_id: &str) -> (String, String) {
    (format!("JOURNAL#{journal_id}"), "J".into())
}

pub fn push_key(id: &PushId) -> (String, String) {
    (format!("PUSH#{id}"), "P".into())
}

pub fn push_item(push: &Push) -> Item {
    let (pk, sk) = push_key(&push.id);
    let created = format!("{}#{}", time_key(push.created_at), push.id);
    let mut item = Item::new(pk.clone(), sk, body(push))
        .indexed(Index::Gsi1, sent_partition(&push.seller), &created)
        .indexed(Index::Gsi2, received_partition(&push.buyer), created);
    let due = match push.status {
        PushStatus::Pending | PushStatus::Accepted => Some(push.expires_at),
        PushStatus::AwaitingSellerConfirmation => push.confirm_by,
        _ => None,
    };
    if let Some(due) = due {
        item = due_at(item, due);
    }
    item
}

/// The operator's holidays of `year` (M2, M4, S5).
pub fn holidays_key(year: i32) -> (String, String) {
    (format!("HOLIDAYS#{year}"), "H".into())
}

/// M4: a placement section.
pub fn placement_section_key(section: &str) -> (String, String) {
    (format!("PLACESECTION#{section}"), "S".into())
}

/// M4: the applications of a section's period (named by its nominal first day), one item
/// per listing.
pub fn placement_applications_partition(section: &str, period: chrono::NaiveDate) -> String {
    format!("PLACEAPP#{section}#{period}")
}

/// M4: a section's period to be filled.
pub fn placement_round_key(section: &str, period: chrono::NaiveDate) -> (String, String) {
    (format!("PLACEROUND#{section}#{period}"), "R".into())
}

/// M4: a round, due at `due` until its winners are chosen.
pub fn placement_round_item<T: Serialize>(
    section: &str,
    period: chrono::NaiveDate,
    round: &T,
    due: Option<DateTime<Utc>>,
) -> Item {
    let (pk, sk) = placement_round_key(section, period);
    let mut item = Item::new(pk.clone(), sk, body(round));
    if let Some(due) = due {
        item = due_at(item, due);
    }
    item
}

/// M4: the winners shown for a section.
pub fn featured_key(section: &str) -> (String, String) {
    (format!("FEATURED#{section}"), "F".into())
}

/// An item of any entity kept whole as JSON (the small operator records above).
pub fn plain_item<T: Serialize>(key: (String, String), value: &T) -> Item {
    Item::new(key.0, key.1, body(value))
}

/// S3: the partition of an account's payment methods.
pub fn payment_methods_partition(owner: &AccountId) -> String {
    format!("PAYMETHOD#{owner}")
}
pub fn payment_method_key(
    owner: &AccountId,
    id: &market_core::ids::PaymentMethodId,
) -> (String, String) {
    (payment_methods_partition(owner), id.to_string())
}
pub fn payment_method_item(method: &market_core::instrument::PaymentMethod) -> Item {
    let (pk, sk) = payment_method_key(&method.owner, &method.id);
    Item::new(pk, sk, body(method))
}
/// S3: the account's list of methods and its preferred one: every bind, preference and
/// removal writes it on the version read, so two of them never both count the same list.
pub fn payment_method_list_key(owner: &AccountId) -> (String, String) {
    (format!("PAYMETHODS#{owner}"), "L".into())
}
/// S3: the claim that binds an instrument (`card#{fingerprint}`, `paypal#{payer id}`,
/// `bank_transfer#{account}`) to one account: created on the condition that it is absent.
pub fn payment_binding_key(binding: &str) -> (String, String) {
    (format!("PAYBIND#{binding}"), "B".into())
}

/// M1: the operator's listing categories (one item: they are few, and a listing reads them
/// all at once).
pub fn categories_key() -> (String, String) {
    ("CATEGORIES".into(), "C".into())
}

/// M1: a deposit.
pub fn deposit_key(id: &market_core::ids::DepositId) -> (String, String) {
    (format!("DEPOSIT#{id}"), "D".into())
}

/// M1: a seller's deposits, by creation.
pub fn deposits_partition(account: &AccountId) -> String {
    format!("DEPOSITS#{account}")
}

/// M1: a deposit, listed under its seller; due at its payment deadline while unpaid.
pub fn deposit_item(deposit: &market_core::deposit::Deposit) -> Item {
    let (pk, sk) = deposit_key(&deposit.id);
    let created = format!("{}#{}", time_key(deposit.created_at), deposit.id);
    let mut item = Item::new(pk.clone(), sk, body(deposit)).indexed(
        Index::Gsi1,
        deposits_partition(&deposit.account),
        created,
    );
    if deposit.status == market_core::deposit::DepositStatus::AwaitingPayment {
        let due = deposit.pay_by;
        item = due_at(item, due);
    }
    item
}

/// L11: a legacy offline-negotiation listing, by its id.
pub fn legacy_key(id: &market_core::ids::LegacyListingId) -> (String, String) {
    (format!("LEGACY#{id}"), "G".into())
}

/// L11: the one legacy listing of a domain (an operator's import is by domain).
pub fn legacy_domain_key(domain: &DomainName) -> (String, String) {
    (format!("LEGACYDOMAIN#{domain}"), "G".into())
}

/// L11: the open legacy listings, newest first (gsi2).
pub const LEGACY_MARKET: &str = "LEGACYMKT";

/// A legacy listing: in the public list (gsi2) while open.
pub fn legacy_item(legacy: &market_core::legacy::LegacyListing) -> Item {
    let (pk, sk) = legacy_key(&legacy.id);
    let mut item = Item::new(pk, sk, body(legacy));
    if legacy.status == market_core::legacy::LegacyStatus::Open {
        item = item.indexed(
            Index::Gsi2,
            LEGACY_MARKET,
            format!("{}#{}", time_key(legacy.created_at), legacy.id),
        );
    }
    item
}

/// M1, M2: a seller's standing.
pub fn standing_key(account: &AccountId) -> (String, String) {
    (format!("STANDING#{account}"), "S".into())
}

/// M2: an account's exit application.
pub fn exit_key(account: &AccountId) -> (String, String) {
    (format!("EXIT#{account}"), "X".into())
}

/// M2: an exit, due at its next check until everything is done.
pub fn exit_item(exit: &market_core::exit::Exit) -> Item {
    let (pk, sk) = exit_key(&exit.account);
    let mut item = Item::new(pk.clone(), sk, body(exit));
    if let Some(due) = exit.due_at() {
        item = due_at(item, due);
    }
    item
}

/// The pointer from a domain to its legacy listing.
pub fn legacy_domain_item(domain: &DomainName, id: &market_core::ids::LegacyListingId) -> Item {
    let (pk, sk) = legacy_domain_key(domain);
    Item::new(pk, sk, body(&serde_json::json!({ "id": id })))
}

/// L10: a partner as the operator defined it.
pub fn partner_key(id: &market_core::partner::PartnerId) -> (String, String) {
    (format!("PARTNER#{id}"), "P".into())
}

/// L10: which partner lists a domain (and its current listing).
pub fn partner_feed_key(domain: &DomainName) -> (String, String) {
    (format!("PFEED#{domain}"), "F".into())
}

/// L10: a signed request's nonce, claimed once.
pub fn partner_nonce_key(
    partner: &market_core::partner::PartnerId,
    nonce: &str,
) -> (String, String) {
    (format!("PNONCE#{partner}#{nonce}"), "N".into())
}

/// L10: a partner order.
pub fn partner_order_key(id: &OrderId) -> (String, String) {
    (format!("PORDER#{id}"), "O".into())
}

/// L10: a buyer's available balance.
pub fn buyer_balance_key(account: &AccountId) -> (String, String) {
    (format!("BUYERBAL#{account}"), "B".into())
}

/// L10: a partner order, listed under its buyer; due at its transfer deadline while it
/// awaits the transfer.
pub fn partner_order_item(order: &market_core::partner::PartnerOrder) -> Item {
    use market_core::partner::PartnerOrderStatus;
    let (pk, sk) = partner_order_key(&order.id);
    let created = format!("{}#{}", time_key(order.created_at), order.id);
    let mut item = Item::new(pk.clone(), sk, body(order)).indexed(
        Index::Gsi1,
        format!("PBUYER#{}", order.buyer),
        created,
    );
    let unpaid = matches!(
        order.status,
        PartnerOrderStatus::AwaitingTransfer | PartnerOrderStatus::AwaitingPayment
    );
    if let (true, Some(due)) = (unpaid, order.pay_by) {
        item = due_at(item, due);
    }
    item
}
