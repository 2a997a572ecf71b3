//! The Alipay protocol against vectors made by the real python-alipay-sdk
//! (`tests/fixtures/alipay/generate.py`), and the adapter's gateway calls against a fake
//! gateway that checks our signatures and signs its answers as Alipay does.
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use axum::{Form, Router};
use chrono::Utc;
use serde_json::json;

use market_adapters::payment::alipay::{AlipayConfig, AlipayProvider};
use market_adapters::payment::keys::{AlipayKeys, KeySource};
use market_adapters::payment::rsa2;
use market_adapters::payment::wire::verify_notification;
use market_adapters::payment::{
    PayRequest, PaymentProvider, RefundOutcome, RefundRequest, TradeStatus, TransferRequest,
    VerifyError,
};
use market_core::money::Money;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/fixtures/alipay/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn a_notification_signed_by_the_real_sdk_verifies() {
    let key = rsa2::parse_public_key(&fixture("alipay_public.pem")).unwrap();
    let n = verify_notification(&key, &fixture("notify_trade_success.txt")).unwrap();
    assert_eq!(n.trade_status, TradeStatus::Paid);
    assert_eq!(n.out_trade_no, "pay_01jfixture0000000000000000");
    assert_eq!(n.total_amount.to_string(), "1999.00");
    assert_eq!(n.paid_at, Some("2026-11-22T07:00:09Z".parse().unwrap()));
}

#[test]
fn a_one_character_change_does_not_verify() {
    let key = rsa2::parse_public_key(&fixture("alipay_public.pem")).unwrap();
    let body = fixture("notify_trade_success.txt");
    let tampered = [
        body.replacen("total_amount=1999.00", "total_amount=1999.01", 1),
        body.replacen("TRADE_SUCCESS", "TRADE_SUCCESs", 1),
        body.replacen("%E4%BE%8B", "%E4%BE%8C", 1),
    ];
    for forged in tampered {
        assert_ne!(forged, body);
        assert_eq!(
            verify_notification(&key, &forged),
            Err(VerifyError::BadSignature)
        );
    }
    // A flipped character in the signature itself.
    let at = body.find("&sign=").unwrap() + 10;
    let mut bytes = body.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    assert!(verify_notification(&key, &String::from_utf8(bytes).unwrap()).is_err());
    // Another key does not verify it either.
    let other = rsa2::parse_public_key(&fixture("app_public.pem")).unwrap();
    assert_eq!(
        verify_notification(&other, &fixture("notify_trade_success.txt")),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn our_request_signatures_equal_the_sdks() {
    let key = rsa2::parse_private_key(&fixture("app_private.pem")).unwrap();
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(&fixture("page_pay.txt")).unwrap();
    let sdk_signature = params.iter().find(|(k, _)| k == "sign").unwrap().1.clone();
    // PKCS#1 v1.5 is deterministic: same string, same key, same signature.
    assert_eq!(
        rsa2::sign(&key, &rsa2::request_signing_string(&params)),
        sdk_signature
    );
    let public = rsa2::parse_public_key(&fixture("app_public.pem")).unwrap();
    assert!(rsa2::verify(
        &public,
        &rsa2::request_signing_string(&params),
        &sdk_signature
    ));
}

#[test]
fn bare_base64_keys_as_the_console_shows_them_parse() {
    let pem = fixture("alipay_public.pem");
    let bare: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(rsa2::parse_public_key(&bare).is_ok());
}

/// What the fake gateway saw.
#[derive(Default)]
struct Seen {
    methods: Vec<String>,
    bad_signatures: usize,
    biz: Vec<serde_json::Value>,
}

async fn fake_gateway(
    State(seen): State<Arc<Mutex<Seen>>>,
    Form(params): Form<Vec<(String, String)>>,
) -> String {
    let app_public = rsa2::parse_public_key(&fixture("app_public.pem")).unwrap();
    let alipay_private = rsa2::parse_private_key(&fixture("alipay_private.pem")).unwrap();
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut seen = seen.lock().unwrap();
    if !rsa2::verify(
        &app_public,
        &rsa2::request_signing_string(&params),
        &get("sign"),
    ) {
        seen.bad_signatures += 1;
    }
    let method = get("method");
    seen.methods.push(method.clone());
    let biz: serde_json::Value = serde_json::from_str(&get("biz_content")).unwrap();
    seen.biz.push(biz.clone());
    // O8: how the trade was funded, as alipay.trade.query answers it.
    let channel = match biz["out_trade_no"].as_str() {
        Some("pay_huabei") => "PCREDIT",
        _ => "ALIPAYACCOUNT",
    };
    let body = match method.as_str() {
        "alipay.trade.query" => json!({
            "code": "10000", "msg": "Success", "trade_status": "TRADE_SUCCESS", "trade_no": "2026x",
            "out_trade_no": biz["out_trade_no"], "total_amount": "88.00", "send_pay_date": "2026-11-22 15:00:09",
            "fund_bill_list": [{ "fund_channel": channel, "amount": "88.00" }]
        }),
        _ => {
            json!({ "code": "10000", "msg": "Success", "fund_change": "Y", "refund_fee": "88.00" })
        }
    };
    let raw = body.to_string();
    let signature = rsa2::sign(&alipay_private, &raw);
    format!(
        r#"{{"{}_response":{raw},"sign":"{signature}"}}"#,
        method.replace('.', "_")
    )
}

/// An adapter on a fresh fake gateway, trusting `alipay_public` as Alipay's key.
async fn adapter_trusting(alipay_public: &str) -> (AlipayProvider, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/gateway.do", post(fake_gateway))
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let config = AlipayConfig {
        keys: KeySource::Ready(Arc::new(AlipayKeys {
            app_id: "2021000000000000".into(),
            seller_id: "2088000000000000".into(),
            alipay_public_key: rsa2::parse_public_key(&fixture(alipay_public)).unwrap(),
            app_private_key: Some(rsa2::parse_private_key(&fixture("app_private.pem")).unwrap()),
            cert_serials: None,
        })),
        gateway: format!("http://{addr}/gateway.do"),
        notify_url: Some("https://market.example/payments/alipay/notify".into()),
        return_url: Some("https://console.market.example/#/orders".into()),
        timeout: std::time::Duration::from_secs(10),
        payout_keys: None,
    };
    (AlipayProvider::new(config).unwrap(), seen)
}

async fn adapter_on_fake_gateway() -> (AlipayProvider, Arc<Mutex<Seen>>) {
    adapter_trusting("alipay_public.pem").await
}

#[tokio::test]
async fn trade_query_and_refund_are_signed_and_their_answers_verified() {
    let (alipay, seen) = adapter_on_fake_gateway().await;
    let now = Utc::now();
    let trade = alipay.query("pay_1", now).await.unwrap();
    assert_eq!(trade.status, Some(TradeStatus::Paid));
    assert_eq!(trade.total_amount, Some(Money::parse("88.00").unwrap()));
    assert_eq!(trade.paid_at, Some("2026-11-22T07:00:09Z".parse().unwrap()));
    let refund = RefundRequest {
        out_trade_no: "pay_1",
        refund_id: "rfd_1",
        amount: Money::parse("88.00").unwrap(),
        reason: "late payment",
    };
    assert_eq!(
        alipay.refund(&refund, now).await.unwrap(),
        RefundOutcome::Confirmed
    );
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.methods,
        vec!["alipay.trade.query", "alipay.trade.refund"]
    );
    assert_eq!(seen.bad_signatures, 0);
    assert_eq!(seen.biz[1]["out_request_no"], "rfd_1");
}

#[tokio::test]
async fn page_pay_urls_carry_the_remaining_window_and_a_valid_signature() {
    let (alipay, _) = adapter_on_fake_gateway().await;
    let now = Utc::now();
    let url = alipay
        .pay_url(&PayRequest {
            out_trade_no: "pay_1",
            amount: Money::parse("88.00").unwrap(),
            subject: "域名订单",
            expires_at: now + chrono::Duration::seconds(9 * 60 + 59),
            now,
        })
        .await
        .unwrap();
    let query = url.split_once('?').unwrap().1;
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).unwrap().1.clone();
    let biz: serde_json::Value = serde_json::from_str(&get("biz_content")).unwrap();
    assert_eq!(biz["timeout_express"], "9m", "never longer than our window");
    assert_eq!(get("method"), "alipay.trade.page.pay");
    // The buyer comes back to the console, and the notification goes to the API: both
    // addresses are under the signature.
    assert_eq!(get("return_url"), "https://console.market.example/#/orders");
    assert_eq!(
        get("notify_url"),
        "https://market.example/payments/alipay/notify"
    );
    let app_public = rsa2::parse_public_key(&fixture("app_public.pem")).unwrap();
    assert!(rsa2::verify(
        &app_public,
        &rsa2::request_signing_string(&params),
        &get("sign")
    ));
}

#[tokio::test]
async fn s6_a_function_without_the_payout_keys_cannot_pay_anyone_out() {
    let (alipay, seen) = adapter_on_fake_gateway().await;
    let request = TransferRequest {
        payout_id: "po_1",
        amount: Money::parse("10.00").unwrap(),
        payee_account: "alice@example.com",
        payee_name: None,
        payee_kind: market_core::payout::PayeeKind::Alipay,
        title: "proceeds",
    };
    let refused = alipay.transfer(&request, Utc::now()).await.unwrap_err();
    assert!(
        refused.to_string().contains("no payout permission"),
        "{refused}"
    );
    assert!(alipay
        .transfer_status("po_1", market_core::payout::PayeeKind::Alipay, Utc::now())
        .await
        .is_err());
    assert!(
        seen.lock().unwrap().methods.is_empty(),
        "nothing reached Alipay"
    );
}

#[tokio::test]
async fn o8_page_pay_urls_refuse_credit_at_the_cashier_under_a_valid_signature() {
    let (alipay, _) = adapter_on_fake_gateway().await;
    let now = Utc::now();
    let url = alipay
        .pay_url(&PayRequest {
            out_trade_no: "pay_1",
            amount: Money::parse("88.00").unwrap(),
            subject: "域名订单",
            expires_at: now + chrono::Duration::minutes(10),
            now,
        })
        .await
        .unwrap();
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).unwrap().1.clone();
    let biz: serde_json::Value = serde_json::from_str(&get("biz_content")).unwrap();
    assert_eq!(
        biz["disable_pay_channels"],
        "credit_group,pcredit,pcreditpayInstallment,creditCard,creditCardExpress,creditCardCartoon",
        "credit cards, Huabei and its instalments are not offered"
    );
    // The signature covers it: the cashier cannot be talked into offering credit.
    let app_public = rsa2::parse_public_key(&fixture("app_public.pem")).unwrap();
    assert!(rsa2::verify(
        &app_public,
        &rsa2::request_signing_string(&params),
        &get("sign")
    ));
    let mut tampered = params.clone();
    let at = tampered
        .iter()
        .position(|(k, _)| k == "biz_content")
        .unwrap();
    tampered[at].1 = tampered[at].1.replace(",pcredit,", ",");
    assert!(!rsa2::verify(
        &app_public,
        &rsa2::request_signing_string(&tampered),
        &get("sign")
    ));
}

#[tokio::test]
async fn o8_trade_query_answers_carry_their_funding() {
    let (alipay, _) = adapter_on_fake_gateway().await;
    let now = Utc::now();
    let balance = alipay.query("pay_1", now).await.unwrap();
    assert_eq!(balance.fund_bills.len(), 1);
    assert_eq!(balance.fund_bills[0].channel, "ALIPAYACCOUNT");
    assert!(market_core::funding::credit_fund(&balance.fund_bills).is_none());
    let huabei = alipay.query("pay_huabei", now).await.unwrap();
    assert_eq!(
        market_core::funding::credit_fund(&huabei.fund_bills).map(|b| b.channel.as_str()),
        Some("PCREDIT")
    );
}

#[tokio::test]
async fn a_gateway_answer_signed_by_another_key_is_refused() {
    let (wrong, _) = adapter_trusting("app_public.pem").await;
    assert!(wrong.query("pay_1", Utc::now()).await.is_err());
}
