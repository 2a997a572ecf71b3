//! A stand-in for an Amazon OpenSearch Service domain, for the OpenSearch adapter's tests
//! (no OpenSearch can run on these machines: TOOLING.md). It checks every request it is
//! sent as a strict domain would (the index is created with a strict mapping of the types
//! the adapter uses; documents carry external versions; queries use only the clauses the
//! adapter makes, each on a field of the right type) and answers as OpenSearch does: bulk
//! item statuses (409 for a stale version), `hits.total` with its relation, constant-score
//! bool scoring, sorts, `from`/`size`, terms aggregations. What it does not model:
//! analysis beyond whitespace, shards, refresh delays, relevance beyond constant scores.
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: &'static str,
    pub path: String,
    pub body: String,
}

#[derive(Default)]
struct Index {
    /// Field name → its mapped type (`keyword`, `text`, `long`, `stored`).
    mapping: HashMap<String, String>,
    docs: BTreeMap<String, (u64, Value)>,
    /// Versions of deleted documents (OpenSearch keeps them for `index.gc_deletes`).
    deleted: HashMap<String, u64>,
}

#[derive(Default)]
pub struct Domain {
    indexes: HashMap<String, Index>,
    pub received: Vec<Received>,
    /// Answer every request with 429 while set.
    pub throttled: bool,
}

pub type Shared = Arc<Mutex<Domain>>;

/// Starts a stand-in domain; its URL and its state.
pub async fn start() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new()
        .route("/{index}", axum::routing::put(create).head(exists))
        .route("/{index}/_bulk", post(bulk))
        .route("/{index}/_search", post(search))
        .route("/{index}/_count", get(count))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), state)
}

fn error(status: StatusCode, kind: &str, reason: impl Into<String>) -> Response {
    let body = json!({"error": {"type": kind, "reason": reason.into()}, "status": status.as_u16()});
    (status, Json(body)).into_response()
}

fn throttled() -> Response {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        "es_rejected_execution_exception",
        "rejected execution (the stand-in is throttling)",
    )
}

fn record(state: &Shared, method: &'static str, path: String, body: &[u8]) -> bool {
    let mut domain = state.lock().unwrap();
    domain.received.push(Received {
        method,
        path,
        body: String::from_utf8_lossy(body).into_owned(),
    });
    domain.throttled
}

async fn exists(State(state): State<Shared>, Path(index): Path<String>) -> StatusCode {
    record(&state, "HEAD", format!("/{index}"), b"");
    if state.lock().unwrap().indexes.contains_key(&index) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn create(State(state): State<Shared>, Path(index): Path<String>, body: Bytes) -> Response {
    if record(&state, "PUT", format!("/{index}"), &body) {
        return throttled();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            "the body is not JSON",
        );
    };
    let mut domain = state.lock().unwrap();
    if domain.indexes.contains_key(&index) {
        return error(
            StatusCode::BAD_REQUEST,
            "resource_already_exists_exception",
            format!("index [{index}] already exists"),
        );
    }
    if body["mappings"]["dynamic"] != "strict" {
        return error(
            StatusCode::BAD_REQUEST,
            "mapper_parsing_exception",
            "the stand-in expects a strict mapping",
        );
    }
    let mut mapping = HashMap::new();
    for (field, spec) in body["mappings"]["properties"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let kind = match (spec["type"].as_str(), spec["index"].as_bool()) {
            (Some("keyword"), Some(false)) => "stored",
            (Some("keyword"), _) => "keyword",
            (Some("long"), _) => "long",
            (Some("text"), _)
                if spec["analyzer"] == "whitespace" && spec["index_options"] == "positions" =>
            {
                "text"
            }
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "mapper_parsing_exception",
                    format!("the stand-in does not model the mapping of [{field}]: {spec}"),
                )
            }
        };
        mapping.insert(field.clone(), kind.to_owned());
    }
    domain.indexes.insert(
        index.clone(),
        Index {
            mapping,
            ..Index::default()
        },
    );
    Json(json!({"acknowledged": true, "shards_acknowledged": true, "index": index})).into_response()
}

async fn count(State(state): State<Shared>, Path(index): Path<String>) -> Response {
    if record(&state, "GET", format!("/{index}/_count"), b"") {
        return throttled();
    }
    let domain = state.lock().unwrap();
    match domain.indexes.get(&index) {
        Some(i) => Json(json!({"count": i.docs.len()})).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "index_not_found_exception",
            "no such index",
        ),
    }
}

/// Checks a document's source against the strict mapping.
fn check_source(mapping: &HashMap<String, String>, source: &Value) -> Result<(), String> {
    let fields = source.as_object().ok_or("the source is not an object")?;
    for (field, value) in fields {
        let kind = mapping.get(field).ok_or_else(|| {
            format!("mapping set to strict, dynamic introduction of [{field}] is not allowed")
        })?;
        let ok = match kind.as_str() {
            "long" => value.is_i64() || value.is_u64(),
            "text" | "stored" => value.is_string(),
            _ => {
                value.is_string()
                    || value
                        .as_array()
                        .is_some_and(|a| a.iter().all(Value::is_string))
            }
        };
        if !ok {
            return Err(format!(
                "failed to parse field [{field}] of type [{kind}]: {value}"
            ));
        }
    }
    Ok(())
}

async fn bulk(State(state): State<Shared>, Path(index): Path<String>, body: Bytes) -> Response {
    if record(&state, "POST", format!("/{index}/_bulk"), &body) {
        return throttled();
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    if !text.ends_with('\n') {
        return error(
            StatusCode::BAD_REQUEST,
            "illegal_argument_exception",
            "The bulk request must be terminated by a newline [\\n]",
        );
    }
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let mut domain = state.lock().unwrap();
    let Some(target) = domain.indexes.get_mut(&index) else {
        return error(
            StatusCode::NOT_FOUND,
            "index_not_found_exception",
            "no such index",
        );
    };
    let mut items = Vec::new();
    let mut errors = false;
    while let Some(line) = lines.next() {
        let Ok(action) = serde_json::from_str::<Value>(line) else {
            return error(
                StatusCode::BAD_REQUEST,
                "parse_exception",
                "a bulk line is not JSON",
            );
        };
        let Some((verb, meta)) = action.as_object().and_then(|o| o.iter().next()) else {
            return error(
                StatusCode::BAD_REQUEST,
                "illegal_argument_exception",
                "an empty bulk action",
            );
        };
        let id = meta["_id"].as_str().unwrap_or_default().to_owned();
        let version = meta["version"].as_u64();
        if meta["version_type"] != "external"
            || version.is_none()
            || meta["_index"] != index.as_str()
        {
            return error(
                StatusCode::BAD_REQUEST,
                "action_request_validation_exception",
                format!("the stand-in expects external versions on index [{index}]: {meta}"),
            );
        }
        let version = version.unwrap_or_default();
        let held = target
            .docs
            .get(&id)
            .map(|(v, _)| *v)
            .or_else(|| target.deleted.get(&id).copied());
        let conflict = held.is_some_and(|h| h >= version);
        let status = match verb.as_str() {
            "index" => {
                let Some(source) = lines
                    .next()
                    .and_then(|l| serde_json::from_str::<Value>(l).ok())
                else {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "parse_exception",
                        "an index action without a source",
                    );
                };
                if let Err(reason) = check_source(&target.mapping, &source) {
                    errors = true;
                    items.push(json!({"index": {"_id": id, "status": 400, "error": {"type": "strict_dynamic_mapping_exception", "reason": reason}}}));
                    continue;
                }
                if conflict {
                    409
                } else {
                    target.deleted.remove(&id);
                    let created = target.docs.insert(id.clone(), (version, source)).is_none();
                    if created {
                        201
                    } else {
                        200
                    }
                }
            }
            "delete" => {
                if conflict {
                    409
                } else {
                    target.deleted.insert(id.clone(), version);
                    if target.docs.remove(&id).is_some() {
                        200
                    } else {
                        404
                    }
                }
            }
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "illegal_argument_exception",
                    format!("the stand-in does not model bulk [{other}]"),
                );
            }
        };
        errors |= status >= 300;
        let mut item = json!({"_index": index, "_id": id, "status": status});
        if status == 409 {
            item["error"] = json!({"type": "version_conflict_engine_exception", "reason": format!("[{id}]: version conflict, current version [{}] is higher or equal to the one provided [{version}]", held.unwrap_or_default())});
        }
        items.push(json!({verb.clone(): item}));
    }
    Json(json!({"took": 1, "errors": errors, "items": items})).into_response()
}

/// Evaluates a query clause on a source: `Some(score)` when it matches.
fn eval(mapping: &HashMap<String, String>, q: &Value, doc: &Value) -> Result<Option<f64>, String> {
    let (kind, body) = q
        .as_object()
        .and_then(|o| o.iter().next())
        .ok_or_else(|| format!("an empty clause: {q}"))?;
    let field_of = |body: &Value, want: &[&str]| -> Result<(String, Value), String> {
        let (field, value) = body
            .as_object()
            .and_then(|o| o.iter().next())
            .ok_or_else(|| format!("[{kind}] names no field"))?;
        let mapped = mapping
            .get(field)
            .ok_or_else(|| format!("[{kind}] on the unmapped field [{field}]"))?;
        if !want.contains(&mapped.as_str()) {
            return Err(format!("[{kind}] on [{field}], a [{mapped}] field"));
        }
        Ok((field.clone(), value.clone()))
    };
    let values = |field: &str| -> Vec<Value> {
        match &doc[field] {
            Value::Array(a) => a.clone(),
            Value::Null => Vec::new(),
            v => vec![v.clone()],
        }
    };
    let hit = |b: bool| if b { Some(0.0) } else { None };
    Ok(match kind.as_str() {
        "term" => {
            let (field, value) = field_of(body, &["keyword", "text"])?;
            if mapping[&field] == "text" {
                let tokens = doc[&field]
                    .as_str()
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(Value::from)
                    .collect::<Vec<_>>();
                hit(tokens.contains(&value))
            } else {
                hit(values(&field).contains(&value))
            }
        }
        "terms" => {
            let (field, wanted) = field_of(body, &["keyword"])?;
            let wanted = wanted.as_array().ok_or("[terms] needs an array")?.clone();
            hit(values(&field).iter().any(|v| wanted.contains(v)))
        }
        "range" => {
            let (field, bounds) = field_of(body, &["long"])?;
            let n = doc[&field].as_i64();
            let gte = bounds["gte"].as_i64();
            let lte = bounds["lte"].as_i64();
            if bounds
                .as_object()
                .is_some_and(|b| b.keys().any(|k| k != "gte" && k != "lte"))
            {
                return Err(format!("the stand-in models gte and lte only: {bounds}"));
            }
            hit(n.is_some_and(|n| gte.is_none_or(|g| n >= g) && lte.is_none_or(|l| n <= l)))
        }
        "match_phrase" => {
            let (field, spec) = field_of(body, &["text"])?;
            if spec["analyzer"] != "whitespace" {
                return Err("match_phrase without the whitespace analyzer".into());
            }
            let phrase: Vec<&str> = spec["query"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .collect();
            let tokens: Vec<&str> = doc[&field]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .collect();
            hit(!phrase.is_empty() && tokens.windows(phrase.len()).any(|w| w == phrase.as_slice()))
        }
        "constant_score" => {
            let boost = body["boost"].as_f64().unwrap_or(1.0);
            eval(mapping, &body["filter"], doc)?.map(|_| boost)
        }
        "bool" => {
            let list = |name: &str| body[name].as_array().cloned().unwrap_or_default();
            for key in body.as_object().into_iter().flatten().map(|(k, _)| k) {
                if !["filter", "should", "must_not", "minimum_should_match"].contains(&key.as_str())
                {
                    return Err(format!("the stand-in does not model bool [{key}]"));
                }
            }
            for f in list("filter") {
                if eval(mapping, &f, doc)?.is_none() {
                    return Ok(None);
                }
            }
            for f in list("must_not") {
                if eval(mapping, &f, doc)?.is_some() {
                    return Ok(None);
                }
            }
            let mut score = 0.0;
            let mut matched = 0;
            for s in list("should") {
                if let Some(sc) = eval(mapping, &s, doc)? {
                    score += sc;
                    matched += 1;
                }
            }
            // Without filter clauses (or with minimum_should_match), a should must match.
            let minimum = body["minimum_should_match"].as_u64().unwrap_or(
                if list("filter").is_empty() && !list("should").is_empty() {
                    1
                } else {
                    0
                },
            );
            if matched < minimum {
                return Ok(None);
            }
            Some(score)
        }
        other => return Err(format!("the stand-in does not model [{other}] queries")),
    })
}

async fn search(State(state): State<Shared>, Path(index): Path<String>, body: Bytes) -> Response {
    if record(&state, "POST", format!("/{index}/_search"), &body) {
        return throttled();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            "the body is not JSON",
        );
    };
    let domain = state.lock().unwrap();
    let Some(target) = domain.indexes.get(&index) else {
        return error(
            StatusCode::NOT_FOUND,
            "index_not_found_exception",
            "no such index",
        );
    };
    let from = body["from"].as_u64().unwrap_or(0) as usize;
    let size = body["size"].as_u64().unwrap_or(10) as usize;
    if from + size > 10_000 {
        return error(
            StatusCode::BAD_REQUEST,
            "illegal_argument_exception",
            "Result window is too large, from + size must be less than or equal to: [10000]",
        );
    }
    let mut matched = Vec::new();
    for (id, (_, source)) in &target.docs {
        match eval(&target.mapping, &body["query"], source) {
            Ok(Some(score)) => matched.push((score, id, source)),
            Ok(None) => {}
            Err(reason) => return error(StatusCode::BAD_REQUEST, "parsing_exception", reason),
        }
    }
    let sort = body["sort"].as_array().cloned().unwrap_or_default();
    for key in &sort {
        let Some((field, spec)) = key.as_object().and_then(|o| o.iter().next()) else {
            return error(
                StatusCode::BAD_REQUEST,
                "parsing_exception",
                "a sort is not an object",
            );
        };
        if field != "_score" && target.mapping.get(field).map(String::as_str) != Some("long") {
            return error(
                StatusCode::BAD_REQUEST,
                "illegal_argument_exception",
                format!("the stand-in sorts on long fields only, not [{field}]"),
            );
        }
        if !["asc", "desc"].contains(&spec["order"].as_str().unwrap_or_default()) {
            return error(
                StatusCode::BAD_REQUEST,
                "parsing_exception",
                "a sort without an order",
            );
        }
    }
    matched.sort_by(|a, b| {
        for key in &sort {
            let (field, spec) = key.as_object().and_then(|o| o.iter().next()).unwrap();
            let ord = if field == "_score" {
                a.0.partial_cmp(&b.0).unwrap()
            } else {
                a.2[field].as_i64().cmp(&b.2[field].as_i64())
            };
            let ord = if spec["order"] == "desc" {
                ord.reverse()
            } else {
                ord
            };
            if ord.is_ne() {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
    let track = body["track_total_hits"].as_u64().unwrap_or(10_000) as usize;
    let total = matched.len();
    let (value, relation) = if total > track {
        (track, "gte")
    } else {
        (total, "eq")
    };
    let wanted: Vec<String> = body["_source"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let hits: Vec<Value> = matched
        .iter()
        .skip(from)
        .take(size)
        .map(|(score, id, source)| {
            let mut kept = Map::new();
            for field in &wanted {
                if let Some(v) = source.get(field) {
                    kept.insert(field.clone(), v.clone());
                }
            }
            json!({"_index": index, "_id": id, "_score": score, "_source": kept})
        })
        .collect();
    let mut answer = json!({
        "took": 1,
        "timed_out": false,
        "hits": {"total": {"value": value, "relation": relation}, "hits": hits}
    });
    if let Some(aggs) = body["aggs"].as_object() {
        let mut out = Map::new();
        for (name, spec) in aggs {
            let field = spec["terms"]["field"].as_str().unwrap_or_default();
            let Some(kind) = target.mapping.get(field) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "illegal_argument_exception",
                    format!("terms on the unmapped field [{field}]"),
                );
            };
            if kind != "keyword" && kind != "long" {
                return error(
                    StatusCode::BAD_REQUEST,
                    "illegal_argument_exception",
                    format!("terms on [{field}], a [{kind}] field without doc values"),
                );
            }
            let size = spec["terms"]["size"].as_u64().unwrap_or(10) as usize;
            let mut counts: BTreeMap<String, (Value, u64)> = BTreeMap::new();
            for (_, _, source) in &matched {
                let values = match &source[field] {
                    Value::Array(a) => a.clone(),
                    Value::Null => Vec::new(),
                    v => vec![v.clone()],
                };
                for v in values {
                    let key = match &v {
                        Value::String(s) => s.clone(),
                        other => format!("{:020}", other.as_i64().unwrap_or(0)),
                    };
                    counts.entry(key).or_insert((v, 0)).1 += 1;
                }
            }
            let mut buckets: Vec<(Value, u64)> = counts.into_values().collect();
            buckets.sort_by_key(|b| std::cmp::Reverse(b.1));
            let buckets: Vec<Value> = buckets
                .into_iter()
                .take(size)
                .map(|(key, n)| json!({"key": key, "doc_count": n}))
                .collect();
            out.insert(name.clone(), json!({"buckets": buckets}));
        }
        answer["aggregations"] = Value::Object(out);
    }
    Json(answer).into_response()
}
