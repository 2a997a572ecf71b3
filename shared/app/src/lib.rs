//! `market-app`: the use cases over ports. Read from the store, decide with the pure core
//! (`market-core`), write on conditions. Each module is one area of the product; `repo` is
//! the one place that knows the key layout. The ports (`store`, `ports::*`) are defined
//! here and implemented in `market-adapters`; nothing here does I/O but through them.
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::ports::captcha::Captcha;
use crate::ports::clock::Clock;
use crate::ports::instruments::{CardProcessor, PayPal};
use crate::ports::mailer::Mailer;
use crate::ports::outbox_feed::OutboxFeed;
use crate::ports::partner::Partner;
use crate::ports::payment::PaymentProvider;
use crate::ports::queue::Queue;
use crate::ports::registrar::Registrar;
use crate::ports::second_factor::SecondFactor;
use crate::store::{Store, StoreError, Write};
use market_core::error::{Code, Problem};
use market_core::policy::Policy;

pub mod accounts;
pub mod attempts;
pub mod balances;
pub mod caches;
pub mod calendar;
pub mod compliance;
pub mod contacts;
pub mod deposits;
mod due_index;
pub mod exit;
pub mod fees;
mod holds;
pub mod idempotency;
pub mod legacy;
pub mod lifecycle;
pub mod listings;
pub mod metrics;
pub mod notifications;
pub mod order_store;
pub mod orders;
pub mod outbox;
pub mod paging;
pub mod partners;
pub mod payment_methods;
pub mod payments;
pub mod payouts;
pub mod placements;
pub mod ports;
pub mod pushes;
pub mod rate_limit;
pub mod refunds;
mod releases;
pub mod repo;
mod reservation;
pub mod retry;
pub mod schema;
pub mod search;
pub mod security;
pub mod settlement;
pub mod shards;
pub mod store;
pub mod sweep;
pub mod views;

/// Everything a use case needs: the ports and the policy. Built once per process.
pub struct App {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Waits of real time (budgets, the pause after a lost race).
    pub timer: Arc<dyn ports::timer::Timer>,
    pub queue: Arc<dyn Queue>,
    pub provider: Arc<dyn PaymentProvider>,
    pub captcha: Arc<dyn Captcha>,
    /// P12: the security password (or another second factor) of publishing and accepting.
    pub second_factor: Arc<dyn SecondFactor>,
    /// P9, P11: the registrar core, told of every change of a domain's transfer-out lock
    /// (through the outbox).
    pub registrar: Arc<dyn Registrar>,
    /// N1: email to people (through the outbox).
    pub mailer: Arc<dyn Mailer>,
    /// N1: told of committed outbox messages (the local notifier; a no-op in the cloud,
    /// where the DynamoDB Stream tells the `notify` function).
    pub outbox_feed: Arc<dyn OutboxFeed>,
    /// Q1: the search engine the market is browsed through.
    pub search: Arc<dyn ports::search::SearchIndex>,
    /// Q1: how the search engine learns of changed listings.
    pub search_feed: search::feed::SearchFeed,
    /// L10: partners' HMAC keys and their delivery webhooks.
    pub partner: Arc<dyn Partner>,
    /// S3: the card processor behind card payment methods (never for trades, O8).
    pub cards: Arc<dyn CardProcessor>,
    /// S3: the PayPal vault behind PayPal payment methods.
    pub paypal: Arc<dyn PayPal>,
    pub policy: Policy,
    /// What this process keeps between requests (settings, marked due hours).
    pub caches: caches::Caches,
}

impl App {
    /// The time every rule of this request is judged at (E1: the server's clock).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Writes through the store (all or nothing, conditions as given), filing every due
    /// index entry no earlier than now: an entry due at a time the sweep's dispatcher may
    /// have read past already is filed where it still reads (it is due at once); the hours
    /// of its due entries are marked first (`due_index`), so that the sweep reads them. Every use case
    /// writes through here. The outbox messages a transaction creates are handed on right
    /// after it commits (`outbox`: the registrar's at once, the people's to the notifier);
    /// those that fail are the sweep's.
    pub async fn transact(&self, mut writes: Vec<Write>) -> Result<(), StoreError> {
        outbox::coalesce(&mut writes);
        let messages = outbox::created(&writes);
        self.write(writes).await?;
        outbox::hand_on(self, &messages).await;
        Ok(())
    }

    /// [`App::transact`] without handing on the outbox messages it writes: for the outbox's
    /// own bookkeeping (a claim, a failed try's backoff), which creates no message.
    pub async fn write(&self, mut writes: Vec<Write>) -> Result<(), StoreError> {
        let now = self.now();
        repo::coalesce_sums(&mut writes);
        for write in &mut writes {
            if let Write::Put(item, _) = write {
                repo::file_due_no_earlier_than(item, now);
            }
        }
        due_index::mark(self, &writes).await?;
        let listings = search::feed::changed_listings(&writes);
        self.store.transact(writes).await?;
        search::feed::after_write(self, listings).await;
        Ok(())
    }

    /// A fresh ULID stamped with the marketplace clock.
    pub fn ulid(&self) -> ulid::Ulid {
        ulid::Ulid::from_datetime(self.now().into())
    }
}

/// Why a use case did not succeed: a refusal (the caller's to fix) or a failure (ours).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Refused(#[from] Problem),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::BadCursor => Problem::new(
                Code::InvalidRequest,
                "the cursor is not one this list gave out",
            )
            .into(),
            // A condition that fails where no retry was planned: someone else changed the
            // item first. Contention, not a fault: the client may try again.
            StoreError::Conflict { failed } => Problem::busy(format!(
                "the item changed while we wrote it (at {failed:?}); try again"
            ))
            .into(),
            StoreError::Busy(detail) => Problem::busy(detail).into(),
            StoreError::Other(e) => AppError::Internal(e),
        }
    }
}

/// Result of a use case.
pub type AppResult<T> = Result<T, AppError>;

pub use retry::MAX_ATTEMPTS;
