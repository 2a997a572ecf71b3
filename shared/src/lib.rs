//! The marketplace's domain crate.
//!
//! - [`core`]: values and pure rules (no I/O, no clock reads). Rule ids from RULES.md are cited
//!   next to the code that enforces them.
//! - [`store`]: the storage port (a small conditional item store) with its two adapters,
//!   the embedded `redb` store and DynamoDB.
//! - [`adapters`]: the other ports (clock, queue, payment provider, captcha) and their adapters.
//! - [`app`]: the use cases: read, decide with [`core`], write conditionally.
//! - [`web`]: HTTP plumbing shared by every function: identity, problem+json, strict JSON,
//!   a span per request.
//! - [`sqs`]: the one way every queue consumer answers an SQS batch.
pub mod adapters;
pub mod app;
pub mod config;
pub mod core;
pub mod sqs;
pub mod store;
pub mod web;

pub use app::App;
