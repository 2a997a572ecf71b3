//! `functions/expire-sweeper`: the clock that never sleeps (E1, O3). Two triggers, one
//! code path: an SQS message delayed to an order's deadline (promptness) and an
//! EventBridge schedule every minute (the backstop).
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use serde_json::Value;

use market_app::sweep::{self, SweepReport};
use market_app::{App, AppError};
use market_core::ids::OrderId;

/// One order's deadline message (its body is the order id).
pub async fn handle_deadline(app: &App, body: &str) -> Result<SweepReport, AppError> {
    let mut report = SweepReport::default();
    match OrderId::parse(body.trim()) {
        Ok(id) => sweep::order_due(app, &id, &mut report).await?,
        Err(_) => tracing::warn!(body, "deadline message without an order id; dropped"),
    }
    Ok(report)
}

/// A batch of deadline messages, each in its own span. A deadline message only makes the
/// order's end prompt: the order stays in the due index until it has ended, so a record
/// whose handling fails is logged and left to the scheduled sweep (which retries it with
/// backoff) rather than redelivered into the DLQ. A record without a body is reported for
/// redelivery.
pub async fn handle_deadline_batch(app: &App, event: SqsEvent) -> SqsBatchResponse {
    market_web::sqs::partial_batch("expire-sweeper", event, |record| async move {
        let body = record.body.as_deref().ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("deadline message without a body"))
        })?;
        if let Err(e) = handle_deadline(app, body).await {
            tracing::error!(
                order = body.trim(),
                error = format!("{e:#}"),
                "deadline not handled now; the scheduled sweep retries it"
            );
        }
        Ok(())
    })
    .await
}

/// What woke the sweeper.
pub enum Trigger {
    Deadlines(SqsEvent),
    Schedule,
}

/// Tells the two event shapes apart: SQS batches carry `Records`; anything else (the
/// EventBridge scheduled event) runs the sweep.
pub fn trigger(event: Value) -> Result<Trigger, serde_json::Error> {
    if event.get("Records").is_some() {
        Ok(Trigger::Deadlines(serde_json::from_value(event)?))
    } else {
        Ok(Trigger::Schedule)
    }
}

/// Handles either trigger; the answer is the SQS batch response or the sweep's report.
pub async fn handle(app: &App, event: Value) -> Result<Value, AppError> {
    match trigger(event).map_err(|e| AppError::Internal(e.into()))? {
        Trigger::Deadlines(batch) => Ok(serde_json::to_value(
            handle_deadline_batch(app, batch).await,
        )
        .map_err(|e| AppError::Internal(e.into()))?),
        Trigger::Schedule => Ok(serde_json::to_value(sweep::sweep(app).await?)
            .map_err(|e| AppError::Internal(e.into()))?),
    }
}
