//! The ports other than storage, each with the adapters the local runner and the cloud use.
pub mod alipay;
pub mod captcha;
pub mod clock;
pub mod payment;
pub mod queue;
pub mod rsa2;
