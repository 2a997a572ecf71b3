//! L10: partner listings (合作方一口价). Partners are operator-defined platforms that feed
//! fixed-price listings of domains NOT registered here, over requests signed with their HMAC
//! key; buyers need no real-name verification or bound Alipay and pay by account balance or
//! offline bank transfer; delivery goes through the partner. Pure: the signed string, the
//! freshness rule and the partner order's states.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::domain_name::DomainName;
use super::error::{Code, Problem};
use super::ids::{AccountId, ListingId, OrderId, PaymentId};
use super::money::Money;

/// How far a signed request's `X-Timestamp` may be from the server's clock, either way.
pub const SIGNATURE_TOLERANCE: Duration = Duration::minutes(5);

/// How long a nonce is remembered: past the tolerance on both sides, a replay is stale anyway.
pub const NONCE_TTL: Duration = Duration::minutes(11);

/// L10: an offline bank transfer must arrive within this long, else the order expires.
pub const TRANSFER_WINDOW: Duration = Duration::days(3);

/// A partner id: 1–40 of `a-z`, `0-9`, `-`, `_` (it is part of keys and of the signed
/// headers).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartnerId(String);

impl PartnerId {
    pub fn parse(text: &str) -> Result<PartnerId, Problem> {
        let ok = !text.is_empty()
            && text.len() <= 40
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c));
        if ok {
            Ok(PartnerId(text.to_owned()))
        } else {
            Err(Problem::new(
                Code::InvalidRequest,
                "a partner id is 1-40 of a-z, 0-9, - and _",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The account id partner listings carry as their seller: `@` never starts an account
    /// id the identity provider issues (they are emails or plain names), and every seller
    /// path refuses a listing with a `partner` anyway.
    pub fn seller_account(&self) -> AccountId {
        AccountId::parse(&format!("@partner.{}", self.0)).expect("a partner id makes an account id")
    }
}

impl std::str::FromStr for PartnerId {
    type Err = Problem;

    fn from_str(text: &str) -> Result<PartnerId, Problem> {
        PartnerId::parse(text)
    }
}

impl std::fmt::Display for PartnerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A partner as the operator defined it (its key is not here: Secrets Manager or config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    pub id: PartnerId,
    pub name: String,
    /// Where deliveries are announced (a signed POST).
    pub webhook_url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The partner a listing comes from, kept on the listing (browse shows its name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerRef {
    pub id: PartnerId,
    pub name: String,
}

/// The exact bytes a partner signs (and the marketplace signs its webhooks with):
/// `METHOD \n PATH \n TIMESTAMP \n NONCE \n BODY`, the method upper-case, the path as sent
/// (without query), the timestamp in Unix seconds as sent, the body's raw bytes (empty for
/// DELETE). No field before the body can hold a newline (HTTP headers and paths cannot), so
/// the string is unambiguous.
pub fn canonical_request(
    method: &str,
    path: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!(
        "{}\n{path}\n{timestamp}\n{nonce}\n",
        method.to_ascii_uppercase()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A nonce: 8–64 of letters, digits, `-`, `_`.
pub fn check_nonce(nonce: &str) -> Result<(), Problem> {
    let ok = (8..=64).contains(&nonce.len())
        && nonce
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
            Code::PartnerSignatureInvalid,
            "X-Nonce must be 8-64 letters, digits, - or _",
        ))
    }
}

/// The 5-minute tolerance: `timestamp` (Unix seconds) within [`SIGNATURE_TOLERANCE`] of `now`.
pub fn check_fresh(timestamp: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Problem> {
    let at = timestamp
        .parse::<i64>()
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .ok_or_else(|| {
            Problem::new(
                Code::PartnerSignatureInvalid,
                "X-Timestamp must be Unix seconds",
            )
        })?;
    if (now - at).abs() > SIGNATURE_TOLERANCE {
        return Err(Problem::new(
            Code::PartnerRequestStale,
            "X-Timestamp is more than 5 minutes from the server's time",
        ));
    }
    Ok(at)
}

/// How a partner order is paid (L10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerPayment {
    /// From the buyer's account balance, at once.
    Balance,
    /// An offline bank transfer with a reference code, confirmed by an operator.
    BankTransfer,
    /// Online through the provider (Alipay), inside the payment window.
    Alipay,
}

impl PartnerPayment {
    pub fn parse(text: &str) -> Result<PartnerPayment, Problem> {
        match text {
            "balance" => Ok(PartnerPayment::Balance),
            "bank_transfer" => Ok(PartnerPayment::BankTransfer),
            "alipay" => Ok(PartnerPayment::Alipay),
            _ => Err(Problem::new(
                Code::PaymentMethodNotAllowed,
                "payment is balance, alipay or bank_transfer",
            )),
        }
    }
}

/// Lifecycle of a partner order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum PartnerOrderStatus {
    /// Alipay: waiting for the provider's payment until `pay_by`.
    AwaitingPayment,
    /// Bank transfer: waiting for the money (and an operator's confirmation) until `pay_by`.
    AwaitingTransfer,
    /// Paid; the partner was told and its confirmation is awaited.
    Delivering,
    /// The partner delivered: the sale is complete.
    Completed,
    /// The partner could not deliver: the buyer's money went back.
    Refunded,
    /// Not paid in time (no transfer within [`TRANSFER_WINDOW`], no Alipay payment within
    /// the payment window).
    Expired,
}

/// One partner listing bought (one order per domain: each is delivered or fails alone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartnerOrder {
    pub id: OrderId,
    pub buyer: AccountId,
    pub partner: PartnerRef,
    pub listing_id: ListingId,
    pub domain: DomainName,
    pub price: Money,
    pub payment: PartnerPayment,
    pub status: PartnerOrderStatus,
    /// Bank transfer: the code the buyer writes on the transfer.
    pub reference: Option<String>,
    /// Bank transfer, Alipay: the end of the window.
    pub pay_by: Option<DateTime<Utc>>,
    /// Alipay: the payment attempt (`out_trade_no`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<PaymentId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A bank-transfer reference code from an order id: short enough to type, unique with it.
pub fn transfer_reference(order: &OrderId) -> String {
    let tail = order.as_str().trim_start_matches("ord_");
    format!(
        "PT-{}",
        tail[tail.len().saturating_sub(10)..].to_ascii_uppercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l10_the_canonical_string_is_method_path_timestamp_nonce_body() {
        let s = canonical_request(
            "put",
            "/partner/listings/a.com",
            "1700000000",
            "n0nce123",
            b"{}",
        );
        assert_eq!(s, b"PUT\n/partner/listings/a.com\n1700000000\nn0nce123\n{}");
    }

    #[test]
    fn l10_five_minutes_either_way() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert!(check_fresh("1700000300", now).is_ok());
        assert!(check_fresh("1699999700", now).is_ok());
        assert_eq!(
            check_fresh("1700000301", now).unwrap_err().code,
            Code::PartnerRequestStale
        );
        assert_eq!(
            check_fresh("soon", now).unwrap_err().code,
            Code::PartnerSignatureInvalid
        );
    }

    #[test]
    fn l10_partner_ids_and_their_seller_accounts() {
        assert!(PartnerId::parse("acme-1").is_ok());
        assert!(PartnerId::parse("Acme").is_err());
        assert_eq!(
            PartnerId::parse("acme")
                .unwrap()
                .seller_account()
                .to_string(),
            "@partner.acme"
        );
    }
}

/// L10's journals (S1: each balanced, its id naming its cause so a replay writes nothing).
pub mod journals {
    use chrono::{DateTime, Utc};
    use rust_decimal::Decimal;

    use super::PartnerOrder;
    use crate::ids::AccountId;
    use crate::ledger::{posting, EntryKind, Journal, LedgerAccount};

    fn journal(
        id: String,
        order: &PartnerOrder,
        at: DateTime<Utc>,
        postings: Vec<crate::ledger::Posting>,
    ) -> Journal {
        Journal {
            id,
            at,
            order_id: Some(order.id.clone()),
            push_id: None,
            payment_id: None,
            domain: Some(order.domain.to_string()),
            payout_id: None,
            reason: None,
            postings,
        }
    }

    /// Paid from the buyer's balance, or by a confirmed bank transfer: into escrow.
    pub fn paid(order: &PartnerOrder, at: DateTime<Utc>) -> Journal {
        let price = order.price.amount();
        let from = match order.payment {
            super::PartnerPayment::Balance => LedgerAccount::BuyerBalance(order.buyer.clone()),
            super::PartnerPayment::BankTransfer => LedgerAccount::BankTransfers,
            // Alipay money is received by `ledger::payment_received`, not here.
            super::PartnerPayment::Alipay => LedgerAccount::Provider,
        };
        journal(
            format!("partner_paid:{}", order.id),
            order,
            at,
            vec![
                posting(from, EntryKind::Payment, -price),
                posting(
                    LedgerAccount::Escrow(order.buyer.clone()),
                    EntryKind::Payment,
                    price,
                ),
            ],
        )
    }

    /// The partner delivered: escrow pays the partner's payable account (no seller here).
    pub fn sale(order: &PartnerOrder, at: DateTime<Utc>) -> Journal {
        let price = order.price.amount();
        journal(
            format!("partner_sale:{}", order.id),
            order,
            at,
            vec![
                posting(
                    LedgerAccount::Escrow(order.buyer.clone()),
                    EntryKind::Purchase,
                    -price,
                ),
                posting(
                    LedgerAccount::PartnerPayable(order.partner.id.to_string()),
                    EntryKind::Sale,
                    price,
                ),
            ],
        )
    }

    /// The partner could not deliver: the whole price back to the buyer's balance (an
    /// offline transfer too: the platform has no account to send it back to; the buyer
    /// spends it or asks the operator).
    pub fn refund(order: &PartnerOrder, at: DateTime<Utc>) -> Journal {
        let price = order.price.amount();
        journal(
            format!("partner_refund:{}", order.id),
            order,
            at,
            vec![
                posting(
                    LedgerAccount::Escrow(order.buyer.clone()),
                    EntryKind::Refund,
                    -price,
                ),
                posting(
                    LedgerAccount::BuyerBalance(order.buyer.clone()),
                    EntryKind::Refund,
                    price,
                ),
            ],
        )
    }

    /// A top-up paid through the provider: into the buyer's balance.
    pub fn top_up(
        payment_id: &crate::ids::PaymentId,
        buyer: &AccountId,
        amount: Decimal,
        at: DateTime<Utc>,
    ) -> Journal {
        Journal {
            id: format!("topup:{payment_id}"),
            at,
            order_id: None,
            push_id: None,
            payment_id: Some(payment_id.clone()),
            domain: None,
            payout_id: None,
            reason: None,
            postings: vec![
                posting(LedgerAccount::Provider, EntryKind::Payment, -amount),
                posting(
                    LedgerAccount::BuyerBalance(buyer.clone()),
                    EntryKind::Payment,
                    amount,
                ),
            ],
        }
    }
}
