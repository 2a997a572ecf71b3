//! N1: people are told. Each step of a push, an order's outcome, a refund and a payout put
//! the right notices in the right inboxes (`GET /me/notifications`) and emails in the
//! recipients' languages (`GET /dev/mail`; at a real SMTP server in one test), each once;
//! a mail server failing three times sends once; trades complete while email is down; a
//! message dead-lettered after every try is redriven by an operator.
use std::collections::BTreeMap;

use market_tests::{spawn_app, spawn_app_with, Reply, TestApp};
use serde_json::{json, Value};

use crate::api::helpers::*;

/// A verified trader with an address and a language.
async fn person(app: &TestApp, id: &str, email: Option<&str>, locale: &str) {
    let reply = app
        .put(
            &format!("/admin/accounts/{id}"),
            Some("admin"),
            json!({
                "real_name_verified": true,
                "real_name": format!("{id} Test"),
                "payout_account": format!("{id}@alipay.example"),
                "email": email,
                "locale": locale,
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["locale"], locale, "{reply:?}");
}

/// alice (English, alice@example.com) sells; bob (Chinese, bob@example.com) buys.
async fn alice_en_bob_zh(app: &TestApp) {
    person(app, "alice", Some("alice@example.com"), "en").await;
    person(app, "bob", Some("bob@example.com"), "zh-CN").await;
}

/// Whatever the notifier has not delivered yet is delivered now (the sweep's retry of due
/// outbox messages), so what follows reads a settled inbox and mailbox.
async fn settle(app: &TestApp) {
    let reply = app.post("/dev/sweep", None, json!({})).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// Every notice of `who` (all pages, newest first) matching `query`.
async fn inbox(app: &TestApp, who: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/me/notifications?limit=2{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let reply = app.get(&path, Some(who)).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        items.extend(reply.body["items"].as_array().unwrap().iter().cloned());
        match reply.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

/// How many notices of each kind `who` has.
async fn kinds(app: &TestApp, who: &str) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for note in inbox(app, who, "").await {
        *count
            .entry(note["kind"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    count
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// Every email sent, oldest notice first.
async fn mail(app: &TestApp) -> Vec<Value> {
    let reply = app.get("/dev/mail", None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["items"].as_array().unwrap().clone()
}

async fn mail_to(app: &TestApp, to: &str) -> Vec<Value> {
    mail(app)
        .await
        .into_iter()
        .filter(|m| m["to"] == to)
        .collect()
}

async fn publish(app: &TestApp, domain: &str, price: &str, buyer_email: Option<&str>) -> String {
    app.domain(domain, "alice").await;
    let reply = app
        .post(
            "/pushes",
            Some("alice"),
            json!({ "domains": [domain], "buyer": "bob", "price": price, "lock_60d": false, "buyer_email": buyer_email }),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn push_step(app: &TestApp, push: &str, step: &str, who: &str) -> Reply {
    let reply = app
        .post(
            &format!("/pushes/{push}/{step}"),
            Some(who),
            json!({ "captcha_token": "pass" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{step}: {reply:?}");
    reply
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

pub async fn n1_every_push_step_tells_the_right_people_once(app: &TestApp) {
    alice_en_bob_zh(app).await;
    // Published: the buyer, and the address given with the push; the seller is not told.
    let rejected = publish(app, "rejected.com", "10.00", Some("bob.work@example.com")).await;
    settle(app).await;
    assert_eq!(kinds(app, "bob").await, counts(&[("push_published", 1)]));
    assert!(kinds(app, "alice").await.is_empty());
    let to_bob = mail_to(app, "bob@example.com").await;
    assert_eq!(to_bob.len(), 1, "{to_bob:?}");
    assert!(
        has_chinese(to_bob[0]["subject"].as_str().unwrap()),
        "{to_bob:?}"
    );
    assert!(to_bob[0]["body"].as_str().unwrap().contains("rejected.com"));
    let to_work = mail_to(app, "bob.work@example.com").await;
    assert_eq!(
        to_work.len(),
        1,
        "the buyer_email given with the push: {to_work:?}"
    );
    assert_ne!(to_work[0]["id"], to_bob[0]["id"]);
    let note = &inbox(app, "bob", "").await[0];
    assert_eq!(note["push_id"], rejected.as_str());
    assert_eq!(note["read_at"], Value::Null);
    assert_eq!(note["subject"], to_bob[0]["subject"]);

    push_step(app, &rejected, "reject", "bob").await;
    // Accepted, paid, confirmed: accepted and completed, to both.
    let completed = publish(app, "completed.com", "10.00", None).await;
    let accepted = push_step(app, &completed, "accept", "bob").await;
    let otn = accepted.body["payment"]["out_trade_no"].as_str().unwrap();
    assert_eq!(app.provider_says(otn, "TRADE_SUCCESS").await.status, 200);
    push_step(app, &completed, "confirm", "alice").await;
    let withdrawn = publish(app, "withdrawn.com", "10.00", None).await;
    push_step(app, &withdrawn, "withdraw", "alice").await;
    // A free push accepted completes at once: one notice of completion.
    let free = publish(app, "free.com", "0.00", None).await;
    push_step(app, &free, "accept", "bob").await;
    let expired = publish(app, "expired.com", "10.00", None).await;
    app.advance(7 * 24 * 3600 + 60).await;
    settle(app).await;
    let status = app.get(&format!("/pushes/{expired}"), Some("bob")).await;
    assert_eq!(status.body["status"], "expired", "{status:?}");

    assert_eq!(
        kinds(app, "bob").await,
        counts(&[
            ("push_published", 5),
            ("push_rejected", 1),
            ("push_accepted", 1),
            ("push_completed", 2),
            ("push_withdrawn", 1),
            ("push_expired", 1),
        ])
    );
    assert_eq!(
        kinds(app, "alice").await,
        counts(&[
            ("push_rejected", 1),
            ("push_accepted", 1),
            ("push_completed", 2),
            ("push_withdrawn", 1),
            ("push_expired", 1),
        ])
    );
    // Each inbox notice of an account with an address is emailed once, in its language.
    let to_alice = mail_to(app, "alice@example.com").await;
    assert_eq!(to_alice.len(), 6, "{to_alice:?}");
    assert!(to_alice
        .iter()
        .all(|m| !has_chinese(m["subject"].as_str().unwrap())));
    let to_bob = mail_to(app, "bob@example.com").await;
    assert_eq!(to_bob.len(), 11, "{to_bob:?}");
    assert!(to_bob
        .iter()
        .all(|m| has_chinese(m["subject"].as_str().unwrap())));
    assert_eq!(mail_to(app, "bob.work@example.com").await.len(), 1);
    // A later sweep sends nothing again.
    app.advance(3600).await;
    assert_eq!(mail(app).await.len(), 6 + 11 + 1);
}

pub async fn n1_the_inbox_is_paged_filtered_and_marked_read(app: &TestApp) {
    alice_en_bob_zh(app).await;
    for n in 0..3 {
        publish(app, &format!("inbox{n}.com"), "10.00", None).await;
    }
    settle(app).await;
    let all = inbox(app, "bob", "").await;
    assert_eq!(all.len(), 3, "paged two at a time: {all:?}");
    // Newest first.
    assert!(all[0]["body"].as_str().unwrap().contains("inbox2.com"));
    assert!(all[2]["body"].as_str().unwrap().contains("inbox0.com"));
    let id = all[1]["id"].as_str().unwrap();
    let read = app
        .post(
            &format!("/me/notifications/{id}/read"),
            Some("bob"),
            json!({}),
        )
        .await;
    assert_eq!(read.status, 200, "{read:?}");
    assert_eq!(read.body["id"], id);
    assert!(read.body["read_at"].is_string(), "{read:?}");
    // Again: the same answer, nothing changes.
    let again = app
        .post(
            &format!("/me/notifications/{id}/read"),
            Some("bob"),
            json!({}),
        )
        .await;
    assert_eq!(again.body["read_at"], read.body["read_at"]);
    let unread = inbox(app, "bob", "&unread=true").await;
    assert_eq!(unread.len(), 2, "{unread:?}");
    assert!(unread.iter().all(|n| n["id"] != id));
    let read_only = inbox(app, "bob", "&unread=false").await;
    assert_eq!(read_only.len(), 1, "{read_only:?}");
    assert_eq!(read_only[0]["id"], id);
    // Another account's notice is not there for alice; a made-up id is not either.
    assert_problem(
        &app.post(
            &format!("/me/notifications/{id}/read"),
            Some("alice"),
            json!({}),
        )
        .await,
        404,
        "NOT_FOUND",
    );
    assert_problem(
        &app.post("/me/notifications/ntf_nope/read", Some("bob"), json!({}))
            .await,
        404,
        "NOT_FOUND",
    );
    assert_problem(
        &app.get("/me/notifications?unread=maybe", Some("bob")).await,
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(app.get("/me/notifications", None).await.status, 401);
}

pub async fn n1_an_order_tells_the_buyer_and_each_seller_of_their_domains(app: &TestApp) {
    alice_en_bob_zh(app).await;
    person(app, "carol", Some("carol@example.com"), "en").await;
    person(app, "carl", None, "en").await;
    orderable_listing(app, "keep.com", "10.00").await;
    orderable_listing(app, "lost.com", "30.00").await;
    app.domain("carols.com", "carol").await;
    app.list("carol", "carols.com", "5.00").await;
    app.advance(180).await;
    let placed = app
        .order("bob", &["keep.com", "lost.com", "carols.com"])
        .await;
    assert_eq!(placed.status, 201, "{placed:?}");
    assert_eq!(
        placed.body["orders"].as_array().unwrap().len(),
        1,
        "{placed:?}"
    );
    let order = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay("bob", &order).await;
    // The registrar moves lost.com away before the money lands: it cannot be delivered.
    app.domain("lost.com", "carl").await;
    assert_eq!(app.provider_says(&otn, "TRADE_SUCCESS").await.status, 200);
    settle(app).await;
    let state = app.get(&format!("/orders/{order}"), Some("bob")).await;
    assert_eq!(state.body["status"], "completed", "{state:?}");

    assert_eq!(
        kinds(app, "bob").await,
        counts(&[
            ("order_completed", 1),
            ("order_failed", 1),
            ("refund_sent", 1)
        ])
    );
    assert_eq!(
        kinds(app, "alice").await,
        counts(&[("order_completed", 1), ("order_failed", 1)])
    );
    assert_eq!(kinds(app, "carol").await, counts(&[("order_completed", 1)]));
    assert!(kinds(app, "carl").await.is_empty());
    let bob = inbox(app, "bob", "").await;
    let of = |notes: &[Value], kind: &str| -> Value {
        notes.iter().find(|n| n["kind"] == kind).cloned().unwrap()
    };
    let delivered = of(&bob, "order_completed");
    assert_eq!(delivered["order_id"], order.as_str());
    let body = delivered["body"].as_str().unwrap();
    assert!(
        body.contains("keep.com") && body.contains("carols.com") && !body.contains("lost.com"),
        "{body}"
    );
    let failed = of(&bob, "order_failed")["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        failed.contains("lost.com") && failed.contains("30.00"),
        "{failed}"
    );
    assert!(of(&bob, "refund_sent")["body"]
        .as_str()
        .unwrap()
        .contains("30.00"));
    // Each seller is told of their own domains only.
    let alice = inbox(app, "alice", "").await;
    let sold = of(&alice, "order_completed")["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        sold.contains("keep.com") && !sold.contains("carols.com"),
        "{sold}"
    );
    assert!(sold.contains("10.00"), "{sold}");
    let carol = inbox(app, "carol", "").await;
    let sold = of(&carol, "order_completed")["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        sold.contains("carols.com") && !sold.contains("keep.com"),
        "{sold}"
    );
    assert_eq!(mail_to(app, "bob@example.com").await.len(), 3);
    assert_eq!(mail_to(app, "alice@example.com").await.len(), 2);
    assert_eq!(mail_to(app, "carol@example.com").await.len(), 1);
}

pub async fn n1_a_mail_server_failing_three_times_sends_once(app: &TestApp) {
    alice_en_bob_zh(app).await;
    app.running.mailer.fail_next(3);
    publish(app, "thrice.com", "10.00", None).await;
    settle(app).await;
    // The notice is in the inbox at once; the email waits for the mail server.
    assert_eq!(kinds(app, "bob").await, counts(&[("push_published", 1)]));
    let mut rounds = 0;
    while mail(app).await.is_empty() {
        rounds += 1;
        assert!(rounds <= 5, "still not sent after {rounds} retries");
        app.advance(3600).await;
    }
    let sent = mail(app).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["to"], "bob@example.com");
    // Later sweeps send nothing again, and the inbox holds it once.
    app.advance(3600).await;
    app.advance(3600).await;
    assert_eq!(mail(app).await.len(), 1);
    assert_eq!(inbox(app, "bob", "").await.len(), 1);
}

pub async fn n1_trades_complete_while_email_is_down(app: &TestApp) {
    alice_en_bob_zh(app).await;
    app.running.mailer.fail_next(u32::MAX);
    orderable_listing(app, "down.com", "10.00").await;
    let placed = app.order("bob", &["down.com"]).await;
    let order = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay("bob", &order).await;
    assert_eq!(app.provider_says(&otn, "TRADE_SUCCESS").await.status, 200);
    settle(app).await;
    let state = app.get(&format!("/orders/{order}"), Some("bob")).await;
    assert_eq!(state.body["status"], "completed", "{state:?}");
    let mine = app.get("/me/domains", Some("bob")).await;
    assert!(mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["domain"] == "down.com"));
    // People can read it in the app; no email went out.
    assert_eq!(kinds(app, "bob").await, counts(&[("order_completed", 1)]));
    assert_eq!(kinds(app, "alice").await, counts(&[("order_completed", 1)]));
    assert!(mail(app).await.is_empty());
    // The mail server is back: each email goes out once.
    app.running.mailer.fail_next(0);
    app.advance(3600).await;
    app.advance(3600).await;
    let sent = mail(app).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
}

pub async fn n1_a_dead_lettered_notice_is_redriven_by_an_operator(app: &TestApp) {
    alice_en_bob_zh(app).await;
    app.running.mailer.fail_next(u32::MAX);
    publish(app, "dead.com", "10.00", None).await;
    // Every try fails, for longer than the outbox keeps trying.
    for _ in 0..14 {
        app.advance(3600).await;
    }
    assert!(mail(app).await.is_empty());
    app.running.mailer.fail_next(0);
    app.advance(3600).await;
    assert!(
        mail(app).await.is_empty(),
        "given up on: no sweep retries it"
    );
    assert_problem(
        &app.post("/admin/outbox/redrive", Some("bob"), json!({}))
            .await,
        403,
        "FORBIDDEN",
    );
    let redriven = app
        .post("/admin/outbox/redrive", Some("admin"), json!({}))
        .await;
    assert_eq!(redriven.status, 200, "{redriven:?}");
    assert_eq!(redriven.body["redriven"], 1, "{redriven:?}");
    settle(app).await;
    assert_eq!(mail_to(app, "bob@example.com").await.len(), 1);
    let again = app
        .post("/admin/outbox/redrive", Some("admin"), json!({}))
        .await;
    assert_eq!(again.body["redriven"], 0, "{again:?}");
    assert_eq!(inbox(app, "bob", "").await.len(), 1);
}

pub async fn n1_payouts_tell_their_seller(app: &TestApp) {
    alice_en_bob_zh(app).await;
    orderable_listing(app, "paid.com", "100.00").await;
    let placed = app.order("bob", &["paid.com"]).await;
    let order = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay("bob", &order).await;
    assert_eq!(app.provider_says(&otn, "TRADE_SUCCESS").await.status, 200);
    app.advance(7 * 24 * 3600 + 60).await; // the settlement period (S4)
    let paid = app
        .post("/me/payouts", Some("alice"), json!({ "amount": "50.00" }))
        .await;
    assert_eq!(paid.status, 202, "{paid:?}");
    // The provider refuses the next transfer for good: that payout fails.
    let planned = app
        .post(
            "/dev/provider/fail-next",
            None,
            json!({ "operation": "transfer", "count": 1, "mode": "error" }),
        )
        .await;
    assert_eq!(planned.status, 200, "{planned:?}");
    let refused = app
        .post("/me/payouts", Some("alice"), json!({ "amount": "10.00" }))
        .await;
    assert_eq!(refused.status, 202, "{refused:?}");
    settle(app).await;
    let alice = inbox(app, "alice", "").await;
    let of = |kind: &str| -> Vec<&Value> { alice.iter().filter(|n| n["kind"] == kind).collect() };
    let succeeded = of("payout_succeeded");
    assert_eq!(succeeded.len(), 1, "{alice:?}");
    assert_eq!(succeeded[0]["payout_id"], paid.body["id"]);
    assert!(succeeded[0]["body"].as_str().unwrap().contains("50.00"));
    let failed = of("payout_failed");
    assert_eq!(failed.len(), 1, "{alice:?}");
    assert_eq!(failed[0]["payout_id"], refused.body["id"]);
    assert!(!kinds(app, "bob").await.contains_key("payout_succeeded"));
}

#[tokio::test]
async fn n1_every_push_step_tells_the_right_people_once_embedded() {
    n1_every_push_step_tells_the_right_people_once(&spawn_app().await).await;
}

#[tokio::test]
async fn n1_the_inbox_is_paged_filtered_and_marked_read_embedded() {
    n1_the_inbox_is_paged_filtered_and_marked_read(&spawn_app().await).await;
}

#[tokio::test]
async fn n1_an_order_tells_the_buyer_and_each_seller_of_their_domains_embedded() {
    n1_an_order_tells_the_buyer_and_each_seller_of_their_domains(&spawn_app().await).await;
}

#[tokio::test]
async fn n1_a_mail_server_failing_three_times_sends_once_embedded() {
    n1_a_mail_server_failing_three_times_sends_once(&spawn_app().await).await;
}

#[tokio::test]
async fn n1_trades_complete_while_email_is_down_embedded() {
    n1_trades_complete_while_email_is_down(&spawn_app().await).await;
}

#[tokio::test]
async fn n1_a_dead_lettered_notice_is_redriven_by_an_operator_embedded() {
    n1_a_dead_lettered_notice_is_redriven_by_an_operator(&spawn_app().await).await;
}

#[tokio::test]
async fn n1_payouts_tell_their_seller_embedded() {
    n1_payouts_tell_their_seller(&spawn_app().await).await;
}

/// A local SMTP server: enough of RFC 5321 for one client (EHLO, MAIL, RCPT, DATA, QUIT),
/// keeping each message's envelope recipients and its data.
mod smtp_sink {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    #[derive(Debug, Clone, Default)]
    pub struct Received {
        pub to: Vec<String>,
        pub data: String,
    }

    pub async fn start() -> (String, Arc<Mutex<Vec<Received>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let kept = got.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let mut current = Received::default();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let upper = line.to_ascii_uppercase();
                        let answer: &[u8] =
                            if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                                b"250-sink\r\n250 8BITMIME\r\n"
                            } else if upper.starts_with("MAIL FROM") {
                                current = Received::default();
                                b"250 OK\r\n"
                            } else if upper.starts_with("RCPT TO") {
                                current
                                    .to
                                    .push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                                b"250 OK\r\n"
                            } else if upper == "DATA" {
                                let _ = write.write_all(b"354 go on\r\n").await;
                                while let Ok(Some(data)) = lines.next_line().await {
                                    if data == "." {
                                        break;
                                    }
                                    current.data.push_str(&data);
                                    current.data.push('\n');
                                }
                                kept.lock().unwrap().push(current.clone());
                                b"250 kept\r\n"
                            } else if upper == "QUIT" {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            } else {
                                b"250 OK\r\n"
                            };
                        let _ = write.write_all(answer).await;
                    }
                });
            }
        });
        (url, got)
    }
}

#[tokio::test]
async fn n1_emails_reach_a_local_smtp_server_with_their_notice_id() {
    let (url, received) = smtp_sink::start().await;
    let mut settings = infra::Settings::for_tests();
    settings.smtp_url = Some(url);
    settings.mail_from = "market@test.local".into();
    let app = spawn_app_with(settings).await;
    alice_en_bob_zh(&app).await;
    publish(&app, "smtp.com", "10.00", None).await;
    settle(&app).await;
    let kept = mail(&app).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, vec!["bob@example.com".to_owned()]);
    let data = &got[0].data;
    assert!(data.contains("From: market@test.local"), "{data}");
    let id = kept[0]["id"].as_str().unwrap();
    assert!(
        data.contains(&format!("Message-ID: <{id}@market.local>")),
        "{data}"
    );
    // The Chinese subject travels encoded (RFC 2047).
    assert!(data.contains("Subject: alice =?utf-8?b?"), "{data}");
    // Sent again by a notifier that crashed before marking it: the server gets it once.
    settle(&app).await;
    app.advance(3600).await;
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn n1_an_smtp_url_that_is_not_one_stops_the_start() {
    let mut settings = infra::Settings::for_tests();
    settings.smtp_url = Some("smtps://mail.example.com".into());
    let started = infra::start(settings).await;
    let error = format!("{:#}", started.err().expect("refused"));
    assert!(error.contains("MARKET_SMTP_URL"), "{error}");
}
