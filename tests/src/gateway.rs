//! A stand-in for Alipay's open gateway (`ALIPAY_GATEWAY`), so the whole payment path runs
//! against the same HTTP protocol as in production, not only against the sandbox provider.
//!
//! It checks the RSA2 signature of every request with the app's public key and refuses one
//! that does not verify (`40002 isv.invalid-signature`, as Alipay does); it signs every
//! answer with "Alipay's" private key, and signs the notifications it sends. It keeps the
//! state Alipay keeps: trades opened through the page-pay URL and paid by the test,
//! refunds by `out_request_no`, transfers by `out_biz_no` (each done at most once); and it
//! can be told to fail the next calls of a method the ways Alipay does (`Fault`).
//! Keys: the fixtures of `tests/fixtures/alipay` (made by the real python-alipay-sdk).
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use market_adapters::payment::rsa2::{self, PrivateKey, PublicKey};
use market_adapters::payment::wire::beijing;

/// A fixture file of `tests/fixtures/alipay`.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/fixtures/alipay/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the Alipay fixtures exist")
}

/// Our identity at the stand-in (what `ALIPAY_APP_ID` and `ALIPAY_SELLER_ID` name).
pub const APP_ID: &str = "2021000000000001";
pub const SELLER_ID: &str = "2088000000000001";
/// The certificate serials of public-key certificate mode, which Alipay requires for fund
/// transfers (what `ALIPAY_APP_CERT_SN` and `ALIPAY_ROOT_CERT_SN` name).
pub const APP_CERT_SN: &str = "50fa7bc5dc305a4fbdbe166689ddc827";
pub const ROOT_CERT_SN: &str = "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6";

/// How the next call of a method goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The call is done, then answered with HTTP 502: the caller cannot know it happened.
    DoneThen502,
    /// The call is done, but answered only after this long (longer than the caller waits).
    DoneButSlow(Duration),
    /// Nothing is done: `20000` "service unavailable" (the outcome is unknown to the caller).
    Busy,
    /// Nothing is done: a business refusal with this `sub_code` (`40004`).
    Refuse(&'static str),
    /// A lookup that does not see what was done yet (`ORDER_NOT_EXIST` / `TRADE_NOT_EXIST`).
    NotSeenYet,
}

/// A trade the stand-in knows.
#[derive(Debug, Clone)]
pub struct Trade {
    pub amount: String,
    pub status: &'static str,
    pub trade_no: String,
    /// The channel the buyer paid with (`ALIPAYACCOUNT`, `PCREDIT`, …).
    pub fund_channel: String,
    /// What the page-pay request asked the cashier to hide.
    pub disabled_channels: String,
}

/// A transfer the stand-in made.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub amount: String,
    pub identity: String,
    pub name: Option<String>,
    pub order_id: String,
    /// The product it was sent under (a lookup must name the same).
    pub product: String,
}

#[derive(Default)]
struct Books {
    trades: HashMap<String, Trade>,
    refunds: HashMap<String, (String, String)>,
    transfers: HashMap<String, Transfer>,
    /// Payees that exist, with their verified real names.
    payees: HashMap<String, String>,
    faults: HashMap<String, VecDeque<Fault>>,
    methods: Vec<String>,
    bad_signatures: usize,
}

struct Keys {
    app_public: PublicKey,
    alipay_private: PrivateKey,
}

/// A running stand-in gateway.
#[derive(Clone)]
pub struct Gateway {
    pub addr: SocketAddr,
    books: Arc<Mutex<Books>>,
    keys: Arc<Keys>,
}

impl Gateway {
    /// Starts a stand-in on a free port.
    pub async fn start() -> Gateway {
        let keys = Arc::new(Keys {
            app_public: rsa2::parse_public_key(&fixture("app_public.pem")).expect("app key"),
            alipay_private: rsa2::parse_private_key(&fixture("alipay_private.pem"))
                .expect("alipay key"),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let gateway = Gateway {
            addr: listener.local_addr().expect("bound"),
            books: Arc::new(Mutex::new(Books::default())),
            keys,
        };
        let router = Router::new()
            .route("/gateway.do", post(call).get(open_page))
            .with_state(gateway.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        gateway
    }

    /// `ALIPAY_GATEWAY`.
    pub fn url(&self) -> String {
        format!("http://{}/gateway.do", self.addr)
    }

    /// The environment that points the local runner at this stand-in (API.md).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ALIPAY_APP_ID", APP_ID.to_owned()),
            ("ALIPAY_SELLER_ID", SELLER_ID.to_owned()),
            ("ALIPAY_PUBLIC_KEY_PEM", fixture("alipay_public.pem")),
            ("ALIPAY_APP_PRIVATE_KEY_PEM", fixture("app_private.pem")),
            ("ALIPAY_GATEWAY", self.url()),
            ("ALIPAY_APP_CERT_SN", APP_CERT_SN.to_owned()),
            ("ALIPAY_ROOT_CERT_SN", ROOT_CERT_SN.to_owned()),
        ]
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().expect("gateway lock")
    }

    /// A payee that exists at the stand-in, with its verified real name.
    pub fn add_payee(&self, identity: &str, real_name: &str) {
        self.books()
            .payees
            .insert(identity.to_owned(), real_name.to_owned());
    }

    /// Makes the next call of `method` go wrong as `fault` says.
    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.books()
            .faults
            .entry(method.to_owned())
            .or_default()
            .push_back(fault);
    }

    /// The buyer pays an opened trade with `fund_channel`: the trade is paid, and the
    /// signed notification Alipay would send is returned (the test decides whether it
    /// arrives).
    pub fn buyer_pays(&self, out_trade_no: &str, fund_channel: &str, now: DateTime<Utc>) -> String {
        let trade = {
            let mut books = self.books();
            let trade = books
                .trades
                .get_mut(out_trade_no)
                .expect("the buyer opened the payment page first");
            trade.status = "TRADE_SUCCESS";
            trade.fund_channel = fund_channel.to_owned();
            trade.clone()
        };
        let fund_bill_list =
            json!([{ "amount": trade.amount, "fundChannel": fund_channel }]).to_string();
        let mut params: Vec<(String, String)> = vec![
            ("notify_id".into(), format!("ntf{}", ulid::Ulid::new())),
            ("notify_time".into(), beijing(now)),
            ("notify_type".into(), "trade_status_sync".into()),
            ("app_id".into(), APP_ID.into()),
            ("seller_id".into(), SELLER_ID.into()),
            ("out_trade_no".into(), out_trade_no.into()),
            ("trade_no".into(), trade.trade_no.clone()),
            ("trade_status".into(), trade.status.into()),
            ("total_amount".into(), trade.amount.clone()),
            ("gmt_payment".into(), beijing(now)),
            ("fund_bill_list".into(), fund_bill_list),
            ("charset".into(), "utf-8".into()),
            ("version".into(), "1.0".into()),
        ];
        let signature = rsa2::sign(
            &self.keys.alipay_private,
            &rsa2::notification_signing_string(&params),
        );
        params.push(("sign_type".into(), "RSA2".into()));
        params.push(("sign".into(), signature));
        serde_urlencoded::to_string(&params).expect("strings encode")
    }

    pub fn trade(&self, out_trade_no: &str) -> Option<Trade> {
        self.books().trades.get(out_trade_no).cloned()
    }

    /// Refunds made: `out_request_no` → (`out_trade_no`, amount).
    pub fn refunds(&self) -> HashMap<String, (String, String)> {
        self.books().refunds.clone()
    }

    /// Transfers made: `out_biz_no` → what was paid.
    pub fn transfers(&self) -> HashMap<String, Transfer> {
        self.books().transfers.clone()
    }

    /// Every method called, in order (page-pay openings as `page.open`).
    pub fn methods(&self) -> Vec<String> {
        self.books().methods.clone()
    }

    /// How many times `method` was called.
    pub fn calls(&self, method: &str) -> usize {
        self.books().methods.iter().filter(|m| *m == method).count()
    }

    /// Requests whose signature did not verify.
    pub fn bad_signatures(&self) -> usize {
        self.books().bad_signatures
    }

    fn signed_answer(&self, method: &str, body: Value) -> Response {
        let raw = body.to_string();
        let signature = rsa2::sign(&self.keys.alipay_private, &raw);
        format!(
            r#"{{"{}_response":{raw},"sign":"{signature}"}}"#,
            method.replace('.', "_")
        )
        .into_response()
    }

    fn verified(&self, params: &[(String, String)]) -> bool {
        let sign = field(params, "sign");
        let ok = rsa2::verify(
            &self.keys.app_public,
            &rsa2::request_signing_string(params),
            &sign,
        ) && field(params, "app_id") == APP_ID
            && field(params, "sign_type") == "RSA2";
        if !ok {
            self.books().bad_signatures += 1;
        }
        ok
    }
}

fn field(params: &[(String, String)], name: &str) -> String {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn business_failure(sub_code: &str, sub_msg: &str) -> Value {
    json!({ "code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg })
}

/// `GET /gateway.do?…`: the buyer's browser opens the signed page-pay URL: the trade opens.
async fn open_page(
    State(gateway): State<Gateway>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    if !gateway.verified(&params) {
        return (StatusCode::BAD_REQUEST, "invalid signature").into_response();
    }
    let biz: Value = serde_json::from_str(&field(&params, "biz_content")).unwrap_or_default();
    let out_trade_no = biz["out_trade_no"].as_str().unwrap_or_default().to_owned();
    let mut books = gateway.books();
    books.methods.push("page.open".into());
    let trade_no = format!("2026{}", books.trades.len() + 1);
    books.trades.entry(out_trade_no).or_insert(Trade {
        amount: biz["total_amount"].as_str().unwrap_or_default().to_owned(),
        status: "WAIT_BUYER_PAY",
        trade_no,
        fund_channel: String::new(),
        disabled_channels: biz["disable_pay_channels"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    });
    "the Alipay cashier (stand-in)".into_response()
}

/// `POST /gateway.do`: an API call.
async fn call(
    State(gateway): State<Gateway>,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    let method = field(&params, "method");
    if !gateway.verified(&params) {
        return gateway.signed_answer(
            &method,
            json!({ "code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature", "sub_msg": "验签出错" }),
        );
    }
    let certified = field(&params, "app_cert_sn") == APP_CERT_SN
        && field(&params, "alipay_root_cert_sn") == ROOT_CERT_SN;
    if method.starts_with("alipay.fund.") && !certified {
        // Fund transfers are open to public-key certificate mode only.
        gateway.books().methods.push(method.clone());
        return gateway.signed_answer(
            &method,
            json!({ "code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.missing-app-cert-sn", "sub_msg": "缺少应用公钥证书序列号" }),
        );
    }
    let biz: Value = serde_json::from_str(&field(&params, "biz_content")).unwrap_or_default();
    let fault = {
        let mut books = gateway.books();
        books.methods.push(method.clone());
        books.faults.get_mut(&method).and_then(VecDeque::pop_front)
    };
    match fault {
        Some(Fault::Busy) => {
            return gateway.signed_answer(
                &method,
                json!({ "code": "20000", "msg": "Service Currently Unavailable", "sub_code": "isp.unknow-error" }),
            )
        }
        Some(Fault::Refuse(sub_code)) => {
            return gateway.signed_answer(&method, business_failure(sub_code, "refused (stand-in fault)"))
        }
        Some(Fault::NotSeenYet) => {
            return gateway.signed_answer(&method, business_failure("ORDER_NOT_EXIST", "转账订单不存在"))
        }
        _ => {}
    }
    let answer = {
        let mut books = gateway.books();
        answer(&mut books, &method, &biz)
    };
    match fault {
        Some(Fault::DoneThen502) => StatusCode::BAD_GATEWAY.into_response(),
        Some(Fault::DoneButSlow(wait)) => {
            tokio::time::sleep(wait).await;
            gateway.signed_answer(&method, answer)
        }
        _ => gateway.signed_answer(&method, answer),
    }
}

/// What Alipay does and answers for one verified call.
fn answer(books: &mut Books, method: &str, biz: &Value) -> Value {
    let text = |name: &str| biz[name].as_str().unwrap_or_default().to_owned();
    match method {
        "alipay.trade.query" => match books.trades.get(&text("out_trade_no")) {
            Some(trade) => json!({
                "code": "10000", "msg": "Success",
                "out_trade_no": text("out_trade_no"), "trade_no": trade.trade_no,
                "trade_status": trade.status, "total_amount": trade.amount,
                "send_pay_date": beijing(Utc::now()),
                "fund_bill_list": [{ "fund_channel": trade.fund_channel, "amount": trade.amount }],
            }),
            None => business_failure("ACQ.TRADE_NOT_EXIST", "交易不存在"),
        },
        "alipay.trade.refund" => {
            let out_trade_no = text("out_trade_no");
            let Some(trade) = books.trades.get(&out_trade_no).cloned() else {
                return business_failure("ACQ.TRADE_NOT_EXIST", "交易不存在");
            };
            if trade.status != "TRADE_SUCCESS" {
                return business_failure("ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
            }
            books
                .refunds
                .entry(text("out_request_no"))
                .or_insert((out_trade_no.clone(), text("refund_amount")));
            json!({ "code": "10000", "msg": "Success", "out_trade_no": out_trade_no,
                    "trade_no": trade.trade_no, "fund_change": "Y", "refund_fee": text("refund_amount") })
        }
        "alipay.fund.trans.uni.transfer" => {
            let out_biz_no = text("out_biz_no");
            // To an Alipay account, or (S4) to a corporate bank account under its own product.
            let bank = biz["payee_info"]["identity_type"] == "BANKCARD_ACCOUNT";
            let product = if bank {
                "TRANS_BANKCARD_NO_PWD"
            } else {
                "TRANS_ACCOUNT_NO_PWD"
            };
            if biz["product_code"] != product
                || biz["biz_scene"] != "DIRECT_TRANSFER"
                || (bank && biz["payee_info"]["bankcard_ext_info"]["account_type"] != "1")
            {
                return json!({ "code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-parameter" });
            }
            if let Some(done) = books.transfers.get(&out_biz_no) {
                return transfer_success(&out_biz_no, done);
            }
            let identity = biz["payee_info"]["identity"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let name = biz["payee_info"]["name"].as_str().map(str::to_owned);
            if biz["payee_info"]["identity_type"] == "ALIPAY_LOGON_ID" && name.is_none() {
                return json!({ "code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.missing-payee-name" });
            }
            match books.payees.get(&identity) {
                None => return business_failure("PAYEE_NOT_EXIST", "收款账号不存在"),
                Some(real) if name.as_deref().is_some_and(|n| n != real) => {
                    return business_failure("PAYEE_USER_INFO_ERROR", "收款方姓名与账号不匹配")
                }
                Some(_) => {}
            }
            let transfer = Transfer {
                amount: text("trans_amount"),
                identity,
                name,
                order_id: format!("2026{}", books.transfers.len() + 1),
                product: product.to_owned(),
            };
            let answer = transfer_success(&out_biz_no, &transfer);
            books.transfers.insert(out_biz_no, transfer);
            answer
        }
        "alipay.fund.trans.common.query"
            if !["TRANS_ACCOUNT_NO_PWD", "TRANS_BANKCARD_NO_PWD"]
                .contains(&biz["product_code"].as_str().unwrap_or_default())
                || biz["biz_scene"] != "DIRECT_TRANSFER" =>
        {
            json!({ "code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-parameter" })
        }
        "alipay.fund.trans.common.query" => match books.transfers.get(&text("out_biz_no")) {
            // Alipay files a transfer under its product: looked up under another, not found.
            Some(done) if biz["product_code"] == done.product.as_str() => {
                transfer_success(&text("out_biz_no"), done)
            }
            _ => business_failure("ORDER_NOT_EXIST", "转账订单不存在"),
        },
        _ => json!({ "code": "40004", "msg": "Business Failed", "sub_code": "isv.unknown-method" }),
    }
}

fn transfer_success(out_biz_no: &str, transfer: &Transfer) -> Value {
    json!({
        "code": "10000", "msg": "Success", "out_biz_no": out_biz_no,
        "order_id": transfer.order_id, "pay_fund_order_id": transfer.order_id,
        "status": "SUCCESS", "trans_date": beijing(Utc::now()), "trans_amount": transfer.amount,
    })
}
