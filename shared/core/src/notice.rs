//! N1: what people are told, and in which words. Each notice has a kind (API.md
//! "Notifications"), an audience (the buyer's or the seller's side of the trade) and facts;
//! its subject and body come from a template file per kind, audience and locale
//! (`shared/core/templates/notices/{locale}/{kind}.{audience}.txt`: the first line is the
//! subject, the rest after a blank line the body, `{fact}` marks a fact). The files are
//! compiled in, so a Lambda carries them and a missing one fails the build, not a delivery.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What happened, as `GET /me/notifications` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    PushPublished,
    PushAccepted,
    PushRejected,
    PushWithdrawn,
    PushExpired,
    PushCompleted,
    OrderCompleted,
    OrderFailed,
    RefundSent,
    PayoutSucceeded,
    PayoutFailed,
}

impl NoticeKind {
    /// Every kind.
    pub const ALL: [NoticeKind; 11] = [
        NoticeKind::PushPublished,
        NoticeKind::PushAccepted,
        NoticeKind::PushRejected,
        NoticeKind::PushWithdrawn,
        NoticeKind::PushExpired,
        NoticeKind::PushCompleted,
        NoticeKind::OrderCompleted,
        NoticeKind::OrderFailed,
        NoticeKind::RefundSent,
        NoticeKind::PayoutSucceeded,
        NoticeKind::PayoutFailed,
    ];

    /// The kind's name (`push_published`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::PushPublished => "push_published",
            NoticeKind::PushAccepted => "push_accepted",
            NoticeKind::PushRejected => "push_rejected",
            NoticeKind::PushWithdrawn => "push_withdrawn",
            NoticeKind::PushExpired => "push_expired",
            NoticeKind::PushCompleted => "push_completed",
            NoticeKind::OrderCompleted => "order_completed",
            NoticeKind::OrderFailed => "order_failed",
            NoticeKind::RefundSent => "refund_sent",
            NoticeKind::PayoutSucceeded => "payout_succeeded",
            NoticeKind::PayoutFailed => "payout_failed",
        }
    }

    /// The audiences the kind has templates for (who may be told of it).
    pub fn audiences(self) -> &'static [Audience] {
        match self {
            NoticeKind::PushPublished | NoticeKind::RefundSent => &[Audience::Buyer],
            NoticeKind::PayoutSucceeded | NoticeKind::PayoutFailed => &[Audience::Seller],
            _ => &[Audience::Buyer, Audience::Seller],
        }
    }
}

/// Which side of the trade a notice is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Buyer,
    Seller,
}

/// The language of an account's notices (`PUT /admin/accounts/{id}` `locale`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    /// `zh-CN` or `en`.
    pub fn parse(text: &str) -> Option<Locale> {
        match text {
            "zh-CN" => Some(Locale::ZhCn),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }
}

/// The named values a template fills in (`{domains}`, `{price}`, …), as text.
pub type Facts = BTreeMap<String, String>;

/// A notice in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// Why a notice could not be put in words: a template asks for a fact it was not given (a
/// bug of the code that wrote the notice, never of the user), or has no template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("no template for {kind} to the {audience:?} side")]
    NoTemplate {
        kind: &'static str,
        audience: Audience,
    },
    #[error("the {kind} template ({locale}) needs the fact {fact}")]
    MissingFact {
        kind: &'static str,
        locale: &'static str,
        fact: String,
    },
}

macro_rules! templates {
    ($($kind:ident . $audience:ident => $file:literal),* $(,)?) => {
        /// The template file of a kind, audience and locale.
        fn template(kind: NoticeKind, audience: Audience, locale: Locale) -> Option<&'static str> {
            Some(match (kind, audience, locale) {
                $(
                    (NoticeKind::$kind, Audience::$audience, Locale::En) =>
                        include_str!(concat!("../templates/notices/en/", $file)),
                    (NoticeKind::$kind, Audience::$audience, Locale::ZhCn) =>
                        include_str!(concat!("../templates/notices/zh-CN/", $file)),
                )*
                _ => return None,
            })
        }
    };
}

templates! {
    PushPublished.Buyer => "push_published.buyer.txt",
    PushAccepted.Buyer => "push_accepted.buyer.txt",
    PushAccepted.Seller => "push_accepted.seller.txt",
    PushRejected.Buyer => "push_rejected.buyer.txt",
    PushRejected.Seller => "push_rejected.seller.txt",
    PushWithdrawn.Buyer => "push_withdrawn.buyer.txt",
    PushWithdrawn.Seller => "push_withdrawn.seller.txt",
    PushExpired.Buyer => "push_expired.buyer.txt",
    PushExpired.Seller => "push_expired.seller.txt",
    PushCompleted.Buyer => "push_completed.buyer.txt",
    PushCompleted.Seller => "push_completed.seller.txt",
    OrderCompleted.Buyer => "order_completed.buyer.txt",
    OrderCompleted.Seller => "order_completed.seller.txt",
    OrderFailed.Buyer => "order_failed.buyer.txt",
    OrderFailed.Seller => "order_failed.seller.txt",
    RefundSent.Buyer => "refund_sent.buyer.txt",
    PayoutSucceeded.Seller => "payout_succeeded.seller.txt",
    PayoutFailed.Seller => "payout_failed.seller.txt",
}

/// Puts a notice in words: its template with every `{fact}` filled in.
pub fn render(
    kind: NoticeKind,
    audience: Audience,
    locale: Locale,
    facts: &Facts,
) -> Result<Rendered, RenderError> {
    let text = template(kind, audience, locale).ok_or(RenderError::NoTemplate {
        kind: kind.as_str(),
        audience,
    })?;
    let filled = fill(text, facts).map_err(|fact| RenderError::MissingFact {
        kind: kind.as_str(),
        locale: locale.as_str(),
        fact,
    })?;
    let (subject, body) = filled.split_once('\n').unwrap_or((filled.as_str(), ""));
    Ok(Rendered {
        subject: subject.trim().to_owned(),
        body: body.trim().to_owned(),
    })
}

/// Replaces every `{name}` (lower-case letters and `_`) by its fact; other braces are text.
/// Returns the first name without a fact.
fn fill(text: &str, facts: &Facts) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 256);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('}') {
            let name = &after[..name_len];
            out.push_str(facts.get(name).ok_or_else(|| name.to_owned())?);
            rest = &after[name_len + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// How many domain names a notice spells out; the rest are counted (a 500-domain cart makes
/// a readable email, and an inbox item far below DynamoDB's 400 KB).
pub const LISTED_DOMAINS: usize = 50;

/// The `{domains}` fact: one name a line, at most [`LISTED_DOMAINS`], then `… (+N)`.
pub fn domain_lines<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    let mut lines: Vec<String> = names
        .iter()
        .take(LISTED_DOMAINS)
        .map(|n| format!("- {n}"))
        .collect();
    if names.len() > LISTED_DOMAINS {
        lines.push(format!("… (+{})", names.len() - LISTED_DOMAINS));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fact any template uses.
    const ALL_FACTS: [&str; 14] = [
        "amount",
        "buyer",
        "count",
        "domains",
        "expires_at",
        "lock_until",
        "order_id",
        "payee",
        "payment_id",
        "payout_id",
        "price",
        "push_id",
        "reason",
        "seller",
    ];

    fn every_fact() -> Facts {
        ALL_FACTS
            .iter()
            .map(|f| (f.to_string(), format!("<{f}>")))
            .collect()
    }

    #[test]
    fn n1_every_kind_has_a_template_per_audience_and_locale_that_renders() {
        for kind in NoticeKind::ALL {
            for &audience in kind.audiences() {
                for locale in [Locale::En, Locale::ZhCn] {
                    let r = render(kind, audience, locale, &every_fact())
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert!(!r.subject.is_empty(), "{kind:?} {audience:?} {locale:?}");
                    assert!(!r.body.is_empty(), "{kind:?} {audience:?} {locale:?}");
                    assert!(
                        !r.subject.contains('{') && !r.body.contains('{'),
                        "an unfilled fact in {kind:?} {audience:?} {locale:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn n1_the_locale_chooses_the_words() {
        let facts = every_fact();
        let en = render(
            NoticeKind::PushPublished,
            Audience::Buyer,
            Locale::En,
            &facts,
        )
        .unwrap();
        let zh = render(
            NoticeKind::PushPublished,
            Audience::Buyer,
            Locale::ZhCn,
            &facts,
        )
        .unwrap();
        assert!(en.subject.contains("offers you"), "{}", en.subject);
        assert!(zh.subject.contains("带价 push"), "{}", zh.subject);
        assert!(en.body.contains("<domains>") && zh.body.contains("<domains>"));
    }

    #[test]
    fn a_missing_fact_is_named_and_stray_braces_are_text() {
        let mut facts = every_fact();
        facts.remove("push_id");
        let e = render(NoticeKind::PushExpired, Audience::Buyer, Locale::En, &facts).unwrap_err();
        assert_eq!(
            e,
            RenderError::MissingFact {
                kind: "push_expired",
                locale: "en",
                fact: "push_id".into()
            }
        );
        assert_eq!(
            fill("a {b} {C} {} {", &every_fact_b()).unwrap(),
            "a x {C} {} {"
        );
    }

    fn every_fact_b() -> Facts {
        [("b".to_string(), "x".to_string())].into_iter().collect()
    }

    #[test]
    fn a_seller_is_never_written_a_buyer_only_notice() {
        assert!(render(
            NoticeKind::PushPublished,
            Audience::Seller,
            Locale::En,
            &every_fact()
        )
        .is_err());
    }

    #[test]
    fn long_domain_lists_are_cut_and_counted() {
        let names: Vec<String> = (0..500).map(|n| format!("d{n}.com")).collect();
        let text = domain_lines(names.iter().map(String::as_str));
        assert_eq!(text.lines().count(), LISTED_DOMAINS + 1);
        assert!(text.ends_with("… (+450)"));
        assert_eq!(domain_lines(["a.com"]), "- a.com");
    }
}
