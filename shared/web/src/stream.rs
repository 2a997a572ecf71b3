//! The table's DynamoDB Stream as Lambda delivers it, for the functions it feeds (the
//! notifier, the search indexer). Read with the few fields used rather than
//! `aws_lambda_events`' `dynamodb` feature, which brings `serde_dynamo` and a second
//! `base64` into every function's build for typed attribute values nobody reads here.
use serde::{Deserialize, Serialize};

/// A DynamoDB Stream batch, as Lambda delivers it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

/// One change of the table.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventID", default)]
    pub event_id: String,
    /// `INSERT`, `MODIFY` or `REMOVE`.
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    #[serde(default)]
    pub dynamodb: StreamChange,
}

/// The keys of the changed item (the stream is `KEYS_ONLY`) and its place in the shard.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamChange {
    /// Attribute values as DynamoDB JSON: `{"pk": {"S": "OUTBOX#…"}, "sk": {"S": "O"}}`.
    #[serde(default)]
    pub keys: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub sequence_number: Option<String>,
}

/// The partial batch response (`FunctionResponseTypes: [ReportBatchItemFailures]`): the
/// stream retries from the first record named.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamResponse {
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    /// The failed record's sequence number.
    pub item_identifier: String,
}

impl StreamRecord {
    /// The changed item's key (`pk`, `sk`).
    pub fn key(&self) -> Option<(&str, &str)> {
        let text = |name: &str| self.dynamodb.keys.get(name)?.get("S")?.as_str();
        Some((text("pk")?, text("sk")?))
    }

    /// The sequence number the partial batch response names it by.
    pub fn failure(&self) -> ItemFailure {
        ItemFailure {
            item_identifier: self.dynamodb.sequence_number.clone().unwrap_or_default(),
        }
    }
}
