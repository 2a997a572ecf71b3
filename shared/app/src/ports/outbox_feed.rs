//! Who is told that outbox messages were committed (N1). In the cloud nobody needs to be:
//! the table's DynamoDB Stream hands every new outbox item to the `notify` function. The
//! local runner has no stream, so its feed wakes the runner's notifier task instead. The
//! sweep retries whatever a notifier missed, so the feed may drop a signal without loss.
pub trait OutboxFeed: Send + Sync {
    /// `ids`: the messages a transaction created, right after it committed.
    fn committed(&self, ids: &[String]);
}

/// The cloud's feed: the DynamoDB Stream is the signal.
pub struct StreamFeed;

impl OutboxFeed for StreamFeed {
    fn committed(&self, _ids: &[String]) {}
}
