//! `template.yaml` against the code: every route a function's router serves is in the
//! template for that function and nothing else is (no dev route is ever deployed); the table
//! the local setup creates is the template's table; queues, triggers and permissions are what
//! the handlers need. The template is read with cfn-lint's own YAML decoder (it knows the
//! CloudFormation tags), from the venv the test command installs.
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use market_adapters::store::schema::{index_keys, PK, SK, TTL};
use market_app::store::Index;
use serde_json::Value;

fn template() -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".local-aws/venv/bin/python");
    assert!(
        python.exists(),
        "run ./infra/test.sh first: it installs cfn-lint into .local-aws/venv"
    );
    let out = Command::new(python)
        .current_dir(&root)
        .args(["-c", "import json, sys\nfrom cfnlint.decode import decode\nt, m = decode('template.yaml')\nassert not m, m\nprint(json.dumps(t, default=str))"])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the template as JSON")
}

/// How `sam build` packages each function: infra/lambda/Makefile's `build-<LogicalId>`
/// target copies the named prebuilt binary's bootstrap (logical id → binary).
fn packaged_binaries() -> BTreeMap<String, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let makefile = std::fs::read_to_string(root.join("infra/lambda/Makefile")).unwrap();
    let mut binaries = BTreeMap::new();
    let mut target = None;
    for line in makefile.lines() {
        if let Some(id) = line
            .strip_prefix("build-")
            .and_then(|l| l.strip_suffix(':'))
        {
            target = Some(id.to_owned());
        } else if let (Some(id), Some(call)) = (&target, line.trim().strip_prefix("$(call copy,")) {
            binaries.insert(id.clone(), call.trim_end_matches(')').to_owned());
            target = None;
        }
    }
    binaries
}

/// The binaries ./infra/build-lambdas.sh builds.
fn built_binaries() -> BTreeSet<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = std::fs::read_to_string(root.join("infra/build-lambdas.sh")).unwrap();
    script
        .lines()
        .find_map(|l| l.strip_prefix("binaries=("))
        .unwrap()
        .trim_end_matches(')')
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// The template's functions by the binary each is.
fn functions(t: &Value) -> BTreeMap<String, &Value> {
    let binaries = packaged_binaries();
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(id, r)| {
            let binary = binaries
                .get(id)
                .unwrap_or_else(|| panic!("{id}: no build-{id} target in infra/lambda/Makefile"));
            (binary.clone(), r)
        })
        .collect()
}

fn http_routes(function: &Value) -> BTreeSet<(String, String)> {
    function["Properties"]["Events"]
        .as_object()
        .map(|events| {
            events
                .values()
                .filter(|e| e["Type"] == "HttpApi")
                .map(|e| {
                    (
                        e["Properties"]["Method"].as_str().unwrap().to_owned(),
                        e["Properties"]["Path"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn served(table: &market_web::RouteTable) -> BTreeSet<(String, String)> {
    market_web::route_list(table)
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect()
}

#[test]
fn every_route_served_is_deployed_to_its_function_and_nothing_else() {
    let t = template();
    let functions = functions(&t);
    let expected: BTreeMap<&str, BTreeSet<(String, String)>> = BTreeMap::from([
        ("list", served(&fn_list::routes())),
        ("order", served(&fn_order::routes())),
        ("pay-notify", served(&fn_pay_callback::routes())),
        ("push", served(&fn_push::routes())),
        ("admin", served(&fn_admin::routes())),
        ("account", served(&fn_account::routes())),
        ("pay-callback", BTreeSet::new()),
        ("expire-sweeper", BTreeSet::new()),
        ("registry-events", BTreeSet::new()),
        ("notify", BTreeSet::new()),
        ("indexer", BTreeSet::new()),
    ]);
    let deployed: BTreeSet<&str> = functions.keys().map(String::as_str).collect();
    assert_eq!(
        deployed,
        expected.keys().copied().collect::<BTreeSet<_>>(),
        "one function per binary"
    );
    for (binary, routes) in &expected {
        assert_eq!(&http_routes(functions[*binary]), routes, "{binary}");
    }
    for routes in expected.values() {
        assert!(
            routes.iter().all(|(_, p)| !p.starts_with("/dev")),
            "dev routes are never deployed"
        );
    }
    // Public routes: the market browse, a listing, the legacy listings (L11), the
    // provider's notifications, and the partners' routes (L10: signed with their HMAC key,
    // checked by the function).
    let public: BTreeSet<(String, String)> = functions
        .values()
        .flat_map(|f| {
            f["Properties"]["Events"]
                .as_object()
                .into_iter()
                .flat_map(|e| e.values())
        })
        .filter(|e| e["Properties"]["Auth"]["Authorizer"] == "NONE")
        .map(|e| {
            (
                e["Properties"]["Method"].as_str().unwrap().to_owned(),
                e["Properties"]["Path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("GET", "/listings"),
        ("GET", "/listings/featured"),
        ("GET", "/listings/{id}"),
        ("GET", "/legacy-listings"),
        ("POST", "/payments/alipay/notify"),
        ("PUT", "/partner/listings/{domain}"),
        ("DELETE", "/partner/listings/{domain}"),
        ("POST", "/partner/deliveries/{id}"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(public, want);
}

#[test]
fn the_local_table_is_the_templates_table() {
    let t = template();
    let table = &t["Resources"]["MarketTable"]["Properties"];
    let key = |schema: &Value| -> Vec<(String, String)> {
        schema
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["AttributeName"].as_str().unwrap().to_owned(),
                    k["KeyType"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        key(&table["KeySchema"]),
        vec![
            (PK.to_owned(), "HASH".to_owned()),
            (SK.to_owned(), "RANGE".to_owned())
        ]
    );
    let indexes: BTreeMap<String, Vec<(String, String)>> = table["GlobalSecondaryIndexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let name = i["IndexName"].as_str().unwrap();
            let index = Index::ALL.into_iter().find(|x| x.name() == name).unwrap();
            let projection = if index.keys_only() {
                "KEYS_ONLY"
            } else {
                "ALL"
            };
            assert_eq!(i["Projection"]["ProjectionType"], projection, "{name}");
            (
                i["IndexName"].as_str().unwrap().to_owned(),
                key(&i["KeySchema"]),
            )
        })
        .collect();
    let ours: BTreeMap<String, Vec<(String, String)>> = Index::ALL
        .iter()
        .map(|i| {
            let (pk, sk) = index_keys(*i);
            (
                i.name().to_owned(),
                vec![(pk, "HASH".to_owned()), (sk, "RANGE".to_owned())],
            )
        })
        .collect();
    assert_eq!(indexes, ours);
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"], TTL);
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["DeletionProtectionEnabled"], true);
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
}

#[test]
fn queues_and_triggers_are_what_the_handlers_expect() {
    let t = template();
    let r = &t["Resources"];
    let functions = functions(&t);
    let timeout = |f: &Value| {
        f["Properties"]["Timeout"]
            .as_i64()
            .unwrap_or_else(|| t["Globals"]["Function"]["Timeout"].as_i64().unwrap())
    };
    for (queue, consumer) in [
        ("PaymentsQueue", "pay-callback"),
        ("DeadlinesQueue", "expire-sweeper"),
        ("SweepWorkQueue", "expire-sweeper"),
    ] {
        let props = &r[queue]["Properties"];
        assert!(
            props["VisibilityTimeout"].as_i64().unwrap() >= 6 * timeout(functions[consumer]),
            "{queue}: visibility ≥ 6× the consumer's timeout"
        );
        assert!(
            props["RedrivePolicy"]["maxReceiveCount"].as_i64().unwrap() >= 1,
            "{queue} has a DLQ"
        );
        let events = functions[consumer]["Properties"]["Events"]
            .as_object()
            .unwrap();
        let sqs = events
            .values()
            .find(|e| e["Type"] == "SQS" && e["Properties"]["Queue"]["Fn::GetAtt"][0] == queue)
            .unwrap_or_else(|| panic!("{consumer} is triggered by {queue}"));
        assert_eq!(
            sqs["Properties"]["FunctionResponseTypes"],
            serde_json::json!(["ReportBatchItemFailures"]),
            "partial batch failures"
        );
    }
    let sweeper_events = functions["expire-sweeper"]["Properties"]["Events"]
        .as_object()
        .unwrap();
    assert!(sweeper_events
        .values()
        .any(|e| e["Properties"]["ScheduleExpression"] == "rate(1 minute)"));
    let registry = functions["registry-events"]["Properties"]["Events"]
        .as_object()
        .unwrap();
    assert!(registry.values().any(|e| e["Type"] == "EventBridgeRule"));
    // Every function is packaged by the Makefile from a binary build-lambdas.sh builds, and
    // every binary it builds is deployed.
    let built = built_binaries();
    assert_eq!(
        functions.keys().cloned().collect::<BTreeSet<_>>(),
        built,
        "the template's functions are the binaries ./infra/build-lambdas.sh builds"
    );
    for (name, f) in &functions {
        assert_eq!(f["Properties"]["CodeUri"], "infra/lambda/", "{name}");
        assert_eq!(
            f["Metadata"]["BuildMethod"], "makefile",
            "{name}: sam build copies its prebuilt bootstrap"
        );
        let text = f.to_string();
        assert!(
            !text.contains("DynamoDBCrudPolicy") && !text.contains("\"*\""),
            "{name}: least privilege, no wildcards"
        );
    }
    assert_eq!(
        t["Globals"]["Function"]["Architectures"],
        serde_json::json!(["arm64"])
    );
    assert_eq!(t["Globals"]["Function"]["Runtime"], "provided.al2023");
    // Alarms on the five dead-letter queues (payments, deadlines, sweep work, notify,
    // indexer), on every function's errors, on refused payment notifications, on
    // dead-lettered outbox messages and on the search indexer's lag.
    let alarms: Vec<&Value> = r
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v["Type"] == "AWS::CloudWatch::Alarm")
        .collect();
    assert_eq!(alarms.len(), 8 + functions.len());
    for alarm in alarms {
        assert_eq!(
            alarm["Properties"]["AlarmActions"],
            serde_json::json!([{ "Ref": "AlarmTopic" }]),
            "every alarm pages through the alarm topic"
        );
    }
}

/// Every statement of a function's policies, those under a condition (`Fn::If`) included.
fn statements(function: &Value) -> Vec<&Value> {
    function["Properties"]["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| match p["Fn::If"].as_array() {
            Some(branches) => branches[1..].iter().collect(),
            None => vec![p],
        })
        .flat_map(|p| p["Statement"].as_array().into_iter().flatten())
        .collect()
}

/// The functions that take or return money, which alone may read the Alipay secret.
const MONEY_FUNCTIONS: [&str; 4] = ["order", "push", "pay-callback", "expire-sweeper"];

/// The functions that pay sellers out (S6), which alone may read the payout keys.
const PAYOUT_FUNCTIONS: [&str; 2] = ["account", "expire-sweeper"];

#[test]
fn the_alipay_keys_stay_in_secrets_manager_and_only_money_functions_may_read_them() {
    let t = template();
    let text = t.to_string();
    assert!(
        !text.contains("resolve:secretsmanager"),
        "no dynamic reference copies a secret into a function's configuration"
    );
    assert!(
        !text.contains("ALIPAY_APP_PRIVATE_KEY_PEM") && !text.contains("ALIPAY_PUBLIC_KEY_PEM"),
        "keys are never environment variables in the cloud"
    );
    for parameter in ["AlipaySecretArn", "AlipayPayoutSecretArn"] {
        assert!(t["Parameters"][parameter]["AllowedPattern"]
            .as_str()
            .unwrap()
            .contains(":secretsmanager:"));
    }
    let secret = serde_json::json!({ "Ref": "AlipaySecretArn" });
    let payout_secret = serde_json::json!({ "Fn::If": ["HasPayoutSecret", { "Ref": "AlipayPayoutSecretArn" }, { "Ref": "AlipaySecretArn" }] });
    for (name, f) in &functions(&t) {
        let takes_money = MONEY_FUNCTIONS.contains(&name.as_str());
        let pays_out = PAYOUT_FUNCTIONS.contains(&name.as_str());
        let variables = &f["Properties"]["Environment"]["Variables"];
        assert_eq!(
            variables["ALIPAY_SECRET_ARN"] == secret,
            takes_money,
            "{name}: ALIPAY_SECRET_ARN"
        );
        assert_eq!(
            variables["ALIPAY_PAYOUT_SECRET_ARN"] == payout_secret,
            pays_out,
            "{name}: ALIPAY_PAYOUT_SECRET_ARN (S6: only the functions that pay sellers)"
        );
        // The statements that read an Alipay secret (the captcha's has a test of its own).
        let reads_secrets: Vec<&Value> = statements(f)
            .into_iter()
            .filter(|s| {
                s.to_string().contains("secretsmanager:")
                    && s["Resource"].to_string().contains("\"AlipaySecretArn\"")
            })
            .collect();
        let readable = match (takes_money, pays_out) {
            (true, true) => Some(serde_json::json!([secret, payout_secret])),
            (true, false) => Some(secret.clone()),
            (false, true) => Some(payout_secret.clone()),
            (false, false) => None,
        };
        match readable {
            Some(resource) => {
                assert_eq!(reads_secrets.len(), 1, "{name}");
                let statement = reads_secrets[0];
                assert_eq!(statement["Effect"], "Allow");
                assert_eq!(
                    statement["Action"],
                    serde_json::json!(["secretsmanager:GetSecretValue"]),
                    "{name}: read only"
                );
                assert_eq!(
                    statement["Resource"], resource,
                    "{name}: those secrets only"
                );
            }
            None => assert!(
                reads_secrets.is_empty(),
                "{name} never reads the Alipay secrets"
            ),
        }
    }
}

/// The functions that check captchas (O7: orders, push acceptances).
const CAPTCHA_FUNCTIONS: [&str; 2] = ["order", "push"];

#[test]
fn o7_captchas_are_verified_with_siteverify_by_default_and_only_order_and_push_read_its_secret() {
    let t = template();
    let p = &t["Parameters"];
    assert_eq!(p["CaptchaMode"]["Default"], "siteverify");
    assert_eq!(
        p["CaptchaMode"]["AllowedValues"],
        serde_json::json!(["siteverify", "sandbox", "closed"])
    );
    assert!(p["CaptchaSecretArn"]["AllowedPattern"]
        .as_str()
        .unwrap()
        .contains(":secretsmanager:"));
    assert_eq!(
        p["CaptchaVerifyUrl"]["Default"],
        market_adapters::captcha::settings::TURNSTILE_VERIFY_URL
    );
    assert!(p["CaptchaHostnames"].is_object());
    // A siteverify stack cannot be deployed without its secret and hostnames.
    let rule = t["Rules"]["SiteverifyNeedsItsSettings"].to_string();
    assert!(
        rule.contains("CaptchaSecretArn") && rule.contains("CaptchaHostnames"),
        "{rule}"
    );
    let reference = |name: &str| serde_json::json!({ "Ref": name });
    let secret = reference("CaptchaSecretArn");
    for (name, f) in &functions(&t) {
        let checks = CAPTCHA_FUNCTIONS.contains(&name.as_str());
        let vars = &f["Properties"]["Environment"]["Variables"];
        for (var, parameter) in [
            ("MARKET_CAPTCHA", "CaptchaMode"),
            ("CAPTCHA_SECRET_ARN", "CaptchaSecretArn"),
            ("CAPTCHA_VERIFY_URL", "CaptchaVerifyUrl"),
        ] {
            assert_eq!(vars[var] == reference(parameter), checks, "{name}: {var}");
        }
        // The hostnames given, and always the console's own (its widget is solved there).
        let hostnames = serde_json::json!({"Fn::Join": [",", [reference("CaptchaHostnames"), {"Fn::GetAtt": ["ConsoleDistribution", "DomainName"]}]]});
        assert_eq!(
            vars["CAPTCHA_HOSTNAMES"] == hostnames,
            checks,
            "{name}: CAPTCHA_HOSTNAMES"
        );
        assert!(
            vars.get("CAPTCHA_SECRET").is_none(),
            "{name}: never the key itself"
        );
        let conditional: Vec<&Value> = f["Properties"]["Policies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["Fn::If"][0] == "HasCaptchaSecret")
            .collect();
        let reads: Vec<&Value> = statements(f)
            .into_iter()
            .filter(|s| s["Resource"] == secret)
            .collect();
        if checks {
            assert_eq!(reads.len(), 1, "{name}");
            assert_eq!(reads[0]["Effect"], "Allow");
            assert_eq!(
                reads[0]["Action"],
                serde_json::json!(["secretsmanager:GetSecretValue"]),
                "{name}: read only"
            );
            // Granted only when a secret is given (sandbox and closed stacks have none).
            assert_eq!(conditional.len(), 1, "{name}");
            assert_eq!(conditional[0]["Fn::If"][0], "HasCaptchaSecret");
            assert_eq!(conditional[0]["Fn::If"][2], reference("AWS::NoValue"));
        } else {
            assert!(reads.is_empty(), "{name} never reads the captcha secret");
        }
        // Every secret a function may read is the captcha's, an Alipay one or Stripe's
        // (checked in their own tests).
        for s in statements(f) {
            if s.to_string().contains("secretsmanager:") {
                let resource = s["Resource"].to_string();
                assert!(
                    s["Resource"] == secret
                        || s["Resource"] == reference("PartnerKeysSecretArn")
                        || s["Resource"] == reference("StripeSecretArn")
                        || resource.contains("\"AlipaySecretArn\"")
                        || resource.contains("\"AlipayPayoutSecretArn\""),
                    "{name}: {s}"
                );
            }
        }
    }
    assert_eq!(
        t["Conditions"]["HasCaptchaSecret"],
        serde_json::json!({ "Fn::Not": [{ "Fn::Equals": [secret, ""] }] })
    );
}

/// S3: Stripe's secret key is read by the account function alone (it binds payment
/// methods), only when one is given, and never copied into its configuration.
#[test]
fn s3_only_the_account_function_reads_the_stripe_key_and_only_when_given() {
    let t = template();
    assert!(t["Parameters"]["StripeSecretArn"]["AllowedPattern"]
        .as_str()
        .unwrap()
        .contains(":secretsmanager:"));
    assert_eq!(t["Parameters"]["StripeSecretArn"]["Default"], "");
    let stripe = serde_json::json!({ "Ref": "StripeSecretArn" });
    assert_eq!(
        t["Conditions"]["HasStripeSecret"],
        serde_json::json!({ "Fn::Not": [{ "Fn::Equals": [stripe, ""] }] })
    );
    for (name, f) in &functions(&t) {
        let vars = &f["Properties"]["Environment"]["Variables"];
        assert!(
            vars.get("STRIPE_SECRET_KEY").is_none(),
            "{name}: never the key itself"
        );
        let reads: Vec<&Value> = statements(f)
            .into_iter()
            .filter(|s| s["Resource"] == stripe)
            .collect();
        if name == "account" {
            assert_eq!(
                vars["STRIPE_SECRET_ARN"],
                serde_json::json!({ "Fn::If": ["HasStripeSecret", stripe, { "Ref": "AWS::NoValue" }] })
            );
            assert_eq!(reads.len(), 1, "{name}");
            assert_eq!(
                reads[0]["Action"],
                serde_json::json!(["secretsmanager:GetSecretValue"])
            );
            let granted_if_given = f["Properties"]["Policies"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["Fn::If"][0] == "HasStripeSecret");
            assert!(granted_if_given, "{name}");
        } else {
            assert!(vars.get("STRIPE_SECRET_ARN").is_none(), "{name}");
            assert!(reads.is_empty(), "{name} never reads Stripe's key");
        }
    }
}

/// The functions that serve the security password (P12): push checks it, account sets it.
const SECURITY_PASSWORD_FUNCTIONS: [&str; 2] = ["push", "account"];

#[test]
fn p12_push_security_is_a_parameter_given_to_the_push_and_account_functions() {
    let t = template();
    let p = &t["Parameters"]["PushSecurity"];
    assert_eq!(p["Default"], "if_set");
    assert_eq!(
        p["AllowedValues"],
        serde_json::json!(["if_set", "required"])
    );
    // Each allowed value is one the functions read (a typo would fail their start).
    for value in p["AllowedValues"].as_array().unwrap() {
        market_core::security::PushSecurity::parse(value.as_str().unwrap()).unwrap();
    }
    let reference = serde_json::json!({ "Ref": "PushSecurity" });
    for (name, f) in &functions(&t) {
        let vars = &f["Properties"]["Environment"]["Variables"];
        let given = SECURITY_PASSWORD_FUNCTIONS.contains(&name.as_str());
        assert_eq!(vars["MARKET_PUSH_SECURITY"] == reference, given, "{name}");
        if given {
            // The tries are counted with atomic increments (UpdateItem).
            assert!(
                statements(f)
                    .iter()
                    .any(|s| s["Action"].to_string().contains("dynamodb:UpdateItem")),
                "{name} counts tries"
            );
        }
    }
    assert!(http_routes(functions(&t)["account"])
        .contains(&("PUT".to_owned(), "/me/security-password".to_owned())));
}

#[test]
fn registry_events_come_only_from_the_registrar_cores_account_on_a_bus_of_their_own() {
    let t = template();
    let r = &t["Resources"];
    let functions = functions(&t);
    let events = functions["registry-events"]["Properties"]["Events"]
        .as_object()
        .unwrap();
    let rule = events
        .values()
        .find(|e| e["Type"] == "EventBridgeRule")
        .expect("an EventBridge rule");
    let bus = rule["Properties"]["EventBusName"]["Ref"]
        .as_str()
        .expect("a bus of this stack, not the default bus");
    assert_eq!(r[bus]["Type"], "AWS::Events::EventBus");
    let pattern = &rule["Properties"]["Pattern"];
    assert_eq!(pattern["source"], serde_json::json!(["registrar.core"]));
    assert_eq!(
        pattern["account"],
        serde_json::json!([{ "Ref": "RegistrarCoreAccountId" }]),
        "sent from the registrar core's account"
    );
    assert_eq!(
        t["Parameters"]["RegistrarCoreAccountId"]["AllowedPattern"],
        "^[0-9]{12}$"
    );
    // The bus's one policy: PutEvents from that account, on that bus.
    let policies: Vec<&Value> = r
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v["Type"] == "AWS::Events::EventBusPolicy")
        .collect();
    assert_eq!(policies.len(), 1);
    let policy = &policies[0]["Properties"];
    assert_eq!(policy["EventBusName"], serde_json::json!({ "Ref": bus }));
    let statement = &policy["Statement"];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "events:PutEvents");
    assert_eq!(
        statement["Resource"],
        serde_json::json!({ "Fn::GetAtt": [bus, "Arn"] })
    );
    let principal = statement["Principal"]["AWS"]["Fn::Sub"]
        .as_str()
        .expect("an account principal");
    assert_eq!(
        principal,
        "arn:${AWS::Partition}:iam::${RegistrarCoreAccountId}:root"
    );
    assert!(statement.get("Condition").is_none() && !statement.to_string().contains("\"*\""));
}

#[test]
fn every_function_logs_json_lines() {
    let t = template();
    assert_eq!(
        t["Globals"]["Function"]["LoggingConfig"]["LogFormat"], "JSON",
        "what lambda_runtime's subscriber reads as AWS_LAMBDA_LOG_FORMAT"
    );
    for (name, f) in &functions(&t) {
        let own = &f["Properties"]["LoggingConfig"]["LogFormat"];
        assert!(own.is_null() || own == "JSON", "{name} keeps JSON logs");
    }
}

#[test]
fn refused_notifications_page_through_the_metric_the_consumer_writes() {
    use market_app::metrics;
    let t = template();
    let r = &t["Resources"];
    let alarm = r
        .as_object()
        .unwrap()
        .values()
        .find(|v| {
            v["Type"] == "AWS::CloudWatch::Alarm"
                && v["Properties"]["MetricName"] == metrics::REJECTED_NOTIFICATIONS
        })
        .expect("an alarm on RejectedNotifications")["Properties"]
        .clone();
    // The alarm watches exactly the metric the code's EMF line publishes: namespace, name
    // and dimensions.
    let line: Value = serde_json::from_str(&metrics::rejected_notification(
        chrono::Utc::now(),
        "bad signature",
        "00",
    ))
    .unwrap();
    let directive = &line["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(alarm["Namespace"], directive["Namespace"]);
    assert_eq!(alarm["Namespace"], metrics::NAMESPACE);
    let published: Vec<Value> = directive["Dimensions"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| serde_json::json!({ "Name": name, "Value": line[name.as_str().unwrap()] }))
        .collect();
    assert_eq!(alarm["Dimensions"], Value::Array(published));
    assert_eq!(alarm["Statistic"], "Sum");
    assert_eq!(alarm["Threshold"], 1.0);
    assert_eq!(alarm["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
    assert_eq!(alarm["TreatMissingData"], "notBreaching");
    assert_eq!(
        alarm["AlarmActions"],
        serde_json::json!([{ "Ref": "AlarmTopic" }]),
        "someone is paged"
    );
    assert_eq!(r["AlarmTopic"]["Type"], "AWS::SNS::Topic");
}

#[test]
fn stages_deploy_side_by_side_with_their_own_settings() {
    let t = template();
    assert_eq!(
        t["Parameters"]["Stage"]["AllowedValues"],
        serde_json::json!(["dev", "prod"])
    );
    // No resource takes a fixed name: every name derives from the stack (one per stage).
    for (id, r) in t["Resources"].as_object().unwrap() {
        for key in [
            "TableName",
            "QueueName",
            "FunctionName",
            "TopicName",
            "AlarmName",
        ] {
            assert!(
                r["Properties"][key].is_null(),
                "{id}: a fixed {key} would clash between stages"
            );
        }
    }
    assert!(t["Resources"]["Dashboard"]["Properties"]["DashboardName"]
        .to_string()
        .contains("Stage"));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let config = std::fs::read_to_string(root.join("samconfig.toml")).unwrap();
    let section = |name: &str| -> String {
        let start = config.find(&format!("[{name}.deploy.parameters]")).unwrap();
        let rest = &config[start + 1..];
        rest[..rest.find("\n[").unwrap_or(rest.len())].to_owned()
    };
    let (dev, prod) = (section("dev"), section("prod"));
    assert!(dev.contains("stack_name = \"market-dev\"") && dev.contains("Stage=dev"));
    assert!(prod.contains("stack_name = \"market-prod\"") && prod.contains("Stage=prod"));
    assert!(
        dev.contains("CaptchaMode=sandbox"),
        "the sandbox human check in dev only"
    );
    assert!(!prod.contains("CaptchaMode=sandbox") && prod.contains("CaptchaMode=siteverify"));
    assert!(prod.contains("AlarmEmail="), "prod's alarms reach someone");
    assert!(
        config.contains("build_in_source = true"),
        "infra/lambda/Makefile runs in place"
    );
}

#[test]
fn the_dashboard_reads_the_metrics_the_functions_write() {
    let t = template();
    let body = t["Resources"]["Dashboard"]["Properties"]["DashboardBody"].to_string();
    for metric in [
        market_app::metrics::ORDERS_PLACED,
        market_app::metrics::PAYMENTS_APPLIED,
        market_app::metrics::SWEEP_PROCESSED,
        market_app::metrics::SWEEP_FAILED,
        market_app::metrics::REFUNDS_PENDING,
        market_app::metrics::PAYOUTS_WAITING,
        market_app::metrics::REJECTED_NOTIFICATIONS,
        market_app::metrics::OUTBOX_DEAD_LETTERED,
        "ApproximateNumberOfMessagesVisible",
        "Duration",
        "Errors",
    ] {
        assert!(body.contains(metric), "the dashboard shows {metric}");
    }
    for binary in built_binaries() {
        let id = packaged_binaries()
            .into_iter()
            .find(|(_, b)| *b == binary)
            .unwrap()
            .0;
        assert!(
            body.contains(&format!("${{{id}}}")),
            "{id}'s errors and p99 are on the dashboard"
        );
    }
}

/// The outbox's deliverers: the notify function (each message's first try, from the
/// table's stream) and the sweep (the retries). Nothing else publishes or sends: a request
/// only commits its outbox message.
const DELIVERERS: [&str; 2] = ["notify", "expire-sweeper"];

#[test]
fn p9_p11_only_the_outboxs_deliverers_put_registrar_events_on_that_one_bus() {
    let t = template();
    let bus = t["Globals"]["Function"]["Environment"]["Variables"]["REGISTRAR_BUS_NAME"].clone();
    let text = bus.to_string();
    assert!(
        text.contains("RegistrarOutboundBus") && text.contains("RegistryEventBus"),
        "{bus}"
    );
    for (name, f) in &functions(&t) {
        let puts: Vec<&Value> = statements(f)
            .into_iter()
            .filter(|s| s.to_string().contains("events:PutEvents"))
            .collect();
        if DELIVERERS.contains(&name.as_str()) {
            assert_eq!(puts.len(), 1, "{name}");
            assert_eq!(puts[0]["Action"], serde_json::json!(["events:PutEvents"]));
            assert_eq!(puts[0]["Resource"], bus, "{name}: that bus only");
        } else {
            assert!(puts.is_empty(), "{name} delivers no outbox message");
        }
    }
}

#[test]
fn n1_new_outbox_items_stream_to_the_notify_function_and_only_deliverers_send_email() {
    let t = template();
    let table = &t["Resources"]["MarketTable"]["Properties"];
    assert_eq!(table["StreamSpecification"]["StreamViewType"], "KEYS_ONLY");
    let notify = &t["Resources"]["NotifyFunction"]["Properties"];
    let trigger = &notify["Events"]["OutboxItems"];
    assert_eq!(trigger["Type"], "DynamoDB");
    let props = &trigger["Properties"];
    assert!(
        props["Stream"].to_string().contains("MarketTable"),
        "{props}"
    );
    assert_eq!(
        props["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
    assert!(props["MaximumRetryAttempts"].as_i64().unwrap() >= 1);
    assert!(props["DestinationConfig"]["OnFailure"]["Destination"]
        .to_string()
        .contains("NotifyDeadLetterQueue"));
    // The filter lets through exactly what the handler reads: new items keyed OUTBOX#<id>.
    let pattern: Value = serde_json::from_str(
        props["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .expect("a JSON pattern"),
    )
    .expect("the pattern is JSON");
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    assert_eq!(
        pattern["dynamodb"]["Keys"]["pk"]["S"][0]["prefix"],
        "OUTBOX#"
    );
    let record: fn_notify::StreamRecord = serde_json::from_value(serde_json::json!({
        "eventID": "1", "eventName": "INSERT", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1764115200,
            "Keys": {"pk": {"S": "OUTBOX#obx_01jd0000000000000000000000"}, "sk": {"S": "O"}},
            "SequenceNumber": "100", "SizeBytes": 60, "StreamViewType": "KEYS_ONLY"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"
    }))
    .expect("a stream record");
    assert_eq!(
        fn_notify::outbox_id(&record).as_deref(),
        Some("obx_01jd0000000000000000000000")
    );
    for deliverer in ["NotifyFunction", "ExpireSweeperFunction"] {
        assert_eq!(
            t["Resources"][deliverer]["Properties"]["Environment"]["Variables"]["MAIL_FROM"],
            serde_json::json!({"Ref": "MailFrom"}),
            "{deliverer}"
        );
    }
    // Only the outbox's deliverers may send email, and only as the stack's sender.
    for (name, f) in &functions(&t) {
        let sends: Vec<&Value> = statements(f)
            .into_iter()
            .filter(|s| s.to_string().contains("ses:"))
            .collect();
        if DELIVERERS.contains(&name.as_str()) {
            assert_eq!(sends.len(), 1, "{name}");
            assert_eq!(sends[0]["Action"], serde_json::json!(["ses:SendEmail"]));
            assert_eq!(
                sends[0]["Condition"]["StringEquals"]["ses:FromAddress"],
                serde_json::json!({"Ref": "MailFrom"})
            );
        } else {
            assert!(sends.is_empty(), "{name} sends no email");
            assert!(
                f["Properties"]["Environment"]["Variables"]["MAIL_FROM"].is_null(),
                "{name} has no sender"
            );
        }
    }
    for (alarm, watches) in [
        ("NotifyDeadLetters", "NotifyDeadLetterQueue"),
        (
            "OutboxDeadLetterAlarm",
            market_app::metrics::OUTBOX_DEAD_LETTERED,
        ),
        ("NotifyErrors", "NotifyFunction"),
    ] {
        let a = &t["Resources"][alarm];
        assert_eq!(a["Type"], "AWS::CloudWatch::Alarm", "{alarm}");
        assert!(a.to_string().contains(watches), "{alarm} watches {watches}");
        assert!(a["Properties"]["AlarmActions"]
            .to_string()
            .contains("AlarmTopic"));
    }
}

/// L10: the functions that verify partner requests (list) or sign delivery webhooks (the
/// outbox's deliverers: notify, and the sweep that retries).
const PARTNER_KEY_FUNCTIONS: [&str; 3] = ["list", "expire-sweeper", "notify"];

#[test]
fn l10_partner_keys_stay_in_secrets_manager_and_only_partner_functions_read_them() {
    let t = template();
    assert!(t["Parameters"]["PartnerKeysSecretArn"]["AllowedPattern"]
        .as_str()
        .unwrap()
        .contains(":secretsmanager:"));
    let reference = serde_json::json!({ "Ref": "PartnerKeysSecretArn" });
    for (name, f) in &functions(&t) {
        let reads_keys = PARTNER_KEY_FUNCTIONS.contains(&name.as_str());
        let vars = &f["Properties"]["Environment"]["Variables"];
        assert_eq!(
            vars["PARTNER_KEYS_SECRET_ARN"] == reference,
            reads_keys,
            "{name}: PARTNER_KEYS_SECRET_ARN"
        );
        let granted: Vec<&Value> = f["Properties"]["Policies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["Fn::If"][0] == "HasPartnerKeys")
            .collect();
        if reads_keys {
            assert_eq!(granted.len(), 1, "{name}");
            let statement = &granted[0]["Fn::If"][1]["Statement"][0];
            assert_eq!(
                statement["Action"],
                serde_json::json!(["secretsmanager:GetSecretValue"]),
                "{name}: read only"
            );
            assert_eq!(statement["Resource"], reference, "{name}");
        } else {
            assert!(granted.is_empty(), "{name} never reads the partner keys");
        }
    }
}

#[test]
fn the_web_console_is_a_private_bucket_read_only_by_its_distribution() {
    let t = template();
    let resources = &t["Resources"];
    let bucket = &resources["ConsoleBucket"]["Properties"];
    for flag in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(
            bucket["PublicAccessBlockConfiguration"][flag], true,
            "{flag}"
        );
    }
    assert!(
        bucket["WebsiteConfiguration"].is_null(),
        "no public website endpoint"
    );
    // The distribution reads it through origin access control (SigV4), not a public URL.
    let oac = &resources["ConsoleOriginAccessControl"]["Properties"]["OriginAccessControlConfig"];
    assert_eq!(oac["OriginAccessControlOriginType"], "s3");
    assert_eq!(oac["SigningBehavior"], "always");
    let config = &resources["ConsoleDistribution"]["Properties"]["DistributionConfig"];
    let origins = config["Origins"].as_array().unwrap();
    assert_eq!(origins.len(), 1);
    assert!(origins[0]["OriginAccessControlId"]
        .to_string()
        .contains("ConsoleOriginAccessControl"));
    assert_eq!(origins[0]["S3OriginConfig"]["OriginAccessIdentity"], "");
    assert_eq!(config["DefaultRootObject"], "index.html");
    assert_eq!(
        config["DefaultCacheBehavior"]["ViewerProtocolPolicy"],
        "redirect-to-https"
    );
    // The bucket policy allows exactly one reader: this distribution.
    let statements = resources["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let allows: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    assert_eq!(allows.len(), 1, "{allows:?}");
    assert_eq!(
        allows[0]["Principal"]["Service"],
        "cloudfront.amazonaws.com"
    );
    assert_eq!(allows[0]["Action"], "s3:GetObject");
    let source = allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"].to_string();
    assert!(
        source.contains("distribution/${ConsoleDistribution}"),
        "{source}"
    );
    // The API lets the console's origin call it and read the server's clock (countdowns).
    let cors = &resources["MarketApi"]["Properties"]["CorsConfiguration"];
    assert!(cors["AllowOrigins"]
        .to_string()
        .contains("ConsoleDistribution.DomainName"));
    for header in ["authorization", "content-type", "idempotency-key"] {
        assert!(
            cors["AllowHeaders"].to_string().contains(header),
            "{header}"
        );
    }
    assert!(cors["ExposeHeaders"].to_string().contains("date"));
    // Every function that opens an Alipay payment sends the buyer back to the console.
    let mut opening = 0;
    for (name, f) in &functions(&t) {
        let vars = &f["Properties"]["Environment"]["Variables"];
        if vars["ALIPAY_NOTIFY_URL"].is_null() {
            continue;
        }
        opening += 1;
        let back = vars["ALIPAY_RETURN_URL"].to_string();
        assert!(
            back.contains("ConsoleDistribution.DomainName"),
            "{name}: {back}"
        );
    }
    assert!(opening >= 2, "the order and push functions open payments");
}

#[test]
fn without_an_issuer_the_api_trusts_the_stacks_cognito_pool_and_its_console_client() {
    let t = template();
    let resources = &t["Resources"];
    assert_eq!(t["Parameters"]["JwtIssuer"]["Default"], "");
    assert_eq!(
        t["Conditions"]["UseCognito"],
        serde_json::json!({"Fn::Equals": [{"Ref": "JwtIssuer"}, ""]})
    );
    for id in [
        "ConsoleUserPool",
        "ConsoleUserPoolClient",
        "ConsoleUserPoolDomain",
        "ConsoleOperatorsGroup",
    ] {
        assert_eq!(resources[id]["Condition"], "UseCognito", "{id}");
    }
    let jwt = &resources["MarketApi"]["Properties"]["Auth"]["Authorizers"]["MarketJwt"]
        ["JwtConfiguration"];
    let issuer = jwt["issuer"].to_string();
    assert!(
        issuer.contains("UseCognito")
            && issuer.contains("cognito-idp")
            && issuer.contains("ConsoleUserPool"),
        "{issuer}"
    );
    assert!(jwt["audience"]
        .to_string()
        .contains("ConsoleUserPoolClient"));
    // A public client (PKCE, no secret), code flow only, back to the console.
    let client = &resources["ConsoleUserPoolClient"]["Properties"];
    assert_eq!(client["GenerateSecret"], false);
    assert_eq!(client["AllowedOAuthFlows"], serde_json::json!(["code"]));
    assert!(client["CallbackURLs"]
        .to_string()
        .contains("ConsoleDistribution.DomainName"));
    // The operators' group is the `admin` role the operator routes ask for.
    assert_eq!(
        resources["ConsoleOperatorsGroup"]["Properties"]["GroupName"],
        "admin"
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let deploy = std::fs::read_to_string(root.join("infra/deploy-console.sh")).unwrap();
    for output in [
        "ConsoleBucketName",
        "ConsoleDistributionId",
        "ApiUrl",
        "CognitoDomain",
        "CognitoClientId",
    ] {
        assert!(t["Outputs"][output].is_object(), "{output}");
        assert!(deploy.contains(output), "deploy-console.sh reads {output}");
    }
}

/// Every function that writes the table may also UpdateItem: any write of a due item
/// marks its hour in the due index with an atomic increment first (`due_index`), and
/// moto does not check IAM, so only this test would see it missing.
#[test]
fn every_function_that_writes_the_table_can_mark_due_hours() {
    let t = template();
    for (name, f) in &functions(&t) {
        let actions: Vec<String> = statements(f)
            .iter()
            .map(|s| s["Action"].to_string())
            .collect();
        if actions.iter().any(|a| a.contains("dynamodb:PutItem")) {
            assert!(
                actions.iter().any(|a| a.contains("dynamodb:UpdateItem")),
                "{name} writes the table but cannot mark a due hour"
            );
        }
    }
}

/// Payments, the sweep and notifications are never starved by the API: each has reserved
/// concurrency from a parameter (0 turns it off); every queue's event source bounds how
/// many instances it runs at once; the stream runs batches of a shard concurrently; the
/// table's warm throughput is a parameter an operator sets before a sale.
#[test]
fn concurrency_and_capacity_are_configuration() {
    let t = template();
    let fs = functions(&t);
    for (binary, parameter) in [
        ("pay-callback", "PaymentsConcurrency"),
        ("expire-sweeper", "SweepConcurrency"),
        ("notify", "NotifyConcurrency"),
    ] {
        let reserved = &fs[binary]["Properties"]["ReservedConcurrentExecutions"];
        assert_eq!(
            reserved["Fn::If"][1],
            serde_json::json!({ "Ref": parameter }),
            "{binary}: {reserved}"
        );
        assert!(
            t["Parameters"][parameter]["Default"].as_i64().unwrap() > 0,
            "{parameter}"
        );
    }
    for (binary, f) in &fs {
        let Some(events) = f["Properties"]["Events"].as_object() else {
            continue;
        };
        for (name, event) in events {
            if event["Type"] == "SQS" {
                assert!(
                    !event["Properties"]["ScalingConfig"]["MaximumConcurrency"].is_null(),
                    "{binary}'s {name} runs unbounded"
                );
            }
            if event["Type"] == "DynamoDB" {
                assert_eq!(event["Properties"]["ParallelizationFactor"], 10, "{binary}");
            }
        }
    }
    // The sweep's workers: as many at once as the operator says, within the function's
    // reserved concurrency.
    let work = &fs["expire-sweeper"]["Properties"]["Events"]["SweepWork"]["Properties"];
    assert_eq!(
        work["ScalingConfig"]["MaximumConcurrency"],
        serde_json::json!({ "Ref": "SweepWorkers" })
    );
    assert_eq!(work["BatchSize"], 1, "each batch on its own time budget");
    let parameters = &t["Parameters"];
    assert!(
        parameters["SweepConcurrency"]["Default"].as_i64().unwrap()
            >= parameters["SweepWorkers"]["Default"].as_i64().unwrap() + 11,
        "the dispatcher, the deadlines and the workers fit in the reserved concurrency"
    );
    // Memory as the memory bench measured it (CPU comes with it): the sweep's dispatcher,
    // the largest cart, a 500-domain delivery.
    for (binary, memory) in [
        ("expire-sweeper", 1024),
        ("order", 512),
        ("pay-callback", 256),
    ] {
        assert_eq!(fs[binary]["Properties"]["MemorySize"], memory, "{binary}");
    }
    let warm = &t["Resources"]["MarketTable"]["Properties"]["WarmThroughput"];
    assert_eq!(
        warm["Fn::If"][1]["WriteUnitsPerSecond"],
        serde_json::json!({ "Ref": "TableWarmWriteUnits" }),
        "{warm}"
    );
}

/// Q1: only the indexer writes the search index and only the list function reads it (and
/// only `_search`); both find the domain through `SEARCH_URL`; the indexer is fed the
/// listing items and the rebuild item of the table's stream, with a DLQ and alarms on its
/// errors and on its lag past the 5 s goal.
#[test]
fn only_the_indexer_writes_the_search_index_and_only_the_list_function_searches_it() {
    let t = template();
    let r = &t["Resources"];
    assert_eq!(r["SearchDomain"]["Type"], "AWS::OpenSearchService::Domain");
    let domain = &r["SearchDomain"]["Properties"];
    assert_eq!(domain["EncryptionAtRestOptions"]["Enabled"], true);
    assert_eq!(domain["DomainEndpointOptions"]["EnforceHTTPS"], true);
    for (name, f) in &functions(&t) {
        let es: Vec<&Value> = statements(f)
            .into_iter()
            .filter(|s| s["Action"].to_string().contains("\"es:"))
            .collect();
        let actions: BTreeSet<String> = es
            .iter()
            .flat_map(|s| s["Action"].as_array().into_iter().flatten())
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        let resources = es
            .iter()
            .map(|s| s["Resource"].to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let url = &f["Properties"]["Environment"]["Variables"]["SEARCH_URL"];
        match name.as_str() {
            "indexer" => {
                assert!(actions.contains("es:ESHttpPost") && actions.contains("es:ESHttpPut"));
                assert!(!actions.contains("es:ESHttpDelete"), "{actions:?}");
                assert!(resources.contains("/listings"), "{resources}");
                assert_eq!(url["Fn::GetAtt"][0], "SearchDomain");
            }
            "list" => {
                assert_eq!(
                    actions,
                    BTreeSet::from(["es:ESHttpGet".to_owned(), "es:ESHttpPost".to_owned()])
                );
                assert!(resources.contains("/listings/_search"), "{resources}");
                assert_eq!(url["Fn::GetAtt"][0], "SearchDomain");
            }
            other => {
                assert!(es.is_empty(), "{other} may not reach the search domain");
                assert!(url.is_null(), "{other} has no SEARCH_URL");
            }
        }
    }
    let indexer = &r["IndexerFunction"]["Properties"]["Events"]["ListingChanges"]["Properties"];
    let pattern: Value = serde_json::from_str(
        indexer["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        pattern["dynamodb"]["Keys"]["pk"]["S"],
        serde_json::json!([{"prefix": "LISTING#"}, "SEARCH#rebuild"])
    );
    assert_eq!(
        indexer["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
    assert_eq!(
        indexer["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0],
        "IndexerDeadLetterQueue"
    );
    let lag = &r["IndexerLag"]["Properties"];
    assert_eq!(lag["MetricName"], "IteratorAge");
    assert_eq!(lag["Threshold"], 5000);
}
