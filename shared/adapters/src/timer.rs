//! The timer port on tokio's clock (paused and moved by tests that need it).
use futures::future::BoxFuture;
use futures::FutureExt;

use market_app::ports::timer::Timer;

pub struct TokioTimer;

impl Timer for TokioTimer {
    fn sleep(&self, wait: std::time::Duration) -> BoxFuture<'static, ()> {
        tokio::time::sleep(wait).boxed()
    }
}
