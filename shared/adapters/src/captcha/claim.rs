//! A captcha token serves one request (O7): before the service is asked, the token is
//! claimed in the store — an item keyed by the token's SHA-256 (never the token), written
//! on the condition that it is absent. A second request with the same token loses that
//! write and is refused, whatever the service would answer; two racing requests cannot
//! both win it. The claim is kept for [`CLAIM_TTL`], longer than any service lets a token
//! live (Turnstile 300 s, hCaptcha and reCAPTCHA 120 s).
use chrono::{DateTime, Duration, Utc};

use market_app::repo;
use market_app::store::{Expect, Item, Store, StoreError, Write};

/// How long a claim is kept (the store's TTL may drop it afterwards).
pub const CLAIM_TTL: Duration = Duration::minutes(10);

/// Why a token could not be claimed.
#[derive(Debug)]
pub enum ClaimError {
    /// Another request claimed it first: the token was used already.
    Reused,
    /// The store could not say (unreachable, throttled): the check fails closed.
    Store(StoreError),
}

/// The lower-case hex SHA-256 of `token`.
pub fn token_sha256(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Claims `token` for one request at `now`.
pub async fn claim(store: &dyn Store, token: &str, now: DateTime<Utc>) -> Result<(), ClaimError> {
    let (pk, sk) = repo::captcha_claim_key(&token_sha256(token));
    let mut item = Item::new(pk, sk, serde_json::json!({ "claimed_at": now }).to_string());
    item.ttl = Some((now + CLAIM_TTL).timestamp());
    match store.transact(vec![Write::Put(item, Expect::Absent)]).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(ClaimError::Reused),
        Err(e) => Err(ClaimError::Store(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::embedded::EmbeddedStore;

    #[test]
    fn the_hash_is_sha256_in_hex() {
        assert_eq!(
            token_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test]
    async fn o7_a_token_is_claimed_once_and_the_key_never_holds_it() {
        let store = EmbeddedStore::in_memory().unwrap();
        let now = Utc::now();
        claim(&store, "tok-secret-1", now).await.unwrap();
        assert!(matches!(
            claim(&store, "tok-secret-1", now).await,
            Err(ClaimError::Reused)
        ));
        claim(&store, "tok-secret-2", now).await.unwrap();
        let (pk, sk) = repo::captcha_claim_key(&token_sha256("tok-secret-1"));
        let item = store.get(&pk, &sk).await.unwrap().expect("claimed");
        assert!(!format!("{item:?}").contains("tok-secret"));
        assert_eq!(item.ttl, Some((now + CLAIM_TTL).timestamp()));
    }
}
