//! A local AWS endpoint for the DynamoDB adapter: the `moto` server from PyPI, started by
//! the tests themselves on a free port. If it cannot start, the tests fail (never skip).
//!
//! It runs through `tests/moto_server.py` (moto with DynamoDB's isolation: see there) on the
//! Python at `$MOTO_PYTHON`, or `.local-aws/venv/bin/python` at the repo root (where
//! `infra/test.sh` installs moto). A watchdog shell kills it when the test process ends, so
//! no server outlives the run.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use market_adapters::store::dynamo::DynamoStore;

static ENDPOINT: OnceLock<String> = OnceLock::new();
static WATCHDOG: OnceLock<Mutex<Child>> = OnceLock::new();

fn moto_python() -> PathBuf {
    if let Ok(path) = std::env::var("MOTO_PYTHON") {
        return path.into();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.local-aws/venv/bin/python")
}

fn moto_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("moto_server.py")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start() -> String {
    let python = moto_python();
    assert!(
        python.exists(),
        "no Python with moto at {}: run ./infra/test.sh (it installs moto into .local-aws/venv) or set MOTO_PYTHON",
        python.display()
    );
    let port = free_port();
    let script = format!(
        "'{}' '{}' {port} >/dev/null 2>&1 & m=$!; while kill -0 {parent} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.5; done; kill -9 $m 2>/dev/null",
        python.display(),
        moto_script().display(),
        parent = std::process::id()
    );
    let watchdog = Command::new("bash")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting moto_server");
    // The watchdog ends with this process (it polls our pid); keep its handle for the run.
    WATCHDOG.get_or_init(|| Mutex::new(watchdog));
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = stream.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: x\r\n\r\n");
            let mut head = [0u8; 12];
            if stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") {
                return endpoint;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto_server did not answer on {endpoint} within 30 s");
}

/// The endpoint of the one moto server of this test process (started on first use), with
/// the AWS SDK's standard environment pointed at it.
pub fn endpoint() -> &'static str {
    ENDPOINT.get_or_init(|| {
        let endpoint = start();
        // Set before any SDK client of these tests is built.
        for (k, v) in [
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            std::env::set_var(k, v);
        }
        endpoint
    })
}

/// A DynamoDB store on a fresh, small table (moto slows down with table size).
pub async fn fresh_table_store() -> DynamoStore {
    let endpoint = endpoint();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    let table = format!("market-{}", ulid::Ulid::new().to_string().to_lowercase());
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    store
        .ensure_table()
        .await
        .expect("creating a table on moto");
    store
}

/// A fresh table name for a runner started with `StoreChoice::Dynamo`.
pub fn fresh_table_name() -> String {
    endpoint();
    format!("market-{}", ulid::Ulid::new().to_string().to_lowercase())
}
