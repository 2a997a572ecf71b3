//! The adapters of the mail port (N1): the local runner's mailbox (kept in the store for
//! `GET /dev/mail`, and sent on over SMTP when `MARKET_SMTP_URL` is set), and SES v2 for
//! the cloud's `notify` function.
mod ses;
mod smtp;
mod store;

pub use market_app::ports::mailer::{Email, Mailer, NoMailer};
pub use ses::SesMailer;
pub use smtp::SmtpMailer;
pub use store::{SentMail, StoreMailer};
