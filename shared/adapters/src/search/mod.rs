//! The search engines behind `market_app::ports::search` (Q1): Tantivy embedded (the local
//! runner, tests) and OpenSearch (the cloud).
pub mod embedded;
pub mod opensearch;
