//! S4: the seller's settlement account: bound by the seller (`PUT /me/settlement-account`),
//! verified by an operator, the payee of payouts once verified (see `payouts::request`).
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::repo::{self, load, put, settlement_account_item, Versioned};
use super::retry::{retrying, written};
use super::{App, AppResult};
use market_core::error::Problem;
use market_core::ids::AccountId;
use market_core::model::Account;
use market_core::settlement::{self, Binding, SettlementAccount, SettlementKind, SettlementStatus};

/// A settlement account as its seller and operators see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SettlementAccount)]
pub struct SettlementAccountView {
    pub account_id: String,
    #[schema(value_type = SettlementKindWord)]
    pub kind: SettlementKind,
    pub account: String,
    pub company_name: String,
    /// The seller's authorisation to recover refunds after settlement from it (S4).
    pub deduction_authorised: bool,
    /// `pending_verification` until an operator verifies it; payouts wait until then.
    #[schema(value_type = SettlementStatusWord)]
    pub status: SettlementStatus,
    pub bound_at: DateTime<Utc>,
    #[schema(required = true)]
    pub verified_at: Option<DateTime<Utc>>,
}

/// The kinds of settlement account.
#[derive(utoipa::ToSchema)]
#[schema(as = SettlementKind, rename_all = "snake_case")]
#[allow(dead_code)]
enum SettlementKindWord {
    EnterpriseAlipay,
    BankSubAccount,
}

/// The statuses of a settlement account.
#[derive(utoipa::ToSchema)]
#[schema(as = SettlementStatus, rename_all = "snake_case")]
#[allow(dead_code)]
enum SettlementStatusWord {
    PendingVerification,
    Verified,
}

impl From<&SettlementAccount> for SettlementAccountView {
    fn from(s: &SettlementAccount) -> SettlementAccountView {
        SettlementAccountView {
            account_id: s.owner.to_string(),
            kind: s.kind,
            account: s.account.clone(),
            company_name: s.company_name.clone(),
            deduction_authorised: s.deduction_authorised,
            status: s.status,
            bound_at: s.bound_at,
            verified_at: s.verified_at,
        }
    }
}

/// The settlement account of `owner`, if one is bound.
pub async fn of(app: &App, owner: &AccountId) -> AppResult<Option<Versioned<SettlementAccount>>> {
    load(&*app.store, repo::settlement_account_key(owner)).await
}

async fn holder(app: &App, owner: &AccountId) -> AppResult<Option<Account>> {
    Ok(load::<Account>(&*app.store, repo::account_key(owner))
        .await?
        .map(|a| a.value))
}

/// `PUT /me/settlement-account` (S4): binds (or replaces) the caller's settlement account,
/// in the name of the caller's verified company; it awaits an operator's verification
/// unless it is the same account again.
pub async fn bind(
    app: &App,
    owner: &AccountId,
    binding: Binding,
) -> AppResult<SettlementAccountView> {
    settlement::check_shape(&binding)?;
    let bound = retrying(app, || async {
        let now = app.now();
        let holder = holder(app, owner).await?;
        settlement::check_holder(holder.as_ref(), &binding.company_name)?;
        let current = of(app, owner).await?;
        let next = settlement::bind(
            owner,
            binding.clone(),
            current.as_ref().map(|c| &c.value),
            now,
        );
        written(
            app.transact(vec![put(settlement_account_item(&next), current.as_ref())])
                .await,
        )?;
        Ok(next)
    })
    .await?;
    tracing::info!(account = %owner, kind = ?bound.kind, status = ?bound.status, deduction_authorised = bound.deduction_authorised, "settlement account bound (S4)");
    Ok(SettlementAccountView::from(&bound))
}

/// `GET /me/settlement-account` (S4): 404 until one is bound.
pub async fn get(app: &App, owner: &AccountId) -> AppResult<SettlementAccountView> {
    of(app, owner)
        .await?
        .map(|s| SettlementAccountView::from(&s.value))
        .ok_or_else(|| Problem::not_found("settlement account").into())
}

/// `POST /admin/accounts/{id}/settlement-account/verify` (S4): an operator verifies the
/// bound account, re-checking that it is still in the holder's verified company name.
/// Verifying a verified one answers it as it is.
pub async fn verify(app: &App, owner: &AccountId) -> AppResult<SettlementAccountView> {
    let verified = retrying(app, || async {
        let now = app.now();
        let current = of(app, owner)
            .await?
            .ok_or_else(|| Problem::not_found("settlement account"))?;
        let holder = holder(app, owner).await?;
        settlement::check_holder(holder.as_ref(), &current.value.company_name)?;
        if current.value.status == SettlementStatus::Verified {
            return Ok(current.value);
        }
        let mut next = current.value.clone();
        next.status = SettlementStatus::Verified;
        next.verified_at = Some(now);
        written(
            app.transact(vec![put(settlement_account_item(&next), Some(&current))])
                .await,
        )?;
        Ok(next)
    })
    .await?;
    tracing::info!(account = %owner, kind = ?verified.kind, "settlement account verified (S4)");
    Ok(SettlementAccountView::from(&verified))
}
