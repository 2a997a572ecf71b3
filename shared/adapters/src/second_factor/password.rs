//! The security password (P12) as the second factor: per account, an Argon2id hash of it
//! in the store (a PHC string: algorithm, version, parameters, salt and hash), never the
//! password. Argon2id with the `argon2` crate's defaults, OWASP's first recommended setting
//! (19 MiB of memory, 2 passes, 1 lane), and a fresh 16-byte salt from the system's random
//! source (aws-lc-rs) for every hash. A hash costs tens of milliseconds of one core and
//! its memory, so it runs on tokio's blocking threads, never on a runtime worker.
//!
//! Verification takes its parameters from the stored hash, so the defaults can be raised
//! later without locking anyone out.
use std::sync::Arc;

use anyhow::anyhow;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use market_app::ports::second_factor::{SecondFactor, Verdict};
use market_app::repo::{self, Versioned};
use market_app::store::{Expect, Item, Store, Write};
use market_app::{AppError, AppResult};
use market_core::ids::AccountId;
use market_core::security::SecurityPassword;

/// The salt's length in bytes (the PHC format's recommendation).
pub const SALT_BYTES: usize = 16;

/// What is stored per account: the hash and when it was set (never the password; no
/// `Debug`, the hash is not for logs either).
#[derive(Clone, Serialize, Deserialize)]
struct StoredHash {
    /// The Argon2id PHC string.
    phc: String,
    set_at: DateTime<Utc>,
}

/// The security password over the store.
pub struct Argon2Password {
    store: Arc<dyn Store>,
}

impl Argon2Password {
    /// The adapter over `store`.
    pub fn new(store: Arc<dyn Store>) -> Argon2Password {
        Argon2Password { store }
    }

    async fn stored(&self, account: &AccountId) -> AppResult<Option<Versioned<StoredHash>>> {
        repo::load(&*self.store, repo::security_password_key(account)).await
    }
}

/// The Argon2id PHC string of `password` with a fresh random salt. CPU-heavy: call it off
/// the async workers (see [`blocking`]).
pub fn hash(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; SALT_BYTES];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| anyhow!("no random salt for the hash"))?;
    let hash = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| anyhow!("argon2: {e}"))?;
    Ok(hash.to_string())
}

/// Whether `password` is the one `phc` was made from. A stored hash that cannot be read is
/// an error, never a right answer. CPU-heavy, as [`hash`].
pub fn matches(password: &str, phc: &str) -> anyhow::Result<bool> {
    let parsed =
        PasswordHash::new(phc).map_err(|e| anyhow!("a stored hash that does not parse: {e}"))?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(e) => Err(anyhow!("argon2: {e}")),
    }
}

/// Runs `work` (a hash) on tokio's blocking threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(anyhow!("the hash did not finish: {e}")))?
        .map_err(AppError::Internal)
}

#[async_trait]
impl SecondFactor for Argon2Password {
    async fn is_set(&self, account: &AccountId) -> AppResult<bool> {
        let (pk, sk) = repo::security_password_key(account);
        Ok(self.store.get(&pk, &sk).await?.is_some())
    }

    async fn verify(&self, account: &AccountId, answer: &SecurityPassword) -> AppResult<Verdict> {
        let Some(stored) = self.stored(account).await? else {
            return Ok(Verdict::Wrong);
        };
        // A try of no password's length cannot be right: no hash for it.
        if !answer.is_well_formed() {
            return Ok(Verdict::Wrong);
        }
        let answer = answer.clone();
        let phc = stored.value.phc.clone();
        let right = blocking(move || matches(answer.expose(), &phc)).await?;
        Ok(match right {
            true => Verdict::Right {
                version: stored.version,
            },
            false => Verdict::Wrong,
        })
    }

    async fn set(
        &self,
        account: &AccountId,
        secret: &SecurityPassword,
        replacing: Option<u64>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let secret = secret.clone();
        let phc = blocking(move || hash(secret.expose())).await?;
        let (pk, sk) = repo::security_password_key(account);
        let body = serde_json::to_string(&StoredHash { phc, set_at: now })
            .map_err(|e| AppError::Internal(e.into()))?;
        let expect = replacing.map_or(Expect::Absent, Expect::Version);
        // Lost to another change (or a first one): the store's conflict, 503 BUSY; a retry
        // then sees the new one and needs it as the current one.
        self.store
            .transact(vec![Write::Put(Item::new(pk, sk, body), expect)])
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::embedded::EmbeddedStore;

    fn pw(text: &str) -> SecurityPassword {
        SecurityPassword::new("password", text.to_owned()).unwrap()
    }

    #[test]
    fn p12_the_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let started = std::time::Instant::now();
        let one = hash("correct horse battery").unwrap();
        let elapsed = started.elapsed();
        // The cost of one hash (and so of one check) on this machine, for the record.
        eprintln!("P12: one Argon2id hash (m=19 MiB, t=2, p=1) took {elapsed:?}");
        assert!(one.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{one}");
        assert!(!one.contains("correct horse"));
        let two = hash("correct horse battery").unwrap();
        assert_ne!(one, two, "a fresh salt every time");
        assert!(matches("correct horse battery", &one).unwrap());
        assert!(matches("correct horse battery", &two).unwrap());
        assert!(!matches("correct horse batterY", &one).unwrap());
        assert!(matches("x", "not a phc string").is_err());
    }

    #[tokio::test]
    async fn p12_set_verify_and_change_on_a_condition() {
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory().unwrap());
        let factor = Argon2Password::new(store.clone());
        let alice = AccountId::parse("alice").unwrap();
        let now = Utc::now();
        assert!(!factor.is_set(&alice).await.unwrap());
        assert_eq!(
            factor.verify(&alice, &pw("anything-at-all")).await.unwrap(),
            Verdict::Wrong,
            "nothing set: nothing is right"
        );
        factor
            .set(&alice, &pw("first-password"), None, now)
            .await
            .unwrap();
        assert!(factor.is_set(&alice).await.unwrap());
        // Stored: the hash, never the password.
        let (pk, sk) = repo::security_password_key(&alice);
        let item = store.get(&pk, &sk).await.unwrap().unwrap();
        assert!(!item.body.contains("first-password"), "{}", item.body);
        assert!(item.body.contains("$argon2id$"));
        let Verdict::Right { version } =
            factor.verify(&alice, &pw("first-password")).await.unwrap()
        else {
            panic!("the right one");
        };
        assert_eq!(
            factor.verify(&alice, &pw("first-passworD")).await.unwrap(),
            Verdict::Wrong
        );
        assert_eq!(
            factor
                .verify(&alice, &SecurityPassword::attempt("short".into()))
                .await
                .unwrap(),
            Verdict::Wrong
        );
        // A second first one loses; a change on a stale version loses; on the read one wins.
        assert!(factor
            .set(&alice, &pw("sneaky-second"), None, now)
            .await
            .is_err());
        factor
            .set(&alice, &pw("second-password"), Some(version), now)
            .await
            .unwrap();
        assert!(factor
            .set(&alice, &pw("third-password"), Some(version), now)
            .await
            .is_err());
        assert_eq!(
            factor.verify(&alice, &pw("first-password")).await.unwrap(),
            Verdict::Wrong
        );
        assert!(matches!(
            factor.verify(&alice, &pw("second-password")).await.unwrap(),
            Verdict::Right { .. }
        ));
    }
}
