//! The Alipay identity and keys (O8: trades are paid through Alipay only), and where they
//! come from.
//!
//! In the cloud they live in one Secrets Manager secret (JSON: `app_id`, `seller_id`,
//! `alipay_public_key`, `app_private_key`, PEM or bare base64; and for public-key
//! certificate mode, which payouts need, `app_cert_sn` and `alipay_root_cert_sn`) named by
//! `ALIPAY_SECRET_ARN`. It is read on first use and cached for the life of the process:
//! not copied into the function's environment at deploy time, where anyone allowed
//! `lambda:GetFunctionConfiguration` could read the private key, and not read at cold start,
//! so a request that never touches money never pays for it. A failed read is not cached: the
//! next use tries again. The local runner passes the keys in `ALIPAY_*` variables instead.
use std::sync::Arc;

use serde::Deserialize;
use tokio::sync::OnceCell;

use super::rsa2::{self, PrivateKey, PublicKey};

/// How the marketplace is known to Alipay, with the keys of both sides.
pub struct AlipayKeys {
    pub app_id: String,
    pub seller_id: String,
    /// Alipay's public key: notifications and responses are verified with it.
    pub alipay_public_key: PublicKey,
    /// Our application's private key: requests are signed with it. Without it, the adapter
    /// verifies notifications but cannot call Alipay.
    pub app_private_key: Option<PrivateKey>,
    /// Public-key certificate mode (公钥证书), which Alipay requires for fund transfers
    /// (payouts, S6): the serial numbers of our app certificate and of Alipay's root
    /// certificate, sent with every request (`app_cert_sn`, `alipay_root_cert_sn`). The
    /// `alipay_public_key` is then the key of Alipay's public certificate.
    pub cert_serials: Option<CertSerials>,
}

/// The certificate serial numbers of public-key certificate mode, as Alipay's tools print
/// them (an MD5 of the issuer and the serial number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSerials {
    pub app_cert_sn: String,
    pub alipay_root_cert_sn: String,
}

impl CertSerials {
    /// Both serials, or none when either is missing.
    pub fn from_parts(app: Option<String>, root: Option<String>) -> Option<CertSerials> {
        let nonblank = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        Some(CertSerials {
            app_cert_sn: nonblank(app)?,
            alipay_root_cert_sn: nonblank(root)?,
        })
    }
}

/// Never prints a key (logs and panics included).
impl std::fmt::Debug for AlipayKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlipayKeys")
            .field("app_id", &self.app_id)
            .field("seller_id", &self.seller_id)
            .field("keys", &"<redacted>")
            .finish()
    }
}

/// The secret's JSON.
#[derive(Deserialize)]
struct SecretJson {
    app_id: String,
    seller_id: String,
    alipay_public_key: String,
    #[serde(default)]
    app_private_key: Option<String>,
    #[serde(default)]
    app_cert_sn: Option<String>,
    #[serde(default)]
    alipay_root_cert_sn: Option<String>,
}

impl AlipayKeys {
    /// Reads the secret's JSON. Errors name the field, never its value.
    pub fn from_secret_json(text: &str) -> anyhow::Result<AlipayKeys> {
        let json: SecretJson = serde_json::from_str(text).map_err(|e| {
            // serde's message may quote a value; keep only where it failed.
            anyhow::anyhow!(
                "the Alipay secret is not the expected JSON (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        Ok(AlipayKeys {
            app_id: json.app_id,
            seller_id: json.seller_id,
            alipay_public_key: rsa2::parse_public_key(&json.alipay_public_key).map_err(|_| {
                anyhow::anyhow!("the Alipay secret's alipay_public_key is not a key")
            })?,
            app_private_key: json
                .app_private_key
                .filter(|k| !k.trim().is_empty())
                .map(|k| rsa2::parse_private_key(&k))
                .transpose()
                .map_err(|_| anyhow::anyhow!("the Alipay secret's app_private_key is not a key"))?,
            cert_serials: CertSerials::from_parts(json.app_cert_sn, json.alipay_root_cert_sn),
        })
    }
}

/// Where the keys come from.
pub enum KeySource {
    /// In hand already (the local runner's environment, tests).
    Ready(Arc<AlipayKeys>),
    /// A Secrets Manager secret, read on first use.
    Secret(SecretKeys),
}

impl KeySource {
    /// The keys (the first call of a `Secret` source reads the secret).
    pub async fn keys(&self) -> anyhow::Result<Arc<AlipayKeys>> {
        match self {
            KeySource::Ready(keys) => Ok(keys.clone()),
            KeySource::Secret(secret) => secret.keys().await,
        }
    }
}

/// A Secrets Manager secret holding the keys, read once and cached.
pub struct SecretKeys {
    secret_id: String,
    client: OnceCell<aws_sdk_secretsmanager::Client>,
    keys: OnceCell<Arc<AlipayKeys>>,
}

impl SecretKeys {
    /// The secret `secret_id` (ARN or name); the client is built from the process's AWS SDK
    /// configuration on first use.
    pub fn new(secret_id: impl Into<String>) -> SecretKeys {
        SecretKeys {
            secret_id: secret_id.into(),
            client: OnceCell::new(),
            keys: OnceCell::new(),
        }
    }

    /// The secret `secret_id`, read with `client`.
    pub fn with_client(
        secret_id: impl Into<String>,
        client: aws_sdk_secretsmanager::Client,
    ) -> SecretKeys {
        SecretKeys {
            secret_id: secret_id.into(),
            client: OnceCell::new_with(Some(client)),
            keys: OnceCell::new(),
        }
    }

    /// The keys: read from Secrets Manager the first time, from memory afterwards.
    pub async fn keys(&self) -> anyhow::Result<Arc<AlipayKeys>> {
        self.keys
            .get_or_try_init(|| async {
                let client = self
                    .client
                    .get_or_init(|| async {
                        aws_sdk_secretsmanager::Client::new(crate::config::lambda_sdk().await)
                    })
                    .await;
                let answer = client
                    .get_secret_value()
                    .secret_id(&self.secret_id)
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "reading the Alipay secret {}: {}",
                            self.secret_id,
                            aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
                        )
                    })?;
                let text = answer.secret_string().ok_or_else(|| {
                    anyhow::anyhow!("the Alipay secret {} has no SecretString", self.secret_id)
                })?;
                let keys = AlipayKeys::from_secret_json(text)?;
                tracing::info!(secret = %self.secret_id, app_id = %keys.app_id, "Alipay keys read from Secrets Manager");
                Ok(Arc::new(keys))
            })
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_that_is_not_json_is_refused_without_quoting_it() {
        let err = AlipayKeys::from_secret_json("app_private_key=MIIEsecret")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("MIIEsecret"), "{err}");
    }

    #[test]
    fn s6_certificate_serials_are_read_only_in_pairs() {
        assert_eq!(
            CertSerials::from_parts(Some("a".into()), Some("r".into())),
            Some(CertSerials {
                app_cert_sn: "a".into(),
                alipay_root_cert_sn: "r".into()
            })
        );
        assert_eq!(CertSerials::from_parts(Some("a".into()), None), None);
        assert_eq!(
            CertSerials::from_parts(Some(" ".into()), Some("r".into())),
            None
        );
    }

    #[test]
    fn a_bad_key_is_named_not_printed() {
        let err = AlipayKeys::from_secret_json(
            r#"{"app_id":"a","seller_id":"s","alipay_public_key":"not-a-key-XYZ"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("alipay_public_key") && !err.contains("XYZ"),
            "{err}"
        );
    }
}
