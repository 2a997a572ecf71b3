//! O7: the human check before an order or a push acceptance.
//!
//! - `siteverify`: the cloud's verifier, the "siteverify" protocol of Cloudflare Turnstile,
//!   hCaptcha and reCAPTCHA (the token claimed once in the store, then asked of the service;
//!   fails closed);
//! - `sandbox`: the fixed answers (`pass` passes; the closed verifier refuses everything);
//! - `answer`, `claim`, `secret`, `settings`: the service's answer and its judgement, the token's
//!   single use, the secret key's source, the typed settings — one job each, used by
//!   `siteverify`.
pub mod answer;
pub mod claim;
pub mod sandbox;
pub mod secret;
pub mod settings;
pub mod siteverify;

pub use market_app::ports::captcha::{Captcha, CaptchaAction, HumanCheck};
pub use sandbox::{ClosedCaptcha, SandboxCaptcha};
pub use settings::SiteverifyConfig;
pub use siteverify::SiteverifyCaptcha;
