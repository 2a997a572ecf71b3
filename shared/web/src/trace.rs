//! A span per HTTP request, so that every log line of a request (an internal error above
//! all) says which request it was: the method, the matched route (`/orders/{id}`, never the
//! raw path with its ids), the Lambda request id and API Gateway's, and the calling account
//! once `auth` knows it. Under Lambda's JSON log format the span's fields are part of every
//! line written inside it, so CloudWatch Logs Insights can filter by any of them.
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::field::Empty;
use tracing::Instrument;

/// The span of the request being served, in its extensions: `auth` records the account on
/// it once the caller is known.
#[derive(Clone)]
pub struct RequestSpan(pub tracing::Span);

/// The middleware (`axum::middleware::from_fn(trace::request_span)`); added with
/// `Router::layer`, it runs after routing, so the matched route is known.
pub async fn request_span(mut request: Request, next: Next) -> Response {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", |p| p.as_str())
        .to_owned();
    let request_id = request
        .extensions()
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default();
    let api_request_id = match request.extensions().request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => c.request_id.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route,
        request_id = %request_id,
        api_request_id = %api_request_id,
        account = Empty,
    );
    request.extensions_mut().insert(RequestSpan(span.clone()));
    async move {
        let response = next.run(request).await;
        // Refusals are worth a line, successes only when debugging (Lambda's own REPORT
        // line already counts every invocation).
        let status = response.status().as_u16();
        match status {
            500.. => tracing::error!(status, "answered"),
            400..=499 => tracing::info!(status, "answered"),
            _ => tracing::debug!(status, "answered"),
        }
        response
    }
    .instrument(span)
    .await
}

/// Records the calling account on the request's span (if the request has one).
pub fn record_account(extensions: &axum::http::Extensions, account: &str) {
    if let Some(RequestSpan(span)) = extensions.get::<RequestSpan>() {
        span.record("account", account);
    }
}
