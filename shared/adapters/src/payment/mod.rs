//! The payment provider port's adapters: the Alipay client (`alipay`, keys from `keys`), the
//! sandbox that plays Alipay locally (`sandbox`), and the provider of functions that take no
//! money (`none`). Client and sandbox share Alipay's wire format (`wire`, `rsa2`) and never
//! import each other.
pub mod alipay;
pub mod keys;
pub mod none;
pub mod rsa2;
pub mod sandbox;
pub mod wire;

pub use market_app::ports::payment::*;
pub use none::NoProvider;
pub use sandbox::SandboxProvider;
pub use wire::{beijing, beijing_time, read_notification, verify_notification};
