//! P12: the security password before a push is published or accepted ([`check`]), and
//! setting or changing it ([`set_password`]), over the second-factor port
//! (`ports::second_factor`).
//!
//! Every try is counted in the store before its answer is checked: one atomic increment
//! (`Store::increment`) of the account's count for the current minute, with a ceiling that
//! leaves room for no more than five wrong tries in the last fifteen minutes
//! (`market_core::security::TryWindow`), then one more read of the window (and the minute
//! after it), which refuses the try if tries racing it across a minute's edge made more
//! than five. A right try is then counted as right; a wrong one, or one whose check never
//! finished, stays counted as wrong. So tries that race each other (a burst from a stolen
//! session) are counted exactly, no more than five wrong ones are ever checked, and the
//! hash is never computed for a try that is refused. While five wrong ones are in the
//! window every try is refused, a right one too, with 429 `SECURITY_LOCKED` and the seconds
//! until enough of them have slid out.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::ports::second_factor::Verdict;
use crate::repo;
use crate::{App, AppResult};
use market_core::error::{Code, Problem};
use market_core::ids::AccountId;
use market_core::security::{
    minute_of, MinuteTries, SecurityPassword, TryWindow, LOCK_WINDOW_MINUTES, MAX_WRONG_TRIES,
};

/// The most right tries a minute counts (far beyond any real use; the ceiling of their
/// increment).
const RIGHT_TRIES_CEILING: u64 = u32::MAX as u64;

/// P12 before `POST /pushes` and `POST /pushes/{id}/accept`: the caller's security password,
/// where the policy requires it (`Policy::push_security`: once the account has set one, or
/// always). Missing where required → 403 `SECURITY_PASSWORD_REQUIRED`; wrong → 403
/// `SECURITY_CHECK_FAILED`; locked → 429 `SECURITY_LOCKED`. Where it is not required, a
/// given one is not looked at.
pub async fn check(
    app: &App,
    account: &AccountId,
    given: Option<&SecurityPassword>,
) -> AppResult<()> {
    let set = app.second_factor.is_set(account).await?;
    if !app.policy.push_security.requires(set) {
        return Ok(());
    }
    if !set {
        return Err(Problem::new(
            Code::SecurityPasswordRequired,
            "pushes need a security password here; set one first with PUT \
             /me/security-password (P12)",
        )
        .into());
    }
    let Some(given) = given else {
        return Err(Problem::new(
            Code::SecurityPasswordRequired,
            "this account has a security password: give it as security_password (P12)",
        )
        .into());
    };
    counted_try(app, account, given).await.map(|_| ())
}

/// `PUT /me/security-password` (P12): sets the caller's security password; changing one
/// needs the current one (`current`), checked and counted like any try. Missing where one
/// is set → 403 `SECURITY_PASSWORD_REQUIRED`.
pub async fn set_password(
    app: &App,
    account: &AccountId,
    new: &SecurityPassword,
    current: Option<&SecurityPassword>,
) -> AppResult<()> {
    let replacing = if app.second_factor.is_set(account).await? {
        let Some(current) = current else {
            return Err(Problem::new(
                Code::SecurityPasswordRequired,
                "changing the security password needs the current one (current_password) (P12)",
            )
            .into());
        };
        Some(counted_try(app, account, current).await?)
    } else {
        // None to change: a first one (written only if there is still none).
        None
    };
    app.second_factor
        .set(account, new, replacing, app.now())
        .await?;
    tracing::info!(changed = replacing.is_some(), "security password set (P12)");
    Ok(())
}

/// The window of `account`'s tries at `now`, read in one request; with `and_next`, the
/// minute after it too, counted as its last minute's.
async fn read_window(
    app: &App,
    account: &AccountId,
    now: DateTime<Utc>,
    and_next: bool,
) -> AppResult<TryWindow> {
    let mut minutes = TryWindow::minutes_at(now);
    if and_next {
        minutes.push(minute_of(now) + Duration::minutes(1));
    }
    let keys: Vec<((String, String), (String, String))> = minutes
        .iter()
        .map(|m| repo::security_try_keys(account, *m))
        .collect();
    let flat: Vec<(String, String)> = keys
        .iter()
        .flat_map(|(tries, right)| [tries.clone(), right.clone()])
        .collect();
    // A counter's count is its item's version.
    let counts: HashMap<(String, String), u64> = app
        .store
        .get_many(&flat)
        .await?
        .into_iter()
        .map(|item| ((item.pk, item.sk), item.version))
        .collect();
    let count = |key: &(String, String)| counts.get(key).copied().unwrap_or(0);
    let mut tries: Vec<MinuteTries> = keys
        .iter()
        .map(|(tries, right)| MinuteTries {
            tries: count(tries),
            right: count(right),
        })
        .collect();
    if and_next {
        if let (Some(next), Some(last)) = (tries.pop(), tries.last_mut()) {
            last.tries += next.tries;
            last.right += next.right;
        }
    }
    Ok(TryWindow::new(now, tries))
}

/// One counted try of `answer`: refused while locked; counted before it is checked; right
/// → the version of the factor it was checked against.
async fn counted_try(app: &App, account: &AccountId, answer: &SecurityPassword) -> AppResult<u64> {
    let window = read_window(app, account, app.now(), false).await?;
    let Some(ceiling) = window.ceiling() else {
        return Err(locked(&window));
    };
    // The minute the ceiling was computed for, whatever the clock says by now.
    let minute = window.current_minute();
    let ((tries_pk, tries_sk), (right_pk, right_sk)) = repo::security_try_keys(account, minute);
    // Kept a little longer than the window that reads them.
    let ttl = Some((minute + Duration::minutes(LOCK_WINDOW_MINUTES as i64 + 1)).timestamp());
    if app
        .store
        .increment(&tries_pk, &tries_sk, ceiling, ttl)
        .await?
        .is_none()
    {
        // Tries racing this one took the last room: locked as of now.
        return Err(locked(&window));
    }
    // Tries racing this one across a minute's edge: the ceiling could not see them.
    let recounted = read_window(app, account, window.now(), true).await?;
    if recounted.over_limit() {
        return Err(locked(&recounted));
    }
    match app.second_factor.verify(account, answer).await? {
        Verdict::Right { version } => {
            app.store
                .increment(&right_pk, &right_sk, RIGHT_TRIES_CEILING, ttl)
                .await?;
            Ok(version)
        }
        Verdict::Wrong => {
            // This try is one of the recount's wrong ones.
            let left = recounted.wrong_left();
            tracing::warn!(left, "a wrong security password (P12)");
            let detail = if left == 0 {
                format!(
                    "the security password is wrong; that was the {MAX_WRONG_TRIES}th wrong \
                     one within {LOCK_WINDOW_MINUTES} minutes: checks are now refused for a \
                     while (P12)"
                )
            } else {
                format!(
                    "the security password is wrong; {left} more wrong within \
                     {LOCK_WINDOW_MINUTES} minutes and checks are refused for a while (P12)"
                )
            };
            Err(Problem::new(Code::SecurityCheckFailed, detail).into())
        }
    }
}

/// 429 `SECURITY_LOCKED` with the seconds until a try is counted again.
fn locked(window: &TryWindow) -> crate::AppError {
    let seconds = window.retry_after();
    tracing::warn!(retry_after = seconds, "security checks locked (P12)");
    Problem::new(
        Code::SecurityLocked,
        format!(
            "{MAX_WRONG_TRIES} wrong security passwords within {LOCK_WINDOW_MINUTES} minutes: \
             every try, a right one too, is refused for {seconds} more seconds (P12)"
        ),
    )
    .with_retry_after(seconds)
    .into()
}
