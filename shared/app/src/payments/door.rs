//! The door of the provider's payment notifications, and the trail of those refused later.
//!
//! `POST /payments/alipay/notify` is public (no authorizer: Alipay cannot hold our tokens),
//! so anyone can post to it. What can never be a notification is turned away before it costs
//! a queue message and a consumer run: a body over 16 KB (413 `PAYLOAD_TOO_LARGE`; real
//! notifications are under 2 KB), and a body that is not a form with a `sign` and an
//! `out_trade_no` (400 `INVALID_REQUEST`). Everything else is queued exactly as received;
//! the signature is checked by the consumer (`payments::apply`), which is where the keys are.
//!
//! A queued notification the consumer refuses is audited ([`audit`]) and counted: it looked
//! genuine at the door, so its refusal means a key rotation, a wrong `app_id`, or a forger
//! who knows our trade numbers, and the `RejectedNotifications` metric pages someone. A
//! buyer's money behind a refused notification is never silently dropped (S1): someone
//! looks, and `POST /orders/{id}/refresh` (O6) applies what the provider says.
use chrono::Duration;
use sha2::{Digest, Sha256};

use crate::metrics;
use crate::ports::queue::Topic;
use crate::repo::{self, create};
use crate::store::Item;
use crate::{App, AppError, AppResult};
use market_core::error::{Code, Problem};

/// The largest notification body accepted (API.md: over 16 KB → 413).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How much of a refused body its audit record keeps: enough to read what was sent, not
/// enough for a flood of large forgeries to fill the table (the hash identifies the rest).
pub const AUDIT_BODY_BYTES: usize = 2 * 1024;

/// How long audit records are kept.
const AUDIT_DAYS: i64 = 400;

/// Checks a notification body at the door: its size, then its shape. Returns it as text.
pub fn admit(body: &[u8]) -> Result<&str, Problem> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Problem::new(
            Code::PayloadTooLarge,
            format!("a payment notification is at most {MAX_BODY_BYTES} bytes"),
        ));
    }
    let malformed = |why: &str| {
        Problem::new(
            Code::InvalidRequest,
            format!("not a payment notification: {why}"),
        )
    };
    let text = std::str::from_utf8(body).map_err(|_| malformed("the body is not UTF-8"))?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(text)
        .map_err(|_| malformed("the body is not a form (application/x-www-form-urlencoded)"))?;
    for required in ["sign", "out_trade_no"] {
        if !fields
            .iter()
            .any(|(k, v)| k == required && !v.trim().is_empty())
        {
            return Err(malformed(&format!("no {required}")));
        }
    }
    Ok(text)
}

/// `POST /payments/alipay/notify`: admit the body, then queue it as received; the provider
/// gets `success` only once it is queued. A refused body is never queued.
pub async fn receive(app: &App, body: &[u8]) -> AppResult<()> {
    let text = admit(body)?;
    app.queue
        .send(
            Topic::PaymentNotifications,
            text.to_owned(),
            Duration::zero(),
        )
        .await
        .map_err(AppError::Internal)
}

/// The SHA-256 of a body.
pub fn body_sha256(body: &str) -> [u8; 32] {
    Sha256::digest(body.as_bytes()).into()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Keeps a refused notification for audit with why it was refused: the body's SHA-256, its
/// length and at most [`AUDIT_BODY_BYTES`] of it, in one of the day's audit partitions
/// (`repo::audit_key`); and raises `RejectedNotifications` (an EMF log line).
pub(crate) async fn audit(app: &App, body: &str, reason: &str) -> AppResult<()> {
    let now = app.now();
    let digest = body_sha256(body);
    let sha256 = hex(&digest);
    let kept = clip(body, AUDIT_BODY_BYTES);
    let (pk, sk) = repo::audit_key(now, &digest, app.ulid());
    let mut item = Item::new(
        pk,
        sk,
        serde_json::json!({
            "reason": reason,
            "body_sha256": sha256,
            "body_bytes": body.len(),
            "body": kept,
            "truncated": kept.len() < body.len(),
            "at": now,
        })
        .to_string(),
    );
    item.ttl = Some((now + Duration::days(AUDIT_DAYS)).timestamp());
    app.transact(vec![create(item)]).await?;
    metrics::emit(&metrics::rejected_notification(now, reason, &sha256));
    tracing::warn!(reason, body_sha256 = %sha256, "payment notification rejected");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_door_refuses_what_can_never_be_a_notification() {
        let ok = b"notify_id=1&out_trade_no=pay_1&sign=abc&trade_status=TRADE_SUCCESS";
        assert!(admit(ok).is_ok());
        let code = |body: &[u8]| admit(body).unwrap_err().code;
        assert_eq!(code(&vec![b'a'; MAX_BODY_BYTES + 1]), Code::PayloadTooLarge);
        assert_eq!(
            code(b"notify_id=1&out_trade_no=pay_1"),
            Code::InvalidRequest,
            "no sign"
        );
        assert_eq!(
            code(b"notify_id=1&sign=abc"),
            Code::InvalidRequest,
            "no out_trade_no"
        );
        assert_eq!(
            code(b"out_trade_no=&sign=abc"),
            Code::InvalidRequest,
            "empty"
        );
        assert_eq!(code(b"{\"sign\":\"x\"}"), Code::InvalidRequest);
        assert_eq!(
            code(&[0xff, 0xfe, b'=', b'x']),
            Code::InvalidRequest,
            "not UTF-8"
        );
    }

    #[test]
    fn clipping_keeps_whole_characters() {
        assert_eq!(clip("abc", 2), "ab");
        assert_eq!(clip("域名", 4), "域");
        assert_eq!(clip("域名", 6), "域名");
    }
}
