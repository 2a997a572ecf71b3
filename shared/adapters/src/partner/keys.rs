//! The partners' HMAC keys. The secret (or `MARKET_PARTNER_KEYS`) is a JSON object of
//! partner id → key, e.g. `{"acme": "k3y…"}`: one secret for every partner, so adding a
//! partner is an operator's secret update plus `PUT /admin/partners/{id}`. In the cloud the
//! secret named by `PARTNER_KEYS_SECRET_ARN` is read on first use and cached for the life
//! of the process (as the captcha and Alipay keys are); a failed read is not cached. Keys
//! are never printed: `PartnerKey` redacts them.
use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::OnceCell;

use market_app::ports::partner::PartnerKey;

/// Where the keys come from.
pub enum PartnerKeys {
    /// In hand (the local runner, tests).
    Ready(HashMap<String, PartnerKey>),
    /// A Secrets Manager secret, read on first use.
    Manager {
        secret_id: String,
        value: OnceCell<Arc<HashMap<String, PartnerKey>>>,
    },
}

impl PartnerKeys {
    /// No partner at all (a function that serves no partner route).
    pub fn none() -> PartnerKeys {
        PartnerKeys::Ready(HashMap::new())
    }

    /// The keys of a JSON object of id → key (`MARKET_PARTNER_KEYS`).
    pub fn from_json(text: &str) -> anyhow::Result<PartnerKeys> {
        Ok(PartnerKeys::Ready(parse(text)?))
    }

    /// The secret `secret_id` (ARN or name), read on first use.
    pub fn managed(secret_id: impl Into<String>) -> PartnerKeys {
        PartnerKeys::Manager {
            secret_id: secret_id.into(),
            value: OnceCell::new(),
        }
    }

    /// The key of `partner_id`, if one is configured.
    pub async fn key(&self, partner_id: &str) -> anyhow::Result<Option<PartnerKey>> {
        match self {
            PartnerKeys::Ready(keys) => Ok(keys.get(partner_id).cloned()),
            PartnerKeys::Manager { secret_id, value } => {
                let keys = value
                    .get_or_try_init(|| async {
                        let client =
                            aws_sdk_secretsmanager::Client::new(crate::config::lambda_sdk().await);
                        let answer = client
                            .get_secret_value()
                            .secret_id(secret_id)
                            .send()
                            .await
                            .map_err(|e| {
                                anyhow::anyhow!(
                                    "reading the partner keys {secret_id}: {}",
                                    aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
                                )
                            })?;
                        let text = answer.secret_string().ok_or_else(|| {
                            anyhow::anyhow!("the partner keys {secret_id} have no SecretString")
                        })?;
                        let keys = parse(text)?;
                        tracing::info!(secret = %secret_id, partners = keys.len(), "partner keys read from Secrets Manager");
                        Ok::<_, anyhow::Error>(Arc::new(keys))
                    })
                    .await?;
                Ok(keys.get(partner_id).cloned())
            }
        }
    }
}

/// A JSON object of partner id → key (blank keys are no keys).
fn parse(text: &str) -> anyhow::Result<HashMap<String, PartnerKey>> {
    let object: HashMap<String, String> = serde_json::from_str(text)
        .map_err(|_| anyhow::anyhow!("the partner keys must be a JSON object of id to key"))?;
    Ok(object
        .into_iter()
        .filter(|(_, key)| !key.trim().is_empty())
        .map(|(id, key)| (id, PartnerKey::new(key.trim().as_bytes().to_vec())))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn l10_keys_from_json() {
        let keys = PartnerKeys::from_json(r#"{"acme":"k1","blank":" "}"#).unwrap();
        assert_eq!(keys.key("acme").await.unwrap().unwrap().expose(), b"k1");
        assert!(keys.key("blank").await.unwrap().is_none());
        assert!(keys.key("other").await.unwrap().is_none());
        assert!(PartnerKeys::from_json("[1]").is_err());
        // Never printed.
        let key = keys.key("acme").await.unwrap().unwrap();
        assert!(!format!("{key:?}").contains("k1"));
    }
}
