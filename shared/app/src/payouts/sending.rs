//! S6: sending a pending payout until the provider's answer is definite.
//!
//! One try: if an earlier transfer's answer never came back, look it up first (paid →
//! succeeded; refused → failed; not found → send again under the same payout id). Before
//! each call the payout is leased (its next try moved past the call's timeout, on the
//! condition that nobody else took it), so the request that created it and a sweep never
//! call at once, and a lookup never races a transfer still on its way. A definite answer
//! is recorded with its journal, exactly once (the journal id is the guard).
use chrono::{DateTime, Utc};

use crate::balances;
use crate::ports::payment::{TransferRequest, TransferState};
use crate::repo::{self, journal_writes, load, payout_item, put, Versioned};
use crate::retry::{retrying, written};
use crate::store::StoreError;
use crate::{App, AppResult};
use market_core::ids::PayoutId;
use market_core::ledger;
use market_core::payout::{self, Payout, PayoutStatus};

/// What one try did with a payout.
#[derive(Debug)]
pub struct Sent {
    /// The payout as it stands after the try.
    pub payout: Payout,
    /// Whether this try reached a definite end (succeeded or failed).
    pub ended: bool,
}

/// Takes a pending payout one step on, if it is due. Provider errors are not errors here
/// (the outcome is unknown: the payout waits for its next try); store errors are.
pub async fn send(app: &App, id: &PayoutId) -> AppResult<Sent> {
    let Some(current) = load::<Payout>(&*app.store, repo::payout_key(id)).await? else {
        return Err(market_core::error::Problem::not_found("payout").into());
    };
    let now = app.now();
    if current.value.status != PayoutStatus::Pending || current.value.next_attempt_at > now {
        return Ok(unchanged(current.value));
    }
    let mut current = current;
    if current.value.outcome_unknown {
        let Some(leased) = lease(app, &current, false, now).await? else {
            return Ok(unchanged(current.value));
        };
        match app
            .provider
            .transfer_status(id.as_str(), current.value.payee_kind, now)
            .await
        {
            Ok(TransferState::NotFound) if payout::may_give_up(&leased.value, now) => {
                let reason = format!(
                    "the provider never received the transfer ({} attempts over a day); the amount is back in available",
                    leased.value.attempts
                );
                return end(app, id, Err((reason, leased.value.tries)), now).await;
            }
            // Nothing arrived: send it again under the same id.
            Ok(TransferState::NotFound) => current = leased,
            Ok(state) => return record(app, id, state, leased.value, now).await,
            Err(e) => {
                tracing::warn!(payout = %id, error = %e, "payout lookup unanswered; tried again later");
                return Ok(unchanged(leased.value));
            }
        }
    }
    let Some(leased) = lease(app, &current, true, now).await? else {
        return Ok(unchanged(current.value));
    };
    let p = &leased.value;
    let request = TransferRequest {
        payout_id: p.id.as_str(),
        amount: p.amount,
        payee_account: &p.payout_account,
        payee_name: p.payee_name.as_deref(),
        payee_kind: p.payee_kind,
        title: TRANSFER_TITLE,
    };
    match app.provider.transfer(&request, now).await {
        // A refusal of a resend does not prove that an earlier send did not pay: look first.
        Ok(TransferState::Failed { reason }) if p.attempts > 1 => {
            match app
                .provider
                .transfer_status(id.as_str(), p.payee_kind, now)
                .await
            {
                Ok(TransferState::NotFound) => {
                    let tries = leased.value.tries;
                    end(app, id, Err((reason, tries)), now).await
                }
                Ok(state) => record(app, id, state, leased.value, now).await,
                Err(e) => {
                    tracing::warn!(payout = %id, error = %e, refusal = %reason, "a resend was refused and the lookup unanswered; tried again later");
                    Ok(unchanged(leased.value))
                }
            }
        }
        Ok(state) => record(app, id, state, leased.value, now).await,
        Err(e) => {
            tracing::warn!(payout = %id, attempt = p.attempts, error = %e, "transfer unanswered; looked up before anything else");
            Ok(unchanged(leased.value))
        }
    }
}

/// The title of every transfer: the provider pays one `out_biz_no` at most once, and
/// refuses a resend whose parameters differ, so nothing in a request may change between
/// sends of the same payout (the amount, the payee and the name are the payout's own).
const TRANSFER_TITLE: &str = "Domain marketplace proceeds";

fn unchanged(payout: Payout) -> Sent {
    Sent {
        payout,
        ended: false,
    }
}

/// Marks a try as under way: the next try waits past this call's answer (backoff), and a
/// transfer about to be sent counts as an attempt whose outcome is unknown until answered.
/// `None` when someone else took the payout first.
async fn lease(
    app: &App,
    read: &Versioned<Payout>,
    transfer: bool,
    now: DateTime<Utc>,
) -> AppResult<Option<Versioned<Payout>>> {
    let mut next = read.value.clone();
    if transfer {
        next.attempts += 1;
        next.outcome_unknown = true;
        next.first_sent_at.get_or_insert(now);
    }
    next.tries += 1;
    next.next_attempt_at = now + payout::backoff(next.tries);
    next.updated_at = now;
    match app
        .transact(vec![put(payout_item(&next), Some(read))])
        .await
    {
        Ok(()) => Ok(Some(Versioned {
            value: next,
            version: read.version + 1,
        })),
        Err(StoreError::Conflict { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Records what the provider said of a leased payout.
async fn record(
    app: &App,
    id: &PayoutId,
    state: TransferState,
    leased: Payout,
    now: DateTime<Utc>,
) -> AppResult<Sent> {
    match state {
        TransferState::Paid { provider_ref } => end(app, id, Ok(provider_ref), now).await,
        TransferState::Failed { reason } => end(app, id, Err((reason, leased.tries)), now).await,
        // Accepted, not finished (or, after a lookup, nothing to decide yet): looked up later.
        TransferState::Processing | TransferState::NotFound => Ok(unchanged(leased)),
    }
}

/// Ends a payout: paid (`Ok(provider's id)`: the money leaves the platform) or failed
/// (`Err((reason, tries))`: the amount goes back to `available`, with the reason), once. A
/// failure is recorded only under the lease it was learnt in (`tries` unchanged): if
/// another try took the payout meanwhile, its send may yet pay, and it decides. A success
/// is recorded whatever happened meanwhile.
async fn end(
    app: &App,
    id: &PayoutId,
    outcome: Result<String, (String, u32)>,
    now: DateTime<Utc>,
) -> AppResult<Sent> {
    retrying(app, || async {
        let read: Versioned<Payout> = load(&*app.store, repo::payout_key(id))
            .await?
            .ok_or_else(|| market_core::error::Problem::not_found("payout"))?;
        if read.value.status != PayoutStatus::Pending {
            return Ok(unchanged(read.value));
        }
        if let Err((_, tries)) = &outcome {
            if read.value.tries != *tries {
                tracing::warn!(payout = %id, "a failure learnt under an old lease is not recorded: a later try decides");
                return Ok(unchanged(read.value));
            }
        }
        let mut next = read.value.clone();
        next.outcome_unknown = false;
        next.updated_at = now;
        let mut writes = Vec::new();
        match &outcome {
            Ok(provider_ref) => {
                next.status = PayoutStatus::Succeeded;
                next.provider_ref = Some(provider_ref.clone()).filter(|r| !r.is_empty());
                writes.extend(journal_writes(&ledger::payout_paid(&next, now)));
                tracing::info!(payout = %id, amount = %next.amount, "payout paid");
            }
            Err((reason, _)) => {
                next.status = PayoutStatus::Failed;
                next.failure_reason = Some(reason.clone());
                let returned = ledger::payout_returned(&next, reason, now);
                writes.extend(balances::posted(app, &returned).await?);
                tracing::warn!(payout = %id, amount = %next.amount, reason, "payout failed; the amount is back in available");
            }
        }
        // N1: the seller is told, in the transaction that ends the payout (once).
        writes.extend(crate::notifications::payout_ended(
            app,
            &next,
            outcome.as_ref().err().map(|(reason, _)| reason.as_str()),
        ));
        writes.insert(0, put(payout_item(&next), Some(&read)));
        written(app.transact(writes).await)?;
        Ok(Sent {
            payout: next,
            ended: true,
        })
    })
    .await
}
