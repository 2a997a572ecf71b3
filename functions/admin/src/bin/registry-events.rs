//! Lambda entry point of the registrar core's lifecycle events (EventBridge rule).
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    market_web::run_json_lambda(|app, event| async move {
        fn_admin::handle_registry_event(&app, event).await
    })
    .await
}
