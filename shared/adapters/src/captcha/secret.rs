//! The captcha service's secret key, and where it comes from (O7).
//!
//! In the cloud it lives in a Secrets Manager secret named by `CAPTCHA_SECRET_ARN`, as the
//! Alipay keys do (`payment::keys`): read on first use and cached for the life of the
//! process, never copied into the function's configuration; a failed read is not cached,
//! the next check tries again (and fails closed meanwhile). The secret string is the key
//! itself, or JSON with the key under `secret`. The local runner and the tests pass it in
//! `CAPTCHA_SECRET` instead. It is never printed: `SecretString` redacts it.
use std::sync::Arc;

use secrecy::SecretString;
use tokio::sync::OnceCell;

/// Where the secret key is configured to come from: typed settings, read at start.
#[derive(Clone, Debug)]
pub enum SecretSetting {
    /// `CAPTCHA_SECRET`: the key itself.
    Value(SecretString),
    /// `CAPTCHA_SECRET_ARN`: the Secrets Manager secret holding it.
    Arn(String),
}

impl SecretSetting {
    /// The source that reads it (nothing is read yet).
    pub fn source(self) -> SecretSource {
        match self {
            SecretSetting::Value(secret) => SecretSource::Ready(secret),
            SecretSetting::Arn(arn) => SecretSource::Manager(ManagedSecret::new(arn)),
        }
    }
}

/// Where the secret key comes from, at run time.
pub enum SecretSource {
    /// In hand already (`CAPTCHA_SECRET`: the local runner, tests).
    Ready(SecretString),
    /// A Secrets Manager secret, read on first use.
    Manager(ManagedSecret),
}

impl SecretSource {
    /// The secret key (the first call of a `Manager` source reads the secret).
    pub async fn secret(&self) -> anyhow::Result<SecretString> {
        match self {
            SecretSource::Ready(secret) => Ok(secret.clone()),
            SecretSource::Manager(managed) => managed.secret().await.map(|s| (*s).clone()),
        }
    }
}

/// A Secrets Manager secret holding the key, read once and cached.
pub struct ManagedSecret {
    secret_id: String,
    /// What the secret is, for the logs (`captcha secret`, `Stripe secret key`).
    what: &'static str,
    client: OnceCell<aws_sdk_secretsmanager::Client>,
    value: OnceCell<Arc<SecretString>>,
}

impl ManagedSecret {
    /// The secret `secret_id` (ARN or name); the client is built from the process's AWS SDK
    /// configuration on first use.
    pub fn new(secret_id: impl Into<String>) -> ManagedSecret {
        ManagedSecret::labelled(secret_id, "captcha secret")
    }

    /// The secret `secret_id`, named `what` in logs and errors (another service's key
    /// kept the same way, e.g. Stripe's).
    pub fn labelled(secret_id: impl Into<String>, what: &'static str) -> ManagedSecret {
        ManagedSecret {
            secret_id: secret_id.into(),
            what,
            client: OnceCell::new(),
            value: OnceCell::new(),
        }
    }

    /// The secret `secret_id`, read with `client`.
    pub fn with_client(
        secret_id: impl Into<String>,
        client: aws_sdk_secretsmanager::Client,
    ) -> ManagedSecret {
        ManagedSecret {
            secret_id: secret_id.into(),
            what: "captcha secret",
            client: OnceCell::new_with(Some(client)),
            value: OnceCell::new(),
        }
    }

    /// The key: read from Secrets Manager the first time, from memory afterwards.
    async fn secret(&self) -> anyhow::Result<Arc<SecretString>> {
        self.value
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
                            "reading the {} {}: {}",
                            self.what,
                            self.secret_id,
                            aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
                        )
                    })?;
                let text = answer.secret_string().ok_or_else(|| {
                    anyhow::anyhow!("the {} {} has no SecretString", self.what, self.secret_id)
                })?;
                let key = key_of(text).ok_or_else(|| {
                    anyhow::anyhow!("the {} {} holds no key", self.what, self.secret_id)
                })?;
                tracing::info!(secret = %self.secret_id, "{} read from Secrets Manager", self.what);
                Ok(Arc::new(key))
            })
            .await
            .cloned()
    }
}

/// The key in a secret string: the string itself, or the `secret` of a JSON object (what
/// the console's key/value editor writes). `None` when empty.
fn key_of(text: &str) -> Option<SecretString> {
    let text = text.trim();
    let key = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(fields)) => fields.get("secret")?.as_str()?.trim().to_owned(),
        _ => text.to_owned(),
    };
    (!key.is_empty()).then(|| key.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn the_key_is_the_string_or_the_secret_field_of_json() {
        let key = |t: &str| key_of(t).map(|k| k.expose_secret().to_owned());
        assert_eq!(key(" 0x4AAA-secret \n").as_deref(), Some("0x4AAA-secret"));
        assert_eq!(key(r#"{"secret":"0x4AAA"}"#).as_deref(), Some("0x4AAA"));
        assert_eq!(key(r#"{"other":"x"}"#), None);
        assert_eq!(key("  "), None);
    }
}
