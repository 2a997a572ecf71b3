//! `market-web`: HTTP plumbing shared by every function's router (identity, strict JSON,
//! problem+json, a span per request), the one SQS partial-batch helper, and the Lambda
//! entry points that wire a function to the adapters.
pub mod auth;
pub mod client_ip;
pub mod json;
pub mod openapi;
pub mod problem;
pub mod sqs;
pub mod stream;
pub mod trace;

use std::sync::Arc;

use market_app::App;

/// The state every router is built over.
pub type AppState = Arc<App>;

/// A function's router as its Lambda serves it: over `app`, with identity taken from API
/// Gateway's JWT authorizer claims and a span per request (`trace`). The same value the
/// event-fixture tests drive.
pub fn lambda_router(router: axum::Router<AppState>, app: AppState) -> axum::Router {
    let mode = std::sync::Arc::new(auth::AuthMode::ApiGatewayClaims);
    router
        .with_state(app)
        .fallback(problem::no_route)
        .layer(axum::middleware::from_fn(trace::request_span))
        .layer(auth::layer(mode))
}

/// Serves a function's router as a Lambda behind API Gateway: logging first (so that even
/// a failed start is logged), ports built once from the environment (no network call), then
/// `lambda_http::run`.
pub async fn run_http_lambda(router: axum::Router<AppState>) -> Result<(), lambda_http::Error> {
    init_logging();
    let app = market_adapters::config::cloud().await.inspect_err(|e| {
        tracing::error!(error = format!("{e:#}"), "the function cannot start");
    })?;
    lambda_http::run(lambda_router(router, app)).await
}

/// `limit` of a list: default 50, from 1 to 200 (API.md conventions); another is 400
/// `INVALID_REQUEST`, as the OpenAPI document says.
pub fn page_limit(limit: Option<usize>) -> Result<usize, market_core::error::Problem> {
    match limit {
        None => Ok(50),
        Some(n @ 1..=200) => Ok(n),
        Some(n) => Err(market_core::error::Problem::new(
            market_core::error::Code::InvalidRequest,
            format!("limit is from 1 to 200, not {n}"),
        )),
    }
}

/// A list's `cursor`: an empty one means the first page.
pub fn page_cursor(cursor: Option<String>) -> Option<String> {
    cursor.filter(|c| !c.is_empty())
}

/// The query of a list route that takes nothing but paging.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Items per page: default 50, at most 200.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page; absent or empty for the first.
    pub cursor: Option<String>,
}

/// A query word that must be one of `choices`; absent, it is the first.
pub fn choice<'a>(
    name: &str,
    value: Option<&'a str>,
    choices: &[&'a str],
) -> Result<&'a str, market_core::error::Problem> {
    match value {
        None => Ok(choices[0]),
        Some(v) => choices.iter().copied().find(|c| *c == v).ok_or_else(|| {
            market_core::error::Problem::new(
                market_core::error::Code::InvalidRequest,
                format!("{name} is one of {}, not {v}", choices.join(", ")),
            )
        }),
    }
}

/// A typed path parameter (`{id}`, `{domain}`): parsed into its type before the handler
/// runs; one that is not of that type is answered as that type's problem (an id that is not
/// one of ours is a 404 `NOT_FOUND`, a malformed domain a 400 `INVALID_DOMAIN`).
pub struct PathParam<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for PathParam<T>
where
    S: Send + Sync,
    T: std::str::FromStr<Err = market_core::error::Problem> + Send,
{
    type Rejection = problem::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| {
                    market_core::error::Problem::new(
                        market_core::error::Code::InvalidRequest,
                        e.body_text(),
                    )
                })?;
        Ok(PathParam(raw.parse()?))
    }
}

/// A request kept whole: creating routes parse its JSON body and fingerprint it for the
/// `Idempotency-Key`.
pub struct Raw {
    pub method: axum::http::Method,
    pub uri: axum::http::Uri,
    pub headers: axum::http::HeaderMap,
    pub body: axum::body::Bytes,
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for Raw {
    type Rejection = problem::ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let request = axum::extract::Request::from_parts(parts.clone(), body);
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    return too_large();
                }
                market_core::error::Problem::new(
                    market_core::error::Code::InvalidRequest,
                    e.body_text(),
                )
            })?;
        Ok(Raw {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
        })
    }
}

impl Raw {
    /// The body as JSON (strict: the DTOs refuse unknown fields).
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, market_core::error::Problem> {
        parse_json(&self.headers, &self.body)
    }
}

/// Runs a creating request under its `Idempotency-Key` (if any) and answers it with
/// `status` and the JSON of what `work` returns; a retry gets the first answer again.
pub async fn create<F, Fut, T>(
    app: &App,
    caller: &auth::Caller,
    request: &Raw,
    status: axum::http::StatusCode,
    work: F,
) -> Result<axum::response::Response, problem::ApiError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = market_app::AppResult<T>>,
    T: serde::Serialize,
{
    use axum::response::IntoResponse;
    let (method, uri, headers, body) = (
        &request.method,
        &request.uri,
        &request.headers,
        &request.body[..],
    );
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let fingerprint = market_app::idempotency::fingerprint(
        method.as_str(),
        uri.path(),
        &fingerprinted_body(body),
    );
    let answer = market_app::idempotency::once(
        app,
        &caller.account,
        key.as_deref(),
        fingerprint,
        || async {
            let value = work().await?;
            Ok(market_app::idempotency::Recorded {
                status: status.as_u16(),
                body: serde_json::to_value(value)
                    .map_err(|e| market_app::AppError::Internal(e.into()))?,
            })
        },
    )
    .await?;
    let status = axum::http::StatusCode::from_u16(answer.status).unwrap_or(status);
    Ok((status, axum::Json(answer.body)).into_response())
}

/// Fields of a creating request whose values never enter its `Idempotency-Key`
/// fingerprint (P12: the security password). The fingerprint is kept in the store with the
/// key, and a fast hash of a body holding a password would let whoever reads the store test
/// guesses against it, past the Argon2id hash. A retry that differs only there replays the
/// first answer, as it would have been given to the same caller.
pub const SECRET_FIELDS: &[&str] = &["security_password"];

/// The bytes a creating request is fingerprinted by: the body, without [`SECRET_FIELDS`]
/// when it has any (then as compact JSON), else as sent.
pub fn fingerprinted_body(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut fields))
            if SECRET_FIELDS.iter().any(|f| fields.contains_key(*f)) =>
        {
            for field in SECRET_FIELDS {
                fields.remove(*field);
            }
            std::borrow::Cow::Owned(serde_json::to_vec(&fields).unwrap_or_default())
        }
        _ => std::borrow::Cow::Borrowed(body),
    }
}

/// Parses a JSON body taken as bytes (for routes that also fingerprint it).
pub fn parse_json<T: serde::de::DeserializeOwned>(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<T, market_core::error::Problem> {
    use market_core::error::{Code, Problem};
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !json {
        return Err(Problem::new(
            Code::InvalidRequest,
            "send the body as application/json",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| Problem::new(Code::InvalidRequest, format!("the body is not valid: {e}")))
}

/// A function's routes as data: (method, path, handler). The router is built from this
/// table, and the same table is what the template consistency test compares with
/// `template.yaml`, so the two cannot drift apart.
pub type RouteTable = Vec<(
    &'static str,
    &'static str,
    axum::routing::MethodRouter<AppState>,
)>;

/// Builds a router from a route table (handlers of one path are merged by axum).
pub fn router_from(table: RouteTable) -> axum::Router<AppState> {
    table
        .into_iter()
        .fold(axum::Router::new(), |router, (_, path, handler)| {
            router.route(path, handler)
        })
        // API.md: request bodies over 1 MB are refused (413), before any of it is parsed.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The largest request body any route takes (API.md conventions); the payment notify route
/// takes at most 16 KB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The refusal of a body over [`MAX_BODY_BYTES`].
pub fn too_large() -> market_core::error::Problem {
    market_core::error::Problem::new(
        market_core::error::Code::PayloadTooLarge,
        format!("request bodies are at most {MAX_BODY_BYTES} bytes (1 MB)"),
    )
}

/// The (method, path) pairs of a route table.
pub fn route_list(table: &RouteTable) -> Vec<(&'static str, &'static str)> {
    table
        .iter()
        .map(|(method, path, _)| (*method, *path))
        .collect()
}

/// Installs the Lambda log subscriber: first thing in every Lambda, before anything can
/// log. It writes to stdout, which Lambda sends to CloudWatch Logs; with the template's
/// `LoggingConfig: {LogFormat: JSON}` Lambda sets `AWS_LAMBDA_LOG_FORMAT=JSON` and every
/// line is a JSON object carrying its spans' fields (request id, route, account, message id);
/// the level comes from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO. Safe to call
/// twice (the second call changes nothing).
pub fn init_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(lambda_runtime::tracing::init_default_subscriber);
}

/// Runs a Lambda that takes and answers JSON events (SQS batches, schedules, EventBridge
/// rules): logging first, the app built once from the environment, then `handler` for every
/// event. The runtime opens a span per invocation with its request id; a failed invocation
/// is logged here with its error before the runtime reports it.
pub async fn run_json_lambda<F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(std::sync::Arc<App>, serde_json::Value) -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value, market_app::AppError>>,
{
    init_logging();
    let app = market_adapters::config::cloud().await.inspect_err(|e| {
        tracing::error!(error = format!("{e:#}"), "the function cannot start");
    })?;
    let handler = &handler;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let app = app.clone();
            async move {
                handler(app, event.payload).await.map_err(|e| {
                    tracing::error!(error = format!("{e:#}"), "invocation failed");
                    lambda_runtime::Error::from(e)
                })
            }
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p12_the_security_password_never_enters_a_fingerprint() {
        let with = br#"{"domains":["a.com"],"security_password":"hunter2-hunter2","price":"1.00"}"#;
        let other = br#"{"domains":["a.com"],"security_password":"another-one!","price":"1.00"}"#;
        let redacted = fingerprinted_body(with);
        assert!(!String::from_utf8_lossy(&redacted).contains("hunter2"));
        assert_eq!(
            redacted,
            fingerprinted_body(other),
            "the password changes nothing"
        );
        assert_ne!(
            redacted,
            fingerprinted_body(
                br#"{"domains":["b.com"],"security_password":"hunter2-hunter2","price":"1.00"}"#
            ),
            "the rest of the body still does"
        );
        // A body without one is fingerprinted as sent (keys issued before stay valid).
        let plain = br#"{"domains": ["a.com"], "captcha_token": "pass"}"#;
        assert_eq!(&*fingerprinted_body(plain), &plain[..]);
        assert_eq!(&*fingerprinted_body(b"not json"), b"not json");
    }
}
