//! L10: the partner's signature. `X-Signature` is the lower-case hex HMAC-SHA256, under the
//! partner's key, of `market_core::partner::canonical_request` (method, path, timestamp,
//! nonce, body). Checked in this order, each with its own 401 code: headers present and
//! the partner known with a key (`PARTNER_SIGNATURE_INVALID`), the timestamp within 5
//! minutes (`PARTNER_REQUEST_STALE`), the HMAC in constant time
//! (`PARTNER_SIGNATURE_INVALID`), then the nonce claimed once with a conditional write
//! (`PARTNER_REQUEST_REPLAYED`): only a genuine request can burn a nonce. Keys and
//! signatures are never logged.
use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::ports::partner::PartnerKey;
use crate::repo::{self, plain_item};
use crate::store::{Expect, StoreError, Write};
use crate::{App, AppError, AppResult};
use market_core::error::{Code, Problem};
use market_core::partner::{
    canonical_request, check_fresh, check_nonce, Partner, PartnerId, NONCE_TTL,
};

type HmacSha256 = hmac::Hmac<Sha256>;

/// What a signed request carries.
pub struct Signed<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub partner_id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

/// The signature of `canonical` under `key`, lower-case hex.
pub fn sign(key: &PartnerKey, canonical: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key.expose()).expect("HMAC takes any key length");
    mac.update(canonical);
    crate::payments::door::hex(&mac.finalize().into_bytes())
}

fn forged(detail: &str) -> AppError {
    Problem::new(Code::PartnerSignatureInvalid, detail).into()
}

/// Checks a partner request; returns the partner it is from.
pub async fn verify(app: &App, req: &Signed<'_>) -> AppResult<Partner> {
    let (Some(id), Some(timestamp), Some(nonce), Some(signature)) =
        (req.partner_id, req.timestamp, req.nonce, req.signature)
    else {
        tracing::info!(
            path = req.path,
            "partner request without its signature headers"
        );
        return Err(forged(
            "X-Partner-Id, X-Timestamp, X-Nonce and X-Signature are required",
        ));
    };
    let id = PartnerId::parse(id).map_err(|_| forged("unknown partner"))?;
    let partner = super::find(app, &id).await?;
    let key = app.partner.key(id.as_str()).await.map_err(|e| {
        tracing::error!(partner = %id, error = %format!("{e:#}"), "partner keys unreadable");
        AppError::from(Problem::busy(
            "the partner keys cannot be read now; try again",
        ))
    })?;
    let (Some(partner), Some(key)) = (partner, key) else {
        tracing::warn!(partner = %id, "request from an unknown partner or one without a key");
        return Err(forged("unknown partner"));
    };
    check_nonce(nonce)?;
    let now = app.now();
    if let Err(p) = check_fresh(timestamp, now) {
        tracing::warn!(partner = %id, timestamp, "stale partner request refused");
        return Err(p.into());
    }
    let given = decode_hex(signature).ok_or_else(|| forged("X-Signature is not hex"))?;
    let mut mac = HmacSha256::new_from_slice(key.expose()).expect("HMAC takes any key length");
    mac.update(&canonical_request(
        req.method, req.path, timestamp, nonce, req.body,
    ));
    // Constant time: `verify_slice` compares without an early exit.
    if mac.verify_slice(&given).is_err() {
        tracing::warn!(partner = %id, path = req.path, "partner request with a wrong signature refused");
        return Err(forged("the signature does not match"));
    }
    claim_nonce(app, &id, nonce, now).await?;
    Ok(partner)
}

/// The nonce, written once (its TTL past the tolerance). A remembered nonce whose TTL has
/// passed (DynamoDB deletes late; moto and the embedded store never) is taken over.
async fn claim_nonce(
    app: &App,
    id: &PartnerId,
    nonce: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let key = repo::partner_nonce_key(id, nonce);
    let mut item = plain_item(key.clone(), &serde_json::json!({ "at": now }));
    item.ttl = Some((now + NONCE_TTL).timestamp());
    let mut expect = Expect::Absent;
    if let Some(old) = app.store.get(&key.0, &key.1).await? {
        if old.ttl.is_some_and(|t| t > now.timestamp()) {
            return Err(replayed(id));
        }
        expect = Expect::Version(old.version);
    }
    // Straight to the store: the claim is not a change of the marketplace.
    match app.store.transact(vec![Write::Put(item, expect)]).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(replayed(id)),
        Err(e) => Err(e.into()),
    }
}

fn replayed(id: &PartnerId) -> AppError {
    tracing::warn!(partner = %id, "replayed partner request refused");
    Problem::new(
        Code::PartnerRequestReplayed,
        "this X-Nonce was already used",
    )
    .into()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 128 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l10_hmac_sha256_matches_rfc_4231_case_2() {
        let key = PartnerKey::new(b"Jefe".to_vec());
        assert_eq!(
            sign(&key, b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hex_decoding() {
        assert_eq!(decode_hex("00ff"), Some(vec![0, 255]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
    }
}
