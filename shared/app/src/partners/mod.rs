//! L10: partner listings (合作方一口价). Operator-defined partners feed fixed-price listings
//! of domains not registered here over HMAC-signed requests (`signing`, `feed`); they show in
//! browse with `source: "partner"`; buyers order them without real-name verification or a
//! bound Alipay and pay from their balance (`balance`) or by offline bank transfer
//! (`orders`); the partner is told through the outbox and confirms the delivery, or its
//! failure refunds the buyer (`delivery`).
use serde::{Deserialize, Serialize};

use crate::repo::{self, load, plain_item, put, Versioned};
use crate::retry::{retrying, written};
use crate::{App, AppResult};
use market_core::error::{Code, Problem};
use market_core::partner::{Partner, PartnerId};

pub mod balance;
pub mod delivery;
pub mod feed;
pub mod orders;
pub mod signing;

/// A partner as operators see it (never its key).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerView {
    pub id: String,
    pub name: String,
    pub webhook_url: String,
}

impl From<&Partner> for PartnerView {
    fn from(p: &Partner) -> PartnerView {
        PartnerView {
            id: p.id.to_string(),
            name: p.name.clone(),
            webhook_url: p.webhook_url.clone(),
        }
    }
}

/// `PUT /admin/partners/{partner_id}`: defines or changes a partner (its key is configured
/// apart: Secrets Manager in the cloud, `MARKET_PARTNER_KEYS` locally).
pub async fn define(
    app: &App,
    id: &PartnerId,
    name: &str,
    webhook_url: &str,
) -> AppResult<PartnerView> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Problem::new(Code::InvalidRequest, "name is 1-100 characters").into());
    }
    if !(webhook_url.starts_with("https://") || webhook_url.starts_with("http://"))
        || webhook_url.len() > 500
    {
        return Err(
            Problem::new(Code::InvalidRequest, "webhook_url must be an http(s) URL").into(),
        );
    }
    retrying(app, || async {
        let now = app.now();
        let read: Option<Versioned<Partner>> = load(&*app.store, repo::partner_key(id)).await?;
        let partner = Partner {
            id: id.clone(),
            name: name.to_owned(),
            webhook_url: webhook_url.to_owned(),
            created_at: read.as_ref().map_or(now, |p| p.value.created_at),
            updated_at: now,
        };
        written(
            app.transact(vec![put(
                plain_item(repo::partner_key(id), &partner),
                read.as_ref(),
            )])
            .await,
        )?;
        Ok(PartnerView::from(&partner))
    })
    .await
}

/// A defined partner, if it is one.
pub async fn find(app: &App, id: &PartnerId) -> AppResult<Option<Partner>> {
    Ok(load::<Partner>(&*app.store, repo::partner_key(id))
        .await?
        .map(|p| p.value))
}
