//! S3: the Stripe adapter of the card processor port against a local stand-in of Stripe's
//! REST API: the method, path, form body, `Authorization` and `Idempotency-Key` of every
//! call it makes, and how it reads Stripe's answers (a card, a decline, an unknown id).
use market_adapters::captcha::secret::SecretSetting;
use market_adapters::instruments::{CardProcessor, InstrumentError, StripeCards, StripeConfig};
use market_app::ports::instruments::Preauthorization;
use market_core::instrument::Funding;
use market_tests::stripe::{FakeStripe, SECRET_KEY};

fn adapter(stripe: &FakeStripe, key: &str) -> StripeCards {
    market_adapters::payment::alipay::install_crypto_provider();
    StripeCards::new(StripeConfig {
        api_base: stripe.base(),
        secret: SecretSetting::Value(key.to_owned().into()),
    })
    .unwrap()
}

#[tokio::test]
async fn s3_stripe_retrieves_the_payment_method_with_the_secret_key() {
    let stripe = FakeStripe::start().await;
    let cards = adapter(&stripe, SECRET_KEY);
    let card = cards.inspect("pm_card_visa").await.unwrap();
    assert_eq!(
        (card.brand.as_str(), card.funding, card.last4.as_str()),
        ("visa", Funding::Credit, "4242")
    );
    assert_eq!((card.exp_month, card.exp_year), (12, 2034));
    assert_eq!(card.fingerprint, "Xt5EWLLDS7FJjR1c");
    assert_eq!(card.networks, ["visa"]);
    let sent = &stripe.received()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("GET", "/v1/payment_methods/pm_card_visa")
    );
    assert_eq!(
        sent.authorization.as_deref(),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert!(matches!(
        cards.inspect("pm_card_nosuch").await,
        Err(InstrumentError::UnknownToken)
    ));
    // Never sent: a token that could leave its path.
    assert!(matches!(
        cards.inspect("pm_../v1/charges").await,
        Err(InstrumentError::UnknownToken)
    ));
    assert_eq!(stripe.received().len(), 2);
}

#[tokio::test]
async fn s3_stripe_preauthorises_one_dollar_manually_and_cancels_it_with_idempotency_keys() {
    let stripe = FakeStripe::start().await;
    let cards = adapter(&stripe, SECRET_KEY);
    let placed = cards
        .preauthorize("pm_card_visa", "mth_1-preauth")
        .await
        .unwrap();
    // A retry with the same key places nothing more.
    assert_eq!(
        cards
            .preauthorize("pm_card_visa", "mth_1-preauth")
            .await
            .unwrap(),
        placed
    );
    cards.cancel(&placed, "mth_1-release").await.unwrap();

    let sent = stripe.received();
    assert_eq!(sent.len(), 3, "{sent:#?}");
    let create = &sent[0];
    assert_eq!(
        (create.method.as_str(), create.path.as_str()),
        ("POST", "/v1/payment_intents")
    );
    assert_eq!(
        create.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(create.idempotency_key.as_deref(), Some("mth_1-preauth"));
    for (field, value) in [
        ("amount", "100"),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa"),
        ("payment_method_types[]", "card"),
        ("capture_method", "manual"),
        ("confirm", "true"),
    ] {
        assert_eq!(create.field(field), Some(value), "{field}: {create:?}");
    }
    let cancel = &sent[2];
    assert_eq!(
        (cancel.method.as_str(), cancel.path.as_str()),
        (
            "POST",
            format!("/v1/payment_intents/{}/cancel", placed.id).as_str()
        )
    );
    assert_eq!(cancel.idempotency_key.as_deref(), Some("mth_1-release"));
    assert_eq!(cancel.field("cancellation_reason"), Some("abandoned"));
    let intents = stripe.intents();
    assert_eq!(intents.len(), 1);
    assert_eq!(
        (
            intents[0].amount.as_str(),
            intents[0].currency.as_str(),
            intents[0].status.as_str()
        ),
        ("100", "usd", "canceled")
    );
}

#[tokio::test]
async fn s3_stripe_declines_and_refusals_are_told_apart() {
    let stripe = FakeStripe::start().await;
    let cards = adapter(&stripe, SECRET_KEY);
    match cards
        .preauthorize("pm_card_chargeDeclined", "k-declined")
        .await
    {
        Err(InstrumentError::Declined(reason)) => {
            assert_eq!(reason, "card_declined (generic_decline)")
        }
        other => panic!("{other:?}"),
    }
    assert!(stripe.intents().is_empty());
    // A wrong key is our fault, not the card's: unavailable, never declined.
    let wrong = adapter(&stripe, "sk_test_wrong");
    assert!(matches!(
        wrong.inspect("pm_card_visa").await,
        Err(InstrumentError::Unavailable(_))
    ));
    let e = wrong
        .cancel(&Preauthorization { id: "pi_x".into() }, "k")
        .await
        .unwrap_err();
    assert!(!format!("{e:?}").contains("sk_test_wrong"), "{e:?}");
}
