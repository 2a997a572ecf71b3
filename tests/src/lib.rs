//! Test support: start the marketplace in-process (`spawn_app`), talk to it as a client
//! would, start a local AWS endpoint (moto) and a fake captcha service (`siteverify`) for
//! the adapter tests, and capture the JSON log lines a Lambda would write.
pub mod capacity;
pub mod client;
pub mod contract;
pub mod env;
pub mod faults;
pub mod gateway;
pub mod logs;
pub mod moto;
pub mod opensearch;
pub mod requests;
pub mod scene;
pub mod siteverify;
pub mod stream;
pub mod stripe;

pub use client::{spawn_app, spawn_app_on_dynamo, spawn_app_with, Reply, TestApp};

/// The runtime a bench binary runs on: multi-threaded, with the crypto provider the SDK's
/// and reqwest's rustls need installed first.
pub fn bench_runtime() -> tokio::runtime::Runtime {
    market_adapters::payment::alipay::install_crypto_provider();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
