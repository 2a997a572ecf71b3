//! L10: a buyer's account balance: the ledger account `balance:{account}` and, beside it,
//! one item holding its available amount, written with every posting to it on the
//! condition that it is as read (as `crate::balances` does for sellers). Spending checks
//! the amount read, so two orders racing for the same money cannot both take it: the loser
//! reads again and is refused `INSUFFICIENT_FUNDS`. The balance never goes negative.
//! Top-ups are payments through the provider, applied once by the notification path.
use chrono::Duration;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::balances::sum_of;
use crate::repo::{self, create, journal_writes, load, payment_item, put, Versioned};
use crate::store::{Item, Write};
use crate::views::PaymentView;
use crate::{App, AppResult};
use market_core::error::{Code, Problem};
use market_core::ids::AccountId;
use market_core::ledger::{Journal, LedgerAccount};
use market_core::model::Purchase;
use market_core::money::Money;

/// What is stored under [`repo::buyer_balance_key`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredBalance {
    account: AccountId,
    available: Decimal,
}

/// A buyer's balance as read, ready to be written back changed.
pub(crate) struct Balance {
    account: AccountId,
    pub amount: Decimal,
    read: Option<Versioned<StoredBalance>>,
}

impl Balance {
    /// Reads the balance (before its first write: the sum of its postings, zero).
    pub async fn read(app: &App, account: &AccountId) -> AppResult<Balance> {
        let read: Option<Versioned<StoredBalance>> =
            load(&*app.store, repo::buyer_balance_key(account)).await?;
        let amount = match &read {
            Some(b) => b.value.available,
            None => sum_of(app, &LedgerAccount::BuyerBalance(account.clone())).await?,
        };
        Ok(Balance {
            account: account.clone(),
            amount,
            read,
        })
    }

    /// The write that moves the balance by `delta` (conditional on it being as read); a
    /// move below zero is refused.
    pub fn moved_by(&self, delta: Decimal) -> Result<Write, Problem> {
        let mut available = self.amount + delta;
        if available < Decimal::ZERO {
            return Err(Problem::new(
                Code::InsufficientFunds,
                format!("the balance is {:.2}, less than {:.2}", self.amount, -delta),
            ));
        }
        available.rescale(2);
        let value = StoredBalance {
            account: self.account.clone(),
            available,
        };
        let (pk, sk) = repo::buyer_balance_key(&self.account);
        let body = serde_json::to_string(&value).expect("a balance serialises");
        Ok(put(Item::new(pk, sk, body), self.read.as_ref()))
    }
}

/// A journal's writes with the balance move of every buyer balance it posts to: the one
/// way a journal touching `balance:` is written.
pub(crate) async fn posted(app: &App, journal: &Journal) -> AppResult<Vec<Write>> {
    let mut writes = journal_writes(journal);
    for posting in &journal.postings {
        if let Some(account) = posting.account.strip_prefix("balance:") {
            let account = AccountId::parse(account)?;
            writes.push(
                Balance::read(app, &account)
                    .await?
                    .moved_by(posting.amount)?,
            );
        }
    }
    Ok(writes)
}

/// `GET /me/balance`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BalanceView {
    /// What the account can spend on partner orders, a decimal string (`"120.00"`).
    #[schema(value_type = String, example = "120.00")]
    pub available: String,
}

pub async fn get(app: &App, account: &AccountId) -> AppResult<BalanceView> {
    let balance = Balance::read(app, account).await?;
    Ok(BalanceView {
        available: format!("{:.2}", balance.amount),
    })
}

/// The stored amount (`None` before its first write), for the tests that check it against
/// the postings.
pub async fn stored(app: &App, account: &AccountId) -> AppResult<Option<Decimal>> {
    Ok(
        load::<StoredBalance>(&*app.store, repo::buyer_balance_key(account))
            .await?
            .map(|b| b.value.available),
    )
}

/// How long a top-up's payment page stays open.
const TOP_UP_WINDOW: Duration = Duration::minutes(30);

/// `POST /me/balance/top-ups` `{amount}`: a payment attempt through the provider; the
/// balance grows when its success notification is applied (once, `apply_top_up`).
pub async fn top_up(app: &App, account: &AccountId, amount: Money) -> AppResult<PaymentView> {
    market_core::listing::check_price(amount)?;
    let now = app.now();
    let payment = crate::attempts::new_attempt(
        app,
        Purchase::TopUp,
        account,
        amount,
        now + TOP_UP_WINDOW,
        now,
    );
    app.transact(vec![create(payment_item(&payment))]).await?;
    crate::attempts::attempt_view(app, &payment, "Account balance top-up", now).await
}

/// A top-up's success, applied once: the payment succeeds and the money lands in the
/// buyer's balance (provider → `balance:`), with the notification's dedupe records, in one
/// conditional transaction. A top-up is never late: its money is the buyer's whenever it
/// comes.
pub(crate) async fn paid_top_up(
    app: &App,
    n: &crate::ports::payment::Notification,
) -> AppResult<crate::attempts::Applied> {
    use crate::attempts::{dedupe_records, Applied};
    use market_core::model::{Payment, PaymentStatus};
    crate::retry::retrying(app, || async {
        let now = app.now();
        let payment: Versioned<Payment> = load(&*app.store, repo::payment_key(&n.out_trade_no))
            .await?
            .ok_or_else(|| crate::AppError::Internal(anyhow::anyhow!("payment vanished")))?;
        if matches!(
            payment.value.status,
            PaymentStatus::Succeeded | PaymentStatus::Refunded
        ) {
            return Ok(Applied::NoChange);
        }
        let mut settled = payment.value.clone();
        settled.status = PaymentStatus::Succeeded;
        settled.trade_no = Some(n.trade_no.clone());
        settled.settled_at = Some(now);
        let journal = market_core::partner::journals::top_up(
            &payment.value.id,
            &payment.value.buyer,
            payment.value.amount.amount(),
            now,
        );
        let mut writes = dedupe_records(n, now);
        writes.extend(posted(app, &journal).await?);
        writes.push(put(payment_item(&settled), Some(&payment)));
        crate::retry::written(app.transact(writes).await)?;
        tracing::info!(payment = %payment.value.id, "balance top-up applied");
        Ok(Applied::Paid)
    })
    .await
}
