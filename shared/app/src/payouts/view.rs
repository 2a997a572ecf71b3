//! A payout as its seller sees it (API.md "Payouts").
use chrono::{DateTime, Utc};
use serde::Serialize;

use market_core::payout::{Payout, PayoutStatus};

/// A payout (S6).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Payout)]
pub struct PayoutView {
    #[schema(value_type = String, example = "po_01jd0000000000000000000000")]
    pub id: String,
    /// The amount paid out, CNY.
    #[schema(value_type = String, example = "600.00")]
    pub amount: String,
    /// `pending` → `succeeded` | `failed` (the amount is back in `available`).
    #[schema(value_type = PayoutStatusWord)]
    pub status: PayoutStatus,
    /// The account it is paid to: the verified settlement account (S4), or the A1 binding.
    pub payout_account: String,
    /// `alipay` or `bank_account` (a bank sub-account settlement account, S4).
    #[schema(value_type = String, pattern = "^(alipay|bank_account)$")]
    pub payee_kind: market_core::payout::PayeeKind,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Why it failed (the provider's refusal, or the attempts given up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// The statuses of a payout.
#[derive(utoipa::ToSchema)]
#[schema(as = PayoutStatus, rename_all = "snake_case")]
#[allow(dead_code)]
enum PayoutStatusWord {
    Pending,
    Succeeded,
    Failed,
}

impl From<&Payout> for PayoutView {
    fn from(payout: &Payout) -> PayoutView {
        PayoutView {
            id: payout.id.to_string(),
            amount: payout.amount.to_string(),
            status: payout.status,
            payout_account: payout.payout_account.clone(),
            payee_kind: payout.payee_kind,
            created_at: payout.created_at,
            updated_at: payout.updated_at,
            failure_reason: payout.failure_reason.clone(),
        }
    }
}
