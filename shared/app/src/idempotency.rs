//! `Idempotency-Key` on creating POSTs (API.md conventions): a retry with the same key and
//! body gets the first answer; the same key with another body gets 422. The key is claimed
//! with a conditional write before the work runs, so two concurrent retries cannot both
//! create something.
//!
//! The answer is kept deflated: the first answer exactly (rebuilt from the things it
//! created, it would show them as they are now, not as first answered), and small. The
//! largest one, a 2,000-domain cart of 63-character names, is ~600 KB of JSON, past
//! DynamoDB's 400 KB item; deflated it is a few tens of KB (`api::idempotency` holds it).
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::repo::{self, Versioned};
use super::retry::{retrying, written, Attempt};
use super::{App, AppError, AppResult};
use crate::store::{Expect, Item, Write};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use market_core::error::{Code, Problem};
use market_core::ids::AccountId;

/// An answer worth replaying: the status and the JSON body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub status: u16,
    pub body: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    fingerprint: String,
    started_at: DateTime<Utc>,
    /// An answer kept whole (records written before answers were deflated; read only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer: Option<Recorded>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kept: Option<Kept>,
}

/// An answer as kept: its status, and its JSON body deflated (base64).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Kept {
    status: u16,
    deflated: String,
}

impl Kept {
    fn of(answer: &Recorded) -> AppResult<Kept> {
        use std::io::Write as _;
        let json = serde_json::to_vec(&answer.body).map_err(|e| AppError::Internal(e.into()))?;
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(&json)
            .map_err(|e| AppError::Internal(e.into()))?;
        let deflated = encoder.finish().map_err(|e| AppError::Internal(e.into()))?;
        Ok(Kept {
            status: answer.status,
            deflated: STANDARD.encode(deflated),
        })
    }

    fn answer(&self) -> AppResult<Recorded> {
        let deflated = STANDARD
            .decode(&self.deflated)
            .map_err(|e| AppError::Internal(e.into()))?;
        let body = serde_json::from_reader(flate2::read::DeflateDecoder::new(&deflated[..]))
            .map_err(|e| AppError::Internal(e.into()))?;
        Ok(Recorded {
            status: self.status,
            body,
        })
    }
}

impl Record {
    /// The answer to replay, if the work is done.
    fn replay(&self) -> AppResult<Option<Recorded>> {
        match (&self.kept, &self.answer) {
            (Some(kept), _) => kept.answer().map(Some),
            (None, answer) => Ok(answer.clone()),
        }
    }
}

enum Claim {
    Fresh(Versioned<Record>),
    Replay(Recorded),
}

/// How long a claimed key whose request never finished blocks a retry.
const CLAIM_LEASE_SECONDS: i64 = 60;
/// How long answers are kept for replay.
const KEEP_HOURS: i64 = 24;

/// A fingerprint of the request a key was used for.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_bytes());
    hash.update([0]);
    hash.update(path.as_bytes());
    hash.update([0]);
    hash.update(body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn key_of(account: &AccountId, key: &str) -> (String, String) {
    repo::idempotency_key(account, key)
}

fn record_item(account: &AccountId, key: &str, record: &Record) -> Item {
    let (pk, sk) = key_of(account, key);
    let mut item = Item::new(
        pk,
        sk,
        serde_json::to_string(record).expect("records serialise"),
    );
    item.ttl = Some((record.started_at + Duration::hours(KEEP_HOURS)).timestamp());
    item
}

/// Runs `work` at most once per (account, key); replays its answer for retries.
/// Refusals and failures release the key, so a corrected retry is evaluated afresh.
pub async fn once<F, Fut>(
    app: &App,
    account: &AccountId,
    key: Option<&str>,
    fingerprint: String,
    work: F,
) -> AppResult<Recorded>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = AppResult<Recorded>>,
{
    let Some(key) = key else { return work().await };
    if key.is_empty() || key.len() > 255 {
        return Err(Problem::new(
            Code::InvalidRequest,
            "Idempotency-Key must be 1 to 255 characters",
        )
        .into());
    }
    // Claim the key, or find what it already answered.
    let claim = retrying(app, || async {
        let now = app.now();
        let old: Option<Versioned<Record>> = repo::load(&*app.store, key_of(account, key)).await?;
        if let Some(old) = &old {
            if old.value.fingerprint != fingerprint {
                return Err(Attempt::Failed(
                    Problem::new(
                        Code::IdempotencyKeyReused,
                        "this Idempotency-Key was used with another request",
                    )
                    .into(),
                ));
            }
            if let Some(answer) = old.value.replay().map_err(Attempt::Failed)? {
                return Ok(Claim::Replay(answer));
            }
            if old.value.started_at + Duration::seconds(CLAIM_LEASE_SECONDS) > now {
                return Err(Attempt::Failed(
                    Problem::new(
                        Code::IdempotencyInProgress,
                        "a request with this Idempotency-Key is still running; retry shortly",
                    )
                    .into(),
                ));
            }
        }
        let record = Record {
            fingerprint: fingerprint.clone(),
            started_at: now,
            answer: None,
            kept: None,
        };
        written(
            app.transact(vec![repo::put(
                record_item(account, key, &record),
                old.as_ref(),
            )])
            .await,
        )?;
        Ok(Claim::Fresh(Versioned {
            value: record,
            version: old.map_or(1, |o| o.version + 1),
        }))
    })
    .await?;
    let claimed = match claim {
        Claim::Replay(answer) => return Ok(answer),
        Claim::Fresh(claimed) => claimed,
    };

    let (pk, sk) = key_of(account, key);
    match work().await {
        Ok(answer) => {
            let record = Record {
                kept: Some(Kept::of(&answer)?),
                ..claimed.value
            };
            app.transact(vec![Write::Put(
                record_item(account, key, &record),
                Expect::Version(claimed.version),
            )])
            .await?;
            Ok(answer)
        }
        Err(e) => {
            let release = Write::Delete {
                pk,
                sk,
                expect: Expect::Version(claimed.version),
            };
            if let Err(release_error) = app.transact(vec![release]).await {
                tracing::warn!(error = %release_error, "could not release an idempotency key");
            }
            Err(e)
        }
    }
}
