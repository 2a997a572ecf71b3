//! Priced pushes (P1–P10): a seller offers domains to one named buyer at one price; the
//! whole exchange completes or fails as one.
//!
//! A push holds its domains from publication (each domain's trade hold names it) until it
//! ends. Every change is one conditional transaction over the push and all its domains, so a
//! push is limited to [`MAX_PUSH_DOMAINS`] domains: completion (push, payment, its dedupe
//! records and journals, every domain, the sale journal, the settlement) fits DynamoDB's 100
//! actions with room to spare, and is therefore all-or-nothing by construction (P4).
use chrono::{DateTime, Utc};

use super::App;
use crate::repo::{self, load, Versioned};
use crate::retry::Attempt;
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, PushId};
use market_core::model::Push;
use market_core::money::Money;

mod completion;
mod lifecycle;
mod payment;
mod views;

pub use completion::*;
pub use lifecycle::*;
pub use payment::*;
pub use views::*;

/// The most domains one push may carry (see the module comment).
pub const MAX_PUSH_DOMAINS: usize = 50;

/// A new push, parsed.
pub struct NewPush {
    pub domains: Vec<String>,
    pub buyer: AccountId,
    pub price: Money,
    pub lock_60d: bool,
    pub buyer_email: Option<String>,
    pub message: Option<String>,
    /// P12: the seller's security password, as given (checked where the policy needs it).
    pub security_password: Option<market_core::security::SecurityPassword>,
}

/// Reads a push the caller may see (P7): its seller or its buyer; to anyone else it does
/// not exist.
async fn load_visible(
    app: &App,
    caller: &AccountId,
    id: &PushId,
) -> Result<Versioned<Push>, Attempt> {
    let push: Versioned<Push> = load(&*app.store, repo::push_key(id))
        .await?
        .ok_or_else(|| Problem::not_found("push"))?;
    if &push.value.seller != caller && &push.value.buyer != caller {
        return Err(Problem::not_found("push").into());
    }
    Ok(push)
}

fn only(caller: &AccountId, who: &AccountId, role: &str) -> Result<(), Attempt> {
    if caller != who {
        return Err(Problem::new(
            Code::Forbidden,
            format!("only the push's {role} can do this"),
        )
        .into());
    }
    Ok(())
}

fn not_pending(push: &Push, now: DateTime<Utc>) -> Attempt {
    market_core::push::not_pending(push, now).into()
}
