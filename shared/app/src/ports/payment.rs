//! The payment provider port (Alipay in the cloud, a sandbox locally: both in
//! `market-adapters`): pay URLs, verified notifications, trade queries and refunds.
use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use market_core::funding::FundBill;
use market_core::money::Money;

/// What the provider reports of a trade (Alipay `trade_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeStatus {
    /// `TRADE_SUCCESS` or `TRADE_FINISHED`: the money was paid.
    Paid,
    /// `TRADE_CLOSED`: the attempt failed or was closed unpaid.
    Closed,
    /// `WAIT_BUYER_PAY`: nothing to apply yet.
    Waiting,
}

impl TradeStatus {
    /// Reads Alipay's `trade_status`.
    pub fn parse(text: &str) -> Option<TradeStatus> {
        match text {
            "TRADE_SUCCESS" | "TRADE_FINISHED" => Some(TradeStatus::Paid),
            "TRADE_CLOSED" => Some(TradeStatus::Closed),
            "WAIT_BUYER_PAY" => Some(TradeStatus::Waiting),
            _ => None,
        }
    }
}

/// A verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub notify_id: String,
    pub out_trade_no: String,
    pub trade_no: String,
    pub trade_status: TradeStatus,
    /// The raw `trade_status` (TRADE_SUCCESS and TRADE_FINISHED both mean paid).
    pub raw_status: String,
    pub total_amount: Money,
    pub app_id: String,
    pub seller_id: String,
    /// When the provider took the money (`gmt_payment`), if it says.
    pub paid_at: Option<DateTime<Utc>>,
    /// Where the money came from (`fund_bill_list`), if it says: O8 refuses credit.
    pub fund_bills: Vec<FundBill>,
}

/// Why a notification was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed notification: {0}")]
    Malformed(String),
    #[error("bad signature")]
    BadSignature,
    /// The keys to check it with could not be had (Secrets Manager unreachable): not the
    /// notification's fault, so it is retried rather than refused.
    #[error("cannot verify now: {0}")]
    Unavailable(String),
}

/// Who we are at the provider: a notification must name us (`app_id`, `seller_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    pub app_id: String,
    pub seller_id: String,
}

/// What a payment page is built from.
#[derive(Debug, Clone)]
pub struct PayRequest<'a> {
    pub out_trade_no: &'a str,
    pub amount: Money,
    pub subject: &'a str,
    pub expires_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// What the provider knows of a trade (O6). `status: None` means it has not seen the trade
/// (the buyer never opened the page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradeQuery {
    pub status: Option<TradeStatus>,
    pub raw_status: String,
    pub trade_no: String,
    pub total_amount: Option<Money>,
    pub paid_at: Option<DateTime<Utc>>,
    /// Where the money came from (`fund_bill_list`), if it says: O8 refuses credit.
    pub fund_bills: Vec<FundBill>,
}

/// A refund to ask the provider for. `refund_id` makes the call idempotent at the provider.
#[derive(Debug, Clone)]
pub struct RefundRequest<'a> {
    pub out_trade_no: &'a str,
    pub refund_id: &'a str,
    pub amount: Money,
    pub reason: &'a str,
}

/// The provider's answer to a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundOutcome {
    Confirmed,
}

/// A transfer to a seller's bound account (S6): `alipay.fund.trans.uni.transfer`.
#[derive(Debug, Clone)]
pub struct TransferRequest<'a> {
    /// Our payout id (`out_biz_no`): the provider pays one id at most once.
    pub payout_id: &'a str,
    pub amount: Money,
    /// The bound account (`2088…` user id, or a logon id such as an email).
    pub payee_account: &'a str,
    /// The verified real name: the provider refuses a payee whose name differs.
    pub payee_name: Option<&'a str>,
    /// S4: an Alipay account, or a bank (sub-)account.
    pub payee_kind: market_core::payout::PayeeKind,
    pub title: &'a str,
}

/// What the provider says of a transfer, when it says something definite. Anything it did
/// not answer (a timeout, a 5xx, "system busy") is an `Err` of the call: unknown, to be
/// looked up with [`PaymentProvider::transfer_status`], never taken for a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferState {
    /// Paid to the payee; the provider's id of the transfer.
    Paid { provider_ref: String },
    /// Refused or failed for good (`PAYEE_NOT_EXIST`, a name mismatch …): nothing was paid.
    Failed { reason: String },
    /// Accepted and still being processed: ask again later.
    Processing,
    /// The provider has no transfer with this id (only a lookup says so).
    NotFound,
}

/// The payment provider port.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Where the buyer pays (a URL signed with our key).
    async fn pay_url(&self, request: &PayRequest<'_>) -> anyhow::Result<String>;
    /// Checks the signature of a notification body and reads it.
    async fn verify(&self, form_body: &str) -> Result<Notification, VerifyError>;
    /// Our application and merchant ids at the provider (checked against a notification's
    /// `app_id` and `seller_id`).
    async fn merchant(&self) -> anyhow::Result<Merchant>;
    /// Asks the provider about a trade (`alipay.trade.query`).
    async fn query(&self, out_trade_no: &str, now: DateTime<Utc>) -> anyhow::Result<TradeQuery>;
    /// Sends money back (`alipay.trade.refund`). An error means "try again later".
    async fn refund(
        &self,
        request: &RefundRequest<'_>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<RefundOutcome>;
    /// Pays a seller (`alipay.fund.trans.uni.transfer`). An error means the outcome is unknown.
    async fn transfer(
        &self,
        request: &TransferRequest<'_>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<TransferState>;
    /// Looks a transfer up by our payout id (`alipay.fund.trans.common.query`); `kind` is
    /// the payee's, as sent (the provider files bank transfers under their own product).
    async fn transfer_status(
        &self,
        payout_id: &str,
        kind: market_core::payout::PayeeKind,
        now: DateTime<Utc>,
    ) -> anyhow::Result<TransferState>;
}
