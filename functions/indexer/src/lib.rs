//! `functions/indexer`: the search indexer (Q1). The table's DynamoDB Stream, filtered to
//! listing items and the rebuild item (`template.yaml`), hands every change to this
//! function: the listings of a batch are read again from the table and put into the search
//! index or removed from it in one bulk request (the index keeps the newest version, so a
//! record delivered twice or late changes nothing); a change of the rebuild item takes the
//! rebuild's next step. It is the only function that writes to the search engine.
//!
//! A batch that cannot be indexed is reported from its first record on: the stream retries
//! it (with `BisectBatchOnFunctionError`), then sends it to the function's DLQ, with an
//! alarm; `POST /admin/search/rebuild` mends whatever was lost.
use std::collections::BTreeSet;

use market_app::search::{feed, rebuild};
use market_app::App;
use market_core::ids::ListingId;
use market_web::stream::{StreamEvent, StreamResponse};

/// Indexes the listings of every record, then takes a rebuild step if the batch has one.
pub async fn handle(app: &App, event: StreamEvent) -> StreamResponse {
    let mut listings: BTreeSet<ListingId> = BTreeSet::new();
    let mut first_listing = None;
    let mut first_rebuild = None;
    for (at, record) in event.records.iter().enumerate() {
        match record.key() {
            Some((pk, sk)) if rebuild::is_rebuild(pk, sk) => {
                first_rebuild.get_or_insert(at);
            }
            Some((pk, sk)) => match feed::listing_of(pk, sk) {
                Some(id) => {
                    first_listing.get_or_insert(at);
                    listings.insert(id);
                }
                None => {
                    tracing::warn!(event_id = %record.event_id, pk, "a stream record that is neither a listing nor the rebuild; the stream's filter should have kept it out");
                }
            },
            None => {
                tracing::warn!(event_id = %record.event_id, "a stream record without a pk and sk");
            }
        }
    }
    let mut failed_at: Option<usize> = None;
    if let Some(at) = first_listing {
        let ids: Vec<ListingId> = listings.into_iter().collect();
        match feed::index(app, &ids).await {
            Ok(()) => tracing::info!(
                listings = ids.len(),
                records = event.records.len(),
                "indexed"
            ),
            Err(e) => {
                tracing::error!(listings = ids.len(), first = %ids[0], event_id = %event.records[at].event_id, error = %format!("{e:#}"), "indexing failed; the stream retries the batch");
                failed_at = Some(at);
            }
        }
    }
    if let Some(at) = first_rebuild {
        match rebuild::step(app).await {
            Ok(more) => tracing::info!(more, "a rebuild step was taken"),
            Err(e) => {
                tracing::error!(event_id = %event.records[at].event_id, error = %format!("{e:#}"), "a rebuild step failed; the stream retries it from the cursor kept");
                failed_at = Some(failed_at.map_or(at, |f| f.min(at)));
            }
        }
    }
    let mut response = StreamResponse::default();
    if let Some(at) = failed_at {
        response
            .batch_item_failures
            .push(event.records[at].failure());
    }
    response
}
