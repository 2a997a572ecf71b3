//! `cargo run`: the whole marketplace on one port, with demo data and a token to try it.
use chrono::{Duration, Utc};
use secrecy::ExposeSecret;
use tracing_subscriber::EnvFilter;

use infra::{start, Settings, StoreChoice};
use market_adapters::config::CaptchaMode;
use market_web::auth::sign_token;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let settings = Settings::from_env()?;
    let running = start(settings).await?;
    let base = running.base_url();
    let secret = running.settings.jwt_secret.expose_secret();
    let exp = (Utc::now() + Duration::days(30)).timestamp();
    let store = match &running.settings.store {
        StoreChoice::Embedded(path) => format!("embedded ({})", path.display()),
        StoreChoice::Memory => "embedded, in memory".into(),
        StoreChoice::Dynamo { table } => format!("DynamoDB table {table}"),
        StoreChoice::Given(_) => "given by the caller".into(),
    };
    let captcha = match &running.settings.captcha {
        CaptchaMode::Sandbox => "sandbox: the token `pass` passes".to_owned(),
        CaptchaMode::Closed => "closed: every token fails".to_owned(),
        CaptchaMode::Siteverify(config) => format!("siteverify at {}", config.verify_url),
    };
    println!("\nDomain marketplace listening on {base}  (store: {store})");
    if infra::console::is_built(&running.settings.console_dir) {
        println!("Web console: {base}/  (sign in as alice, bob, carol or ops)");
    } else {
        println!(
            "Web console: not built; to build it: {}",
            infra::console::BUILD_HINT
        );
    }
    println!("Human check (O7, MARKET_CAPTCHA): {captcha}");
    println!("JWT secret (HS256, MARKET_JWT_SECRET): {secret}");
    println!("Demo tokens, valid 30 days:");
    for (who, roles) in [
        ("alice", &[][..]),
        ("bob", &[][..]),
        ("ops", &["admin"][..]),
    ] {
        println!("  {who:6} {}", sign_token(secret, who, roles, exp));
    }
    let bob = sign_token(secret, "bob", &[], exp);
    println!("\nTry it:");
    println!("  curl -s {base}/listings");
    println!(
        "  curl -s -X POST {base}/orders -H 'Authorization: Bearer {bob}' -H 'Content-Type: application/json' -d '{{\"domains\":[\"example.com\"],\"captcha_token\":\"pass\"}}'"
    );
    println!("  (a fresh listing cools down for 3 minutes: curl -s -X POST {base}/dev/clock/advance -H 'Content-Type: application/json' -d '{{\"seconds\":180}}')\n");
    let signal = stop_signal().await?;
    tracing::info!(
        signal,
        "stopping: requests in flight and the batch in hand finish first"
    );
    running.shutdown(infra::SHUTDOWN_GRACE).await;
    tracing::info!("stopped");
    Ok(())
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM (what a process manager sends).
async fn stop_signal() -> anyhow::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.map(|_| "SIGINT").map_err(Into::into),
            _ = term.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok("Ctrl-C")
    }
}
