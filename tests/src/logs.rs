//! Log capture for tests: the JSON lines a Lambda would write to CloudWatch Logs (the same
//! `tracing-subscriber` JSON format `lambda_runtime::tracing::init_default_subscriber` uses
//! under `AWS_LAMBDA_LOG_FORMAT=JSON`), written into memory for the current thread.
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// The captured output.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Every line written so far, as JSON.
    pub fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().expect("logs").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// The lines at `level` (`"ERROR"`, `"WARN"`, ...).
    pub fn at(&self, level: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["level"] == level)
            .collect()
    }
}

/// One writer handle (`MakeWriter` hands one out per event).
pub struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every event of this thread (a `#[tokio::test]` runs its futures on it) until
/// the guard is dropped.
pub fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let sink = captured.0.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || Writer(sink.clone()))
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

/// Captures every event of the process, from the first call on (a global subscriber, set
/// once). For tests that share a binary with others running in parallel: a thread-local
/// subscriber can miss a span whose callsite another thread registered first, so such a
/// test reads the whole process's lines and picks its own by a request or message id.
pub fn capture_process() -> Captured {
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let sink = captured.0.clone();
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_max_level(tracing::Level::DEBUG)
                .with_writer(move || Writer(sink.clone()))
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the tests");
            captured
        })
        .clone()
}
