//! S3: binding a payment method. The instrument is judged on what its processor reports
//! (core `instrument`), a card is pre-authorised for 1.00 USD and released at once, and the
//! method is written with a claim on the instrument's fingerprint created on the condition
//! that it is absent: two accounts binding one card at once, one of them wins.
use super::{list_item, method_list, Claim, MethodView};
use crate::ports::instruments::{InstrumentError, Preauthorization};
use crate::repo::{self, create, load, put, Versioned};
use crate::retry::{retrying, written};
use crate::{App, AppError, AppResult};
use market_core::error::{Code, Problem};
use market_core::ids::{AccountId, PaymentMethodId};
use market_core::instrument::{self, MethodKind, MethodList, PaymentMethod};
use market_core::model::Account;

/// What the caller asks to bind.
#[derive(Debug, Clone)]
pub enum NewMethod {
    /// A card processor's token (a Stripe PaymentMethod id, `pm_…`).
    Card {
        token: String,
    },
    /// A PayPal vault token.
    Paypal {
        token: String,
    },
    BankTransfer,
}

/// The instrument, judged and ready to be written.
struct Judged {
    kind: MethodKind,
    /// The claim's key: what binds the instrument to one account.
    binding: String,
    brand: Option<String>,
    last4: Option<String>,
    exp: Option<(u32, i32)>,
    /// A card's token: it is pre-authorised before the method is written.
    card_token: Option<String>,
}

/// `POST /me/payment-methods` (S3): binds a card, a PayPal account or bank transfer to
/// `owner`. Binding an instrument the owner already holds answers that method again.
pub async fn bind(app: &App, owner: &AccountId, new: NewMethod) -> AppResult<MethodView> {
    let judged = judge(app, owner, new).await?;
    if let Some(existing) = claimed(app, owner, &judged).await? {
        return Ok(existing);
    }
    let id = PaymentMethodId::mint(app.ulid());
    if let Some(token) = &judged.card_token {
        preauthorize_and_release(app, owner, &id, token).await?;
    }
    let method = PaymentMethod {
        id: id.clone(),
        owner: owner.clone(),
        kind: judged.kind,
        brand: judged.brand.clone(),
        last4: judged.last4.clone(),
        exp_month: judged.exp.map(|e| e.0),
        exp_year: judged.exp.map(|e| e.1),
        binding: judged.binding.clone(),
        created_at: app.now(),
    };
    let view = retrying(app, || async {
        // Another account may have claimed it since (the race S3 is about).
        if let Some(existing) = claimed(app, owner, &judged).await? {
            return Ok(existing);
        }
        let read = method_list(app, owner).await?;
        let current = read.as_ref().map(|l| l.value.clone()).unwrap_or_default();
        let next: MethodList = current.with(id.as_str())?;
        let claim = Claim {
            owner: owner.clone(),
            method: id.clone(),
        };
        written(
            app.transact(vec![
                create(repo::plain_item(
                    repo::payment_binding_key(&judged.binding),
                    &claim,
                )),
                create(repo::payment_method_item(&method)),
                put(list_item(&next, owner), read.as_ref()),
            ])
            .await,
        )?;
        Ok(MethodView::new(&method, &next))
    })
    .await?;
    tracing::info!(account = %owner, method = %view.id, kind = method.kind.as_str(), preferred = view.preferred, "payment method bound (S3)");
    Ok(view)
}

/// Asks the processor or the vault, and applies S3's acceptance rules.
async fn judge(app: &App, owner: &AccountId, new: NewMethod) -> AppResult<Judged> {
    match new {
        NewMethod::Card { token } => {
            let card = app
                .cards
                .inspect(&token)
                .await
                .map_err(|e| refusal(owner, "inspecting the card", e))?;
            instrument::check_card(&card, app.now()).inspect_err(|p| {
                tracing::info!(account = %owner, brand = %card.brand, funding = ?card.funding, code = ?p.code, "card refused (S3)");
            })?;
            Ok(Judged {
                kind: MethodKind::Card,
                binding: format!("card#{}", card.fingerprint),
                brand: Some(card.brand),
                last4: Some(card.last4),
                exp: Some((card.exp_month, card.exp_year)),
                card_token: Some(token),
            })
        }
        NewMethod::Paypal { token } => {
            let paypal = app
                .paypal
                .vault(&token)
                .await
                .map_err(|e| refusal(owner, "reading the PayPal vault", e))?;
            instrument::check_paypal(&paypal).inspect_err(|p| {
                tracing::info!(account = %owner, country = %paypal.country, code = ?p.code, "PayPal account refused (S3)");
            })?;
            Ok(Judged {
                kind: MethodKind::Paypal,
                binding: format!("paypal#{}", paypal.payer_id),
                brand: None,
                last4: None,
                exp: None,
                card_token: None,
            })
        }
        NewMethod::BankTransfer => {
            let holder: Option<Versioned<Account>> =
                load(&*app.store, repo::account_key(owner)).await?;
            instrument::check_bank_transfer(holder.as_ref().map(|h| &h.value)).inspect_err(
                |p| tracing::info!(account = %owner, code = ?p.code, "bank transfer refused (S3)"),
            )?;
            Ok(Judged {
                kind: MethodKind::BankTransfer,
                binding: format!("bank_transfer#{owner}"),
                brand: None,
                last4: None,
                exp: None,
                card_token: None,
            })
        }
    }
}

/// The method `owner` already binds the instrument as, if any; another account's claim is
/// `ALREADY_BOUND_ELSEWHERE`.
async fn claimed(app: &App, owner: &AccountId, judged: &Judged) -> AppResult<Option<MethodView>> {
    let claim: Option<Versioned<Claim>> =
        load(&*app.store, repo::payment_binding_key(&judged.binding)).await?;
    let Some(claim) = claim else {
        return Ok(None);
    };
    if claim.value.owner != *owner {
        tracing::info!(account = %owner, kind = judged.kind.as_str(), "instrument bound to another account (S3)");
        return Err(Problem::new(
            Code::AlreadyBoundElsewhere,
            "this card or PayPal account is bound to another account (S3)",
        )
        .into());
    }
    let method: Option<Versioned<PaymentMethod>> = load(
        &*app.store,
        repo::payment_method_key(owner, &claim.value.method),
    )
    .await?;
    let list = method_list(app, owner).await?.map(|l| l.value);
    Ok(method.map(|m| MethodView::new(&m.value, &list.unwrap_or_default())))
}

/// S3: places the binding's 1.00 USD pre-authorisation and releases it at once. A declined
/// one refuses the binding (nothing is written). A release that fails is logged: the
/// authorisation lapses by itself at the processor, and the card was good.
async fn preauthorize_and_release(
    app: &App,
    owner: &AccountId,
    id: &PaymentMethodId,
    token: &str,
) -> AppResult<()> {
    let placed: Preauthorization = match app
        .cards
        .preauthorize(token, &format!("{id}-preauth"))
        .await
    {
        Ok(placed) => placed,
        Err(InstrumentError::Declined(reason)) => {
            tracing::info!(account = %owner, method = %id, %reason, "pre-authorisation declined (S3)");
            return Err(Problem::new(
                Code::PreauthorizationFailed,
                format!("the card's 1.00 USD pre-authorisation was declined: {reason} (S3)"),
            )
            .into());
        }
        Err(e) => return Err(refusal(owner, "pre-authorising the card", e)),
    };
    match app.cards.cancel(&placed, &format!("{id}-release")).await {
        Ok(()) => {
            tracing::info!(account = %owner, method = %id, preauthorization = %placed.id, "pre-authorisation placed and released (S3)")
        }
        Err(e) => {
            tracing::error!(account = %owner, method = %id, preauthorization = %placed.id, error = %e, "releasing the pre-authorisation failed; it lapses at the processor")
        }
    }
    Ok(())
}

/// A processor's or vault's failure as the caller's answer (logged without the token).
fn refusal(owner: &AccountId, doing: &str, e: InstrumentError) -> AppError {
    match e {
        InstrumentError::UnknownToken => {
            tracing::info!(account = %owner, "{doing}: unknown token");
            Problem::new(
                Code::InvalidRequest,
                "the token is not one the card processor or PayPal vault knows",
            )
            .into()
        }
        InstrumentError::Declined(reason) => {
            tracing::info!(account = %owner, %reason, "{doing}: declined");
            Problem::new(Code::PreauthorizationFailed, format!("declined: {reason}")).into()
        }
        InstrumentError::Unavailable(e) => {
            tracing::error!(account = %owner, error = %e, "{doing} failed");
            Problem::busy("the card processor or PayPal vault did not answer; try again").into()
        }
    }
}
