//! P12: the second factor that publishing and accepting a push need.
//!
//! - `password`: the security password, an Argon2id hash in the store (hashed on tokio's
//!   blocking threads). A TOTP or SMS adapter of the same port could replace it.
pub mod password;

pub use market_app::ports::second_factor::{SecondFactor, Verdict};
pub use password::Argon2Password;
