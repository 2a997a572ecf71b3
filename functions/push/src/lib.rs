//! `functions/push`: priced pushes (API.md "Pushes"). The routes exist; their behaviour is
//! the push issue's, so each answers 501 `NOT_IMPLEMENTED` until then.
use axum::routing::{get, post};
use axum::Router;

use shared::core::error::{Code, Problem};
use shared::web::AppState;

/// The routes of this function.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pushes", post(not_yet))
        .route("/pushes/{id}", get(not_yet))
        .route("/me/pushes", get(not_yet))
        .route("/pushes/{id}/withdraw", post(not_yet))
        .route("/pushes/{id}/reject", post(not_yet))
        .route("/pushes/{id}/accept", post(not_yet))
        .route("/pushes/{id}/pay", post(not_yet))
        .route("/pushes/{id}/confirm", post(not_yet))
        .route("/pushes/{id}/force", post(not_yet))
}

async fn not_yet() -> Problem {
    Problem::new(Code::NotImplemented, "priced pushes are not available yet")
}
