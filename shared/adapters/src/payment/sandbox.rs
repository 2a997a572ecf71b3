//! The payment provider port (Alipay in the cloud, see `alipay`) and the sandbox provider of
//! the local runner, which signs with a key pair of its own exactly as Alipay does and sends
//! its notifications through the same notify route.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use market_app::store::{Expect, Item, Store, StoreError, Write};
use serde::{Deserialize, Serialize};

use super::rsa2::{self, PrivateKey, PublicKey};
use super::wire::{beijing, fund_bills, verify_notification};
use market_core::money::Money;

use market_app::ports::payment::*;

/// One key pair per process: every sandbox of a process (the local runner's, a test's
/// scenes) signs with the same key, so any of them verifies another's notifications.
fn sandbox_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate().expect("RSA key generation"))
}

/// The calls the sandbox can be made to fail (`POST /dev/provider/fail-next`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Refund,
    Transfer,
    Query,
}

/// How a failed call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// The provider answers with a failure and does nothing: a refund or a query is not
    /// done (the caller tries again); a transfer is refused for good (nothing paid).
    Error,
    /// The call does happen at the provider, but its answer never reaches the caller.
    Timeout,
}

/// A transfer the sandbox made: payout id → what was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxTransfer {
    pub amount: Money,
    pub payee_account: String,
    pub payee_name: Option<String>,
    pub provider_ref: String,
}

/// The local runner's provider: plays Alipay with its own RSA2 key pair. It remembers the
/// trades it reported (for `query`), the refunds and the transfers it made; tests (and
/// `POST /dev/provider/fail-next`) can make its next calls fail or time out, to show the
/// retries and lookups.
pub struct SandboxProvider {
    key: PrivateKey,
    public: PublicKey,
    app_id: String,
    seller_id: String,
    base_url: String,
    trades: Mutex<HashMap<String, TradeQuery>>,
    kept_trades: Mutex<HashMap<String, KeptTrade>>,
    refunds: Mutex<HashMap<String, (String, Money)>>,
    transfers: Mutex<HashMap<String, SandboxTransfer>>,
    transfer_calls: std::sync::atomic::AtomicUsize,
    failing: Mutex<HashMap<Operation, (u32, FailMode)>>,
    /// Where the sandbox keeps its key and what it did, across restarts (the local
    /// runner's store); `None`: this process only.
    kept: Option<Arc<dyn Store>>,
}

/// A trade as the sandbox keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeptTrade {
    raw_status: String,
    trade_no: String,
    total_amount: Option<Money>,
    paid_at: Option<DateTime<Utc>>,
    fund_bill_list: Option<String>,
}

impl KeptTrade {
    fn query(&self) -> TradeQuery {
        TradeQuery {
            status: TradeStatus::parse(&self.raw_status),
            raw_status: self.raw_status.clone(),
            trade_no: self.trade_no.clone(),
            total_amount: self.total_amount,
            paid_at: self.paid_at,
            fund_bills: self
                .fund_bill_list
                .as_deref()
                .and_then(|list| fund_bills(list).ok())
                .unwrap_or_default(),
        }
    }
}

/// A transfer or refund as the sandbox keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeptMoney {
    amount: Money,
    /// The trade refunded, or the payee paid.
    to: String,
    payee_name: Option<String>,
    provider_ref: String,
}

fn kept_key(kind: &str, id: &str) -> (String, String) {
    (format!("SANDBOX#{kind}#{id}"), "S".into())
}

/// Writes `value` at `key`, over whatever is there.
async fn keep<T: Serialize>(
    store: &dyn Store,
    key: (String, String),
    value: &T,
) -> anyhow::Result<()> {
    let body = serde_json::to_string(value)?;
    for _ in 0..8 {
        let expect = match store.get(&key.0, &key.1).await? {
            Some(found) => Expect::Version(found.version),
            None => Expect::Absent,
        };
        let item = Item::new(key.0.clone(), key.1.clone(), body.clone());
        match store.transact(vec![Write::Put(item, expect)]).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    anyhow::bail!("the sandbox could not keep {}: busy", key.0)
}

async fn kept<T: for<'de> Deserialize<'de>>(
    store: &dyn Store,
    key: (String, String),
) -> anyhow::Result<Option<T>> {
    match store.get(&key.0, &key.1).await? {
        Some(found) => Ok(Some(serde_json::from_str(&found.body)?)),
        None => Ok(None),
    }
}

impl SandboxProvider {
    /// A sandbox whose pay URLs point at `base_url`.
    pub fn new(base_url: impl Into<String>) -> SandboxProvider {
        let key = sandbox_key().clone();
        SandboxProvider {
            public: key.public_key(),
            key,
            app_id: "2021000000000000".into(),
            seller_id: "2088000000000000".into(),
            base_url: base_url.into(),
            trades: Mutex::new(HashMap::new()),
            kept_trades: Mutex::new(HashMap::new()),
            refunds: Mutex::new(HashMap::new()),
            transfers: Mutex::new(HashMap::new()),
            transfer_calls: std::sync::atomic::AtomicUsize::new(0),
            failing: Mutex::new(HashMap::new()),
            kept: None,
        }
    }

    /// A sandbox that keeps its key pair, its trades, refunds and transfers in `store`, so
    /// that after a restart on the same data it verifies what it signed before and answers
    /// lookups about it. The key is made on first start.
    pub async fn durable(
        base_url: impl Into<String>,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<SandboxProvider> {
        #[derive(Serialize, Deserialize)]
        struct KeptKey {
            pkcs8_pem: String,
        }
        let key_at = kept_key("key", "rsa2");
        let key = match kept::<KeptKey>(&*store, key_at.clone()).await? {
            Some(found) => rsa2::parse_private_key(&found.pkcs8_pem)?,
            None => {
                let fresh = PrivateKey::generate()?;
                let item = Item::new(
                    key_at.0.clone(),
                    key_at.1.clone(),
                    serde_json::to_string(&KeptKey {
                        pkcs8_pem: fresh.private_key_pem(),
                    })?,
                );
                match store.transact(vec![Write::Put(item, Expect::Absent)]).await {
                    Ok(()) => fresh,
                    // Another process made it first: use that one.
                    Err(StoreError::Conflict { .. }) => {
                        let found: KeptKey = kept(&*store, key_at)
                            .await?
                            .ok_or_else(|| anyhow::anyhow!("the sandbox key vanished"))?;
                        rsa2::parse_private_key(&found.pkcs8_pem)?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let mut sandbox = SandboxProvider::new(base_url);
        sandbox.public = key.public_key();
        sandbox.key = key;
        sandbox.kept = Some(store);
        Ok(sandbox)
    }

    /// Keeps what the sandbox reported of a trade (after [`SandboxProvider::notification`])
    /// so that a restarted sandbox still answers `query` about it.
    pub async fn keep_trade(&self, out_trade_no: &str) -> anyhow::Result<()> {
        let (Some(store), Some(trade)) = (
            &self.kept,
            self.kept_trades
                .lock()
                .expect("sandbox lock")
                .get(out_trade_no)
                .cloned(),
        ) else {
            return Ok(());
        };
        keep(&**store, kept_key("trade", out_trade_no), &trade).await
    }

    /// A correctly signed notification for a trade, as Alipay would send it; the sandbox
    /// also remembers the trade's state for `query`.
    pub fn notification(
        &self,
        out_trade_no: &str,
        trade_status: &str,
        amount: Money,
        now: DateTime<Utc>,
    ) -> String {
        self.notification_funded(out_trade_no, trade_status, amount, now, None)
    }

    /// [`SandboxProvider::notification`] with a `fund_bill_list` as Alipay sends it (a JSON
    /// array in a string, possibly HTML-escaped), which `query` then reports too (O8).
    pub fn notification_funded(
        &self,
        out_trade_no: &str,
        trade_status: &str,
        amount: Money,
        now: DateTime<Utc>,
        fund_bill_list: Option<&str>,
    ) -> String {
        let trade_no = format!("2026{}", out_trade_no.trim_start_matches("pay_"));
        let mut params = vec![
            (
                "notify_id".into(),
                format!("ntf_{}", ulid::Ulid::new().to_string().to_lowercase()),
            ),
            ("notify_time".into(), beijing(now)),
            ("notify_type".into(), "trade_status_sync".into()),
            ("app_id".into(), self.app_id.clone()),
            ("seller_id".into(), self.seller_id.clone()),
            ("out_trade_no".into(), out_trade_no.into()),
            ("trade_no".into(), trade_no.clone()),
            ("trade_status".into(), trade_status.into()),
            ("total_amount".into(), amount.to_string()),
            ("gmt_payment".into(), beijing(now)),
            ("charset".into(), "utf-8".into()),
            ("version".into(), "1.0".into()),
        ];
        if let Some(list) = fund_bill_list {
            params.push(("fund_bill_list".into(), list.to_owned()));
        }
        let params = self.sign_notification(params);
        self.kept_trades.lock().expect("sandbox lock").insert(
            out_trade_no.to_owned(),
            KeptTrade {
                raw_status: trade_status.to_owned(),
                trade_no: trade_no.clone(),
                total_amount: Some(amount),
                paid_at: Some(now),
                fund_bill_list: fund_bill_list.map(str::to_owned),
            },
        );
        self.trades.lock().expect("sandbox lock").insert(
            out_trade_no.to_owned(),
            TradeQuery {
                status: TradeStatus::parse(trade_status),
                raw_status: trade_status.to_owned(),
                trade_no,
                total_amount: Some(amount),
                paid_at: Some(now),
                fund_bills: fund_bill_list
                    .and_then(|list| fund_bills(list).ok())
                    .unwrap_or_default(),
            },
        );
        serde_urlencoded::to_string(&params).expect("strings encode")
    }

    /// Signs arbitrary notification parameters with the sandbox key (tests use it to make
    /// validly signed notifications with wrong contents).
    pub fn sign_notification(&self, mut params: Vec<(String, String)>) -> Vec<(String, String)> {
        let signature = rsa2::sign(&self.key, &rsa2::notification_signing_string(&params));
        params.push(("sign_type".into(), "RSA2".into()));
        params.push(("sign".into(), signature));
        params
    }

    /// The sandbox's public key, PEM (what `ALIPAY_PUBLIC_KEY_PEM` would hold).
    pub fn public_key_pem(&self) -> String {
        self.key.public_key_pem()
    }

    /// Makes the next `count` calls of `operation` fail as `mode` says (0 clears).
    pub fn fail_next(&self, operation: Operation, count: u32, mode: FailMode) {
        self.failing
            .lock()
            .expect("sandbox lock")
            .insert(operation, (count, mode));
    }

    /// Makes the next `n` lookups (trades and transfers) fail (the provider does not answer).
    pub fn fail_next_queries(&self, n: u32) {
        self.fail_next(Operation::Query, n, FailMode::Error);
    }

    /// Makes the next `n` refunds fail (the provider is down).
    pub fn fail_next_refunds(&self, n: u32) {
        self.fail_next(Operation::Refund, n, FailMode::Error);
    }

    /// Takes one planned failure of `operation`, if any is left.
    fn failure(&self, operation: Operation) -> Option<FailMode> {
        let mut failing = self.failing.lock().expect("sandbox lock");
        let (left, mode) = failing.get_mut(&operation)?;
        if *left == 0 {
            return None;
        }
        *left -= 1;
        Some(*mode)
    }

    /// The refunds made so far: refund id → (out_trade_no, amount).
    pub fn refunds(&self) -> HashMap<String, (String, Money)> {
        self.refunds.lock().expect("sandbox lock").clone()
    }

    /// How many transfer calls were made (resends of one payout included).
    pub fn transfer_calls(&self) -> usize {
        self.transfer_calls
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The transfers made so far: payout id → what was paid.
    pub fn transfers(&self) -> HashMap<String, SandboxTransfer> {
        self.transfers.lock().expect("sandbox lock").clone()
    }
}

#[async_trait]
impl PaymentProvider for SandboxProvider {
    async fn pay_url(&self, request: &PayRequest<'_>) -> anyhow::Result<String> {
        Ok(format!(
            "{}/dev/payments/{}/complete",
            self.base_url, request.out_trade_no
        ))
    }

    async fn verify(&self, form_body: &str) -> Result<Notification, VerifyError> {
        verify_notification(&self.public, form_body)
    }

    async fn merchant(&self) -> anyhow::Result<Merchant> {
        Ok(Merchant {
            app_id: self.app_id.clone(),
            seller_id: self.seller_id.clone(),
        })
    }

    async fn query(&self, out_trade_no: &str, _now: DateTime<Utc>) -> anyhow::Result<TradeQuery> {
        if self.failure(Operation::Query).is_some() {
            anyhow::bail!("sandbox: the provider did not answer");
        }
        let known = self
            .trades
            .lock()
            .expect("sandbox lock")
            .get(out_trade_no)
            .cloned();
        if let Some(trade) = known {
            return Ok(trade);
        }
        Ok(match &self.kept {
            Some(store) => kept::<KeptTrade>(&**store, kept_key("trade", out_trade_no))
                .await?
                .map(|t| t.query())
                .unwrap_or_default(),
            None => TradeQuery::default(),
        })
    }

    async fn refund(
        &self,
        request: &RefundRequest<'_>,
        _now: DateTime<Utc>,
    ) -> anyhow::Result<RefundOutcome> {
        let failure = self.failure(Operation::Refund);
        if failure == Some(FailMode::Error) {
            anyhow::bail!("sandbox: the provider is unavailable");
        }
        // Idempotent per refund id, as Alipay's out_request_no.
        self.refunds
            .lock()
            .expect("sandbox lock")
            .entry(request.refund_id.to_owned())
            .or_insert_with(|| (request.out_trade_no.to_owned(), request.amount));
        if let Some(store) = &self.kept {
            let key = kept_key("refund", request.refund_id);
            if kept::<KeptMoney>(&**store, key.clone()).await?.is_none() {
                let refund = KeptMoney {
                    amount: request.amount,
                    to: request.out_trade_no.to_owned(),
                    payee_name: None,
                    provider_ref: request.refund_id.to_owned(),
                };
                keep(&**store, key, &refund).await?;
            }
        }
        if failure == Some(FailMode::Timeout) {
            anyhow::bail!("sandbox: the refund was made but its answer timed out");
        }
        Ok(RefundOutcome::Confirmed)
    }

    async fn transfer(
        &self,
        request: &TransferRequest<'_>,
        _now: DateTime<Utc>,
    ) -> anyhow::Result<TransferState> {
        self.transfer_calls
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let failure = self.failure(Operation::Transfer);
        if failure == Some(FailMode::Error) {
            return Ok(TransferState::Failed {
                reason: "PAYEE_NOT_EXIST: the sandbox refused this transfer (fail-next)".into(),
            });
        }
        // Idempotent per payout id, as Alipay's out_biz_no: a retry is answered, not paid
        // (after a restart too).
        if let Some(store) = &self.kept {
            if let Some(done) =
                kept::<KeptMoney>(&**store, kept_key("transfer", request.payout_id)).await?
            {
                self.transfers
                    .lock()
                    .expect("sandbox lock")
                    .entry(request.payout_id.to_owned())
                    .or_insert_with(|| SandboxTransfer {
                        amount: done.amount,
                        payee_account: done.to.clone(),
                        payee_name: done.payee_name.clone(),
                        provider_ref: done.provider_ref.clone(),
                    });
            }
        }
        let paid = self
            .transfers
            .lock()
            .expect("sandbox lock")
            .entry(request.payout_id.to_owned())
            .or_insert_with(|| SandboxTransfer {
                amount: request.amount,
                payee_account: request.payee_account.to_owned(),
                payee_name: request.payee_name.map(str::to_owned),
                provider_ref: format!("2026{}", request.payout_id.trim_start_matches("po_")),
            })
            .clone();
        if let Some(store) = &self.kept {
            let kept_transfer = KeptMoney {
                amount: paid.amount,
                to: paid.payee_account.clone(),
                payee_name: paid.payee_name.clone(),
                provider_ref: paid.provider_ref.clone(),
            };
            keep(
                &**store,
                kept_key("transfer", request.payout_id),
                &kept_transfer,
            )
            .await?;
        }
        if failure == Some(FailMode::Timeout) {
            anyhow::bail!("sandbox: the transfer was made but its answer timed out");
        }
        Ok(TransferState::Paid {
            provider_ref: paid.provider_ref,
        })
    }

    async fn transfer_status(
        &self,
        payout_id: &str,
        _kind: market_core::payout::PayeeKind,
        _now: DateTime<Utc>,
    ) -> anyhow::Result<TransferState> {
        if self.failure(Operation::Query).is_some() {
            anyhow::bail!("sandbox: the provider did not answer");
        }
        let known = self
            .transfers
            .lock()
            .expect("sandbox lock")
            .get(payout_id)
            .map(|paid| paid.provider_ref.clone());
        let known = match (known, &self.kept) {
            (Some(found), _) => Some(found),
            (None, Some(store)) => kept::<KeptMoney>(&**store, kept_key("transfer", payout_id))
                .await?
                .map(|t| t.provider_ref),
            (None, None) => None,
        };
        Ok(match known {
            Some(provider_ref) => TransferState::Paid { provider_ref },
            None => TransferState::NotFound,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sandbox_notifications_verify_and_tampering_does_not() {
        let sandbox = SandboxProvider::new("http://x");
        let body = sandbox.notification(
            "pay_1",
            "TRADE_SUCCESS",
            Money::parse("10.00").unwrap(),
            Utc::now(),
        );
        let n = sandbox.verify(&body).await.unwrap();
        assert_eq!(n.trade_status, TradeStatus::Paid);
        assert_eq!(n.total_amount.to_string(), "10.00");
        let forged = body.replace("total_amount=10.00", "total_amount=1.00");
        assert_eq!(
            sandbox.verify(&forged).await.unwrap_err(),
            VerifyError::BadSignature
        );
    }
}
