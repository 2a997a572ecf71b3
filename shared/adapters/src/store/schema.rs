//! The one definition of the table: attribute names and indexes. The DynamoDB adapter creates
//! the table from it locally, and `template.yaml` declares the same (a test compares them).
use market_app::store::Index;

/// The partition key attribute.
pub const PK: &str = "pk";
/// The sort key attribute.
pub const SK: &str = "sk";
/// The version attribute every condition is written on.
pub const VERSION: &str = "ver";
/// The entity, as JSON text.
pub const BODY: &str = "body";
/// The running sum of an item written by adds (`Write::Add`), a number.
pub const SUM: &str = "sum";
/// DynamoDB TTL attribute (seconds since the epoch).
pub const TTL: &str = "ttl";

/// The key attributes of an index: (`gsi1pk`, `gsi1sk`).
pub fn index_keys(index: Index) -> (String, String) {
    (format!("{}pk", index.name()), format!("{}sk", index.name()))
}
