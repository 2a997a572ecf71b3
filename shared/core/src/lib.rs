//! `market-core`: values that are valid by construction and the pure rules over them (no
//! I/O, no clock reads; its only dependencies are chrono, rust_decimal, serde, serde_json,
//! idna, ulid and thiserror — a test keeps it so). Rule ids from RULES.md are cited next to
//! the code that enforces them.
pub mod calendar;
pub mod compliance;
pub mod delivery;
pub mod deposit;
pub mod domain_name;
pub mod error;
pub mod exit;
pub mod fee_notice;
pub mod funding;
pub mod ids;
pub mod instrument;
pub mod ledger;
pub mod legacy;
pub mod limits;
pub mod listing;
pub mod model;
pub mod money;
pub mod notice;
pub mod order;
pub mod partner;
pub mod payout;
pub mod placement;
pub mod policy;
pub mod push;
pub mod search;
pub mod security;
pub mod settlement;
pub mod transfer;
