//! HTTP plumbing shared by every function's router: identity, strict JSON, problem+json.
pub mod auth;
pub mod json;
pub mod problem;
pub mod trace;

use std::sync::Arc;

use crate::App;

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
    crate::config::init_logging();
    let app = crate::config::cloud().await.inspect_err(|e| {
        tracing::error!(error = format!("{e:#}"), "the function cannot start");
    })?;
    lambda_http::run(lambda_router(router, app)).await
}

/// `limit` of a list: default 50, at most 200 (API.md conventions).
pub fn page_limit(limit: Option<usize>) -> usize {
    limit.unwrap_or(50).clamp(1, 200)
}

/// A list's `cursor`: an empty one means the first page.
pub fn page_cursor(cursor: Option<String>) -> Option<String> {
    cursor.filter(|c| !c.is_empty())
}

/// The query of a list route that takes nothing but paging.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// A query word that must be one of `choices`; absent, it is the first.
pub fn choice<'a>(
    name: &str,
    value: Option<&'a str>,
    choices: &[&'a str],
) -> Result<&'a str, crate::core::error::Problem> {
    match value {
        None => Ok(choices[0]),
        Some(v) => choices.iter().copied().find(|c| *c == v).ok_or_else(|| {
            crate::core::error::Problem::new(
                crate::core::error::Code::InvalidRequest,
                format!("{name} is one of {}, not {v}", choices.join(", ")),
            )
        }),
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
    type Rejection = crate::core::error::Problem;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let request = axum::extract::Request::from_parts(parts.clone(), body);
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| {
                crate::core::error::Problem::new(
                    crate::core::error::Code::InvalidRequest,
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
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::core::error::Problem> {
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
) -> Result<axum::response::Response, crate::app::AppError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = crate::app::AppResult<T>>,
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
    let fingerprint = crate::app::idempotency::fingerprint(method.as_str(), uri.path(), body);
    let answer = crate::app::idempotency::once(
        app,
        &caller.account,
        key.as_deref(),
        fingerprint,
        || async {
            let value = work().await?;
            Ok(crate::app::idempotency::Recorded {
                status: status.as_u16(),
                body: serde_json::to_value(value)
                    .map_err(|e| crate::app::AppError::Internal(e.into()))?,
            })
        },
    )
    .await?;
    let status = axum::http::StatusCode::from_u16(answer.status).unwrap_or(status);
    Ok((status, axum::Json(answer.body)).into_response())
}

/// Parses a JSON body taken as bytes (for routes that also fingerprint it).
pub fn parse_json<T: serde::de::DeserializeOwned>(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<T, crate::core::error::Problem> {
    use crate::core::error::{Code, Problem};
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
}

/// The (method, path) pairs of a route table.
pub fn route_list(table: &RouteTable) -> Vec<(&'static str, &'static str)> {
    table
        .iter()
        .map(|(method, path, _)| (*method, *path))
        .collect()
}
