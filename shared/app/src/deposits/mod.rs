//! M1: sellers' deposits. A seller opens a deposit for a category (`POST /me/deposits`):
//! a payment through the provider like an order's, with the same window; the notification
//! path applies it once ([`paid`]) into the seller's `deposits` ledger account and their
//! standing; operators forfeit part or all of it ([`forfeit`]); what is left goes back on
//! exit (`crate::exit`). Listing (and pushing) a domain of a category with a deposit needs
//! it held in full ([`may_sell`]).
pub mod categories;
mod forfeit;
mod paid;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::attempts::{attempt_view, new_attempt};
use crate::repo::{self, create, deposit_item, load, payment_item, plain_item, put, Versioned};
use crate::retry::{retrying, written};
use crate::store::{Expect, Index, Query, Write};
use crate::views::PaymentView;
use crate::{App, AppError, AppResult};
use market_core::deposit::{
    check_deposit, check_not_exited, shortfall, Deposit, DepositStatus, Standing,
};
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, DepositId};
use market_core::listing::check_trader;
use market_core::model::{Account, Payment, PaymentRef, PaymentStatus, Purchase};
use market_core::money::Money;

pub use forfeit::forfeit;
pub(crate) use paid::{attempt_failed_writes, expire_if_due, paid};

/// A seller's standing as read (absent: never paid a deposit nor exited).
pub(crate) async fn standing(
    app: &App,
    account: &AccountId,
) -> AppResult<Option<Versioned<Standing>>> {
    load(&*app.store, repo::standing_key(account)).await
}

/// The write of a changed standing, on the condition that it is as read.
pub(crate) fn standing_write(
    account: &AccountId,
    next: &Standing,
    read: Option<&Versioned<Standing>>,
) -> Write {
    put(plain_item(repo::standing_key(account), next), read)
}

/// M1, M2: whether `seller` may sell domains with these TLDs (not exited; every deposit
/// their categories need held in full). Answers the condition the caller's transaction
/// carries, so a forfeit or an exit committed meanwhile sends it round again.
pub(crate) async fn may_sell<'a>(
    app: &App,
    seller: &AccountId,
    tlds: impl IntoIterator<Item = &'a str>,
) -> AppResult<Write> {
    // The standing as it is now (the write is conditioned on it); the catalogue, which
    // every seller's action reads, from the process's cache.
    let (standing_pk, standing_sk) = repo::standing_key(seller);
    let (standing, catalogue) = futures::join!(
        app.store.get(&standing_pk, &standing_sk),
        crate::caches::setting(app, repo::categories_key())
    );
    may_sell_as_read(seller, tlds, standing?.as_ref(), catalogue?.as_ref())
}

/// [`may_sell`] over the seller's standing and the catalogue as the caller read them (in a
/// batch of its own: `POST /listings` reads everything it decides on in one request).
pub(crate) fn may_sell_as_read<'a>(
    seller: &AccountId,
    tlds: impl IntoIterator<Item = &'a str>,
    standing_item: Option<&crate::store::Item>,
    catalogue_item: Option<&crate::store::Item>,
) -> AppResult<Write> {
    let read: Option<Versioned<Standing>> = standing_item.map(repo::decode).transpose()?;
    let categories: Vec<market_core::deposit::Category> = catalogue_item
        .map(repo::decode::<categories::Catalogue>)
        .transpose()?
        .map(|c| c.value.categories.into_values().collect())
        .unwrap_or_default();
    let standing = read.as_ref().map(|s| s.value.clone()).unwrap_or_default();
    check_not_exited(&standing)?;
    for tld in tlds {
        check_deposit(&categories, tld, &standing.held)?;
    }
    let (pk, sk) = repo::standing_key(seller);
    Ok(Write::Check {
        pk,
        sk,
        expect: read.as_ref().map_or(Expect::Absent, Versioned::expect),
    })
}

/// One forfeit as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ForfeitView {
    #[schema(value_type = crate::schema::MoneySchema)]
    pub amount: Money,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A deposit as its seller and operators see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Deposit)]
pub struct DepositView {
    pub id: String,
    pub account: String,
    pub category: String,
    /// What the deposit was opened for.
    #[schema(value_type = crate::schema::MoneySchema)]
    pub amount: Money,
    /// `awaiting_payment`, `held`, `forfeited` (in full), `refunded` (on exit) or `expired`.
    #[schema(value_type = String, example = "held")]
    pub status: DepositStatus,
    /// What it still holds (paid, less forfeits).
    #[schema(value_type = String, example = "500.00")]
    pub held: String,
    pub forfeits: Vec<ForfeitView>,
    /// What went back on exit.
    #[schema(value_type = Option<crate::schema::MoneySchema>)]
    pub refunded: Option<Money>,
    /// The end of its payment window.
    pub pay_by: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// The payment attempt to pay it with (on the answer that opened it, while unpaid).
    pub payment: Option<PaymentView>,
}

impl DepositView {
    /// The deposit, with the attempt to pay it where there is one to show.
    pub fn new(deposit: &Deposit, payment: Option<PaymentView>) -> DepositView {
        DepositView {
            id: deposit.id.to_string(),
            account: deposit.account.to_string(),
            category: deposit.category.clone(),
            amount: deposit.amount,
            status: deposit.status,
            held: format!("{:.2}", deposit.held()),
            forfeits: deposit
                .forfeits
                .iter()
                .map(|f| ForfeitView {
                    amount: f.amount,
                    reason: f.reason.clone(),
                    at: f.at,
                })
                .collect(),
            refunded: deposit.refunded,
            pay_by: deposit.pay_by,
            created_at: deposit.created_at,
            paid_at: deposit.paid_at,
            payment,
        }
    }
}

/// `GET /me/deposits`: every deposit of the seller, and what they hold per category.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Deposits)]
pub struct DepositsView {
    /// Newest first.
    pub items: Vec<DepositView>,
    /// Category → amount held (deposits of several categories add up).
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub held: std::collections::BTreeMap<String, String>,
    #[schema(value_type = String, example = "800.00")]
    pub total_held: String,
}

/// `POST /me/deposits {category}`: opens the deposit the category still needs (all of it,
/// or what a raise or a forfeit left missing) and its payment, open for the payment window.
/// While one is open for the category, the same deposit is answered (a new attempt after a
/// failed one): a double click never opens two. `true` when it was created now.
pub async fn open(
    app: &App,
    account: &AccountId,
    category: &str,
) -> AppResult<(DepositView, bool)> {
    let (deposit, payment, created) = retrying(app, || async {
        let now = app.now();
        let catalogue = categories::catalogue(app).await?;
        let category = catalogue
            .as_ref()
            .and_then(|c| c.value.categories.get(category).cloned())
            .ok_or_else(|| Problem::not_found("category"))?;
        if category.deposit.is_none() {
            return Err(Problem::new(
                Code::InvalidRequest,
                format!("the category `{}` needs no deposit", category.name),
            )
            .into());
        }
        let holder: Option<Versioned<Account>> =
            load(&*app.store, repo::account_key(account)).await?;
        check_trader(holder.as_ref().map(|a| &a.value))?;
        let read = standing(app, account).await?;
        let mut next = read.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        check_not_exited(&next)?;
        if let Some(id) = next.pending.get(&category.name) {
            if let Some(open) = reopen(app, id, now).await? {
                return Ok(open);
            }
        }
        let missing = shortfall(&category, &next.held);
        if missing.is_zero() {
            return Err(Problem::new(
                Code::DepositAlreadyHeld,
                format!("the `{}` deposit is held in full", category.name),
            )
            .into());
        }
        let amount = money(missing)?;
        let id = DepositId::mint(app.ulid());
        let pay_by = now + app.policy.payment_window;
        let payment = new_attempt(
            app,
            Purchase::Deposit(id.clone()),
            account,
            amount,
            pay_by,
            now,
        );
        let deposit = Deposit {
            id: id.clone(),
            account: account.clone(),
            category: category.name.clone(),
            amount,
            status: DepositStatus::AwaitingPayment,
            payment: Some(pending_ref(&payment)),
            pay_by,
            forfeits: Vec::new(),
            refunded: None,
            created_at: now,
            updated_at: now,
            paid_at: None,
        };
        next.pending.insert(category.name.clone(), id);
        written(
            app.transact(vec![
                create(deposit_item(&deposit)),
                create(payment_item(&payment)),
                standing_write(account, &next, read.as_ref()),
            ])
            .await,
        )?;
        tracing::info!(deposit = %deposit.id, account = %account, amount = %amount, "deposit opened (M1)");
        Ok((deposit, payment, true))
    })
    .await?;
    let subject = format!("Seller deposit {}", deposit.category);
    let view = attempt_view(app, &payment, &subject, app.now()).await?;
    Ok((DepositView::new(&deposit, Some(view)), created))
}

/// The open deposit of a category, with its pending attempt or a new one after a failed
/// attempt; `None` when its window has passed (a new deposit is opened instead).
async fn reopen(
    app: &App,
    id: &DepositId,
    now: DateTime<Utc>,
) -> Result<Option<(Deposit, Payment, bool)>, crate::retry::Attempt> {
    let Some(deposit) = load::<Deposit>(&*app.store, repo::deposit_key(id)).await? else {
        return Ok(None);
    };
    if deposit.value.status != DepositStatus::AwaitingPayment || now >= deposit.value.pay_by {
        return Ok(None);
    }
    if let Some(current) = deposit
        .value
        .payment
        .as_ref()
        .filter(|p| p.status == PaymentStatus::Pending)
    {
        let payment: Versioned<Payment> =
            load(&*app.store, repo::payment_key(current.payment_id.as_str()))
                .await?
                .ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("deposit {id} names a missing payment"))
                })?;
        return Ok(Some((deposit.value, payment.value, false)));
    }
    // O5 for deposits: a failed attempt is followed by a new one, inside the same window.
    let payment = new_attempt(
        app,
        Purchase::Deposit(id.clone()),
        &deposit.value.account,
        deposit.value.amount,
        deposit.value.pay_by,
        now,
    );
    let mut next = deposit.value.clone();
    next.payment = Some(pending_ref(&payment));
    next.updated_at = now;
    written(
        app.transact(vec![
            put(deposit_item(&next), Some(&deposit)),
            create(payment_item(&payment)),
        ])
        .await,
    )?;
    Ok(Some((next, payment, false)))
}

fn pending_ref(payment: &Payment) -> PaymentRef {
    PaymentRef {
        payment_id: payment.id.clone(),
        status: PaymentStatus::Pending,
        failure: None,
    }
}

fn money(amount: Decimal) -> AppResult<Money> {
    Ok(Money::parse(&format!("{amount:.2}"))?)
}

/// Every deposit of `account`, newest first (a seller has a handful: one per category and
/// top-up).
pub(crate) async fn all_of(app: &App, account: &AccountId) -> AppResult<Vec<Versioned<Deposit>>> {
    let mut query = Query::index(Index::Gsi1, repo::deposits_partition(account));
    query.forward = false;
    let mut out = Vec::new();
    loop {
        let page = app.store.query(query.clone()).await?;
        for item in &page.items {
            // The index may lag: each deposit is read as its item says now.
            let read: Versioned<Deposit> = repo::decode(item)?;
            if let Some(fresh) =
                load::<Deposit>(&*app.store, repo::deposit_key(&read.value.id)).await?
            {
                out.push(fresh);
            }
        }
        match page.next {
            Some(next) if !page.items.is_empty() => query.after = Some(next),
            _ => break,
        }
    }
    Ok(out)
}

/// `GET /me/deposits`.
pub async fn list(app: &App, account: &AccountId) -> AppResult<DepositsView> {
    let deposits = all_of(app, account).await?;
    let standing = standing(app, account)
        .await?
        .map(|s| s.value)
        .unwrap_or_default();
    let total: Decimal = standing.held.values().copied().sum();
    Ok(DepositsView {
        items: deposits
            .iter()
            .map(|d| DepositView::new(&d.value, None))
            .collect(),
        held: standing
            .held
            .iter()
            .map(|(k, v)| (k.clone(), format!("{v:.2}")))
            .collect(),
        total_held: format!("{total:.2}"),
    })
}
