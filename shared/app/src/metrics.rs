//! Business metrics as CloudWatch Embedded Metric Format (EMF) log lines.
//!
//! A Lambda's stdout goes to CloudWatch Logs, which turns a line that is an EMF document
//! into a metric: no SDK, no `cloudwatch:PutMetricData` permission, no call on the request
//! path. The line is written straight to stdout, not through `tracing`, because EMF needs
//! the document to be the whole log event (a tracing JSON line would nest it in a field).
//! The local runner prints the same lines; nothing reads them there.
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// The namespace of the marketplace's own metrics (template.yaml's alarms name it).
pub const NAMESPACE: &str = "DomainMarket";

/// Payment notifications refused after they were queued (bad signature, another app_id,
/// an amount or trade that is not ours): a key rotation or a misconfiguration, never
/// routine, so template.yaml's `RejectedNotificationsAlarm` pages on the first one.
pub const REJECTED_NOTIFICATIONS: &str = "RejectedNotifications";

/// Orders created (one per payment group of a cart, O2).
pub const ORDERS_PLACED: &str = "OrdersPlaced";
/// Payments applied as paid (each once, however many notifications carried it).
pub const PAYMENTS_APPLIED: &str = "PaymentsApplied";
/// Due items a sweep handled, and those it could not (deferred with backoff).
pub const SWEEP_PROCESSED: &str = "SweepItemsProcessed";
pub const SWEEP_FAILED: &str = "SweepItemsFailed";
/// Refunds the provider has not confirmed yet, seen by a sweep (retried with backoff).
pub const REFUNDS_PENDING: &str = "RefundsPending";
/// Payouts waiting for a definite answer from the provider, seen by a sweep (S6).
pub const PAYOUTS_WAITING: &str = "PayoutsWaiting";
/// Outbox messages given up on after every try (a registrar core or a mail service down for
/// hours): template.yaml's `OutboxDeadLetterAlarm` pages on the first one (N1).
pub const OUTBOX_DEAD_LETTERED: &str = "OutboxDeadLettered";

/// A count of the marketplace's own, under the one dimension `Service=market` (what
/// template.yaml's dashboard reads).
pub fn count(metric: &str, value: usize, at: DateTime<Utc>) -> String {
    emf_line(metric, value as f64, at, &[("Service", "market")], &[])
}

/// One EMF document: the count `value` of `metric` at `at`, under `dimensions` (names and
/// values, which also become members of the document), with `properties` kept alongside
/// for whoever reads the log (not metric dimensions, so they cost nothing).
pub fn emf_line(
    metric: &str,
    value: f64,
    at: DateTime<Utc>,
    dimensions: &[(&str, &str)],
    properties: &[(&str, &str)],
) -> String {
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions.iter().map(|(k, _)| *k).collect::<Vec<_>>()],
                "Metrics": [{ "Name": metric, "Unit": "Count" }],
            }],
        }),
    );
    for (k, v) in dimensions.iter().chain(properties) {
        doc.insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
    doc.insert(metric.to_owned(), json!(value));
    Value::Object(doc).to_string()
}

/// Writes one EMF document as its own stdout line (one `println!`: one write of the whole
/// line, which the test harness also captures).
pub fn emit(line: &str) {
    println!("{line}");
}

/// The `RejectedNotifications` line of one refused notification (dimension
/// `Provider=alipay`, the one the alarm watches), with the reason and the body's hash to
/// find its audit record by.
pub fn rejected_notification(at: DateTime<Utc>, reason: &str, body_sha256: &str) -> String {
    emf_line(
        REJECTED_NOTIFICATIONS,
        1.0,
        at,
        &[("Provider", "alipay")],
        &[("reason", reason), ("body_sha256", body_sha256)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_is_an_emf_document_cloudwatch_can_extract() {
        let at: DateTime<Utc> = "2026-11-22T07:00:00Z".parse().unwrap();
        let line = rejected_notification(at, "bad signature", "ab12");
        assert!(!line.contains('\n'));
        let doc: Value = serde_json::from_str(&line).unwrap();
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(doc["_aws"]["Timestamp"], at.timestamp_millis());
        assert_eq!(directive["Namespace"], "DomainMarket");
        assert_eq!(directive["Dimensions"], json!([["Provider"]]));
        assert_eq!(
            directive["Metrics"],
            json!([{ "Name": "RejectedNotifications", "Unit": "Count" }])
        );
        // Every dimension and metric the directive names is a member of the root.
        assert_eq!(doc["Provider"], "alipay");
        assert_eq!(doc["RejectedNotifications"], 1.0);
        assert_eq!(doc["reason"], "bad signature");
        assert_eq!(doc["body_sha256"], "ab12");
    }
}
