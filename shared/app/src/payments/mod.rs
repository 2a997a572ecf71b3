//! The payment path: provider notification → queue → verification → one conditional
//! transaction per state change (with the notification's dedupe records) → delivery per
//! domain (O9) with ledger journals (S1) → refunds through the provider until confirmed,
//! and settlement of proceeds (S4).
//!
//! Money from a credit instrument is refunded in full instead (O8, `credit`).
//!
//! Every step can run again (a redelivered message, a sweep resuming after a crash) and
//! changes nothing twice: each write is conditioned on the version it read, and each
//! journal, dedupe record, refund and settlement on its key being new.

mod apply;
mod credit;
mod delivery;
pub mod door;
mod intake;
mod refresh;
mod refunds;
mod settlement;

pub use apply::*;
pub use delivery::*;
pub use intake::*;
pub use refresh::*;
pub use refunds::*;
pub use settlement::*;

use crate::attempts::dedupe_records;
pub use crate::attempts::Applied;
pub use crate::refunds::send_refund;
use crate::refunds::{refund_for, send_refund_now};
