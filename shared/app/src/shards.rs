//! Sharded partitions: a family of partition keys (`{family}~{n}`, n in `0..count`) over
//! which items that every operation of a kind would otherwise put in one partition are
//! spread by a hash of each item's own key. DynamoDB throttles each partition key at
//! 1,000 WCU/s and 3,000 RCU/s, so a family of `count` shards takes `count` times that;
//! readers read every shard.
//!
//! The counts are constants, not settings: every writer and every reader must agree on
//! them, and a writer that used more shards than the sweep reads would hide due items.
//! Raising one is a code change whose readers read the old count's shards too until they
//! have drained.

/// The due index's hourly buckets (gsi5 `DUE#{hour}~{n}`): every deadline of every kind
/// is filed there, several times over an item's life (sized for 10,000 sales a second
/// with a margin; each entry is one keys-only index write).
pub const DUE: u32 = 128;

/// The markers of the due hours (`DUEHOURS#{day}~{k}`, k at random per mark): each process
/// marks the hour that begins, so at a sale's peak thousands mark it within a second.
pub const DUE_MARKERS: u32 = 16;

/// The platform's own ledger accounts (`provider`, `fees`, `registry`, …): every sale
/// posts to them (one 2-WCU posting per account per sale inside a transaction).
pub const PLATFORM_LEDGER: u32 = 32;

/// A seller's proceeds accounts (`seller:{id}`, `seller_frozen:{id}`) and their running
/// sums: each of a seller's sales posts twice to the frozen one (the price, the fee), so
/// one seller selling 2,000 domains a second needs more than one partition.
pub const SELLER_LEDGER: u32 = 16;

/// A person's lists (gsi1 `OWNER#{id}` domains, `SELLER#{id}` listings; the inbox's
/// `NOTE#{id}` and gsi1 `UNREAD#{id}`): each of a seller's sales rewrites and removes the
/// domain's entry, rewrites the listing's, and files a notice.
pub const PERSON_LISTS: u32 = 8;

/// How many partitions a ledger account's postings (and running sum) are spread over.
pub fn ledger_count(account_key: &str) -> u32 {
    if !account_key.contains(':') {
        PLATFORM_LEDGER
    } else if account_key.starts_with("seller:") || account_key.starts_with("seller_frozen:") {
        SELLER_LEDGER
    } else {
        1
    }
}

/// The shard of an item whose own key is `key`, in a family of `count` shards (FNV-1a:
/// stable across processes and releases, unlike std's randomly seeded hasher).
pub fn shard_of(key: &str, count: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % u64::from(count.max(1))) as u32
}

/// The partition key of shard `n` of `family`.
pub fn sharded(family: &str, n: u32) -> String {
    format!("{family}~{n}")
}

/// The partition key of `family`'s shard for an item whose own key is `key`.
pub fn shard_for(family: &str, key: &str, count: u32) -> String {
    sharded(family, shard_of(key, count))
}

/// Every shard of `family`.
pub fn all(family: &str, count: u32) -> impl Iterator<Item = String> + '_ {
    (0..count).map(move |n| sharded(family, n))
}

/// A sharded partition key as its family and shard (`None`: not a sharded key).
pub fn split(pk: &str) -> Option<(&str, u32)> {
    let (family, n) = pk.rsplit_once('~')?;
    Some((family, n.parse().ok()?))
}

/// How many shards a family has (`None`: not a sharded family).
pub fn count_of(family: &str) -> Option<u32> {
    if family.starts_with("DUE#") {
        Some(DUE)
    } else if family.starts_with("DUEHOURS#") {
        Some(DUE_MARKERS)
    } else if let Some(account) = family.strip_prefix("LEDGER#") {
        Some(ledger_count(account))
    } else if let Some(account) = family.strip_prefix("LEDGERSUM#") {
        Some(ledger_count(account))
    } else if ["OWNER#", "SELLER#", "NOTE#", "UNREAD#"]
        .iter()
        .any(|p| family.starts_with(p))
    {
        Some(PERSON_LISTS)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_spread_evenly_over_the_shards() {
        // Keys shaped like the table's (a ULID after a prefix): no shard takes much more
        // than its share, so a family really takes `count` times one partition's load.
        for count in [DUE, PLATFORM_LEDGER, PERSON_LISTS] {
            let mut hits = vec![0u32; count as usize];
            let n = 200_000u32;
            for i in 0..n {
                let key = format!(
                    "ORDER#{}",
                    ulid::Ulid::from_parts(1_765_000_000_000 + u64::from(i), u128::from(i) * 7919)
                );
                hits[shard_of(&key, count) as usize] += 1;
            }
            let mean = f64::from(n) / f64::from(count);
            let max = f64::from(*hits.iter().max().unwrap());
            assert!(
                max < mean * 1.1,
                "{count} shards: the busiest took {max}, the mean is {mean}"
            );
        }
    }

    #[test]
    fn a_sharded_key_splits_back_into_its_family() {
        let key = shard_for("DUE#2026-12-07T18", "ORDER#01", DUE);
        let (family, n) = split(&key).unwrap();
        assert_eq!(family, "DUE#2026-12-07T18");
        assert!(n < DUE);
        assert_eq!(count_of(family), Some(DUE));
        assert_eq!(split("ORDER#01"), None);
        assert_eq!(all("F", 3).collect::<Vec<_>>(), ["F~0", "F~1", "F~2"]);
    }
}
