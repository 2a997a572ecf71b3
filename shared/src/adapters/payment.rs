//! The payment provider port (Alipay in the cloud) and the sandbox provider of the local
//! runner. Notifications are form bodies; the provider verifies them and reads their fields.
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz_shanghai::shanghai;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::core::money::Money;

/// What the provider reports of a trade (Alipay `trade_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeStatus {
    /// `TRADE_SUCCESS` or `TRADE_FINISHED`: the money was paid.
    Paid,
    /// `TRADE_CLOSED`: the attempt failed or was closed unpaid.
    Closed,
    /// `WAIT_BUYER_PAY`: nothing to apply yet.
    Waiting,
}

impl TradeStatus {
    /// Reads Alipay's `trade_status`.
    pub fn parse(text: &str) -> Option<TradeStatus> {
        match text {
            "TRADE_SUCCESS" | "TRADE_FINISHED" => Some(TradeStatus::Paid),
            "TRADE_CLOSED" => Some(TradeStatus::Closed),
            "WAIT_BUYER_PAY" => Some(TradeStatus::Waiting),
            _ => None,
        }
    }
}

/// A verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub notify_id: String,
    pub out_trade_no: String,
    pub trade_no: String,
    pub trade_status: TradeStatus,
    /// The raw `trade_status` (TRADE_SUCCESS and TRADE_FINISHED both mean paid).
    pub raw_status: String,
    pub total_amount: Money,
    pub app_id: String,
    pub seller_id: String,
    /// When the provider took the money (`gmt_payment`), if it says.
    pub paid_at: Option<DateTime<Utc>>,
}

/// Why a notification was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed notification: {0}")]
    Malformed(String),
    #[error("bad signature")]
    BadSignature,
}

/// What a payment page is built from.
#[derive(Debug, Clone)]
pub struct PayRequest<'a> {
    pub out_trade_no: &'a str,
    pub amount: Money,
    pub subject: &'a str,
    pub expires_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// The payment provider port.
pub trait PaymentProvider: Send + Sync {
    /// Where the buyer pays.
    fn pay_url(&self, request: &PayRequest<'_>) -> String;
    /// Checks the signature of a notification body and reads it.
    fn verify(&self, form_body: &str) -> Result<Notification, VerifyError>;
    /// Our application id at the provider (checked against `app_id`).
    fn app_id(&self) -> &str;
    /// Our merchant id at the provider (checked against `seller_id`).
    fn seller_id(&self) -> &str;
}

/// Alipay's string to sign: every parameter but `sign` and `sign_type`, sorted by key,
/// `k=v` joined by `&`, values as received.
pub fn signing_string(params: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> = params
        .iter()
        .filter(|(k, v)| k != "sign" && k != "sign_type" && !v.is_empty())
        .collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    kept.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn field<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, VerifyError> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| VerifyError::Malformed(format!("missing {name}")))
}

/// Alipay times are Beijing time, `yyyy-MM-dd HH:mm:ss`.
fn beijing_time(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    shanghai()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Reads the fields of a notification whose signature has been checked.
pub fn read_notification(params: &[(String, String)]) -> Result<Notification, VerifyError> {
    let raw_status = field(params, "trade_status")?.to_owned();
    let trade_status = TradeStatus::parse(&raw_status)
        .ok_or_else(|| VerifyError::Malformed(format!("unknown trade_status {raw_status}")))?;
    let total_amount = Money::parse(field(params, "total_amount")?)
        .map_err(|_| VerifyError::Malformed("total_amount is not an amount".into()))?;
    Ok(Notification {
        notify_id: field(params, "notify_id")?.to_owned(),
        out_trade_no: field(params, "out_trade_no")?.to_owned(),
        trade_no: field(params, "trade_no")?.to_owned(),
        trade_status,
        raw_status,
        total_amount,
        app_id: field(params, "app_id")?.to_owned(),
        seller_id: field(params, "seller_id").unwrap_or_default().to_owned(),
        paid_at: field(params, "gmt_payment").ok().and_then(beijing_time),
    })
}

/// The local runner's provider. It signs its notifications with a key of its own and sends
/// them through the same notify route as Alipay's. (HMAC-SHA256 stands in for Alipay's RSA2
/// until the payments issue brings the real protocol; the port stays the same.)
pub struct SandboxProvider {
    key: [u8; 32],
    app_id: String,
    seller_id: String,
    base_url: String,
}

impl SandboxProvider {
    /// The sign type the sandbox writes and accepts.
    pub const SIGN_TYPE: &'static str = "HMAC-SHA256";

    /// A sandbox with a fresh random key, whose pay URLs point at `base_url`.
    pub fn new(base_url: impl Into<String>) -> SandboxProvider {
        SandboxProvider {
            key: rand::random(),
            app_id: "2021000000000000".into(),
            seller_id: "2088000000000000".into(),
            base_url: base_url.into(),
        }
    }

    fn sign(&self, text: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(text.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// A correctly signed notification, as the provider would send it for a trade.
    pub fn notification(
        &self,
        out_trade_no: &str,
        trade_status: &str,
        amount: Money,
        now: DateTime<Utc>,
    ) -> String {
        let beijing = now
            .with_timezone(&shanghai())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let mut params: Vec<(String, String)> = vec![
            (
                "notify_id".into(),
                format!("ntf_{}", ulid::Ulid::new().to_string().to_lowercase()),
            ),
            ("notify_time".into(), beijing.clone()),
            ("notify_type".into(), "trade_status_sync".into()),
            ("app_id".into(), self.app_id.clone()),
            ("seller_id".into(), self.seller_id.clone()),
            ("out_trade_no".into(), out_trade_no.into()),
            (
                "trade_no".into(),
                format!("2026{}", out_trade_no.trim_start_matches("pay_")),
            ),
            ("trade_status".into(), trade_status.into()),
            ("total_amount".into(), amount.to_string()),
            ("gmt_payment".into(), beijing),
            ("charset".into(), "utf-8".into()),
            ("version".into(), "1.0".into()),
        ];
        let signature = self.sign(&signing_string(&params));
        params.push(("sign_type".into(), Self::SIGN_TYPE.into()));
        params.push(("sign".into(), signature));
        serde_urlencoded::to_string(&params).expect("strings encode")
    }
}

impl PaymentProvider for SandboxProvider {
    fn pay_url(&self, request: &PayRequest<'_>) -> String {
        format!(
            "{}/dev/payments/{}/complete",
            self.base_url, request.out_trade_no
        )
    }

    fn verify(&self, form_body: &str) -> Result<Notification, VerifyError> {
        let params: Vec<(String, String)> = serde_urlencoded::from_str(form_body)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let signature = field(&params, "sign")?;
        // Compared in constant time by the MAC itself.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(signing_string(&params).as_bytes());
        let given = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .map_err(|_| VerifyError::BadSignature)?;
        if mac.verify_slice(&given).is_err() {
            return Err(VerifyError::BadSignature);
        }
        read_notification(&params)
    }

    fn app_id(&self) -> &str {
        &self.app_id
    }

    fn seller_id(&self) -> &str {
        &self.seller_id
    }
}

/// Beijing time (UTC+8, no daylight saving) without a time-zone database.
mod chrono_tz_shanghai {
    use chrono::FixedOffset;

    /// UTC+08:00.
    pub fn shanghai() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).expect("valid offset")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_string_sorts_and_drops_sign_fields() {
        let params = vec![
            ("b".to_owned(), "2".to_owned()),
            ("sign".to_owned(), "x".to_owned()),
            ("a".to_owned(), "1".to_owned()),
            ("sign_type".to_owned(), "RSA2".to_owned()),
        ];
        assert_eq!(signing_string(&params), "a=1&b=2");
    }

    #[test]
    fn sandbox_notifications_verify_and_tampering_does_not() {
        let sandbox = SandboxProvider::new("http://x");
        let body = sandbox.notification(
            "pay_1",
            "TRADE_SUCCESS",
            Money::parse("10.00").unwrap(),
            Utc::now(),
        );
        let n = sandbox.verify(&body).unwrap();
        assert_eq!(n.trade_status, TradeStatus::Paid);
        assert_eq!(n.total_amount.to_string(), "10.00");
        let forged = body.replace("total_amount=10.00", "total_amount=1.00");
        assert_eq!(
            sandbox.verify(&forged).unwrap_err(),
            VerifyError::BadSignature
        );
        let other = SandboxProvider::new("http://x");
        assert_eq!(other.verify(&body).unwrap_err(), VerifyError::BadSignature);
    }
}
