//! What a push looks like to its seller and its buyer (P7), and their lists.
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::attempts::attempt_view;
use crate::repo::{self, Versioned};
use crate::retry::retrying;
use crate::store::{Index, Query};
use crate::views::{PageView, PaymentView};
use crate::{App, AppResult};
use market_core::domain_name::DomainName;
use market_core::ids::{AccountId, PushId};
use market_core::model::{Payment, Push, PushStatus};
use market_core::money::Money;

use super::*;

/// A push as its seller and buyer see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Push)]
pub struct PushView {
    pub id: String,
    pub seller: String,
    pub buyer: String,
    pub domains: Vec<String>,
    pub domains_unicode: Vec<String>,
    #[schema(value_type = crate::schema::MoneySchema)]
    pub price: Money,
    #[schema(value_type = crate::schema::MoneySchema)]
    pub transfer_fee: Money,
    #[schema(value_type = crate::schema::MoneySchema)]
    pub amount_due: Money,
    pub lock_60d: bool,
    #[schema(value_type = crate::schema::PushStatusSchema)]
    pub status: PushStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 254)]
    pub buyer_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm_by: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_lock_until: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentView>,
    /// Why the current payment attempt failed, when the buyer should know: e.g. it was
    /// paid through a credit instrument and refunded in full (O8); pay again while the push
    /// is open (O5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_failure_reason: Option<String>,
}

pub use market_core::push::status_at;

pub(super) fn view(
    app: &App,
    push: &Push,
    now: DateTime<Utc>,
    payment: Option<PaymentView>,
) -> PushView {
    PushView {
        id: push.id.to_string(),
        seller: push.seller.to_string(),
        buyer: push.buyer.to_string(),
        domains: push.domains.iter().map(|d| d.to_string()).collect(),
        domains_unicode: push.domains.iter().map(DomainName::unicode).collect(),
        price: push.price,
        transfer_fee: push.transfer_fee,
        amount_due: push.amount_due(),
        lock_60d: push.lock_60d,
        status: status_at(push, now),
        end_reason: push.end_reason.clone(),
        expires_at: push.expires_at,
        created_at: push.created_at,
        buyer_email: push.buyer_email.clone(),
        message: push.message.clone(),
        accepted_at: push.accepted_at,
        paid_at: push.paid_at,
        confirm_by: push.confirm_by,
        completed_at: push.completed_at,
        transfer_lock_until: push.forced_at.map(|at| at + app.policy.transfer_lock),
        payment,
        payment_failure_reason: push.payment.as_ref().and_then(|p| p.failure.clone()),
    }
}

/// `GET /pushes/{id}`.
pub async fn get(app: &App, caller: &AccountId, id: &PushId) -> AppResult<PushView> {
    retrying(app, || async {
        Ok(view(
            app,
            &load_visible(app, caller, id).await?.value,
            app.now(),
            None,
        ))
    })
    .await
}

/// `GET /me/pushes?role=sent|received&status=`: newest first.
pub async fn mine(
    app: &App,
    caller: &AccountId,
    received: bool,
    status: Option<PushStatus>,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<PageView<PushView>> {
    let now = app.now();
    let mut query = if received {
        Query::index(Index::Gsi2, repo::received_partition(caller))
    } else {
        Query::index(Index::Gsi1, repo::sent_partition(caller))
    };
    query.forward = false;
    query.after = cursor;
    crate::paging::filtered(app, query, limit, status.is_some(), |item| {
        let push: Versioned<Push> = repo::decode(item)?;
        Ok(status
            .is_none_or(|s| status_at(&push.value, now) == s)
            .then(|| view(app, &push.value, now, None)))
    })
    .await
}

pub(super) async fn payment_view(
    app: &App,
    push: &Push,
    payment: &Payment,
    now: DateTime<Utc>,
) -> AppResult<PaymentView> {
    attempt_view(app, payment, &format!("Domain push {}", push.id), now).await
}
