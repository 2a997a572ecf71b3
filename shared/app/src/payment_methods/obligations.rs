//! S3: what an account still owes the platform or holds with it, which its only payment
//! method stands behind: unpaid bills (a debt: a negative available balance after a
//! clawback, S4) and deposits held (M1).
//!
//! Deposits are not on main yet: they are read as the postings of the ledger account
//! `deposits:{account}`, the key the deposits work gives `LedgerAccount::Deposits`; until
//! something posts there, it sums to zero. Partner orders awaiting a transfer (L10) will be
//! added here when they exist.
use rust_decimal::Decimal;

use crate::balances::{entries_under, Available};
use crate::{App, AppResult};
use market_core::ids::AccountId;
use market_core::instrument::Obligations;

/// The obligations of `owner` as of now.
pub async fn outstanding(app: &App, owner: &AccountId) -> AppResult<Obligations> {
    let available = Available::read(app, owner).await?.amount;
    let deposits_held: Decimal = entries_under(app, &format!("deposits:{owner}"))
        .await?
        .iter()
        .map(|e| e.posting.amount)
        .sum();
    Ok(Obligations {
        debt: (-available).max(Decimal::ZERO),
        deposits_held: deposits_held.max(Decimal::ZERO),
    })
}
