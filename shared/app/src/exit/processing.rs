//! M2 at processing (the sweep): the blocking reasons checked again; then, in one
//! transaction, the account stops selling and every deposit's remainder is refunded through
//! the provider (a refund journal and record each, S1); then the available balance is paid
//! out through the payouts path (S6) under an id derived from the exit, so a retry never
//! pays twice, or kept available when the account has no payout account.
use market_core::payout::MIN_PAYOUT;

use crate::balances::Available;
use crate::refunds::{refund_for, send_refund_now};
use crate::repo::{self, deposit_item, exit_item, journal_writes, load, put};
use crate::retry::{retrying, written};
use crate::{App, AppError, AppResult};
use market_core::deposit::{Deposit, DepositStatus};
use market_core::exit::{blockers, next_try, Exit, ExitStatus};
use market_core::ids::AccountId;
use market_core::ledger;
use market_core::model::Payment;
use market_core::money::Money;

use crate::deposits::standing_write;

/// What the sweep did with an exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processed {
    /// Checked and blocked: the reasons are on the application; tried again later.
    Blocked,
    /// Processed (and its balance paid out or kept).
    Processed,
}

/// The sweep's handling of an exit due: checked and processed in its window, or its payout
/// finished after a processing whose payout step failed. `None`: nothing was due.
pub async fn due(app: &App, account: &AccountId) -> AppResult<Option<Processed>> {
    let Some(exit) = load::<Exit>(&*app.store, repo::exit_key(account)).await? else {
        return Ok(None);
    };
    let now = app.now();
    let outcome = match exit.value.status {
        ExitStatus::Scheduled | ExitStatus::Blocked if now >= exit.value.next_check_at => {
            let outcome = check_and_process(app, account).await?;
            if outcome != Some(Processed::Processed) {
                return Ok(outcome);
            }
            outcome
        }
        ExitStatus::Processed if !exit.value.payout_done => Some(Processed::Processed),
        _ => return Ok(None),
    };
    pay_out(app, account).await?;
    Ok(outcome)
}

/// Closes the door first: the standing marked closing (its version moves, so a listing or
/// push checked against the standing before fails its condition and is checked again, and
/// refused). Whatever committed before is in the count that follows.
async fn close_the_door(app: &App, account: &AccountId) -> AppResult<()> {
    retrying(app, || async {
        let read = crate::deposits::standing(app, account).await?;
        let mut next = read.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        if next.closing_since.is_some() || next.exited_at.is_some() {
            return Ok(());
        }
        next.closing_since = Some(app.now());
        written(
            app.transact(vec![standing_write(account, &next, read.as_ref())])
                .await,
        )?;
        Ok(())
    })
    .await
}

/// Checks the reasons again and, clear, processes the exit with the deposits' refunds.
async fn check_and_process(app: &App, account: &AccountId) -> AppResult<Option<Processed>> {
    close_the_door(app, account).await?;
    let refunds = retrying(app, || async {
        let now = app.now();
        let Some(exit) = load::<Exit>(&*app.store, repo::exit_key(account)).await? else {
            return Ok(None);
        };
        if exit.value.status == ExitStatus::Processed || now < exit.value.next_check_at {
            return Ok(None);
        }
        let reasons = blockers(&super::obligations::count(app, account, now).await?);
        if !reasons.is_empty() {
            let calendar = crate::calendar::around(app, now).await?;
            let (window, at) = next_try(&calendar, exit.value.window, now);
            let mut next = exit.value.clone();
            next.status = ExitStatus::Blocked;
            next.blocked = reasons.clone();
            next.window = window;
            next.next_check_at = at;
            next.updated_at = now;
            // Still a seller until the next check: the door opens again.
            let read = crate::deposits::standing(app, account).await?;
            let mut open = read.as_ref().map(|s| s.value.clone()).unwrap_or_default();
            open.closing_since = None;
            written(
                app.transact(vec![
                    put(exit_item(&next), Some(&exit)),
                    standing_write(account, &open, read.as_ref()),
                ])
                .await,
            )?;
            tracing::warn!(account = %account, reasons = ?reasons, next_check = %at, "exit blocked at processing (M2)");
            return Ok(Some((Processed::Blocked, Vec::new())));
        }
        let mut writes = Vec::new();
        let mut refunds = Vec::new();
        for deposit in crate::deposits::all_of(app, account).await? {
            let held = deposit.value.held();
            if held.is_zero() {
                continue;
            }
            let payment = deposit_payment(app, &deposit.value).await?;
            let journal = ledger::deposit_refunded(&deposit.value.id, &payment, held, now);
            let reason = format!("deposit `{}` returned on exit (M1, M2)", deposit.value.category);
            let (refund, refund_write) = refund_for(&journal, &payment, &reason, now, app.ulid());
            let mut next = deposit.value.clone();
            next.status = DepositStatus::Refunded;
            next.refunded = Some(Money::parse(&format!("{held:.2}"))?);
            next.updated_at = now;
            writes.push(put(deposit_item(&next), Some(&deposit)));
            writes.extend(journal_writes(&journal));
            writes.push(refund_write);
            refunds.push(refund.journal_id);
        }
        let read = crate::deposits::standing(app, account).await?;
        let mut standing = read.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        standing.exited_at = Some(now);
        standing.closing_since = None;
        standing.held.clear();
        writes.push(standing_write(account, &standing, read.as_ref()));
        let mut next = exit.value.clone();
        next.status = ExitStatus::Processed;
        next.blocked.clear();
        next.processed_at = Some(now);
        next.updated_at = now;
        writes.push(put(exit_item(&next), Some(&exit)));
        written(app.transact(writes).await)?;
        tracing::info!(account = %account, refunds = refunds.len(), "exit processed (M2)");
        Ok(Some((Processed::Processed, refunds)))
    })
    .await?;
    let Some((outcome, refunds)) = refunds else {
        return Ok(None);
    };
    for journal_id in refunds {
        send_refund_now(app, &journal_id).await;
    }
    Ok(Some(outcome))
}

/// The payment a deposit was paid with (its refund goes back against it).
async fn deposit_payment(app: &App, deposit: &Deposit) -> AppResult<Payment> {
    let id = deposit
        .payment
        .as_ref()
        .map(|p| p.payment_id.clone())
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "held deposit {} without payment",
                deposit.id
            ))
        })?;
    Ok(load::<Payment>(&*app.store, repo::payment_key(id.as_str()))
        .await?
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "deposit {} names a missing payment",
                deposit.id
            ))
        })?
        .value)
}

/// S6 after M2: the available balance paid out to the bound account (the payouts path,
/// one payout whose id comes from the exit), or kept available with the reason; recorded
/// on the exit, which stops being due. A failure of the store leaves it due: the sweep
/// comes back, and the same payout id finds the payout already made.
async fn pay_out(app: &App, account: &AccountId) -> AppResult<()> {
    let Some(exit) = load::<Exit>(&*app.store, repo::exit_key(account)).await? else {
        return Ok(());
    };
    if exit.value.status != ExitStatus::Processed || exit.value.payout_done {
        return Ok(());
    }
    // The payouts path decides who can be paid (S4: a verified settlement account, else
    // the A1 binding): its refusal keeps the money available, with the reason.
    let available = Available::read(app, account).await?.amount;
    let (payout, note) = if available < MIN_PAYOUT {
        (None, Some("nothing to pay out".to_owned()))
    } else {
        let key = format!("market-exit:{}", exit.value.applied_at.timestamp_millis());
        match crate::payouts::request(app, account, None, Some(&key)).await {
            Ok(view) => (Some(view.id.clone()), None),
            Err(AppError::Refused(why)) => {
                tracing::info!(account = %account, code = ?why.code, "exit balance kept available (M2)");
                (None, Some(format!("kept available: {}", why.detail)))
            }
            Err(e) => return Err(e),
        }
    };
    retrying(app, || async {
        let Some(current) = load::<Exit>(&*app.store, repo::exit_key(account)).await? else {
            return Ok(());
        };
        if current.value.payout_done {
            return Ok(());
        }
        let mut next = current.value.clone();
        next.payout_done = true;
        next.payout = match &payout {
            Some(id) => Some(id.parse()?),
            None => None,
        };
        next.payout_note = note.clone();
        next.updated_at = app.now();
        written(app.transact(vec![put(exit_item(&next), Some(&current))]).await)?;
        tracing::info!(account = %account, payout = ?payout, note = ?note, "exit balance settled (M2, S6)");
        Ok(())
    })
    .await
}
