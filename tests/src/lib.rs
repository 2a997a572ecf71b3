//! Test support: start the marketplace in-process (`spawn_app`), talk to it as a client
//! would, and start a local DynamoDB endpoint (moto) for the adapter tests.
pub mod client;
pub mod faults;
pub mod moto;
pub mod scene;

pub use client::{spawn_app, spawn_app_on_dynamo, spawn_app_with, Reply, TestApp};
