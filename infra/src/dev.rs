//! Dev routes (`MARKET_DEV_ROUTES=1`, never deployed): the sandbox provider's "pay now"
//! button, the test clock (which can also play a late sweeper, E1) and an on-demand sweep.
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;

use market_adapters::mail::StoreMailer;
use market_adapters::payment::sandbox::{FailMode, Operation};
use market_adapters::payment::{SandboxProvider, TradeStatus};
use market_adapters::queue::{DurableQueue, Topic};
use market_adapters::registrar::StoreRegistrar;
use market_app::payments::door as notifications;
use market_app::ports::clock::DevClock;
use market_app::repo::{self, Versioned};
use market_app::{sweep, AppError};
use market_core::error::{Code, Problem};
use market_core::model::Payment;
use market_web::json::Json;
use market_web::openapi::{Busy, ProblemSchema as ProblemDoc};
use market_web::problem::ApiError;
use market_web::{router_from, AppState, RouteTable};

use crate::pump::deliver_due;

/// What the dev routes need besides the app.
#[derive(Clone)]
pub struct DevState {
    /// The clock `POST /dev/clock/advance` moves (the app reads it through its clock port;
    /// the production `App` has no such handle).
    pub clock: Arc<DevClock>,
    pub sandbox: Arc<SandboxProvider>,
    pub queue: Arc<DurableQueue>,
    /// Notifications travel through SQS: wait for the poller to apply them.
    pub through_sqs: bool,
    /// The local registrar core: what it was told (P9, P11).
    pub registrar: Arc<StoreRegistrar>,
    /// The local mailbox (N1).
    pub mailer: Arc<StoreMailer>,
    /// How far the notifier is behind (N1): a sweep waits for it, before and after.
    pub notifier: crate::notifier::Progress,
    /// Signs the console's dev sign-in tokens (`POST /dev/token`).
    pub jwt_secret: secrecy::SecretString,
}

/// The sweeper's queues (its deadlines and its work), held back while the dev clock plays
/// a late sweeper.
const SWEEPER_TOPICS: [Topic; 2] = [Topic::OrderDeadlines, Topic::SweepWork];

fn hold_sweeper(queue: &DurableQueue) {
    for topic in SWEEPER_TOPICS {
        queue.pause(topic);
    }
}

fn release_sweeper(queue: &DurableQueue) {
    for topic in SWEEPER_TOPICS {
        queue.resume(topic);
    }
}

/// How long a dev sweep waits for the notifier to catch up.
const NOTIFIER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs the sweep once the notifier has tried what it was handed (a message it holds is not
/// due for the sweep), and answers once it has tried what the sweep wrote: what a test
/// reads next is settled.
async fn sweep_settled(
    app: &market_app::App,
    dev: &DevState,
) -> Result<sweep::SweepReport, AppError> {
    dev.notifier.caught_up(NOTIFIER_WAIT).await;
    let report = sweep::sweep(app).await?;
    dev.notifier.caught_up(NOTIFIER_WAIT).await;
    Ok(report)
}

/// The dev routes, as data (never deployed: the template test checks none is).
pub fn routes() -> RouteTable {
    vec![
        (
            "POST",
            "/dev/payments/{out_trade_no}/complete",
            post(complete_payment),
        ),
        (
            "GET",
            "/dev/payments/{out_trade_no}/complete",
            get(crate::dev_console::cashier),
        ),
        ("POST", "/dev/token", post(crate::dev_console::sign_in)),
        ("GET", "/dev/clock", get(clock)),
        ("POST", "/dev/clock/advance", post(advance)),
        ("POST", "/dev/sweep", post(run_sweep)),
        ("POST", "/dev/provider/fail-next", post(fail_next)),
        ("POST", "/dev/queue/redrive", post(redrive)),
        ("GET", "/dev/registrar/events", get(registrar_events)),
        ("GET", "/dev/mail", get(mail)),
        ("POST", "/dev/mail/fail-next", post(mail_fail_next)),
        ("GET", "/dev/partner/webhooks", get(partner_webhooks)),
    ]
}

/// The dev routes' OpenAPI paths (tag `local runner`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    complete_payment,
    crate::dev_console::cashier,
    crate::dev_console::sign_in,
    clock,
    advance,
    run_sweep,
    fail_next,
    redrive,
    registrar_events,
    mail,
    mail_fail_next,
    partner_webhooks
))]
pub struct Api;

/// The dev routes' router.
pub fn router(dev: DevState) -> Router<AppState> {
    router_from(routes()).layer(Extension(dev))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompletePayment)]
struct CompleteBody {
    #[schema(value_type = TradeStatusWord)]
    trade_status: String,
    /// `false`: the provider records the result but its notification is lost (to show that
    /// `POST /orders/{id}/refresh` and `POST /pushes/{id}/refresh` find it, O6).
    notify: Option<bool>,
    /// How the buyer funded it, as Alipay's `fund_bill_list` (a JSON array in a string,
    /// possibly HTML-escaped), e.g. `[{"amount":"10.00","fundChannel":"PCREDIT"}]`: a
    /// credit channel makes the payment refunded in full (O8).
    #[schema(example = r#"[{"amount":"10.00","fundChannel":"ALIPAYACCOUNT"}]"#)]
    fund_bill_list: Option<String>,
}

/// The sandbox provider's trade statuses.
#[derive(utoipa::ToSchema)]
#[schema(as = TradeStatus)]
#[allow(dead_code, clippy::enum_variant_names)]
enum TradeStatusWord {
    #[schema(rename = "TRADE_SUCCESS")]
    TradeSuccess,
    #[schema(rename = "TRADE_FINISHED")]
    TradeFinished,
    #[schema(rename = "TRADE_CLOSED")]
    TradeClosed,
    #[schema(rename = "WAIT_BUYER_PAY")]
    WaitBuyerPay,
}

/// What the sandbox sent, and the payment's status after it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Completed {
    out_trade_no: String,
    #[schema(value_type = TradeStatusWord)]
    sent: String,
    #[schema(value_type = Option<market_app::schema::PaymentStatusSchema>, required = true)]
    payment_status: Option<String>,
}

/// Make the sandbox provider notify a result (local runner)
///
/// Makes the sandbox send a signed notification through the notify path (queue included),
/// then delivers the queue at once so the answer reflects the applied result.
#[utoipa::path(
    post,
    path = "/dev/payments/{out_trade_no}/complete",
    tag = "local runner",
    security(()),
    params(("out_trade_no" = String, Path, description = "The payment attempt's `out_trade_no`")),
    request_body = CompleteBody,
    responses(
        (status = 200, description = "Sent", body = Completed),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn complete_payment(
    State(app): State<AppState>,
    Extension(dev): Extension<DevState>,
    Path(out_trade_no): Path<String>,
    Json(body): Json<CompleteBody>,
) -> Result<Response, ApiError> {
    if TradeStatus::parse(&body.trade_status).is_none() {
        return Err(Problem::new(
            Code::InvalidRequest,
            "trade_status is TRADE_SUCCESS, TRADE_FINISHED, TRADE_CLOSED or WAIT_BUYER_PAY",
        )
        .into());
    }
    let payment: Versioned<Payment> = repo::load(&*app.store, repo::payment_key(&out_trade_no))
        .await?
        .ok_or_else(|| Problem::not_found("payment"))?;
    let notification = dev.sandbox.notification_funded(
        &out_trade_no,
        &body.trade_status,
        payment.value.amount,
        app.now(),
        body.fund_bill_list.as_deref(),
    );
    // Kept with the data, so a restarted sandbox still answers `trade.query` about it.
    dev.sandbox
        .keep_trade(&out_trade_no)
        .await
        .map_err(AppError::Internal)?;
    if body.notify != Some(false) {
        let notify_id = serde_urlencoded::from_str::<Vec<(String, String)>>(&notification)
            .ok()
            .and_then(|p| {
                p.into_iter()
                    .find(|(k, _)| k == "notify_id")
                    .map(|(_, v)| v)
            })
            .unwrap_or_default();
        notifications::receive(&app, notification.as_bytes()).await?;
        deliver_due(&app, &dev.queue).await;
        if dev.through_sqs {
            wait_until_applied(&app, &notify_id, &out_trade_no, payment.value.status).await?;
        }
    }
    let payment: Option<Versioned<Payment>> =
        repo::load(&*app.store, repo::payment_key(&out_trade_no)).await?;
    Ok(axum::Json(json!({
        "out_trade_no": out_trade_no,
        "sent": body.trade_status,
        "payment_status": payment.map(|p| p.value.status),
    }))
    .into_response())
}

/// With SQS between the notify route and the consumer, waits (up to 10 s) until the
/// poller has applied the notification: its dedupe record exists or the payment moved.
async fn wait_until_applied(
    app: &market_app::App,
    notify_id: &str,
    out_trade_no: &str,
    before: market_core::model::PaymentStatus,
) -> Result<(), AppError> {
    for _ in 0..200 {
        let recorded = app
            .store
            .get(&format!("NOTIFY#{notify_id}"), "N")
            .await?
            .is_some();
        let payment: Option<Versioned<Payment>> =
            repo::load(&*app.store, repo::payment_key(out_trade_no)).await?;
        let order = match payment.as_ref().and_then(|p| p.value.order_id().cloned()) {
            Some(id) => market_app::order_store::load(&*app.store, &id)
                .await?
                .map(|o| o.value.status),
            None => None,
        };
        // Applied, and its delivery (which the same handler runs next) finished too.
        let delivering = order == Some(market_core::model::OrderStatus::Paid);
        if (recorded || payment.is_some_and(|p| p.value.status != before)) && !delivering {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

/// The server's now.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Now {
    now: chrono::DateTime<chrono::Utc>,
}

/// The server clock (local runner)
#[utoipa::path(
    get,
    path = "/dev/clock",
    tag = "local runner",
    security(()),
    responses((status = 200, description = "The server clock", body = Now))
)]
async fn clock(State(app): State<AppState>) -> Response {
    axum::Json(json!({ "now": app.now() })).into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AdvanceClock)]
struct AdvanceBody {
    /// Whole seconds (`780417.0` is the same whole number as `780417`, as JSON Schema says).
    #[schema(value_type = i64, minimum = 0, maximum = 316224000)]
    seconds: serde_json::Number,
    /// `false`: only the clock moves; nothing that became due runs until a later advance
    /// with a sweep, or `POST /dev/sweep` (a late sweeper, E1). Absent: `true`.
    #[schema(default = true)]
    sweep: Option<bool>,
}

/// The clock after a move, and what the sweep changed.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Advanced {
    now: chrono::DateTime<chrono::Utc>,
    /// What the sweep changed; null with `sweep` false.
    #[schema(required = true)]
    sweep: Option<market_app::sweep::SweepReport>,
}

/// The longest single move of the clock: ten years, as long as a registration may run, so
/// every deadline of the marketplace is within one move. A longer one is a mistake (and the
/// sweep after it would walk every hour it crossed).
const MAX_ADVANCE_SECONDS: i64 = 10 * 366 * 24 * 3600;

/// A requested move as a duration: forward, and no more than [`MAX_ADVANCE_SECONDS`].
fn step_of(seconds: &serde_json::Number) -> Result<Duration, Problem> {
    let whole = seconds.as_i64().or_else(|| {
        seconds
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    });
    let Some(seconds) = whole else {
        return Err(Problem::new(
            Code::InvalidRequest,
            format!("seconds is a whole number, not {seconds}"),
        ));
    };
    if seconds < 0 {
        return Err(Problem::new(
            Code::InvalidRequest,
            "the clock only moves forward",
        ));
    }
    if seconds > MAX_ADVANCE_SECONDS {
        return Err(Problem::new(
            Code::InvalidRequest,
            format!("one move is at most {MAX_ADVANCE_SECONDS} seconds (ten years)"),
        ));
    }
    Ok(Duration::seconds(seconds))
}

/// Move the clock forward and run what is due (local runner)
///
/// Moves the server clock forward for every rule, deadline and sweep, then runs what became
/// due (delayed messages and the sweep). With `sweep` false only the clock moves and the
/// sweeper is late (E1) until a later advance with a sweep or `POST /dev/sweep`. A move
/// back, one over ten years, or one that would take the clock past 9999-12-31T23:59:59Z is
/// refused with 400 INVALID_REQUEST and changes nothing.
//
// Moves the clock forward, then runs what became due: delayed messages and the sweep.
// With `sweep: false` the sweeper is late instead (E1): its deadline messages are held
// back and no sweep runs, so every request meets the new time before any sweep has; they
// run at the next advance with a sweep or `POST /dev/sweep`. A move that is refused
// changes nothing.
#[utoipa::path(
    post,
    path = "/dev/clock/advance",
    tag = "local runner",
    security(()),
    request_body = AdvanceBody,
    responses(
        (status = 200, description = "Moved", body = Advanced),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Busy),
    )
)]
async fn advance(
    State(app): State<AppState>,
    Extension(dev): Extension<DevState>,
    Json(body): Json<AdvanceBody>,
) -> Result<Response, ApiError> {
    let step = step_of(&body.seconds)?;
    let clock = &dev.clock;
    let late = body.sweep == Some(false);
    // Held before the clock moves, so the pump cannot slip a deadline through in between.
    let was_held = dev.queue.is_paused(Topic::OrderDeadlines);
    if late {
        hold_sweeper(&dev.queue);
    }
    let refused = || {
        if late && !was_held {
            release_sweeper(&dev.queue);
        }
        Problem::new(
            Code::InvalidRequest,
            format!(
                "moving the clock {} seconds would take it past {}",
                body.seconds,
                DevClock::latest().to_rfc3339()
            ),
        )
    };
    // The lead is kept before the clock moves: a crash in between restarts ahead (safe),
    // never behind deadlines already handed out.
    let target = app
        .now()
        .checked_add_signed(step)
        .filter(|t| *t <= DevClock::latest())
        .ok_or_else(refused)?;
    keep_clock(&*app.store, target).await?;
    let Some(now) = clock.try_advance(step) else {
        return Err(refused().into());
    };
    if late {
        return Ok(axum::Json(json!({ "now": now, "sweep": null })).into_response());
    }
    release_sweeper(&dev.queue);
    deliver_due(&app, &dev.queue).await;
    let report = sweep_settled(&app, &dev).await?;
    Ok(axum::Json(json!({ "now": now, "sweep": report })).into_response())
}

/// Run the expiry sweep now (local runner)
///
/// Runs the sweep at the server clock's now; a sweeper held late by `POST /dev/clock/advance`
/// with `sweep` false runs again from here on.
#[utoipa::path(
    post,
    path = "/dev/sweep",
    tag = "local runner",
    security(()),
    responses(
        (status = 200, description = "What the sweep changed", body = market_app::sweep::SweepReport),
        (status = 503, response = Busy),
    )
)]
async fn run_sweep(
    State(app): State<AppState>,
    Extension(dev): Extension<DevState>,
) -> Result<Response, ApiError> {
    release_sweeper(&dev.queue);
    Ok(axum::Json(sweep_settled(&app, &dev).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FailNext)]
struct FailNextBody {
    #[schema(value_type = FailOperation)]
    operation: Operation,
    /// How many of the next calls of that kind fail (0 clears).
    #[schema(minimum = 0, maximum = 1000)]
    count: u32,
    #[schema(value_type = FailModeWord)]
    mode: FailMode,
}

/// The sandbox calls that can be made to fail.
#[derive(utoipa::ToSchema)]
#[schema(as = FailOperation, rename_all = "snake_case")]
#[allow(dead_code)]
enum FailOperation {
    Refund,
    Transfer,
    Query,
}

/// `error`: the provider answers with a failure and does nothing (a transfer is refused
/// for good; a refund or a lookup is tried again). `timeout`: the call happens at the
/// provider but its answer is lost (the caller must look it up).
#[derive(utoipa::ToSchema)]
#[schema(as = FailMode, rename_all = "snake_case")]
#[allow(dead_code)]
enum FailModeWord {
    Error,
    Timeout,
}

/// Make the sandbox provider's next calls fail (local runner)
///
/// The next `count` calls of `operation` (refunds, payout transfers, or lookups of trades
/// and transfers) fail as `mode` says, to show the retry and lookup paths (S1, S6).
#[utoipa::path(
    post,
    path = "/dev/provider/fail-next",
    tag = "local runner",
    security(()),
    request_body = FailNextBody,
    responses(
        (status = 200, description = "Planned", body = FailNextBody),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn fail_next(
    Extension(dev): Extension<DevState>,
    Json(body): Json<FailNextBody>,
) -> Result<Response, ApiError> {
    if body.count > 1000 {
        return Err(Problem::new(Code::InvalidRequest, "count is at most 1000").into());
    }
    dev.sandbox.fail_next(body.operation, body.count, body.mode);
    tracing::info!(operation = ?body.operation, count = body.count, mode = ?body.mode, "sandbox calls set to fail");
    Ok(axum::Json(json!({
        "operation": body.operation,
        "count": body.count,
        "mode": body.mode,
    }))
    .into_response())
}

/// Where the dev clock's lead over the wall clock is kept: a restart on the same data goes
/// on as far ahead as the market had been moved (the downtime passes as well), never back
/// before its own deadlines.
fn clock_key() -> (String, String) {
    ("DEVCLOCK".into(), "C".into())
}

#[derive(serde::Serialize, Deserialize)]
struct KeptClock {
    ahead_ms: i64,
}

/// Keeps the dev clock's lead after a move.
async fn keep_clock(
    store: &dyn market_app::store::Store,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use market_app::store::{Expect, Item, StoreError, Write};
    let (pk, sk) = clock_key();
    let ahead_ms = (now - chrono::Utc::now()).num_milliseconds();
    let body =
        serde_json::to_string(&KeptClock { ahead_ms }).map_err(|e| AppError::Internal(e.into()))?;
    for _ in 0..8 {
        let found = store.get(&pk, &sk).await?;
        if let Some(kept) = &found {
            let kept: KeptClock =
                serde_json::from_str(&kept.body).map_err(|e| AppError::Internal(e.into()))?;
            if kept.ahead_ms >= ahead_ms {
                return Ok(());
            }
        }
        let expect = found.map_or(Expect::Absent, |f| Expect::Version(f.version));
        let item = Item::new(pk.clone(), sk.clone(), body.clone());
        match store.transact(vec![Write::Put(item, expect)]).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// At start: moves the dev clock to the time a previous run had reached, if later.
pub async fn restore_clock(
    store: &dyn market_app::store::Store,
    clock: &DevClock,
) -> anyhow::Result<()> {
    use market_app::ports::clock::Clock;
    let (pk, sk) = clock_key();
    if let Some(found) = store.get(&pk, &sk).await? {
        let kept: KeptClock = serde_json::from_str(&found.body)?;
        let behind = Duration::milliseconds(kept.ahead_ms) - (clock.now() - chrono::Utc::now());
        if behind > Duration::zero() {
            clock.try_advance(behind);
            tracing::info!(now = %clock.now(), "the dev clock goes on from where the last run left it");
        }
    }
    Ok(())
}

/// How many dead letters went back, per topic.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Redriven {
    payments: usize,
    deadlines: usize,
}

/// Put the in-process queue's dead letters back (local runner)
///
/// Messages set aside after five failed receives go back to their queue, visible now, once
/// the fault that failed them is fixed (SQS: `aws sqs start-message-move-task`).
#[utoipa::path(
    post,
    path = "/dev/queue/redrive",
    tag = "local runner",
    security(()),
    responses(
        (status = 200, description = "Put back", body = Redriven),
        (status = 503, response = Busy),
    )
)]
async fn redrive(
    State(app): State<AppState>,
    Extension(dev): Extension<DevState>,
) -> Result<Response, ApiError> {
    let payments = dev
        .queue
        .redrive(Topic::PaymentNotifications)
        .await
        .map_err(AppError::Internal)?;
    let deadlines = dev
        .queue
        .redrive(Topic::OrderDeadlines)
        .await
        .map_err(AppError::Internal)?;
    let sweep_work = dev
        .queue
        .redrive(Topic::SweepWork)
        .await
        .map_err(AppError::Internal)?;
    deliver_due(&app, &dev.queue).await;
    Ok(axum::Json(
        json!({ "payments": payments, "deadlines": deadlines, "sweep_work": sweep_work }),
    )
    .into_response())
}

/// One event the registrar core was given: the fields of its `type`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct RegistrarEventDoc {
    /// `DomainTransferLockChanged` (P9, P11) or `RegistrantChanged` (O9).
    #[schema(rename = "type")]
    kind: String,
    /// The dedupe id: each event is recorded once.
    id: String,
    at: chrono::DateTime<chrono::Utc>,
    domain: String,
    /// `DomainTransferLockChanged`: whether the domain cannot leave now.
    locked: Option<bool>,
    /// `DomainTransferLockChanged`: `in_trade` or `transfer_locked`; null when unlocked.
    reason: Option<String>,
    /// `DomainTransferLockChanged`: when the lock ends by time; null when it does not (or
    /// it is unlocked).
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// `RegistrantChanged`: the seller's account.
    from: Option<String>,
    /// `RegistrantChanged`: the buyer's account.
    to: Option<String>,
    /// `RegistrantChanged`: the buyer's chosen contact template (`id`, `name`,
    /// `organisation`, `email`, `phone`, `address`, `country`); null: the buyer's verified
    /// identity.
    #[schema(value_type = Option<Object>)]
    contact: Option<serde_json::Value>,
    /// `RegistrantChanged`: a forced change (P9).
    forced: Option<bool>,
    /// `RegistrantChanged`: the end of the 60-day lock the change started, if any.
    lock_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The events recorded, oldest first.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct RegistrarEvents {
    items: Vec<RegistrarEventDoc>,
}

/// The events the registrar core was given (local runner)
///
/// Every `DomainTransferLockChanged` (P9, P11) and `RegistrantChanged` (O9) published to the
/// local registrar core, each once by its id, oldest first.
#[utoipa::path(
    get,
    path = "/dev/registrar/events",
    tag = "local runner",
    security(()),
    responses(
        (status = 200, description = "The events", body = RegistrarEvents),
        (status = 503, response = Busy),
    )
)]
async fn registrar_events(Extension(dev): Extension<DevState>) -> Result<Response, ApiError> {
    // What was committed before this request is told by now (or has failed a try).
    dev.notifier.caught_up(NOTIFIER_WAIT).await;
    let items = dev.registrar.events().await.map_err(AppError::Internal)?;
    Ok(axum::Json(json!({ "items": items })).into_response())
}

/// One delivery webhook the marketplace sent a partner (L10).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct PartnerWebhookDoc {
    url: String,
    /// `[name, value]` pairs: `X-Partner-Id`, `X-Timestamp`, `X-Nonce`, `X-Signature`.
    #[schema(value_type = Vec<Vec<String>>)]
    headers: Vec<(String, String)>,
    /// The signed JSON body: `delivery_id`, `partner`, `domain`, `price`, `buyer`, `paid_at`.
    body: String,
}

/// The webhooks recorded, oldest first.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct PartnerWebhooks {
    items: Vec<PartnerWebhookDoc>,
}

/// The delivery webhooks sent to partners (local runner)
///
/// The local runner records each signed webhook instead of sending it (L10), oldest first.
#[utoipa::path(
    get,
    path = "/dev/partner/webhooks",
    tag = "local runner",
    security(()),
    responses(
        (status = 200, description = "The webhooks", body = PartnerWebhooks),
        (status = 503, response = Busy),
    )
)]
async fn partner_webhooks(
    State(app): State<AppState>,
    Extension(dev): Extension<DevState>,
) -> Result<Response, ApiError> {
    // The notifier sends them off the request's time: what a client reads next is settled.
    dev.notifier.caught_up(NOTIFIER_WAIT).await;
    let items = market_adapters::partner::recorded_webhooks(&*app.store)
        .await
        .map_err(AppError::Internal)?;
    Ok(axum::Json(json!({ "items": items })).into_response())
}

/// One email the marketplace sent.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct MailDoc {
    /// The notice's id, also the email's dedupe id: each is kept once.
    id: String,
    to: String,
    subject: String,
    body: String,
    sent_at: chrono::DateTime<chrono::Utc>,
}

/// The emails sent, by id (the order of their notices).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Mailbox {
    items: Vec<MailDoc>,
}

/// The emails the marketplace sent (local runner)
///
/// Every notice emailed (N1), each once by its id, also those sent on to `MARKET_SMTP_URL`.
#[utoipa::path(
    get,
    path = "/dev/mail",
    tag = "local runner",
    security(()),
    responses(
        (status = 200, description = "The emails", body = Mailbox),
        (status = 503, response = Busy),
    )
)]
async fn mail(Extension(dev): Extension<DevState>) -> Result<Response, ApiError> {
    dev.notifier.caught_up(NOTIFIER_WAIT).await;
    let items = dev.mailer.sent().await.map_err(AppError::Internal)?;
    Ok(axum::Json(json!({ "items": items })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MailFailNext)]
struct MailFailNextBody {
    /// How many of the next sends fail (0: none; 4294967295: down until set again).
    #[schema(value_type = i64, minimum = 0, maximum = 4294967295_i64)]
    count: u32,
}

/// Make the mail server fail the next sends (local runner)
///
/// The next `count` emails fail, as a mail server that is down: trades go on, and each
/// notice is retried with backoff by the outbox (N1).
#[utoipa::path(
    post,
    path = "/dev/mail/fail-next",
    tag = "local runner",
    security(()),
    request_body = MailFailNextBody,
    responses(
        (status = 200, description = "Planned", body = MailFailNextBody),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn mail_fail_next(
    Extension(dev): Extension<DevState>,
    Json(body): Json<MailFailNextBody>,
) -> Result<Response, ApiError> {
    dev.mailer.fail_next(body.count);
    Ok(axum::Json(json!({ "count": body.count })).into_response())
}
