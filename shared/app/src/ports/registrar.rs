//! The registrar port (P9, P11): what the marketplace tells the registrar core. Events are
//! written to the outbox in the transaction of the change they report (`crate::outbox`) and
//! published through this port after commit, again by the sweep until one is delivered:
//! at least once, each with its dedupe `id`, so the registrar core (and the local adapter,
//! which keeps them in the store) takes each exactly once. In the cloud: EventBridge
//! `PutEvents` on the registrar bus; locally: recorded in the store for
//! `GET /dev/registrar/events`.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An event for the registrar core, with its dedupe id (the outbox message's id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrarEvent {
    /// The dedupe id: the same event delivered twice carries the same id.
    pub id: String,
    /// When the change it reports was committed (marketplace clock).
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub detail: RegistrarDetail,
}

/// What the event says, tagged by its `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RegistrarDetail {
    /// P9, P11: the domain's transfer-out lock changed: `locked` with its `reason`
    /// (`in_trade`, `transfer_locked`) and, when it ends by time, `until`.
    DomainTransferLockChanged {
        domain: String,
        locked: bool,
        reason: Option<String>,
        until: Option<DateTime<Utc>>,
    },
    /// O9: the domain's registrant changed from the seller's account `from` to the buyer's
    /// `to`, with the buyer's chosen `contact` (a verified template's details; `null`: the
    /// buyer's verified identity). `forced`: a forced change (P9), which starts the 60-day
    /// transfer lock ending at `lock_until`.
    RegistrantChanged {
        domain: String,
        from: String,
        to: String,
        contact: Option<market_core::model::RegistrantContact>,
        forced: bool,
        lock_until: Option<DateTime<Utc>>,
    },
}

impl RegistrarEvent {
    /// The event's `type` (its EventBridge detail-type).
    pub fn kind(&self) -> &'static str {
        match self.detail {
            RegistrarDetail::DomainTransferLockChanged { .. } => "DomainTransferLockChanged",
            RegistrarDetail::RegistrantChanged { .. } => "RegistrantChanged",
        }
    }
}

/// The registrar port.
#[async_trait]
pub trait Registrar: Send + Sync {
    /// Publishes one event. Ok means the registrar core has it (or had it: publishing the
    /// same id again is harmless); an error leaves it to be published again later.
    async fn publish(&self, event: &RegistrarEvent) -> anyhow::Result<()>;
}
