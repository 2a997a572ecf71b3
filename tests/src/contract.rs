//! Every answer an API test gets is checked against the generated OpenAPI document
//! (`infra::openapi::document`, the same one `openapi.yaml` is written from): the status must
//! be one the operation documents, and a JSON body must match that response's schema. A
//! handler that drifts from its documented shape fails the test that exercised it.
use std::sync::OnceLock;

use serde_json::Value;

/// The document as JSON, and its path templates split into segments.
struct Contract {
    spec: Value,
    templates: Vec<(String, Vec<String>)>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let spec = serde_json::to_value(infra::openapi::document()).expect("the spec as JSON");
        let templates = spec["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(|t| (t.clone(), t.split('/').map(str::to_owned).collect()))
            .collect();
        Contract { spec, templates }
    })
}

/// The path template a concrete path is an instance of, if the document has one.
fn template_of<'a>(contract: &'a Contract, path: &str) -> Option<&'a str> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    contract
        .templates
        .iter()
        .filter(|(_, t)| t.len() == segments.len())
        .filter(|(_, t)| {
            t.iter()
                .zip(&segments)
                .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
        })
        // A literal segment beats a parameter (`/listings/featured` over `/listings/{id}`).
        .max_by_key(|(_, t)| t.iter().filter(|s| !s.starts_with('{')).count())
        .map(|(template, _)| template.as_str())
}

/// Panics when the answer is not what the document says `method path` answers.
pub fn check(method: &str, path: &str, status: u16, content_type: &str, body: &Value) {
    let contract = contract();
    let Some(template) = template_of(contract, path) else {
        return; // not a route of the contract (a test of the 404 for unknown routes)
    };
    let operation = &contract.spec["paths"][template][method.to_ascii_lowercase()];
    if operation.is_null() {
        return; // a method the route does not serve (405 tests)
    }
    let responses = &operation["responses"];
    let response = match &responses[status.to_string()] {
        Value::Null => &responses["default"],
        found => found,
    };
    assert!(
        !response.is_null(),
        "{method} {template} answered {status}, which its contract does not document: {body}"
    );
    let response = resolve(&contract.spec, response);
    let media = content_type.split(';').next().unwrap_or("").trim();
    let Some(schema) = response["content"][media]["schema"].as_object() else {
        return; // no schema for this media type (plain text)
    };
    let mut document = Value::Object(schema.clone());
    document["components"] = contract.spec["components"].clone();
    let validator = jsonschema::validator_for(&document)
        .unwrap_or_else(|e| panic!("the schema of {method} {template} {status} compiles: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {status}: the body does not match its schema: {errors:?}\n{body}"
    );
}

/// A `$ref`ed response object, resolved.
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            spec.pointer(pointer).unwrap_or(value)
        }
        None => value,
    }
}
