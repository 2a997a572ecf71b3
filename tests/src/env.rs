//! The process environment in tests. Every integration test runs in one process, and the
//! marketplace reads its settings from the environment when it starts (`ALIPAY_*` there
//! chooses the payment provider): a test that sets such a variable holds the environment
//! with `with_var` meanwhile, and `spawn_app` waits for it, so no other test's marketplace
//! starts with it set.
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static ENV: RwLock<()> = RwLock::const_new(());

/// Calls `f` with `name` set to `value`, and no marketplace starting meanwhile; the variable
/// is removed again afterwards (even if `f` panics).
pub async fn with_var<T>(name: &str, value: &str, f: impl FnOnce() -> T) -> T {
    struct Unset<'a>(&'a str);
    impl Drop for Unset<'_> {
        fn drop(&mut self) {
            std::env::remove_var(self.0);
        }
    }
    let _held = ENV.write().await;
    std::env::set_var(name, value);
    let _unset = Unset(name);
    f()
}

/// Held while a marketplace reads its settings from the environment.
pub(crate) async fn reading() -> RwLockReadGuard<'static, ()> {
    ENV.read().await
}

/// Held while a marketplace starts with variables of its own set (no other one starts
/// meanwhile, and no other test sets any).
pub(crate) async fn writing() -> RwLockWriteGuard<'static, ()> {
    ENV.write().await
}
