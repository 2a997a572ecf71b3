//! Alipay's wire format, shared by the Alipay client and the sandbox that plays Alipay:
//! Beijing times, the notification's fields, and the one verification of a notification
//! body (RSA2 over the sorted parameters, `rsa2`).
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use super::rsa2::{self, PublicKey};
use market_app::ports::payment::{FundBill, Notification, TradeStatus, VerifyError};
use market_core::money::Money;

/// Beijing time (UTC+8, no daylight saving): Alipay's clock.
fn beijing_zone() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// A time as Alipay writes it: `yyyy-MM-dd HH:mm:ss`, Beijing time.
pub fn beijing(at: DateTime<Utc>) -> String {
    at.with_timezone(&beijing_zone())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Reads an Alipay time.
pub fn beijing_time(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    beijing_zone()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

fn field<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, VerifyError> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| VerifyError::Malformed(format!("missing {name}")))
}

/// O8: reads a `fund_bill_list` as Alipay gives it, an array of `{fund_channel, amount}`
/// (`fundChannel` in notifications; `fund_type` for bank cards). An entry without a
/// channel, or anything but an array, is an error: funding that cannot be read is never
/// taken for funding without credit.
pub fn fund_bills_of(value: &serde_json::Value) -> Result<Vec<FundBill>, String> {
    let entries = value
        .as_array()
        .ok_or_else(|| format!("fund_bill_list is not a list: {value}"))?;
    entries
        .iter()
        .map(|entry| {
            let text = |names: [&str; 2]| {
                names
                    .iter()
                    .find_map(|n| entry.get(*n).and_then(serde_json::Value::as_str))
                    .map(str::to_owned)
            };
            Ok(FundBill {
                channel: text(["fund_channel", "fundChannel"])
                    .ok_or_else(|| format!("a fund_bill_list entry without a channel: {entry}"))?,
                fund_type: text(["fund_type", "fundType"]),
            })
        })
        .collect()
}

/// O8: reads a notification's `fund_bill_list`, a JSON array in a string, which some
/// versions of Alipay send HTML-escaped (`[{&quot;amount&quot;:…}]`).
pub fn fund_bills(text: &str) -> Result<Vec<FundBill>, String> {
    let json = text.replace("&quot;", "\"");
    let value: serde_json::Value = serde_json::from_str(json.trim())
        .map_err(|e| format!("fund_bill_list is not JSON: {e}"))?;
    fund_bills_of(&value)
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
        fund_bills: match field(params, "fund_bill_list") {
            Ok(text) => fund_bills(text).map_err(VerifyError::Malformed)?,
            Err(_) => vec![],
        },
    })
}

/// Verifies an Alipay notification body with `key` and reads it: the one verification
/// path, shared by the Alipay adapter and the sandbox.
pub fn verify_notification(key: &PublicKey, form_body: &str) -> Result<Notification, VerifyError> {
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(form_body).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let field = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match field("sign_type") {
        Some("RSA2") | None => {}
        Some(other) => {
            return Err(VerifyError::Malformed(format!(
                "sign_type {other} is not RSA2"
            )))
        }
    }
    let signature = field("sign").ok_or_else(|| VerifyError::Malformed("missing sign".into()))?;
    if !rsa2::verify(key, &rsa2::notification_signing_string(&params), signature) {
        return Err(VerifyError::BadSignature);
    }
    read_notification(&params)
}

/// The raw JSON text of `"<name>":{…}` inside a response, as Alipay signed it.
pub(super) fn raw_object<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let start = text.find(&format!("\"{name}\""))?;
    let open = start + text[start..].find('{')?;
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in text[open..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '{' if !in_string => depth += 1,
            '}' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[open..open + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channels(bills: &[FundBill]) -> Vec<&str> {
        bills.iter().map(|b| b.channel.as_str()).collect()
    }

    #[test]
    fn o8_fund_bill_lists_are_read_plain_and_html_escaped() {
        let plain = r#"[{"amount":"10.00","fundChannel":"ALIPAYACCOUNT"},{"amount":"5.00","fundChannel":"PCREDIT"}]"#;
        assert_eq!(
            channels(&fund_bills(plain).unwrap()),
            ["ALIPAYACCOUNT", "PCREDIT"]
        );
        let escaped = plain.replace('"', "&quot;");
        assert_eq!(fund_bills(&escaped).unwrap(), fund_bills(plain).unwrap());
        let query = serde_json::json!([
            { "fund_channel": "BANKCARD", "amount": "1.00", "fund_type": "CREDIT_CARD" }
        ]);
        let card = fund_bills_of(&query).unwrap();
        assert_eq!(card[0].fund_type.as_deref(), Some("CREDIT_CARD"));
        for bad in ["", "ALIPAYACCOUNT", "{}", r#"[{"amount":"1.00"}]"#] {
            assert!(fund_bills(bad).is_err(), "{bad}");
        }
        assert!(fund_bills("[]").unwrap().is_empty());
    }

    #[test]
    fn o8_a_notification_carries_its_funding_and_an_unreadable_one_is_malformed() {
        let mut params: Vec<(String, String)> = [
            ("notify_id", "n1"),
            ("out_trade_no", "pay_1"),
            ("trade_no", "2026"),
            ("trade_status", "TRADE_SUCCESS"),
            ("total_amount", "10.00"),
            ("app_id", "2021"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert!(read_notification(&params).unwrap().fund_bills.is_empty());
        params.push((
            "fund_bill_list".into(),
            r#"[{"amount":"10.00","fundChannel":"CREDIT_CARD"}]"#.into(),
        ));
        assert_eq!(
            channels(&read_notification(&params).unwrap().fund_bills),
            ["CREDIT_CARD"]
        );
        params.last_mut().unwrap().1 = "garbage".into();
        assert!(matches!(
            read_notification(&params),
            Err(VerifyError::Malformed(_))
        ));
    }

    #[test]
    fn beijing_times_round_trip() {
        let t: DateTime<Utc> = "2026-11-22T07:00:09Z".parse().unwrap();
        assert_eq!(beijing(t), "2026-11-22 15:00:09");
        assert_eq!(beijing_time("2026-11-22 15:00:09"), Some(t));
    }
}
