//! L10: delivery through the partner. A paid partner order writes, in its own transaction,
//! an outbox message (kind `partner`) that becomes a signed webhook to the partner after
//! commit (and again, with backoff, until the partner answers 2xx; the order id is the
//! dedupe id). The partner answers with `POST /partner/deliveries/{id}`: `delivered`
//! completes the sale (escrow → the partner's payable account), `failed` gives the buyer
//! the whole price back: through the provider when paid online, else to the balance. A
//! repeat of the same answer changes nothing.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::orders::{load_order, PartnerOrderView};
use crate::outbox::{message, outbox_item, OutboxMessage};
use crate::ports::partner::Webhook;
use crate::repo::{self, create, journal_writes, load, partner_order_item, put};
use crate::retry::{retrying, written};
use crate::store::Write;
use crate::{App, AppError, AppResult};
use market_core::error::{Code, Problem};
use market_core::ids::OrderId;
use market_core::ledger;
use market_core::model::Payment;
use market_core::partner::{
    canonical_request, journals, Partner, PartnerOrder, PartnerOrderStatus, PartnerPayment,
};

/// The outbox kind of delivery webhooks.
pub const KIND_PARTNER: &str = "partner";

/// What the partner is told (the webhook's JSON body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryNotice {
    /// The order id: answer it at `POST /partner/deliveries/{delivery_id}`.
    pub delivery_id: String,
    pub partner: String,
    pub domain: String,
    pub price: String,
    /// The buyer's account id at the marketplace.
    pub buyer: String,
    pub paid_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Deliveries {
    deliveries: Vec<DeliveryNotice>,
}

/// The outbox write that announces a paid order to its partner.
pub(crate) fn announce(app: &App, order: &PartnerOrder, now: DateTime<Utc>) -> Write {
    let notice = DeliveryNotice {
        delivery_id: order.id.to_string(),
        partner: order.partner.id.to_string(),
        domain: order.domain.to_string(),
        price: order.price.to_string(),
        buyer: order.buyer.to_string(),
        paid_at: order.paid_at.unwrap_or(now),
    };
    let payload = serde_json::to_value(Deliveries {
        deliveries: vec![notice],
    })
    .expect("notices serialise");
    create(outbox_item(&message(
        KIND_PARTNER,
        payload,
        now,
        app.ulid(),
    )))
}

/// The outbox deliverer: sends each notice from `from` as a signed webhook, stopping at the
/// first failure (returns how many are sent).
pub(crate) async fn send_webhooks(
    app: &App,
    message: &OutboxMessage,
    from: usize,
) -> (usize, anyhow::Result<()>) {
    let batch: Deliveries = match serde_json::from_value(message.payload.clone()) {
        Ok(b) => b,
        Err(e) => {
            return (
                from,
                Err(anyhow::anyhow!("unreadable partner message: {e}")),
            )
        }
    };
    for (n, notice) in batch.deliveries.iter().enumerate().skip(from) {
        if let Err(e) = send_one(app, notice).await {
            return (n, Err(e));
        }
    }
    (batch.deliveries.len(), Ok(()))
}

async fn send_one(app: &App, notice: &DeliveryNotice) -> anyhow::Result<()> {
    let id = market_core::partner::PartnerId::parse(&notice.partner)?;
    let partner: Partner = super::find(app, &id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("partner {id} is not defined"))?;
    let key = app
        .partner
        .key(id.as_str())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no key configured for partner {id}"))?;
    let body = serde_json::to_vec(notice)?;
    let timestamp = app.now().timestamp().to_string();
    let nonce = app.ulid().to_string().to_lowercase();
    let path = url_path(&partner.webhook_url);
    let signature = super::signing::sign(
        &key,
        &canonical_request("POST", path, &timestamp, &nonce, &body),
    );
    let webhook = Webhook {
        url: partner.webhook_url.clone(),
        headers: vec![
            ("X-Partner-Id", id.to_string()),
            ("X-Timestamp", timestamp),
            ("X-Nonce", nonce),
            ("X-Signature", signature),
        ],
        body,
    };
    app.partner.send(&webhook).await.inspect_err(|e| {
        tracing::warn!(partner = %id, delivery = %notice.delivery_id, error = %format!("{e:#}"), "partner webhook not taken; retried");
    })
}

/// The path of a URL (what the webhook's signature covers), `/` when it has none.
pub fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

/// The partner's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Failed,
}

/// `POST /partner/deliveries/{id}` `{status}` from `partner`.
pub async fn confirm(
    app: &App,
    partner: &Partner,
    id: &OrderId,
    outcome: Outcome,
) -> AppResult<PartnerOrderView> {
    let (view, refund) = retrying(app, || async {
        let now = app.now();
        let order = load_order(app, id)
            .await?
            .filter(|o| o.value.partner.id == partner.id)
            .ok_or_else(|| Problem::not_found("delivery"))?;
        let o = &order.value;
        let target = match outcome {
            Outcome::Delivered => PartnerOrderStatus::Completed,
            Outcome::Failed => PartnerOrderStatus::Refunded,
        };
        // The same answer again (the partner retried): nothing more happens.
        if o.status == target {
            return Ok((PartnerOrderView::from(o), None));
        }
        if o.status != PartnerOrderStatus::Delivering {
            return Err(Problem::new(
                Code::DeliveryNotPending,
                format!("delivery {id} is {:?}, not awaiting confirmation", o.status),
            )
            .into());
        }
        let mut ended = o.clone();
        ended.status = target;
        ended.ended_at = Some(now);
        ended.updated_at = now;
        let mut writes = vec![put(partner_order_item(&ended), Some(&order))];
        let mut refund = None;
        match (outcome, o.payment, o.payment_id.as_ref()) {
            (Outcome::Delivered, _, _) => {
                writes.extend(journal_writes(&journals::sale(&ended, now)))
            }
            (Outcome::Failed, PartnerPayment::Alipay, Some(payment_id)) => {
                // Back through the provider it came from (S1), retried until confirmed.
                let payment = load::<Payment>(&*app.store, repo::payment_key(payment_id.as_str()))
                    .await?
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("order {id} names a missing payment")))?
                    .value;
                let journal = ledger::refund(&payment, "all", payment.amount, now);
                let (record, write) = crate::refunds::refund_for(
                    &journal,
                    &payment,
                    "the partner could not deliver the domain (L10)",
                    now,
                    app.ulid(),
                );
                writes.extend(journal_writes(&journal));
                writes.push(write);
                refund = Some(record.journal_id);
            }
            (Outcome::Failed, _, _) => {
                writes.extend(super::balance::posted(app, &journals::refund(&ended, now)).await?)
            }
        }
        written(app.transact(writes).await)?;
        tracing::info!(order = %id, partner = %partner.id, outcome = ?outcome, "partner delivery answered");
        Ok((PartnerOrderView::from(&ended), refund))
    })
    .await?;
    if let Some(journal_id) = refund {
        crate::refunds::send_refund_now(app, &journal_id).await;
    }
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::url_path;

    #[test]
    fn the_signed_path_of_a_webhook_url() {
        assert_eq!(
            url_path("https://p.example/hooks/market?x=1"),
            "/hooks/market"
        );
        assert_eq!(url_path("https://p.example"), "/");
        assert_eq!(url_path("http://127.0.0.1:9/a#b"), "/a");
    }
}
