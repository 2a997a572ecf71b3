//! The Alipay adapter of the payment port: page-pay URLs, RSA2 notification verification,
//! `alipay.trade.query` (O6) and `alipay.trade.refund` (S1) through Alipay's gateway.
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::keys::{AlipayKeys, KeySource, SecretKeys};
use super::rsa2::{self};
use super::wire::{beijing, beijing_time, fund_bills_of, raw_object, verify_notification};
use market_app::ports::payment::{
    Merchant, Notification, PayRequest, PaymentProvider, RefundOutcome, RefundRequest, TradeQuery,
    TradeStatus, VerifyError,
};
use market_core::money::Money;

/// The Alipay adapter's settings.
pub struct AlipayConfig {
    /// The identity and keys (from Secrets Manager in the cloud, see `payment::keys`).
    pub keys: KeySource,
    /// `https://openapi.alipay.com/gateway.do` in production.
    pub gateway: String,
    pub notify_url: Option<String>,
}

impl AlipayConfig {
    /// From the environment; `None` when no Alipay identity is configured at all.
    ///
    /// - `ALIPAY_SECRET_ARN` (the cloud): the secret holding the identity and the keys, read
    ///   on first use;
    /// - otherwise `ALIPAY_APP_ID`, `ALIPAY_SELLER_ID`, `ALIPAY_PUBLIC_KEY_PEM` and optionally
    ///   `ALIPAY_APP_PRIVATE_KEY_PEM` (the local runner);
    ///
    /// and optionally `ALIPAY_GATEWAY`, `ALIPAY_NOTIFY_URL`.
    pub fn from_env() -> anyhow::Result<Option<AlipayConfig>> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let keys = if let Some(secret) = var("ALIPAY_SECRET_ARN") {
            KeySource::Secret(SecretKeys::new(secret))
        } else {
            let (Some(app_id), Some(seller_id), Some(public)) = (
                var("ALIPAY_APP_ID"),
                var("ALIPAY_SELLER_ID"),
                var("ALIPAY_PUBLIC_KEY_PEM"),
            ) else {
                return Ok(None);
            };
            KeySource::Ready(Arc::new(AlipayKeys {
                app_id,
                seller_id,
                alipay_public_key: rsa2::parse_public_key(&public)?,
                app_private_key: var("ALIPAY_APP_PRIVATE_KEY_PEM")
                    .map(|k| rsa2::parse_private_key(&k))
                    .transpose()?,
            }))
        };
        Ok(Some(AlipayConfig {
            keys,
            gateway: var("ALIPAY_GATEWAY")
                .unwrap_or_else(|| "https://openapi.alipay.com/gateway.do".into()),
            notify_url: var("ALIPAY_NOTIFY_URL"),
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
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(AlipayProvider { config, http })
    }

    /// The signed common parameters of a call (`biz_content` as JSON).
    async fn signed_params(
        &self,
        method: &str,
        biz: &Value,
        now: DateTime<Utc>,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<Vec<(String, String)>> {
        let keys = self.config.keys.keys().await?;
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
        params.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let signature = rsa2::sign(key, &rsa2::request_signing_string(&params));
        params.push(("sign".into(), signature));
        Ok(params)
    }

    /// Calls the gateway and returns the verified `<method>_response` object.
    async fn call(&self, method: &str, biz: Value, now: DateTime<Utc>) -> anyhow::Result<Value> {
        let params = self.signed_params(method, &biz, now, &[]).await?;
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
        let keys = self.config.keys.keys().await?;
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
        let notify = self.config.notify_url.clone().unwrap_or_default();
        let extra: Vec<(&str, &str)> = if notify.is_empty() {
            vec![]
        } else {
            vec![("notify_url", notify.as_str())]
        };
        let params = self
            .signed_params("alipay.trade.page.pay", &biz, request.now, &extra)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_objects_are_cut_exactly_as_sent() {
        let text = r#"{"alipay_trade_query_response":{"code":"10000","msg":"a}\"{b","x":{"y":1}},"sign":"s"}"#;
        assert_eq!(
            raw_object(text, "alipay_trade_query_response"),
            Some(r#"{"code":"10000","msg":"a}\"{b","x":{"y":1}}"#)
        );
    }
}
