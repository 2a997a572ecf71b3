//! The ports the use cases are written against, other than storage (`crate::store`); their
//! adapters live in `market-adapters`.
pub mod captcha;
pub mod clock;
pub mod instruments;
pub mod mailer;
pub mod outbox_feed;
pub mod partner;
pub mod payment;
pub mod queue;
pub mod registrar;
pub mod search;
pub mod second_factor;
pub mod timer;
