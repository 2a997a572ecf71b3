//! `functions/expire-sweeper`: the clock that never sleeps (E1, O3). Three triggers: an
//! SQS message delayed to an order's deadline (promptness); an EventBridge schedule every
//! minute, which runs the sweep's dispatcher (the backstop: everything due, handed on in
//! batches); and the work queue, whose batches the same function works through, many
//! instances at once.
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

/// Whether a queue message is a batch of the sweep's work (a JSON object) rather than an
/// order's deadline (its id).
pub fn is_work(body: &str) -> bool {
    body.trim_start().starts_with('{')
}

/// A batch of queue messages, each in its own span: deadlines and batches of work.
///
/// A deadline message only makes the order's end prompt: the order stays in the due index
/// until it has ended, so a record whose handling fails is logged and left to the
/// scheduled sweep (which retries it with backoff) rather than redelivered into the DLQ.
/// A work batch defers its failing items itself; it is redelivered only when the items it
/// had no time for could not be handed on. A record without a body is reported for
/// redelivery.
pub async fn handle_deadline_batch(app: &App, event: SqsEvent) -> SqsBatchResponse {
    market_web::sqs::partial_batch("expire-sweeper", event, |record| async move {
        let body = record.body.as_deref().ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("deadline message without a body"))
        })?;
        if is_work(body) {
            sweep::handle_message(app, body).await?;
            return Ok(());
        }
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
    /// Deadlines or work batches (their queue's records).
    Deadlines(SqsEvent),
    Schedule,
}

/// Tells the event shapes apart: SQS batches carry `Records`; anything else (the
/// EventBridge scheduled event) runs the dispatcher.
pub fn trigger(event: Value) -> Result<Trigger, serde_json::Error> {
    if event.get("Records").is_some() {
        Ok(Trigger::Deadlines(serde_json::from_value(event)?))
    } else {
        Ok(Trigger::Schedule)
    }
}

/// Handles any trigger; the answer is the SQS batch response or what the dispatcher read
/// and handed on.
pub async fn handle(app: &App, event: Value) -> Result<Value, AppError> {
    match trigger(event).map_err(|e| AppError::Internal(e.into()))? {
        Trigger::Deadlines(batch) => Ok(serde_json::to_value(
            handle_deadline_batch(app, batch).await,
        )
        .map_err(|e| AppError::Internal(e.into()))?),
        Trigger::Schedule => Ok(serde_json::to_value(
            sweep::dispatch(app, &sweep::ToQueue(app)).await?,
        )
        .map_err(|e| AppError::Internal(e.into()))?),
    }
}
