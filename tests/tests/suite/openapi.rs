//! `openapi.yaml` is generated from the code (`infra::openapi`) and describes exactly the
//! routes the server serves: every function's routes and the local runner's own.
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn documented() -> BTreeSet<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".local-aws/venv/bin/python");
    assert!(
        python.exists(),
        "run ./infra/test.sh first: it installs the venv with PyYAML"
    );
    let out = Command::new(python)
        .current_dir(&root)
        .args([
            "-c",
            "import json, yaml\nprint(json.dumps(yaml.safe_load(open('openapi.yaml'))))",
        ])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

#[test]
fn the_openapi_document_lists_every_served_route_and_no_other() {
    let mut served: BTreeSet<(String, String)> = BTreeSet::new();
    for table in [
        fn_list::routes(),
        fn_order::routes(),
        fn_pay_callback::routes(),
        fn_push::routes(),
        fn_admin::routes(),
        fn_account::routes(),
        infra::dev::routes(),
    ] {
        served.extend(
            market_web::route_list(&table)
                .into_iter()
                .map(|(m, p)| (m.to_owned(), p.to_owned())),
        );
    }
    served.insert(("GET".into(), "/health".into()));
    assert_eq!(documented(), served);
}

/// The committed `openapi.yaml` is the document the code generates
/// (`cargo run -p infra --bin openapi > openapi.yaml` after a change to a route, a DTO or a
/// view).
#[test]
fn the_committed_openapi_document_is_the_generated_one() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let committed = std::fs::read_to_string(root.join("openapi.yaml")).expect("openapi.yaml");
    let generated = infra::openapi::yaml();
    if committed != generated {
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(generated.lines().count()));
        panic!(
            "openapi.yaml is not what the code generates (first difference at line {}): run \
             `cargo run -p infra --bin openapi > openapi.yaml`",
            first + 1
        );
    }
}

/// The contract check every API test's answers go through (`market_tests::contract`) really
/// refuses a body that does not match, and a status the route does not document.
#[test]
#[should_panic(expected = "does not match its schema")]
fn an_answer_that_breaks_its_schema_fails_the_test_that_got_it() {
    market_tests::contract::check(
        "GET",
        "/listings/lst_01",
        200,
        "application/json",
        &serde_json::json!({ "id": 5 }),
    );
}

#[test]
#[should_panic(expected = "does not document")]
fn an_undocumented_status_fails_the_test_that_got_it() {
    market_tests::contract::check(
        "GET",
        "/listings/lst_01",
        418,
        "application/json",
        &serde_json::json!({}),
    );
}

#[test]
fn a_problem_answer_matches_the_problem_schema() {
    market_tests::contract::check(
        "GET",
        "/listings/lst_01",
        404,
        "application/problem+json",
        &serde_json::json!({ "type": "about:blank", "title": "Not found", "status": 404,
            "detail": "no such listing", "code": "NOT_FOUND" }),
    );
}

/// Two types documented under one schema name (`#[schema(as = …)]`) become one schema in the
/// document, the last one generated winning: a request body was once documented with the
/// fields of a view of the same name. Every such name is used once.
#[test]
fn no_two_types_share_a_schema_name() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut dirs = vec![
        root.join("shared"),
        root.join("functions"),
        root.join("infra"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("node_modules") && !path.ends_with("target") {
                    dirs.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let Some(rest) = line.split("schema(as = ").nth(1) else {
                    continue;
                };
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let at = format!("{}:{}", path.display(), n + 1);
                if let Some(first) = seen.insert(name.clone(), at.clone()) {
                    panic!("schema name {name} is used at {first} and at {at}");
                }
            }
        }
    }
    assert!(seen.len() > 20, "the sources were read: {seen:?}");
}
