//! S3: an account's payment methods for what it owes the platform (deposits, debts after a
//! clawback, registry transfer fees, partner orders): bound (`bind`), listed, one of them
//! preferred, removed (`manage`). They never pay for a listing or a push: trades stay
//! Alipay-only (O8), and nothing in orders or pushes reads them.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::repo::{self, load, Versioned};
use crate::{App, AppResult};
use market_core::ids::AccountId;
use market_core::instrument::{MethodKind, MethodList, PaymentMethod};

mod bind;
mod manage;
mod obligations;

pub use bind::{bind, NewMethod};
pub use manage::{list, prefer, remove};
pub use obligations::outstanding;

/// A payment method as its owner sees it (`{id, kind, brand?, last4?, preferred}`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PaymentMethod)]
pub struct MethodView {
    /// `mth_…`.
    pub id: String,
    #[schema(value_type = MethodKindWord)]
    pub kind: MethodKind,
    /// Cards: the brand (`visa`, `mastercard`, `amex`, `jcb`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// Cards: the last four digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp_month: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp_year: Option<i32>,
    /// The method bills are paid with first; the preferred one cannot be removed while
    /// there are others.
    pub preferred: bool,
    pub created_at: DateTime<Utc>,
}

/// The kinds of payment method.
#[derive(utoipa::ToSchema)]
#[schema(as = PaymentMethodKind, rename_all = "snake_case")]
#[allow(dead_code)]
enum MethodKindWord {
    Card,
    Paypal,
    BankTransfer,
}

impl MethodView {
    fn new(method: &PaymentMethod, list: &MethodList) -> MethodView {
        MethodView {
            id: method.id.to_string(),
            kind: method.kind,
            brand: method.brand.clone(),
            last4: method.last4.clone(),
            exp_month: method.exp_month,
            exp_year: method.exp_year,
            preferred: list.preferred.as_deref() == Some(method.id.as_str()),
            created_at: method.created_at,
        }
    }
}

/// What a binding claim records: whose the instrument is, and as which method.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claim {
    owner: AccountId,
    method: market_core::ids::PaymentMethodId,
}

/// The account's method list as read (empty before the first binding).
async fn method_list(app: &App, owner: &AccountId) -> AppResult<Option<Versioned<MethodList>>> {
    load(&*app.store, repo::payment_method_list_key(owner)).await
}

fn list_item(list: &MethodList, owner: &AccountId) -> crate::store::Item {
    repo::plain_item(repo::payment_method_list_key(owner), list)
}
