//! P12 over HTTP: the push security password. `PUT /me/security-password` sets it (the
//! current one is needed to change it); publishing and accepting a push then need it as
//! `security_password`; five wrong within 15 minutes lock every check, a right one too,
//! until they slide out of the window; `MARKET_PUSH_SECURITY=required` refuses an account
//! without one. Each scenario is a function over a running marketplace, run here on the
//! embedded store and in `on_dynamodb` on DynamoDB's API.
use std::sync::Arc;

use chrono::Timelike;
use infra::Settings;
use market_core::security::PushSecurity;
use market_tests::{spawn_app, spawn_app_with, Reply, TestApp};
use serde_json::{json, Value};

use crate::api::helpers::*;

/// `PUT /me/security-password` as `who`.
pub async fn set_password(
    app: &TestApp,
    who: &str,
    password: &str,
    current: Option<&str>,
) -> Reply {
    let mut body = json!({ "password": password });
    if let Some(current) = current {
        body["current_password"] = json!(current);
    }
    app.put("/me/security-password", Some(who), body).await
}

/// alice pushes `domain` to bob at 10.00, with `security` as her security password.
async fn publish(app: &TestApp, domain: &str, security: Option<&str>) -> Reply {
    let mut body =
        json!({ "domains": [domain], "buyer": "bob", "price": "10.00", "lock_60d": false });
    if let Some(security) = security {
        body["security_password"] = json!(security);
    }
    app.post("/pushes", Some("alice"), body).await
}

/// bob accepts the push `id` (captcha passed), with `security` as his security password.
async fn accept(app: &TestApp, id: &str, security: Option<&str>) -> Reply {
    let mut body = json!({ "captcha_token": "pass" });
    if let Some(security) = security {
        body["security_password"] = json!(security);
    }
    app.post(&format!("/pushes/{id}/accept"), Some("bob"), body)
        .await
}

fn id(reply: &Reply) -> String {
    reply.body["id"].as_str().expect("an id").to_owned()
}

/// The `Retry-After` of a lock, checked to lie within the window.
fn retry_after(reply: &Reply) -> u32 {
    let seconds: u32 = reply
        .retry_after
        .as_deref()
        .expect("SECURITY_LOCKED carries Retry-After")
        .parse()
        .expect("whole seconds");
    assert!((1..=900).contains(&seconds), "{reply:?}");
    seconds
}

/// Moves the server clock, if need be, to early in a minute, so that the next few seconds'
/// tries all fall in one minute: the window slides a minute at a time, so a test that
/// says exactly when tries leave it needs them in one minute.
async fn early_in_a_minute(app: &TestApp) {
    let second = app.now().await.second();
    if second > 20 {
        app.advance(i64::from(61 - second)).await;
    }
}

/// P12: set, then change only with the current one; publish and accept need it once set
/// (`if_set`, the default); a refused publication writes nothing.
pub async fn p12_set_change_publish_and_accept(app: &TestApp) {
    alice_and_bob(app).await;
    for d in ["p12a.com", "p12b.com"] {
        app.domain(d, "alice").await;
    }
    // No password yet: pushes work as before, and a given one is not looked at.
    let before = publish(app, "p12a.com", None).await;
    assert_eq!(before.status, 201, "{before:?}");
    let withdrawn = app
        .post(
            &format!("/pushes/{}/withdraw", id(&before)),
            Some("alice"),
            json!({}),
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{withdrawn:?}");
    // The rules of a new one: 8 to 64 characters.
    for bad in ["short", &"x".repeat(65)] {
        assert_problem(
            &set_password(app, "alice", bad, None).await,
            400,
            "INVALID_REQUEST",
        );
    }
    assert_problem(
        &app.put(
            "/me/security-password",
            Some("alice"),
            json!({ "password": "alice-first-pw", "extra": 1 }),
        )
        .await,
        400,
        "INVALID_REQUEST",
    );
    let first = set_password(app, "alice", "alice-first-pw", None).await;
    assert_eq!(first.status, 204, "{first:?}");
    // Changing it needs the current one; a wrong current one is a wrong try.
    assert_problem(
        &set_password(app, "alice", "alice-second-pw", None).await,
        403,
        "SECURITY_PASSWORD_REQUIRED",
    );
    let wrong = set_password(app, "alice", "alice-second-pw", Some("not-the-current")).await;
    assert_problem(&wrong, 403, "SECURITY_CHECK_FAILED");
    assert!(
        !wrong.body.to_string().contains("not-the-current"),
        "{wrong:?}"
    );
    let changed = set_password(app, "alice", "alice-second-pw", Some("alice-first-pw")).await;
    assert_eq!(changed.status, 204, "{changed:?}");
    // Publishing needs it now: missing, the old one, then the new one.
    assert_problem(
        &publish(app, "p12b.com", None).await,
        403,
        "SECURITY_PASSWORD_REQUIRED",
    );
    assert_problem(
        &publish(app, "p12b.com", Some("alice-first-pw")).await,
        403,
        "SECURITY_CHECK_FAILED",
    );
    // The refusals held nothing: the domain is free for the push that passes.
    let pushed = publish(app, "p12b.com", Some("alice-second-pw")).await;
    assert_eq!(pushed.status, 201, "{pushed:?}");
    let pid = id(&pushed);
    // bob has none yet: he could accept without one; once set, he needs it.
    assert_eq!(
        set_password(app, "bob", "bob-security-pw", None)
            .await
            .status,
        204
    );
    assert_problem(
        &accept(app, &pid, None).await,
        403,
        "SECURITY_PASSWORD_REQUIRED",
    );
    assert_problem(
        &accept(app, &pid, Some("bob-security-pW")).await,
        403,
        "SECURITY_CHECK_FAILED",
    );
    let accepted = accept(app, &pid, Some("bob-security-pw")).await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    assert_eq!(accepted.body["status"], "accepted", "{accepted:?}");
    assert!(accepted.body["payment"]["out_trade_no"].is_string());
}

/// P12 with an `Idempotency-Key`: the password is not part of the request's fingerprint
/// (it never reaches the store, not even hashed fast), so a retry replays the first answer
/// and counts no try.
pub async fn p12_a_retried_publication_replays_without_a_new_try(app: &TestApp) {
    alice_and_bob(app).await;
    app.domain("p12idem.com", "alice").await;
    assert_eq!(
        set_password(app, "alice", "alice-idem-pw", None)
            .await
            .status,
        204
    );
    let body = |security: &str| {
        json!({ "domains": ["p12idem.com"], "buyer": "bob", "price": "10.00",
                "lock_60d": false, "security_password": security })
    };
    let send = |security: &'static str| {
        app.send(
            reqwest::Method::POST,
            "/pushes",
            Some("alice"),
            Some(body(security)),
            &[("Idempotency-Key", "p12-idem-1")],
        )
    };
    // A refused try releases the key: the corrected retry is evaluated afresh.
    assert_problem(&send("alice-wrong-pw").await, 403, "SECURITY_CHECK_FAILED");
    let first = send("alice-idem-pw").await;
    assert_eq!(first.status, 201, "{first:?}");
    let again = send("alice-idem-pw").await;
    assert_eq!((again.status, &again.body), (201, &first.body));
    // Four more wrong ones would lock (one is counted): replays are not tries.
    for _ in 0..6 {
        let replay = send("alice-another-pw").await;
        assert_eq!(replay.status, 201, "{replay:?}");
    }
    app.domain("p12idem2.com", "alice").await;
    let next = publish(app, "p12idem2.com", Some("alice-idem-pw")).await;
    assert_eq!(next.status, 201, "{next:?}");
}

/// P12: five wrong within 15 minutes lock every check of the account (publishing,
/// accepting, changing it), the right one too, with `Retry-After`; 15 minutes later the
/// right one works again. Another account is not locked by them.
pub async fn p12_five_wrong_lock_even_the_right_one_for_fifteen_minutes(app: &TestApp) {
    alice_and_bob(app).await;
    app.domain("p12lock.com", "alice").await;
    assert_eq!(
        set_password(app, "alice", "alice-lock-pw", None)
            .await
            .status,
        204
    );
    assert_eq!(
        set_password(app, "bob", "bob-lock-pw-1", None).await.status,
        204
    );
    early_in_a_minute(app).await;
    for n in 1..=5 {
        let wrong = publish(app, "p12lock.com", Some(&format!("wrong-guess-{n}"))).await;
        assert_problem(&wrong, 403, "SECURITY_CHECK_FAILED");
    }
    let locked = publish(app, "p12lock.com", Some("alice-lock-pw")).await;
    assert_problem(&locked, 429, "SECURITY_LOCKED");
    retry_after(&locked);
    // The lock is the account's, whatever the route.
    assert_problem(
        &set_password(app, "alice", "alice-new-pw", Some("alice-lock-pw")).await,
        429,
        "SECURITY_LOCKED",
    );
    // bob's checks are his own.
    assert_eq!(
        set_password(app, "bob", "bob-lock-pw-2", Some("bob-lock-pw-1"))
            .await
            .status,
        204
    );
    // Fourteen minutes on (the tries' minute still in the window), still locked; fifteen,
    // free.
    app.advance(14 * 60).await;
    let still = publish(app, "p12lock.com", Some("alice-lock-pw")).await;
    assert_problem(&still, 429, "SECURITY_LOCKED");
    app.advance(60).await;
    let pushed = publish(app, "p12lock.com", Some("alice-lock-pw")).await;
    assert_eq!(pushed.status, 201, "{pushed:?}");
    let accepted = accept(app, &id(&pushed), Some("bob-lock-pw-2")).await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
}

/// P12: twenty wrong tries at once are counted atomically: exactly five are checked (and
/// refused as wrong), fifteen are refused as locked before any hash, and then the right
/// one is refused too.
pub async fn p12_racing_wrong_tries_are_counted_exactly(app: Arc<TestApp>) {
    app.trader("alice").await;
    assert_eq!(
        set_password(&app, "alice", "alice-race-pw", None)
            .await
            .status,
        204
    );
    // In one minute, so that none is refused only for racing across its edge (which the
    // recount after each increment refuses, see `app::security` and `app_security`).
    early_in_a_minute(&app).await;
    let tries: Vec<_> = (0..20)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                set_password(
                    &app,
                    "alice",
                    "alice-new-pw-0",
                    Some(&format!("racing-guess-{n}")),
                )
                .await
            })
        })
        .collect();
    let mut codes: Vec<String> = Vec::new();
    for t in tries {
        let reply = t.await.unwrap();
        if reply.status == 429 {
            retry_after(&reply);
        }
        codes.push(reply.code().to_owned());
    }
    let count = |code: &str| codes.iter().filter(|c| *c == code).count();
    assert_eq!(count("SECURITY_CHECK_FAILED"), 5, "{codes:?}");
    assert_eq!(count("SECURITY_LOCKED"), 15, "{codes:?}");
    assert_problem(
        &set_password(&app, "alice", "alice-new-pw-1", Some("alice-race-pw")).await,
        429,
        "SECURITY_LOCKED",
    );
}

/// The marketplace with `MARKET_PUSH_SECURITY=required`.
pub async fn app_requiring_security(dynamo: bool) -> TestApp {
    let mut settings = Settings::for_tests();
    settings.policy.push_security = PushSecurity::Required;
    if dynamo {
        settings.store = infra::StoreChoice::Dynamo {
            table: market_tests::moto::fresh_table_name(),
        };
    }
    spawn_app_with(settings).await
}

/// P12 with `required`: an account without a security password can neither publish nor
/// accept (a given one changes nothing); once set, it works as with `if_set`.
pub async fn p12_required_refuses_an_account_without_one(app: &TestApp) {
    alice_and_bob(app).await;
    app.domain("p12req.com", "alice").await;
    for given in [None, Some("anything-at-all")] {
        assert_problem(
            &publish(app, "p12req.com", given).await,
            403,
            "SECURITY_PASSWORD_REQUIRED",
        );
    }
    assert_eq!(
        set_password(app, "alice", "alice-req-pw", None)
            .await
            .status,
        204
    );
    let pushed = publish(app, "p12req.com", Some("alice-req-pw")).await;
    assert_eq!(pushed.status, 201, "{pushed:?}");
    let pid = id(&pushed);
    assert_problem(
        &accept(app, &pid, Some("bob-has-none")).await,
        403,
        "SECURITY_PASSWORD_REQUIRED",
    );
    assert_eq!(
        set_password(app, "bob", "bob-req-pw", None).await.status,
        204
    );
    assert_problem(
        &accept(app, &pid, None).await,
        403,
        "SECURITY_PASSWORD_REQUIRED",
    );
    let accepted = accept(app, &pid, Some("bob-req-pw")).await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
}

#[tokio::test]
async fn p12_set_change_publish_and_accept_with_the_security_password() {
    p12_set_change_publish_and_accept(&spawn_app().await).await;
}

#[tokio::test]
async fn p12_a_retried_publication_replays_and_counts_no_try() {
    p12_a_retried_publication_replays_without_a_new_try(&spawn_app().await).await;
}

#[tokio::test]
async fn p12_five_wrong_lock_the_account_until_fifteen_minutes_pass() {
    p12_five_wrong_lock_even_the_right_one_for_fifteen_minutes(&spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p12_twenty_racing_wrong_tries_check_exactly_five() {
    p12_racing_wrong_tries_are_counted_exactly(Arc::new(spawn_app().await)).await;
}

#[tokio::test]
async fn p12_policy_required_refuses_an_account_without_a_password() {
    p12_required_refuses_an_account_without_one(&app_requiring_security(false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p12_the_password_is_never_logged_nor_answered() {
    let logs = market_tests::logs::capture_process();
    let app = spawn_app().await;
    alice_and_bob(&app).await;
    app.domain("p12logs.com", "alice").await;
    let unique = ulid::Ulid::new().to_string();
    let (right, wrong) = (format!("right-{unique}"), format!("wrong-{unique}"));
    let mut replies: Vec<Value> = Vec::new();
    replies.push(set_password(&app, "alice", &right, None).await.body);
    replies.push(set_password(&app, "alice", &right, Some(&wrong)).await.body);
    replies.push(publish(&app, "p12logs.com", Some(&wrong)).await.body);
    let pushed = publish(&app, "p12logs.com", Some(&right)).await;
    assert_eq!(pushed.status, 201, "{pushed:?}");
    replies.push(pushed.body);
    for reply in &replies {
        assert!(!reply.to_string().contains(&unique), "{reply}");
    }
    let lines = logs.lines();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "a wrong security password (P12)"),
        "wrong tries are logged"
    );
    for line in lines {
        assert!(!line.to_string().contains(&unique), "{line}");
    }
}
