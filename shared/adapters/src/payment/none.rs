//! The provider of a function that takes no money (list, admin, account, …): every call
//! fails, so a route that should not touch money cannot.
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use market_app::ports::payment::{
    Merchant, Notification, PayRequest, PaymentProvider, RefundOutcome, RefundRequest, TradeQuery,
    TransferRequest, TransferState, VerifyError,
};

/// For functions that never touch payments (listings, operators, accounts, the notify
/// ingress): no keys are handed to them; any use is an error.
#[derive(Debug, Default)]
pub struct NoProvider;

#[async_trait]
impl PaymentProvider for NoProvider {
    async fn pay_url(&self, _request: &PayRequest<'_>) -> anyhow::Result<String> {
        anyhow::bail!("this function has no payment provider")
    }

    async fn verify(&self, _form_body: &str) -> Result<Notification, VerifyError> {
        // A deployment mistake, not the notification's fault: retried, never refused.
        Err(VerifyError::Unavailable(
            "this function has no payment provider".into(),
        ))
    }

    async fn merchant(&self) -> anyhow::Result<Merchant> {
        anyhow::bail!("this function has no payment provider")
    }

    async fn query(&self, _out_trade_no: &str, _now: DateTime<Utc>) -> anyhow::Result<TradeQuery> {
        anyhow::bail!("this function has no payment provider")
    }

    async fn refund(
        &self,
        _request: &RefundRequest<'_>,
        _now: DateTime<Utc>,
    ) -> anyhow::Result<RefundOutcome> {
        anyhow::bail!("this function has no payment provider")
    }

    async fn transfer(
        &self,
        _request: &TransferRequest<'_>,
        _now: DateTime<Utc>,
    ) -> anyhow::Result<TransferState> {
        anyhow::bail!("this function has no payment provider")
    }

    async fn transfer_status(
        &self,
        _payout_id: &str,
        _kind: market_core::payout::PayeeKind,
        _now: DateTime<Utc>,
    ) -> anyhow::Result<TransferState> {
        anyhow::bail!("this function has no payment provider")
    }
}
