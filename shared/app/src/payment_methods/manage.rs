//! S3: an account's methods listed, one preferred, one removed. Every change writes the
//! account's method list on the version read, so a removal and a preference (or two
//! removals) racing each other are decided one after the other.
use super::{list_item, method_list, Claim, MethodView};
use crate::repo::{self, load, put, Versioned};
use crate::retry::{retrying, written};
use crate::store::{Query, Write};
use crate::views::PageView;
use crate::{App, AppResult};
use market_core::error::Problem;
use market_core::ids::{AccountId, PaymentMethodId};
use market_core::instrument::{self, Obligations, PaymentMethod};

/// `GET /me/payment-methods`: a page of the caller's methods, in binding order.
pub async fn list(
    app: &App,
    owner: &AccountId,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<PageView<MethodView>> {
    let mut query = Query::table(repo::payment_methods_partition(owner));
    query.limit = limit;
    query.after = cursor;
    let page = app.store.query(query).await?;
    let list = method_list(app, owner)
        .await?
        .map(|l| l.value)
        .unwrap_or_default();
    let items = page
        .items
        .iter()
        .map(|i| repo::decode::<PaymentMethod>(i).map(|m| MethodView::new(&m.value, &list)))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(PageView {
        items,
        next_cursor: page.next,
    })
}

async fn method(
    app: &App,
    owner: &AccountId,
    id: &PaymentMethodId,
) -> AppResult<Versioned<PaymentMethod>> {
    load(&*app.store, repo::payment_method_key(owner, id))
        .await?
        .ok_or_else(|| Problem::not_found("payment method").into())
}

/// `POST /me/payment-methods/{id}/preferred`: makes it the method bills are paid with first.
pub async fn prefer(app: &App, owner: &AccountId, id: &PaymentMethodId) -> AppResult<MethodView> {
    retrying(app, || async {
        let found = method(app, owner, id).await?;
        let read = method_list(app, owner)
            .await?
            .ok_or_else(|| Problem::not_found("payment method"))?;
        let next = instrument::prefer(&read.value, id.as_str())?;
        if next != read.value {
            written(
                app.transact(vec![put(list_item(&next, owner), Some(&read))])
                    .await,
            )?;
            tracing::info!(account = %owner, method = %id, "preferred payment method changed (S3)");
        }
        Ok(MethodView::new(&found.value, &next))
    })
    .await
}

/// `DELETE /me/payment-methods/{id}` (S3): not the preferred one while there are others;
/// not the only one while bills are unpaid or deposits held. Its binding claim goes with
/// it: the instrument may then be bound again, by any account.
pub async fn remove(app: &App, owner: &AccountId, id: &PaymentMethodId) -> AppResult<MethodView> {
    retrying(app, || async {
        let found = method(app, owner, id).await?;
        let read = method_list(app, owner)
            .await?
            .ok_or_else(|| Problem::not_found("payment method"))?;
        // Only the last method needs what is owed (reading it costs a ledger read).
        let owed = if read.value.methods.len() == 1 {
            super::outstanding(app, owner).await?
        } else {
            Obligations::default()
        };
        let next = instrument::remove(&read.value, id.as_str(), owed).inspect_err(|p| {
            tracing::info!(account = %owner, method = %id, code = ?p.code, "payment method removal refused (S3)");
        })?;
        let claim_key = repo::payment_binding_key(&found.value.binding);
        let claim: Option<Versioned<Claim>> = load(&*app.store, claim_key.clone()).await?;
        let (pk, sk) = repo::payment_method_key(owner, id);
        let mut writes = vec![
            Write::Delete {
                pk,
                sk,
                expect: found.expect(),
            },
            put(list_item(&next, owner), Some(&read)),
        ];
        if let Some(claim) = claim.filter(|c| c.value.method == *id) {
            writes.push(Write::Delete {
                pk: claim_key.0,
                sk: claim_key.1,
                expect: claim.expect(),
            });
        }
        written(app.transact(writes).await)?;
        tracing::info!(account = %owner, method = %id, "payment method removed (S3)");
        Ok(MethodView::new(&found.value, &read.value))
    })
    .await
}
