//! Every integration test of the marketplace in one test binary, a module per area, so that
//! a change links one test executable instead of one per file. Rule ids from RULES.md name
//! the tests.
//!
//! One process runs them all, in parallel: a test must not rely on being alone in it. The
//! moto server (`market_tests::moto`) and the log capture (`market_tests::logs::capture_process`)
//! are one per process; a test that reads logs picks its own lines by a request or message id,
//! and a test that sets an environment variable the marketplace reads holds
//! `market_tests::env` while it is set.
mod alipay;
mod api;
mod app_credit;
mod app_payments;
mod app_pushes;
mod app_security;
mod audit;
mod batch;
mod capacity;
mod captcha;
mod domain_holds;
mod indexer;
mod lambda_events;
mod openapi;
mod queue_contract;
mod registrar_eventbridge;
mod replay;
mod requests;
mod search_contract;
mod secrets;
mod sqs_consumer;
mod store_contract;
mod stripe;
mod sweeper;
mod template;
