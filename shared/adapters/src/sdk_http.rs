//! The HTTP client of the AWS SDK clients.
//!
//! It is the SDK's default client (hyper 1, rustls on aws-lc, the SDK's cipher suites,
//! timeouts and error classification, `HTTPS_PROXY` and the like read from the environment),
//! built the way `aws-smithy-http-client` builds it, with two differences, both for a
//! Lambda's cold start (issue 15):
//!
//! - **It trusts Mozilla's root certificates compiled into the binary** (`webpki-root-certs`),
//!   not the OS trust store. The default client loads the OS trust store
//!   (`rustls-native-certs`, once per process) when it builds its first connector: on a
//!   Debian host that walks and reads the ~300 files of /etc/ssl/certs (~2.3 ms); from one
//!   bundle file, as Lambda's provided.al2023 keeps them, ~0.45 ms. The compiled-in roots
//!   read no file; the SDK's trust store takes PEM, so they are parsed from an in-memory PEM
//!   bundle (~0.6 ms per connector). A private CA added to the OS store is not trusted here.
//! - **It builds a connector once**, when a request first needs it or ahead of time
//!   ([`SdkHttpClient::load_prepared`]). The default client also builds one whenever an SDK
//!   client is created, and throws it away (so that the OS trust store is read early): one
//!   more parse of the roots per SDK client, for nothing.
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::SharedAsyncSleep;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::ConnectorBuilder;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// The SDK's HTTP client (see the module). Clones share their connectors.
#[derive(Clone, Debug)]
pub struct SdkHttpClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tls: TlsContext,
    /// One connector per timeout pair, as the SDK's own client keys them: every SDK client
    /// made from one `SdkConfig` shares its timeouts, hence one connector and one pool.
    connectors: RwLock<HashMap<Timeouts, SharedHttpConnector>>,
    built: AtomicUsize,
}

/// A connector's (connect, read) timeouts.
type Timeouts = (Option<Duration>, Option<Duration>);

impl Default for SdkHttpClient {
    fn default() -> Self {
        SdkHttpClient::new()
    }
}

impl SdkHttpClient {
    /// A client over the compiled-in roots. Builds no connector yet.
    pub fn new() -> SdkHttpClient {
        let trust_store = TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(compiled_in_roots_pem());
        let tls = TlsContext::builder()
            .with_trust_store(trust_store)
            .build()
            .expect("a TLS context of a trust store alone is valid");
        SdkHttpClient {
            inner: Arc::new(Inner {
                tls,
                connectors: RwLock::new(HashMap::new()),
                built: AtomicUsize::new(0),
            }),
        }
    }

    /// This client as the SDK's configuration takes it.
    pub fn shared(&self) -> SharedHttpClient {
        SharedHttpClient::new(self.clone())
    }

    /// The SDK configuration `loader` loads over this client, with the connector its
    /// clients' requests will use already built (the trust store parsed, the TLS
    /// configuration made) rather than in the first request.
    pub async fn load_prepared(self, loader: aws_config::ConfigLoader) -> aws_config::SdkConfig {
        let sdk = loader.http_client(self.shared()).load().await;
        // The loader always sets timeouts; were there none, the first request would build it.
        if let Some(timeouts) = sdk.timeout_config() {
            self.prepare(timeouts, sdk.sleep_impl());
        }
        sdk
    }

    /// Builds now the connector that requests under `timeouts` will use. `sleep` is the
    /// configuration's (`None`: tokio's, the connector's default, as the SDK's).
    pub fn prepare(&self, timeouts: &TimeoutConfig, sleep: Option<SharedAsyncSleep>) {
        let mut settings = HttpConnectorSettings::builder();
        settings.set_connect_timeout(timeouts.connect_timeout());
        settings.set_read_timeout(timeouts.read_timeout());
        self.connector(&settings.build(), sleep);
    }

    /// How many connectors this client (and its clones) built.
    pub fn connectors_built(&self) -> usize {
        self.inner.built.load(Ordering::Relaxed)
    }

    fn connector(
        &self,
        settings: &HttpConnectorSettings,
        sleep: Option<SharedAsyncSleep>,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let connectors = &self.inner.connectors;
        if let Some(connector) = connectors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return connector.clone();
        }
        // Built under the write lock: a request arriving while `prepare` builds waits for
        // that connector rather than building a second one.
        let mut connectors = connectors.write().unwrap_or_else(PoisonError::into_inner);
        connectors
            .entry(key)
            .or_insert_with(|| {
                self.inner.built.fetch_add(1, Ordering::Relaxed);
                SharedHttpConnector::new(self.build(settings, sleep))
            })
            .clone()
    }

    /// As `aws_smithy_runtime::client::http::default_https_client` builds its connectors
    /// (behavior version latest), with the TLS context added.
    fn build(
        &self,
        settings: &HttpConnectorSettings,
        sleep: Option<SharedAsyncSleep>,
    ) -> aws_smithy_http_client::Connector {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(self.inner.tls.clone());
        connector.set_connector_settings(Some(settings.clone()));
        connector.set_sleep_impl(sleep);
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    }
}

impl HttpClient for SdkHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.connector(settings, components.sleep_impl())
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
}

/// Mozilla's roots (`webpki-root-certs`, DER) as one PEM bundle, the form the SDK's trust
/// store takes.
fn compiled_in_roots_pem() -> Vec<u8> {
    use base64::Engine;
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----\n";
    const END: &str = "\n-----END CERTIFICATE-----\n";
    let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
    let size = roots
        .iter()
        .map(|der| der.len().div_ceil(3) * 4 + BEGIN.len() + END.len())
        .sum();
    let mut pem = String::with_capacity(size);
    for der in roots {
        pem.push_str(BEGIN);
        base64::engine::general_purpose::STANDARD.encode_string(der, &mut pem);
        pem.push_str(END);
    }
    pem.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_roots_parse_into_a_non_empty_trust_store() {
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        // What the SDK's client does with the PEM when it builds its connector (it panics on
        // a certificate that does not parse).
        let mut roots = rustls::RootCertStore::empty();
        for der in CertificateDer::pem_slice_iter(&compiled_in_roots_pem()) {
            roots
                .add(der.expect("a PEM certificate"))
                .expect("a root rustls takes");
        }
        assert!(!roots.is_empty(), "no root certificate compiled in");
        assert_eq!(roots.len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        // AWS's endpoints chain to Amazon Trust Services' roots.
        let named = |name: &[u8]| {
            roots
                .roots
                .iter()
                .any(|anchor| anchor.subject.windows(name.len()).any(|w| w == name))
        };
        for name in [
            "Amazon Root CA 1",
            "Starfield Services Root Certificate Authority - G2",
        ] {
            assert!(named(name.as_bytes()), "{name} is not a trusted root");
        }
    }

    #[tokio::test]
    async fn one_connector_prepared_ahead_serves_every_sdk_client_and_answers() {
        use std::io::{BufRead, BufReader, Read, Write};
        // A DynamoDB stand-in on loopback, plain HTTP like moto. The connector (the trust
        // store parsed from the compiled-in roots) is built with the configuration, as a
        // Lambda loads it, before any request; neither creating SDK clients nor their first
        // request builds another (a timeout or sleep the request asks for that the
        // preparation missed would).
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (socket, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(socket);
            let (mut line, mut length, mut target) = (String::new(), 0, None);
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let lower = line.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                if let Some(value) = lower.strip_prefix("x-amz-target:") {
                    target = Some(value.trim().to_owned());
                }
                if line == "\r\n" {
                    break;
                }
            }
            reader.read_exact(&mut vec![0; length]).unwrap();
            let body = r#"{"TableNames":["market"]}"#;
            write!(
                reader.get_mut(),
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            target
        });
        let http = SdkHttpClient::new();
        let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(format!("http://{addr}"))
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "tests",
            ));
        let sdk = http.clone().load_prepared(loader).await;
        assert_eq!(http.connectors_built(), 1, "prepared with the config");
        let _queues = aws_sdk_sqs::Client::new(&sdk);
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        assert_eq!(
            http.connectors_built(),
            1,
            "an SDK client built a connector"
        );
        let tables = dynamodb
            .list_tables()
            .send()
            .await
            .expect("an answer through the client");
        assert_eq!(tables.table_names(), ["market"]);
        assert_eq!(
            server.join().unwrap().as_deref(),
            Some("dynamodb_20120810.listtables")
        );
        assert_eq!(
            http.connectors_built(),
            1,
            "the request built its own connector"
        );
    }
}
