//! The adapters of the S3 instrument ports: Stripe's REST API (`stripe`), the local
//! sandboxes that know Stripe's documented test PaymentMethod ids and two PayPal test
//! accounts (`sandbox`), and the adapters of a deployment with none configured (`none`).
pub mod none;
pub mod sandbox;
pub mod stripe;

pub use market_app::ports::instruments::{CardProcessor, InstrumentError, PayPal};
pub use none::{NoCards, NoPayPal};
pub use sandbox::{SandboxCards, SandboxPayPal, SandboxPreauth};
pub use stripe::{StripeCards, StripeConfig};
