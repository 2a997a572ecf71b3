//! The ports other than storage, each with the adapters the local runner and the cloud use.
pub mod alipay;
pub mod alipay_keys;
pub mod captcha;
pub mod clock;
pub mod metrics;
pub mod payment;
pub mod queue;
pub mod rsa2;
