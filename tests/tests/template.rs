//! `template.yaml` against the code: every route a function's router serves is in the
//! template for that function and nothing else is (no dev route is ever deployed); the table
//! the local setup creates is the template's table; queues, triggers and permissions are what
//! the handlers need. The template is read with cfn-lint's own YAML decoder (it knows the
//! CloudFormation tags), from the venv the test command installs.
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use shared::store::schema::{index_keys, PK, SK, TTL};
use shared::store::Index;

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

fn functions(t: &Value) -> BTreeMap<String, &Value> {
    t["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::Function")
        .map(|r| {
            let uri = r["Properties"]["CodeUri"].as_str().unwrap();
            let binary = uri
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned();
            (binary, r)
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

fn served(table: &shared::web::RouteTable) -> BTreeSet<(String, String)> {
    shared::web::route_list(table)
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
    // Public routes: the market browse, a listing, and the provider's notifications.
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
        ("GET", "/listings/{id}"),
        ("POST", "/payments/alipay/notify"),
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
            assert_eq!(i["Projection"]["ProjectionType"], "ALL");
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
            .find(|e| e["Type"] == "SQS")
            .expect("an SQS trigger");
        assert_eq!(sqs["Properties"]["Queue"]["Fn::GetAtt"][0], queue);
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
    for (name, f) in &functions {
        assert_eq!(
            f["Properties"]["CodeUri"],
            format!("target/lambda/{name}/"),
            "prebuilt by ./infra/build-lambdas.sh"
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
    // Money-handling functions get Alipay's settings (from Secrets Manager); the others do not.
    for (name, f) in &functions {
        let has_keys =
            f["Properties"]["Environment"]["Variables"]["ALIPAY_APP_PRIVATE_KEY_PEM"].is_object();
        let needs = ["order", "push", "pay-callback", "expire-sweeper"].contains(&name.as_str());
        assert_eq!(has_keys, needs, "{name}");
    }
    // Alarms on both dead-letter queues and on every function's errors.
    let alarms: Vec<&Value> = r
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v["Type"] == "AWS::CloudWatch::Alarm")
        .collect();
    assert_eq!(alarms.len(), 2 + functions.len());
}
