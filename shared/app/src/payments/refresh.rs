//! O6 for pushes: the buyer asks the provider about the push's current payment attempt
//! (`trade.query`), and the answer is applied through the notification path, once
//! (`query_and_apply`). It sits here, above `pushes`, because it applies a provider's
//! answer; an order's refresh is `orders::refresh`.

use crate::rate_limit::{self, Counted};
use crate::repo::{self, load};
use crate::{App, AppResult};
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, PushId};
use market_core::model::{PaymentStatus, Push};

use super::*;

/// `POST /pushes/{id}/refresh` (O6): the push's buyer only (its seller is refused, anyone
/// else finds nothing, P7), rate limited per account with orders' refreshes
/// (`Counted::Refresh`: each call may reach the provider). While the push is open with an
/// attempt whose result is not back, asks the provider and applies its answer; if the
/// provider cannot be reached the push is shown as it stands.
pub async fn refresh_push(
    app: &App,
    caller: &AccountId,
    id: &PushId,
) -> AppResult<crate::pushes::PushView> {
    let push: Push = load::<Push>(&*app.store, repo::push_key(id))
        .await?
        .ok_or_else(|| Problem::not_found("push"))?
        .value;
    if &push.buyer != caller {
        return Err(if &push.seller == caller {
            Problem::new(
                Code::Forbidden,
                "only the push's buyer can refresh its payment",
            )
        } else {
            Problem::not_found("push")
        }
        .into());
    }
    rate_limit::count(app, caller, Counted::Refresh).await?;
    let pending = push
        .payment
        .as_ref()
        .filter(|p| p.status == PaymentStatus::Pending && !push.status.is_final());
    if let Some(attempt) = pending {
        let payment_id = attempt.payment_id.as_str();
        if let Err(e) = query_and_apply(app, payment_id).await {
            tracing::warn!(payment = payment_id, error = %e, "trade.query failed; showing the push as it is");
        }
    }
    crate::pushes::get(app, caller, id).await
}
