//! N1: people are told. Every change that must tell someone writes, in its own transaction,
//! one outbox message of kind [`KIND_NOTIFY`] carrying its notices (one a recipient; the
//! notices of one transaction are merged into one message by `outbox::coalesce`). After
//! commit the notifier delivers it (`delivery`): each notice into the recipient's in-app
//! inbox (`inbox`) and, where there is an address, as an email in the account's language.
//! A mail server that is down never blocks or undoes a trade: the message waits in the
//! outbox, retried with backoff, then dead-lettered with an alarm.
//!
//! Who gets what (this module is the one place that decides it):
//! - a push published: its buyer (and the `buyer_email` given with it);
//! - a push accepted, rejected, withdrawn, expired or completed: buyer and seller;
//! - an order completed: the buyer, the domains delivered (`order_completed`) and those
//!   that could not be (`order_failed`, refunded); each seller, their own domains of it;
//! - a refund confirmed by the provider: the buyer it went back to (`refund_sent`);
//! - a payout paid or failed: its seller.
use serde::{Deserialize, Serialize};

use crate::outbox::{message, outbox_item};
use crate::repo::create;
use crate::store::Write;
use crate::App;
use market_core::ids::AccountId;
use market_core::model::{ItemStatus, Order, Push, Refund};
use market_core::notice::{domain_lines, Audience, Facts, NoticeKind};
use market_core::payout::Payout;

pub mod delivery;
pub mod inbox;

/// The outbox kind of notices to people.
pub const KIND_NOTIFY: &str = "notify";

/// Whom a notice is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// An account: its inbox, and its email address if it has one.
    Account(AccountId),
    /// One more address for an account's notice (a push's `buyer_email`): email only, in
    /// the account's language; skipped when it is the account's own address.
    Address { account: AccountId, email: String },
}

/// One notice to one recipient, with the facts its template fills in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub audience: Audience,
    pub to: Recipient,
    pub facts: Facts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_id: Option<String>,
}

/// The payload of a notify message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeBatch {
    pub notices: Vec<Notice>,
}

/// The outbox write of these notices (none when there are none).
fn outbox_write(app: &App, notices: Vec<Notice>) -> Option<Write> {
    if notices.is_empty() {
        return None;
    }
    let payload = serde_json::to_value(NoticeBatch { notices }).expect("notices serialise");
    Some(create(outbox_item(&message(
        KIND_NOTIFY,
        payload,
        app.now(),
        app.ulid(),
    ))))
}

fn fact(facts: &mut Facts, name: &str, value: impl ToString) {
    facts.insert(name.to_owned(), value.to_string());
}

/// N1: the notices of a push's step `kind` (published, accepted, rejected, withdrawn,
/// expired, completed), as one outbox write for the step's transaction.
pub fn push_step(app: &App, kind: NoticeKind, push: &Push) -> Option<Write> {
    let mut facts = Facts::new();
    fact(&mut facts, "push_id", &push.id);
    fact(&mut facts, "seller", &push.seller);
    fact(&mut facts, "buyer", &push.buyer);
    fact(&mut facts, "count", push.domains.len());
    let names: Vec<String> = push.domains.iter().map(|d| d.unicode()).collect();
    fact(
        &mut facts,
        "domains",
        domain_lines(names.iter().map(String::as_str)),
    );
    fact(&mut facts, "price", push.price);
    fact(&mut facts, "expires_at", push.expires_at.to_rfc3339());
    let lock = push.forced_at.map(|at| {
        market_core::push::transfer_lock_until(at, app.policy.transfer_lock).to_rfc3339()
    });
    fact(&mut facts, "lock_until", lock.as_deref().unwrap_or("-"));
    fact(
        &mut facts,
        "reason",
        push.end_reason.as_deref().unwrap_or("-"),
    );
    let notice = |audience: Audience, to: Recipient| Notice {
        kind,
        audience,
        to,
        facts: facts.clone(),
        order_id: None,
        push_id: Some(push.id.to_string()),
        payout_id: None,
    };
    let mut notices = vec![notice(
        Audience::Buyer,
        Recipient::Account(push.buyer.clone()),
    )];
    if kind == NoticeKind::PushPublished {
        if let Some(email) = push.buyer_email.as_ref().filter(|e| !e.trim().is_empty()) {
            notices.push(notice(
                Audience::Buyer,
                Recipient::Address {
                    account: push.buyer.clone(),
                    email: email.trim().to_owned(),
                },
            ));
        }
    } else {
        notices.push(notice(
            Audience::Seller,
            Recipient::Account(push.seller.clone()),
        ));
    }
    outbox_write(app, notices)
}

/// N1: an order's outcome, once every domain of it is delivered or failed: the buyer is
/// told of the domains delivered and of those refunded, each seller of their own.
pub fn order_outcome(app: &App, order: &Order) -> Option<Write> {
    let mut notices = Vec::new();
    for (kind, status) in [
        (NoticeKind::OrderCompleted, ItemStatus::Completed),
        (NoticeKind::OrderFailed, ItemStatus::Failed),
    ] {
        let items: Vec<_> = order.items.iter().filter(|i| i.status == status).collect();
        if items.is_empty() {
            continue;
        }
        // The buyer first, then each seller in the order of their first domain.
        let mut sellers: Vec<&AccountId> = Vec::new();
        for item in &items {
            if !sellers.contains(&&item.seller) {
                sellers.push(&item.seller);
            }
        }
        let audiences = std::iter::once((Audience::Buyer, &order.buyer))
            .chain(sellers.into_iter().map(|s| (Audience::Seller, s)));
        for (audience, who) in audiences {
            let theirs: Vec<_> = items
                .iter()
                .filter(|i| audience == Audience::Buyer || &i.seller == who)
                .collect();
            let amount = theirs
                .iter()
                .map(|i| i.price.amount())
                .sum::<rust_decimal::Decimal>();
            let names: Vec<String> = theirs.iter().map(|i| i.domain.unicode()).collect();
            let mut facts = Facts::new();
            fact(&mut facts, "order_id", &order.id);
            fact(&mut facts, "count", theirs.len());
            fact(
                &mut facts,
                "domains",
                domain_lines(names.iter().map(String::as_str)),
            );
            fact(&mut facts, "amount", format!("{amount:.2}"));
            notices.push(Notice {
                kind,
                audience,
                to: Recipient::Account(who.clone()),
                facts,
                order_id: Some(order.id.to_string()),
                push_id: None,
                payout_id: None,
            });
        }
    }
    outbox_write(app, notices)
}

/// N1: a refund the provider confirmed, to the buyer it went back to.
pub fn refund_sent(app: &App, refund: &Refund) -> Option<Write> {
    let mut facts = Facts::new();
    fact(&mut facts, "amount", refund.amount);
    fact(&mut facts, "payment_id", &refund.payment_id);
    fact(&mut facts, "reason", &refund.reason);
    outbox_write(
        app,
        vec![Notice {
            kind: NoticeKind::RefundSent,
            audience: Audience::Buyer,
            to: Recipient::Account(refund.buyer.clone()),
            facts,
            order_id: None,
            push_id: None,
            payout_id: None,
        }],
    )
}

/// N1: a payout that ended, paid (`failure: None`) or failed, to its seller.
pub fn payout_ended(app: &App, payout: &Payout, failure: Option<&str>) -> Option<Write> {
    let mut facts = Facts::new();
    fact(&mut facts, "payout_id", &payout.id);
    fact(&mut facts, "amount", payout.amount);
    fact(&mut facts, "payee", &payout.payout_account);
    fact(&mut facts, "reason", failure.unwrap_or("-"));
    let kind = match failure {
        None => NoticeKind::PayoutSucceeded,
        Some(_) => NoticeKind::PayoutFailed,
    };
    outbox_write(
        app,
        vec![Notice {
            kind,
            audience: Audience::Seller,
            to: Recipient::Account(payout.seller.clone()),
            facts,
            order_id: None,
            push_id: None,
            payout_id: Some(payout.id.to_string()),
        }],
    )
}
