//! The Alipay adapter of the payment port: page-pay URLs, RSA2 notification verification,
//! `alipay.trade.query` (O6), `alipay.trade.refund` (S1), and seller payouts (S6) with
//! `alipay.fund.trans.uni.transfer` and `alipay.fund.trans.common.query`, through
//! Alipay's gateway. Every request is signed RSA2 with the app key and every answer's
//! signature verified; every call has a 10-second timeout, and a call that gets no
//! definite answer is an error (its outcome unknown), never a failure.
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::keys::{AlipayKeys, CertSerials, KeySource, SecretKeys};
use super::rsa2::{self};
use super::wire::{beijing, beijing_time, fund_bills_of, raw_object, verify_notification};
use market_app::ports::payment::{
    Merchant, Notification, PayRequest, PaymentProvider, RefundOutcome, RefundRequest, TradeQuery,
    TradeStatus, TransferRequest, TransferState, VerifyError,
};
use market_core::money::Money;
use market_core::payout::PayeeKind;

/// The Alipay adapter's settings.
pub struct AlipayConfig {
    /// The identity and keys (from Secrets Manager in the cloud, see `payment::keys`).
    pub keys: KeySource,
    /// The keys payouts are signed with (S6): only the functions that pay sellers have
    /// them (`ALIPAY_PAYOUT_SECRET_ARN`); without them a transfer is refused here.
    pub payout_keys: Option<KeySource>,
    /// `https://openapi.alipay.com/gateway.do` in production.
    pub gateway: String,
    pub notify_url: Option<String>,
    /// Where the cashier sends the buyer back after paying (`ALIPAY_RETURN_URL`: the web
    /// console in the cloud). Part of the signed request, so it cannot be added afterwards.
    pub return_url: Option<String>,
    /// How long one gateway call may take before its outcome counts as unknown: 10 s,
    /// or less with `ALIPAY_TIMEOUT_MS` (never more: a Lambda must not hang on Alipay).
    pub timeout: std::time::Duration,
}

/// The longest a gateway call may take.
pub const MAX_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl AlipayConfig {
    /// From the environment; `None` when no Alipay identity is configured at all.
    ///
    /// - `ALIPAY_SECRET_ARN` (the cloud): the secret holding the identity and the keys, read
    ///   on first use;
    /// - otherwise `ALIPAY_APP_ID`, `ALIPAY_SELLER_ID`, `ALIPAY_PUBLIC_KEY_PEM` and optionally
    ///   `ALIPAY_APP_PRIVATE_KEY_PEM` (the local runner);
    ///
    /// and optionally `ALIPAY_GATEWAY`, `ALIPAY_NOTIFY_URL`, `ALIPAY_RETURN_URL`,
    /// `ALIPAY_TIMEOUT_MS`.
    ///
    /// Payouts (S6) are signed with `ALIPAY_PAYOUT_SECRET_ARN`'s keys in the cloud (a
    /// function without it cannot pay anyone out), and with the local runner's keys locally.
    pub fn from_env() -> anyhow::Result<Option<AlipayConfig>> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let payout_secret = var("ALIPAY_PAYOUT_SECRET_ARN");
        let (keys, payout_keys) = if let Some(secret) = var("ALIPAY_SECRET_ARN") {
            (
                KeySource::Secret(SecretKeys::new(secret)),
                payout_secret.map(|s| KeySource::Secret(SecretKeys::new(s))),
            )
        } else if let Some(payout) = payout_secret {
            // A function that only pays out (the account function).
            (
                KeySource::Secret(SecretKeys::new(payout.clone())),
                Some(KeySource::Secret(SecretKeys::new(payout))),
            )
        } else {
            let (Some(app_id), Some(seller_id), Some(public)) = (
                var("ALIPAY_APP_ID"),
                var("ALIPAY_SELLER_ID"),
                var("ALIPAY_PUBLIC_KEY_PEM"),
            ) else {
                return Ok(None);
            };
            let keys = Arc::new(AlipayKeys {
                app_id,
                seller_id,
                alipay_public_key: rsa2::parse_public_key(&public)?,
                app_private_key: var("ALIPAY_APP_PRIVATE_KEY_PEM")
                    .map(|k| rsa2::parse_private_key(&k))
                    .transpose()?,
                cert_serials: CertSerials::from_parts(
                    var("ALIPAY_APP_CERT_SN"),
                    var("ALIPAY_ROOT_CERT_SN"),
                ),
            });
            (KeySource::Ready(keys.clone()), Some(KeySource::Ready(keys)))
        };
        Ok(Some(AlipayConfig {
            keys,
            payout_keys,
            gateway: var("ALIPAY_GATEWAY")
                .unwrap_or_else(|| "https://openapi.alipay.com/gateway.do".into()),
            notify_url: var("ALIPAY_NOTIFY_URL"),
            return_url: var("ALIPAY_RETURN_URL"),
            timeout: match var("ALIPAY_TIMEOUT_MS") {
                None => MAX_CALL_TIMEOUT,
                Some(ms) => std::time::Duration::from_millis(ms.parse().map_err(|_| {
                    anyhow::anyhow!("ALIPAY_TIMEOUT_MS must be a whole number of milliseconds")
                })?)
                .min(MAX_CALL_TIMEOUT),
            },
        }))
    }
}

/// reqwest's rustls takes the process's crypto provider: install the aws-lc one the AWS SDK
/// already links, rather than building a second TLS stack. Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The Alipay adapter.
pub struct AlipayProvider {
    config: AlipayConfig,
    http: reqwest::Client,
}

impl AlipayProvider {
    /// An adapter over `config`; the HTTP client is built once (no network call).
    pub fn new(config: AlipayConfig) -> anyhow::Result<AlipayProvider> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(config.timeout.min(MAX_CALL_TIMEOUT))
            .build()?;
        Ok(AlipayProvider { config, http })
    }

    /// The signed common parameters of a call (`biz_content` as JSON).
    async fn signed_params(
        &self,
        source: &KeySource,
        method: &str,
        biz: &Value,
        now: DateTime<Utc>,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<Vec<(String, String)>> {
        let keys = source.keys().await?;
        let key = keys.app_private_key.as_ref().ok_or_else(|| {
            anyhow::anyhow!("no app private key (app_private_key in the Alipay secret, or ALIPAY_APP_PRIVATE_KEY_PEM): cannot call Alipay")
        })?;
        let mut params: Vec<(String, String)> = vec![
            ("app_id".into(), keys.app_id.clone()),
            ("method".into(), method.into()),
            ("charset".into(), "utf-8".into()),
            ("sign_type".into(), "RSA2".into()),
            ("timestamp".into(), beijing(now)),
            ("version".into(), "1.0".into()),
            ("biz_content".into(), biz.to_string()),
        ];
        if let Some(serials) = &keys.cert_serials {
            params.push(("app_cert_sn".into(), serials.app_cert_sn.clone()));
            params.push((
                "alipay_root_cert_sn".into(),
                serials.alipay_root_cert_sn.clone(),
            ));
        }
        params.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let signature = rsa2::sign(key, &rsa2::request_signing_string(&params));
        params.push(("sign".into(), signature));
        Ok(params)
    }

    /// Calls the gateway with the trade keys and returns the verified answer.
    async fn call(&self, method: &str, biz: Value, now: DateTime<Utc>) -> anyhow::Result<Value> {
        self.call_with(&self.config.keys, method, biz, now).await
    }

    /// Calls the gateway with the payout keys (S6); refused where there are none.
    async fn payout_call(
        &self,
        method: &str,
        biz: Value,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Value> {
        let source = self.config.payout_keys.as_ref().ok_or_else(|| {
            anyhow::anyhow!("this function has no payout permission (ALIPAY_PAYOUT_SECRET_ARN)")
        })?;
        self.call_with(source, method, biz, now).await
    }

    /// Calls the gateway signed with `source`'s keys and returns the verified
    /// `<method>_response` object.
    async fn call_with(
        &self,
        source: &KeySource,
        method: &str,
        biz: Value,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Value> {
        let params = self.signed_params(source, method, &biz, now, &[]).await?;
        let text = self
            .http
            .post(&self.config.gateway)
            .form(&params)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let name = format!("{}_response", method.replace('.', "_"));
        let raw = raw_object(&text, &name)
            .ok_or_else(|| anyhow::anyhow!("no {name} in Alipay's answer"))?;
        let whole: Value = serde_json::from_str(&text)?;
        let signature = whole["sign"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("Alipay's answer is not signed"))?;
        let keys = source.keys().await?;
        if !rsa2::verify(&keys.alipay_public_key, raw, signature) {
            anyhow::bail!("Alipay's answer to {method} does not verify");
        }
        Ok(serde_json::from_str(raw)?)
    }
}

#[async_trait]
impl PaymentProvider for AlipayProvider {
    async fn pay_url(&self, request: &PayRequest<'_>) -> anyhow::Result<String> {
        // The provider closes the trade no later than our window (O3): whole minutes left,
        // rounded down, at least one (a payment in that last minute is refunded, E1).
        let minutes = ((request.expires_at - request.now).num_seconds() / 60).max(1);
        let biz = json!({
            "out_trade_no": request.out_trade_no,
            "total_amount": request.amount.to_string(),
            "subject": request.subject,
            "product_code": "FAST_INSTANT_TRADE_PAY",
            "timeout_express": format!("{minutes}m"),
            // O8, first line: the cashier offers no credit card, Huabei or instalments.
            "disable_pay_channels": market_core::funding::disabled_pay_channels(),
        });
        let extra: Vec<(&str, &str)> = [
            ("notify_url", &self.config.notify_url),
            ("return_url", &self.config.return_url),
        ]
        .into_iter()
        .filter_map(|(name, url)| url.as_deref().filter(|u| !u.is_empty()).map(|u| (name, u)))
        .collect();
        let params = self
            .signed_params(
                &self.config.keys,
                "alipay.trade.page.pay",
                &biz,
                request.now,
                &extra,
            )
            .await?;
        Ok(format!(
            "{}?{}",
            self.config.gateway,
            serde_urlencoded::to_string(params)?
        ))
    }

    async fn verify(&self, form_body: &str) -> Result<Notification, VerifyError> {
        let keys = self
            .config
            .keys
            .keys()
            .await
            .map_err(|e| VerifyError::Unavailable(format!("{e:#}")))?;
        verify_notification(&keys.alipay_public_key, form_body)
    }

    async fn merchant(&self) -> anyhow::Result<Merchant> {
        let keys = self.config.keys.keys().await?;
        Ok(Merchant {
            app_id: keys.app_id.clone(),
            seller_id: keys.seller_id.clone(),
        })
    }

    async fn query(&self, out_trade_no: &str, now: DateTime<Utc>) -> anyhow::Result<TradeQuery> {
        let answer = self
            .call(
                "alipay.trade.query",
                json!({ "out_trade_no": out_trade_no }),
                now,
            )
            .await?;
        match answer["code"].as_str() {
            Some("10000") => {}
            // ACQ.TRADE_NOT_EXIST: the buyer has not opened the payment page yet.
            _ if answer["sub_code"] == "ACQ.TRADE_NOT_EXIST" => return Ok(TradeQuery::default()),
            _ => anyhow::bail!("alipay.trade.query failed: {answer}"),
        }
        let text = |name: &str| answer[name].as_str().unwrap_or_default().to_owned();
        Ok(TradeQuery {
            status: TradeStatus::parse(&text("trade_status")),
            raw_status: text("trade_status"),
            trade_no: text("trade_no"),
            total_amount: Money::parse(&text("total_amount")).ok(),
            paid_at: beijing_time(&text("send_pay_date")),
            // O8: a refresh refuses credit as a notification does.
            fund_bills: match answer.get("fund_bill_list") {
                None | Some(Value::Null) => vec![],
                Some(list) => fund_bills_of(list)
                    .map_err(|e| anyhow::anyhow!("alipay.trade.query answer: {e}"))?,
            },
        })
    }

    async fn refund(
        &self,
        request: &RefundRequest<'_>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<RefundOutcome> {
        let biz = json!({
            "out_trade_no": request.out_trade_no,
            "refund_amount": request.amount.to_string(),
            // Alipay refunds once per out_request_no: a retry cannot refund twice.
            "out_request_no": request.refund_id,
            "refund_reason": request.reason,
        });
        let answer = self.call("alipay.trade.refund", biz, now).await?;
        match answer["code"].as_str() {
            Some("10000") => Ok(RefundOutcome::Confirmed),
            _ => anyhow::bail!("alipay.trade.refund failed: {answer}"),
        }
    }

    async fn transfer(
        &self,
        request: &TransferRequest<'_>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<TransferState> {
        let identity_type = match request.payee_kind {
            PayeeKind::Alipay => market_core::payout::identity_type(request.payee_account),
            // S4: a bank sub-account is paid as a corporate bank account.
            PayeeKind::BankAccount => "BANKCARD_ACCOUNT",
        };
        let product = transfer_product(request.payee_kind);
        let mut payee = json!({
            "identity": request.payee_account,
            "identity_type": identity_type,
        });
        if request.payee_kind == PayeeKind::BankAccount {
            payee["bankcard_ext_info"] = json!({ "account_type": "1" });
        }
        if let Some(name) = request.payee_name {
            // Alipay checks the name against the payee's verified name and refuses a mismatch.
            payee["name"] = json!(name);
        }
        let biz = json!({
            // Alipay pays one out_biz_no at most once: a retry cannot pay twice.
            "out_biz_no": request.payout_id,
            "trans_amount": request.amount.to_string(),
            "product_code": product,
            "biz_scene": TRANSFER_SCENE,
            "order_title": request.title,
            "payee_info": payee,
        });
        let answer = self
            .payout_call("alipay.fund.trans.uni.transfer", biz, now)
            .await?;
        if answer["code"] == "10000" {
            check_same_transfer(&answer, request.payout_id)?;
            return Ok(transfer_state(&answer));
        }
        match transfer_refusal(&answer) {
            Some(reason) => Ok(TransferState::Failed { reason }),
            None => anyhow::bail!("alipay.fund.trans.uni.transfer: no definite answer: {answer}"),
        }
    }

    async fn transfer_status(
        &self,
        payout_id: &str,
        kind: PayeeKind,
        now: DateTime<Utc>,
    ) -> anyhow::Result<TransferState> {
        let biz = json!({
            "out_biz_no": payout_id,
            "product_code": transfer_product(kind),
            "biz_scene": TRANSFER_SCENE,
        });
        let answer = self
            .payout_call("alipay.fund.trans.common.query", biz, now)
            .await?;
        match answer["code"].as_str() {
            Some("10000") => {
                check_same_transfer(&answer, payout_id)?;
                Ok(transfer_state(&answer))
            }
            _ if answer["sub_code"] == "ORDER_NOT_EXIST" => Ok(TransferState::NotFound),
            _ => anyhow::bail!("alipay.fund.trans.common.query failed: {answer}"),
        }
    }
}

/// S6: payouts are Alipay's "transfer to an Alipay account without a password" scene.
const TRANSFER_PRODUCT: &str = "TRANS_ACCOUNT_NO_PWD";
/// S4: the product of a transfer to a bank account.
const TRANSFER_PRODUCT_BANK: &str = "TRANS_BANKCARD_NO_PWD";

/// The product a transfer to a payee of `kind` is sent (and looked up) under.
fn transfer_product(kind: PayeeKind) -> &'static str {
    match kind {
        PayeeKind::Alipay => TRANSFER_PRODUCT,
        PayeeKind::BankAccount => TRANSFER_PRODUCT_BANK,
    }
}
const TRANSFER_SCENE: &str = "DIRECT_TRANSFER";

/// Reads the status word of a transfer (uni.transfer's and common.query's `status`).
fn transfer_state(answer: &Value) -> TransferState {
    let text = |name: &str| answer[name].as_str().unwrap_or_default().to_owned();
    match answer["status"].as_str() {
        Some("SUCCESS") => TransferState::Paid {
            provider_ref: text("order_id"),
        },
        Some("FAIL") | Some("REFUND") | Some("CLOSED") => TransferState::Failed {
            reason: [text("error_code"), text("fail_reason")]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(": "),
        },
        _ => TransferState::Processing,
    }
}

/// A signed answer about another transfer than the one asked about is no answer (its outcome
/// stays unknown): never record one payout with another's result.
fn check_same_transfer(answer: &Value, payout_id: &str) -> anyhow::Result<()> {
    match answer["out_biz_no"].as_str() {
        Some(other) if other != payout_id => {
            anyhow::bail!("Alipay answered about transfer {other}, not {payout_id}")
        }
        _ => Ok(()),
    }
}

/// Alipay's business failures of a transfer that are final (nothing was paid). Anything
/// else that is not a success (`20000` system busy, `SYSTEM_ERROR`, our own configuration
/// errors) leaves the outcome unknown.
fn transfer_refusal(answer: &Value) -> Option<String> {
    let sub_code = answer["sub_code"].as_str().unwrap_or_default();
    // "Same out_biz_no, other parameters": an earlier send of this payout may have paid.
    let unknown = sub_code.is_empty()
        || sub_code.contains("SYSTEM_ERROR")
        || sub_code.contains("PAYMENT_INFO_INCONSISTENCY");
    (answer["code"] == "40004" && !unknown).then(|| {
        format!(
            "{sub_code}: {}",
            answer["sub_msg"].as_str().unwrap_or_default()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s6_transfer_answers_are_read_as_paid_failed_or_unknown() {
        let paid = json!({"code":"10000","status":"SUCCESS","order_id":"2026x"});
        assert_eq!(
            transfer_state(&paid),
            TransferState::Paid {
                provider_ref: "2026x".into()
            }
        );
        assert_eq!(
            transfer_state(&json!({"code":"10000","status":"DEALING"})),
            TransferState::Processing
        );
        let refused =
            json!({"code":"40004","sub_code":"PAYEE_NOT_EXIST","sub_msg":"no such payee"});
        assert_eq!(
            transfer_refusal(&refused).as_deref(),
            Some("PAYEE_NOT_EXIST: no such payee")
        );
        let busy = json!({"code":"40004","sub_code":"SYSTEM_ERROR","sub_msg":"busy"});
        assert_eq!(transfer_refusal(&busy), None);
        let resent = json!({"code":"40004","sub_code":"PAYMENT_INFO_INCONSISTENCY","sub_msg":"x"});
        assert_eq!(
            transfer_refusal(&resent),
            None,
            "an earlier send may have paid"
        );
        assert_eq!(transfer_refusal(&json!({"code":"20000"})), None);
    }

    #[test]
    fn s6_an_answer_about_another_transfer_is_no_answer() {
        let answer = json!({"code":"10000","status":"SUCCESS","out_biz_no":"po_2"});
        assert!(check_same_transfer(&answer, "po_1").is_err());
        assert!(check_same_transfer(&answer, "po_2").is_ok());
    }

    #[test]
    fn raw_objects_are_cut_exactly_as_sent() {
        let text = r#"{"alipay_trade_query_response":{"code":"10000","msg":"a}\"{b","x":{"y":1}},"sign":"s"}"#;
        assert_eq!(
            raw_object(text, "alipay_trade_query_response"),
            Some(r#"{"code":"10000","msg":"a}\"{b","x":{"y":1}}"#)
        );
    }
}
