//! The web console's static files (`shared/console`, built by Vite into `dist/`), served by
//! the local runner at `/` beside the API, as the cloud serves them from S3 behind CloudFront.
//!
//! The console routes its pages by the URL's fragment (`/#/market`), so a page's path never
//! meets an API path: any GET that no API route takes is looked up in the built files, and
//! what is not there is the API's usual 404 problem.
use std::path::{Path, PathBuf};

use axum::http::{header, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// `shared/console/dist` in the workspace: where `npm run build` puts the console.
pub fn default_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join("console")
        .join("dist")
}

/// How to build the console, for the start banner and the page served when it is missing.
pub const BUILD_HINT: &str =
    "npm ci --prefix shared/console && npm run build --prefix shared/console";

/// Whether `dir` holds a built console.
pub fn is_built(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

/// The console's routes: `/config.json` (where the console finds the API and how it signs
/// in) and, as the router's fallback, the built files.
pub fn attach<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    dir: PathBuf,
    dev_sign_in: bool,
) -> Router<S> {
    // In the cloud the deploy writes this file beside index.html, naming `/api` and Cognito.
    let config = json!({
        "api_base": "",
        "sign_in": if dev_sign_in { "dev" } else { "none" },
    });
    let router = router.route(
        "/config.json",
        get(move || {
            let config = config.clone();
            async move { ([(header::CACHE_CONTROL, "no-store")], axum::Json(config)) }
        }),
    );
    let files = ServeDir::new(&dir)
        .append_index_html_on_directories(true)
        .fallback(tower::service_fn(|_| async {
            Ok::<_, std::convert::Infallible>(market_web::problem::no_route().await)
        }));
    router.fallback(move |request: axum::extract::Request| {
        let files = files.clone();
        let dir = dir.clone();
        async move {
            if request.method() != Method::GET && request.method() != Method::HEAD {
                return market_web::problem::no_route().await;
            }
            if request.uri().path() == "/" && !is_built(&dir) {
                return not_built(&dir);
            }
            match files.oneshot(request).await {
                Ok(response) => response.map(axum::body::Body::new),
                Err(never) => match never {},
            }
        }
    })
}

/// What `/` says before the console is built: how to build it.
fn not_built(dir: &Path) -> Response {
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>Console not built</title>\
         <h1>The web console is not built</h1>\
         <p>The API is up. To build the console, run at the repo root:</p>\
         <pre>{BUILD_HINT}</pre><p>(looked for <code>{}</code>; \
         <code>MARKET_CONSOLE_DIR</code> points elsewhere).</p>",
        html_escape(&dir.join("index.html").display().to_string())
    );
    (StatusCode::NOT_FOUND, Html(page)).into_response()
}

/// Escapes text for an HTML text node or a double-quoted attribute.
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
