//! DynamoDB Stream batches as Lambda delivers them to the table's consumers (the notifier,
//! the search indexer): keys only, as the table's stream is configured.
use serde_json::{json, Value};

use market_web::stream::StreamEvent;

/// A batch of `event_name` (`INSERT`, `MODIFY`) records of the items at `keys`, with
/// sequence numbers 100, 101, … in order.
pub fn event<K: AsRef<str>>(event_name: &str, keys: &[(K, &str)]) -> StreamEvent {
    let records: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(n, (pk, sk))| {
            json!({
                "eventID": format!("e{n}"), "eventName": event_name, "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1764115200,
                    "Keys": {"pk": {"S": pk.as_ref()}, "sk": {"S": sk}},
                    "SequenceNumber": format!("{}", 100 + n), "SizeBytes": 60,
                    "StreamViewType": "KEYS_ONLY"
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("a stream event")
}
