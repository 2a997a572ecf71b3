//! The storage port's adapters: `embedded` (redb, the local runner's default) and `dynamo`
//! (the cloud), over the one table definition in `schema`.
pub mod dynamo;
pub mod embedded;
pub mod schema;
