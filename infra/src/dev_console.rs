//! What the web console needs of the local runner that the cloud gives it elsewhere: a
//! sign-in (Cognito's hosted UI in the cloud) and a cashier page (Alipay's in the cloud).
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use chrono::Duration;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

use market_app::repo::{self, Versioned};
use market_core::error::{Code, Problem};
use market_core::ids::AccountId;
use market_core::model::Payment;
use market_web::auth::sign_token;
use market_web::json::Json;
use market_web::openapi::ProblemSchema as ProblemDoc;
use market_web::problem::ApiError;
use market_web::AppState;

use crate::console::html_escape;
use crate::dev::DevState;

/// How long a dev sign-in lasts.
const TOKEN_DAYS: i64 = 1;

/// The roles a dev token may carry.
const ROLES: [&str; 1] = ["admin"];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DevSignIn)]
pub(crate) struct SignInBody {
    /// The account to act as (`alice`, `bob`, `carol`, `ops` in the demo, or any id).
    account: String,
    /// `["admin"]` for an operator.
    #[serde(default)]
    roles: Vec<String>,
}

/// A signed token.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct DevToken {
    /// HS256, signed with `MARKET_JWT_SECRET`.
    token: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// Sign in as any account (local runner)
///
/// The console's local sign-in: a token for `account`, valid one day of the server clock.
#[utoipa::path(
    post,
    path = "/dev/token",
    tag = "local runner",
    security(()),
    request_body = SignInBody,
    responses(
        (status = 200, description = "Signed", body = DevToken),
        (status = 400, description = "INVALID_REQUEST", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn sign_in(
    State(app): State<AppState>,
    Extension(dev): Extension<DevState>,
    Json(body): Json<SignInBody>,
) -> Result<Response, ApiError> {
    let account = AccountId::parse(&body.account)
        .map_err(|e| Problem::new(Code::InvalidRequest, format!("account: {e}")))?;
    if let Some(role) = body.roles.iter().find(|r| !ROLES.contains(&r.as_str())) {
        return Err(Problem::new(
            Code::InvalidRequest,
            format!("roles: {role:?} is not a role (the only one is \"admin\")"),
        )
        .into());
    }
    let roles: Vec<&str> = body.roles.iter().map(String::as_str).collect();
    let expires_at = app.now() + Duration::days(TOKEN_DAYS);
    let token = sign_token(
        dev.jwt_secret.expose_secret(),
        account.as_str(),
        &roles,
        expires_at.timestamp(),
    );
    Ok(axum::Json(json!({ "token": token, "expires_at": expires_at })).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CashierQuery {
    /// Where the cashier sends the browser back (this server's pages only), as Alipay's `return_url`.
    #[serde(rename = "return")]
    back: Option<String>,
}

/// The sandbox cashier page (local runner)
///
/// What a browser sees at a sandbox `pay_url`: the amount and two buttons that send the
/// provider's result (`POST` to the same path), then go back to `return`.
#[utoipa::path(
    get,
    path = "/dev/payments/{out_trade_no}/complete",
    tag = "local runner",
    security(()),
    params(
        ("out_trade_no" = String, Path, description = "The payment attempt's `out_trade_no`"),
        CashierQuery,
    ),
    responses(
        (status = 200, description = "The cashier page", content_type = "text/html", body = String),
        (status = 404, description = "NOT_FOUND", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = market_web::openapi::Busy),
    )
)]
pub(crate) async fn cashier(
    State(app): State<AppState>,
    Path(out_trade_no): Path<String>,
    Query(query): Query<CashierQuery>,
) -> Result<Response, ApiError> {
    let payment: Versioned<Payment> = repo::load(&*app.store, repo::payment_key(&out_trade_no))
        .await?
        .ok_or_else(|| Problem::not_found("payment"))?;
    let back = query.back.unwrap_or_else(|| "/".into());
    Ok(Html(cashier_page(
        &out_trade_no,
        &payment.value.amount.to_string(),
        &back,
    ))
    .into_response())
}

/// The page: plain HTML and a few lines of script, no assets.
fn cashier_page(out_trade_no: &str, amount: &str, back: &str) -> String {
    let (trade, amount, back) = (
        html_escape(out_trade_no),
        html_escape(amount),
        html_escape(back),
    );
    format!(
        r#"<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox cashier</title>
<style>body{{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
button{{font:inherit;padding:.6rem 1.2rem;margin-right:.6rem}}#status{{margin-top:1rem}}</style>
<h1>Sandbox cashier</h1>
<p>The local stand-in for Alipay's cashier. Trade <code id="trade">{trade}</code>:
<strong id="amount">¥{amount}</strong></p>
<div data-back="{back}" id="actions"><button id="pay" type="button">Pay</button>
<button id="fail" type="button">Fail</button></div>
<p id="status" role="status"></p>
<script>
const actions = document.getElementById('actions');
const status = document.getElementById('status');
async function send(tradeStatus) {{
  for (const b of actions.querySelectorAll('button')) b.disabled = true;
  status.textContent = 'Sending…';
  const r = await fetch(location.pathname, {{method: 'POST',
    headers: {{'Content-Type': 'application/json'}},
    body: JSON.stringify({{trade_status: tradeStatus}})}});
  if (!r.ok) {{ status.textContent = 'The sandbox refused: ' + r.status; return; }}
  // Only this server's pages are followed back: the page is no open redirect.
  const back = new URL(actions.dataset.back, location.href);
  location.assign(back.origin === location.origin ? back.href : '/');
}}
document.getElementById('pay').onclick = () => send('TRADE_SUCCESS');
document.getElementById('fail').onclick = () => send('TRADE_CLOSED');
</script></html>"#
    )
}
