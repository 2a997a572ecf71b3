//! HTTP plumbing shared by every function's router: identity, strict JSON, problem+json.
pub mod auth;
pub mod json;
pub mod problem;

use std::sync::Arc;

use crate::App;

/// The state every router is built over.
pub type AppState = Arc<App>;

/// `limit` of a list: default 50, at most 200 (API.md conventions).
pub fn page_limit(limit: Option<usize>) -> usize {
    limit.unwrap_or(50).clamp(1, 200)
}
