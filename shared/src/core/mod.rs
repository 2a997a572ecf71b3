//! The functional core: values that are valid by construction and the rules over them.
pub mod domain_name;
pub mod error;
pub mod ids;
pub mod ledger;
pub mod limits;
pub mod listing;
pub mod model;
pub mod money;
pub mod order;
pub mod policy;
