//! The cloud's search engine: an Amazon OpenSearch Service domain, through the official
//! `opensearch` client with SigV4 signing. The index mapping is made from the core's one
//! mapping, the query DSL from the core's plan, clause by clause, as the embedded engine
//! makes its queries: the same plan means the same on both (the contract suite in the
//! tests runs on the embedded engine and, through a stand-in that checks each request and
//! answers as OpenSearch does, on this adapter; no live cluster has run it).
//!
//! Versions are external (the listing item's version): a late or repeated change never
//! replaces a newer one, whatever order the stream delivers them in.
use async_trait::async_trait;
use opensearch::http::request::JsonBody;
use opensearch::http::response::Response;
use opensearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use opensearch::http::StatusCode;
use opensearch::indices::{IndicesCreateParts, IndicesExistsParts};
use opensearch::{BulkParts, CountParts, OpenSearch, SearchParts};
use serde_json::{json, Map, Value as Json};

use market_app::ports::search::{Hits, SearchChange, SearchError, SearchIndex};
use market_core::search::doc::{self, FieldKind, SearchDoc, Value, FIELDS};
use market_core::search::query::{Clause, Facet, Order, Plan, SortKey, WINDOW};

use super::embedded::most_first;

/// How the adapter reaches the domain.
#[derive(Debug, Clone)]
pub struct OpenSearchConfig {
    /// `https://search-….es.amazonaws.com` (or a stand-in's URL).
    pub url: String,
    /// The index's name (`listings`).
    pub index: String,
    /// Sign requests with SigV4 for service `es` (a stand-in takes them unsigned).
    pub sign: bool,
}

pub struct OpenSearchIndex {
    client: OpenSearch,
    index: String,
}

fn failed(e: impl std::fmt::Display) -> SearchError {
    SearchError::Failed(e.to_string())
}

/// The index's settings and mapping, made from the core's one mapping.
pub fn index_body() -> Json {
    let mut properties = Map::new();
    for (name, kind) in FIELDS {
        let field = match kind {
            FieldKind::Keyword => json!({"type": "keyword"}),
            FieldKind::Grams => json!({
                "type": "text",
                "analyzer": "whitespace",
                "index_options": "positions",
                "norms": false
            }),
            FieldKind::Number => json!({"type": "long"}),
            FieldKind::Stored => json!({"type": "keyword", "index": false, "doc_values": false}),
        };
        properties.insert((*name).to_owned(), field);
    }
    json!({
        "settings": {
            "index": {
                // Search lags the table by the stream's delay plus this (goal: 5 s).
                "refresh_interval": "1s",
                "max_result_window": WINDOW,
            }
        },
        "mappings": {"dynamic": "strict", "properties": properties}
    })
}

/// A document's source.
pub fn source(search_doc: &SearchDoc) -> Json {
    let mut out = Map::new();
    for (name, value) in &search_doc.fields {
        let json = match (doc::kind_of(name), value) {
            (Some(FieldKind::Grams), Value::Words(grams)) => Json::from(grams.join(" ")),
            (_, Value::Words(words)) => Json::from(words.clone()),
            (_, Value::Number(n)) => Json::from(*n),
            (_, Value::Text(text)) => Json::from(text.clone()),
        };
        out.insert((*name).to_owned(), json);
    }
    Json::Object(out)
}

/// The bulk request's lines for the changes (an action line, and a source for a put).
pub fn bulk_lines(index: &str, changes: &[SearchChange]) -> Vec<Json> {
    let mut lines = Vec::new();
    for change in changes {
        match change {
            SearchChange::Put(d) => {
                lines.push(json!({"index": {
                    "_index": index, "_id": d.id,
                    "version": d.version, "version_type": "external"
                }}));
                lines.push(source(d));
            }
            SearchChange::Remove { id, version } => {
                lines.push(json!({"delete": {
                    "_index": index, "_id": id,
                    "version": version, "version_type": "external"
                }}));
            }
        }
    }
    lines
}

/// One clause as query DSL.
pub fn clause(c: &Clause) -> Json {
    match c {
        Clause::Term { field, value } => json!({"term": {*field: value}}),
        Clause::AnyTerm { field, values } => json!({"terms": {*field: values}}),
        Clause::Range { field, min, max } => {
            let mut bounds = Map::new();
            if let Some(min) = min {
                bounds.insert("gte".into(), Json::from(*min));
            }
            if let Some(max) = max {
                bounds.insert("lte".into(), Json::from(*max));
            }
            json!({"range": {*field: bounds}})
        }
        Clause::Phrase { field, grams } if grams.len() == 1 => {
            json!({"term": {*field: grams[0]}})
        }
        Clause::Phrase { field, grams } => json!({"match_phrase": {*field: {
            "query": grams.join(" "), "analyzer": "whitespace"
        }}}),
        Clause::Any(clauses) => json!({"bool": {
            "should": clauses.iter().map(clause).collect::<Vec<_>>(),
            "minimum_should_match": 1
        }}),
        Clause::Not(inner) => json!({"bool": {"must_not": [clause(inner)]}}),
    }
}

/// The whole search request for a plan.
pub fn search_body(plan: &Plan) -> Json {
    let filter: Vec<Json> = plan.filter.iter().map(clause).collect();
    let should: Vec<Json> = plan
        .boosts
        .iter()
        .map(|(c, boost)| json!({"constant_score": {"filter": clause(c), "boost": boost}}))
        .collect();
    let sort: Vec<Json> = plan
        .sort
        .iter()
        .map(|(key, order)| {
            let order = if *order == Order::Ascending {
                "asc"
            } else {
                "desc"
            };
            match key {
                SortKey::Score => json!({"_score": {"order": order}}),
                SortKey::Field(f) => json!({*f: {"order": order}}),
            }
        })
        .collect();
    let mut body = json!({
        "from": plan.offset,
        "size": plan.limit,
        // One past the window: more than that is reported as a lower bound.
        "track_total_hits": WINDOW + 1,
        "_source": [doc::LISTING],
        "query": {"bool": {"filter": filter, "should": should}},
        "sort": sort,
    });
    if !plan.facets.is_empty() {
        let aggs: Map<String, Json> = plan
            .facets
            .iter()
            .map(|f| {
                let size = if *f == Facet::Tld { 1000 } else { 100 };
                (
                    f.as_str().to_owned(),
                    json!({"terms": {"field": f.field(), "size": size}}),
                )
            })
            .collect();
        body["aggs"] = Json::Object(aggs);
    }
    body
}

/// What the search answered.
pub fn hits_of(plan: &Plan, answer: &Json) -> Result<Hits, SearchError> {
    let hits = &answer["hits"];
    let total = hits["total"]["value"]
        .as_u64()
        .ok_or_else(|| failed("the answer has no hits.total.value"))?;
    let listings = hits["hits"]
        .as_array()
        .ok_or_else(|| failed("the answer has no hits.hits"))?
        .iter()
        .map(|h| {
            h["_source"][doc::LISTING]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| failed("a hit has no listing in its source"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut facets = Vec::new();
    for facet in &plan.facets {
        let buckets = answer["aggregations"][facet.as_str()]["buckets"]
            .as_array()
            .ok_or_else(|| failed(format!("the answer has no {} buckets", facet.as_str())))?;
        let counts = buckets
            .iter()
            .map(|b| {
                let key = match &b["key"] {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (key, b["doc_count"].as_u64().unwrap_or(0))
            })
            .collect();
        facets.push((*facet, most_first(counts)));
    }
    Ok(Hits {
        listings,
        total,
        facets,
    })
}

/// A refusal for load is the caller's to retry; anything else failed.
async fn answered(response: Response, what: &str) -> Result<Json, SearchError> {
    let status = response.status_code();
    let body: Json = response.json().await.unwrap_or(Json::Null);
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(SearchError::Busy(format!("{what}: {body}")));
    }
    if !status.is_success() {
        return Err(failed(format!("{what} answered {status}: {body}")));
    }
    Ok(body)
}

impl OpenSearchIndex {
    /// A client for the domain. Makes no network call.
    pub fn new(
        config: &OpenSearchConfig,
        sdk: Option<&aws_config::SdkConfig>,
    ) -> anyhow::Result<Self> {
        let url = opensearch::http::Url::parse(&config.url)?;
        let mut transport = TransportBuilder::new(SingleNodeConnectionPool::new(url));
        if config.sign {
            let sdk = sdk.ok_or_else(|| anyhow::anyhow!("signing needs the AWS config"))?;
            transport = transport
                .auth(opensearch::auth::Credentials::try_from(sdk)?)
                .service_name("es");
        }
        Ok(OpenSearchIndex {
            client: OpenSearch::new(transport.build()?),
            index: config.index.clone(),
        })
    }

    /// Creates the index with its mapping unless it exists (the indexer's cold start, the
    /// rebuild).
    pub async fn ensure_index(&self) -> Result<(), SearchError> {
        let exists = self
            .client
            .indices()
            .exists(IndicesExistsParts::Index(&[&self.index]))
            .send()
            .await
            .map_err(failed)?;
        if exists.status_code() == StatusCode::OK {
            return Ok(());
        }
        let created = self
            .client
            .indices()
            .create(IndicesCreateParts::Index(&self.index))
            .body(index_body())
            .send()
            .await
            .map_err(failed)?;
        match created.status_code() {
            // Another indexer created it meanwhile.
            StatusCode::BAD_REQUEST => {
                let body: Json = created.json().await.unwrap_or(Json::Null);
                if body["error"]["type"] == "resource_already_exists_exception" {
                    Ok(())
                } else {
                    Err(failed(format!("creating the index: {body}")))
                }
            }
            _ => answered(created, "creating the index").await.map(|_| ()),
        }
    }
}

#[async_trait]
impl SearchIndex for OpenSearchIndex {
    async fn apply(&self, changes: Vec<SearchChange>) -> Result<(), SearchError> {
        if changes.is_empty() {
            return Ok(());
        }
        let lines: Vec<JsonBody<Json>> = bulk_lines(&self.index, &changes)
            .into_iter()
            .map(JsonBody::new)
            .collect();
        let response = self
            .client
            .bulk(BulkParts::Index(&self.index))
            .body(lines)
            .send()
            .await
            .map_err(failed)?;
        let body = answered(response, "bulk").await?;
        if body["errors"] != Json::Bool(true) {
            return Ok(());
        }
        // Per item: a version conflict means a newer version is held, a missing document
        // on delete is already gone; throttling is busy; anything else failed.
        for item in body["items"].as_array().into_iter().flatten() {
            let (verb, result) = match item.as_object().and_then(|o| o.iter().next()) {
                Some((verb, result)) => (verb.as_str(), Some(result)),
                None => ("", None),
            };
            let status = result.and_then(|r| r["status"].as_u64()).unwrap_or(500);
            match status {
                200..=299 | 409 => {}
                404 if verb == "delete" => {}
                429 => return Err(SearchError::Busy(format!("bulk item: {item}"))),
                _ => return Err(failed(format!("bulk item: {item}"))),
            }
        }
        Ok(())
    }

    async fn search(&self, plan: &Plan) -> Result<Hits, SearchError> {
        let response = self
            .client
            .search(SearchParts::Index(&[&self.index]))
            .body(search_body(plan))
            .send()
            .await
            .map_err(failed)?;
        let answer = answered(response, "search").await?;
        hits_of(plan, &answer)
    }

    async fn count(&self) -> Result<u64, SearchError> {
        let response = self
            .client
            .count(CountParts::Index(&[&self.index]))
            .send()
            .await
            .map_err(failed)?;
        let answer = answered(response, "count").await?;
        answer["count"]
            .as_u64()
            .ok_or_else(|| failed("the count answer has no count"))
    }
}

/// The cloud's engine, its client made at first use (the AWS config is read then).
pub struct CloudSearch {
    config: OpenSearchConfig,
    cell: tokio::sync::OnceCell<OpenSearchIndex>,
}

impl CloudSearch {
    pub fn new(config: OpenSearchConfig) -> CloudSearch {
        CloudSearch {
            config,
            cell: tokio::sync::OnceCell::new(),
        }
    }

    pub async fn engine(&self) -> Result<&OpenSearchIndex, SearchError> {
        self.cell
            .get_or_try_init(|| async {
                let sdk = crate::config::aws().await;
                let engine = OpenSearchIndex::new(&self.config, Some(&sdk)).map_err(failed)?;
                // The index with its mapping before anything else: a bulk request to a
                // missing index would create one with a guessed mapping.
                engine.ensure_index().await?;
                Ok(engine)
            })
            .await
    }
}

#[async_trait]
impl SearchIndex for CloudSearch {
    async fn apply(&self, changes: Vec<SearchChange>) -> Result<(), SearchError> {
        self.engine().await?.apply(changes).await
    }
    async fn search(&self, plan: &Plan) -> Result<Hits, SearchError> {
        self.engine().await?.search(plan).await
    }
    async fn count(&self) -> Result<u64, SearchError> {
        self.engine().await?.count().await
    }
}

/// A function that neither searches nor indexes (least privilege: only the list function
/// reads the engine, only the indexer writes it).
pub struct NoSearch;

#[async_trait]
impl SearchIndex for NoSearch {
    async fn apply(&self, _: Vec<SearchChange>) -> Result<(), SearchError> {
        Err(failed(
            "this function has no search engine (SEARCH_URL is not set)",
        ))
    }
    async fn search(&self, _: &Plan) -> Result<Hits, SearchError> {
        Err(failed(
            "this function has no search engine (SEARCH_URL is not set)",
        ))
    }
    async fn count(&self) -> Result<u64, SearchError> {
        Err(failed(
            "this function has no search engine (SEARCH_URL is not set)",
        ))
    }
}

impl OpenSearchConfig {
    /// `SEARCH_URL` (the domain's endpoint) and `SEARCH_INDEX` (default `listings`); an
    /// `http://` URL (a stand-in) is not signed, as no AWS endpoint answers plain HTTP.
    pub fn from_lookup(var: &dyn Fn(&str) -> Option<String>) -> Option<OpenSearchConfig> {
        let url = var("SEARCH_URL")?;
        let url = if url.starts_with("http://") || url.starts_with("https://") {
            url
        } else {
            format!("https://{url}")
        };
        Some(OpenSearchConfig {
            sign: !url.starts_with("http://"),
            index: var("SEARCH_INDEX").unwrap_or_else(|| "listings".to_owned()),
            url,
        })
    }
}
