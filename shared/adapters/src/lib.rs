//! `market-adapters`: the adapters of the ports `market-app` defines — the embedded `redb`
//! store and DynamoDB, the in-process queue and SQS, Alipay (RSA2) and the sandbox provider,
//! the captcha verifiers, the security password (P12), the card processor and PayPal vault (S3),
//! the AWS SDK's HTTP client (`sdk_http`) — and `config`, which wires them into an `App` from the
//! environment. Adapters never import each other's internals but through the ports.
pub mod captcha;
pub mod config;
pub mod instruments;
pub mod mail;
pub mod partner;
pub mod payment;
pub mod queue;
pub mod registrar;
pub mod sdk_http;
pub mod search;
pub mod second_factor;
pub mod store;
pub mod timer;
