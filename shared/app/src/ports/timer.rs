//! The timer port: waits of real time (an item's budget in the sweep, the pause after a
//! lost race). Its adapter is the runtime's (`market-adapters`), so the use cases stay
//! free of any.
use futures::future::BoxFuture;

pub trait Timer: Send + Sync {
    /// Resolves once `wait` has passed.
    fn sleep(&self, wait: std::time::Duration) -> BoxFuture<'static, ()>;
}
