//! What a sweep did: the dispatcher's walk and, item by item, what its workers changed.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What one sweep did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SweepReport {
    pub expired_orders: Vec<String>,
    pub resumed_deliveries: Vec<String>,
    /// Large ended orders whose remaining listings this sweep freed.
    pub holds_released: Vec<String>,
    pub refunds_confirmed: Vec<String>,
    pub refunds_retrying: Vec<String>,
    pub settled: Vec<String>,
    pub pushes_expired: Vec<String>,
    pub pushes_forced: Vec<String>,
    pub listings_ended: Vec<String>,
    pub domains_expired: Vec<String>,
    /// Payouts that reached their end (paid or failed, S6).
    pub payouts_ended: Vec<String>,
    /// Payouts still waiting for a definite answer from the provider.
    pub payouts_waiting: Vec<String>,
    /// Outbox messages delivered (P9, P11: registrar events) and those still failing.
    pub outbox_delivered: Vec<String>,
    pub outbox_retrying: Vec<String>,
    /// M4: placement periods whose winners this sweep chose (`{section}#{period}`).
    pub placements_filled: Vec<String>,
    /// L10: partner orders whose bank transfer did not come within 3 days.
    pub partner_orders_expired: Vec<String>,
    /// M1: deposits not paid within their window.
    pub deposits_expired: Vec<String>,
    /// M2: exits processed (accounts).
    pub exits_processed: Vec<String>,
    /// M2: exits found blocked at processing (accounts; the reasons are on each).
    pub exits_blocked: Vec<String>,
    /// Index entries read (the sweep's cost).
    pub items_read: usize,
    /// The walk stopped at `MAX_BUCKETS_PER_SWEEP` short of now, or out of time: the next
    /// sweep goes on.
    pub behind: bool,
    /// The dispatcher ran out of its `DISPATCH_BUDGET` before it had read up to now.
    pub out_of_time: bool,
    /// Due items handled without error (whether or not they had to change).
    pub processed: usize,
    /// Due items whose handling failed; each is retried later with backoff.
    pub failed: usize,
    pub failures: Vec<SweepFailure>,
}

/// One due item that could not be handled this time.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SweepFailure {
    /// The item's table key, `pk/sk`.
    pub key: String,
    pub error: String,
    /// Failures of this item in a row, this one included.
    pub attempts: u32,
    /// When the sweep tries it again (absent when it could not be moved: then the next
    /// sweep tries it at once).
    pub retry_at: Option<DateTime<Utc>>,
}

impl SweepReport {
    /// Adds what another worker (or the dispatcher) did to this report.
    pub fn absorb(&mut self, other: SweepReport) {
        let SweepReport {
            expired_orders,
            resumed_deliveries,
            holds_released,
            refunds_confirmed,
            refunds_retrying,
            settled,
            pushes_expired,
            pushes_forced,
            listings_ended,
            domains_expired,
            payouts_ended,
            payouts_waiting,
            outbox_delivered,
            outbox_retrying,
            placements_filled,
            partner_orders_expired,
            deposits_expired,
            exits_processed,
            exits_blocked,
            items_read,
            behind,
            out_of_time,
            processed,
            failed,
            failures,
        } = other;
        self.expired_orders.extend(expired_orders);
        self.resumed_deliveries.extend(resumed_deliveries);
        self.holds_released.extend(holds_released);
        self.refunds_confirmed.extend(refunds_confirmed);
        self.refunds_retrying.extend(refunds_retrying);
        self.settled.extend(settled);
        self.pushes_expired.extend(pushes_expired);
        self.pushes_forced.extend(pushes_forced);
        self.listings_ended.extend(listings_ended);
        self.domains_expired.extend(domains_expired);
        self.payouts_ended.extend(payouts_ended);
        self.payouts_waiting.extend(payouts_waiting);
        self.outbox_delivered.extend(outbox_delivered);
        self.outbox_retrying.extend(outbox_retrying);
        self.placements_filled.extend(placements_filled);
        self.partner_orders_expired.extend(partner_orders_expired);
        self.deposits_expired.extend(deposits_expired);
        self.exits_processed.extend(exits_processed);
        self.exits_blocked.extend(exits_blocked);
        self.items_read += items_read;
        self.behind |= behind;
        self.out_of_time |= out_of_time;
        self.processed += processed;
        self.failed += failed;
        self.failures.extend(failures);
    }
}
