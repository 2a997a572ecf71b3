//! P12: the security password (the "second factor") that publishing and accepting a push
//! need: what a password may be, when the policy requires one, and the arithmetic of the
//! lock after too many wrong tries. Pure: the hash is the adapter's
//! (`market-adapters::second_factor`), the counting in the store the use case's
//! (`market-app::security`).
use chrono::{DateTime, Duration, Utc};

use super::error::{Code, Problem};

/// A security password has at least this many characters (API.md "Security password").
pub const MIN_PASSWORD_CHARS: usize = 8;
/// A security password has at most this many characters (API.md: 8–64).
pub const MAX_PASSWORD_CHARS: usize = 64;
/// P12: this many wrong tries within [`LOCK_WINDOW_MINUTES`] lock the account's checks.
pub const MAX_WRONG_TRIES: u64 = 5;
/// P12: the window the wrong tries are counted in, in whole minutes.
pub const LOCK_WINDOW_MINUTES: usize = 15;

/// When a push needs the security password (P12): `MARKET_PUSH_SECURITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushSecurity {
    /// `if_set` (the default): once the account has set one.
    #[default]
    IfSet,
    /// `required`: always; an account without one cannot publish or accept.
    Required,
}

impl PushSecurity {
    /// Reads the setting's value (`if_set` or `required`).
    pub fn parse(text: &str) -> Result<PushSecurity, String> {
        match text.trim() {
            "if_set" => Ok(PushSecurity::IfSet),
            "required" => Ok(PushSecurity::Required),
            other => Err(format!("is if_set or required, not {other}")),
        }
    }

    /// The value as the setting spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PushSecurity::IfSet => "if_set",
            PushSecurity::Required => "required",
        }
    }

    /// Whether an account that has (or has not) set a security password must give one.
    pub fn requires(self, has_password: bool) -> bool {
        self == PushSecurity::Required || has_password
    }
}

/// A security password as a client sent it: a new one to set, or a try at the current one.
/// Never printed (`Debug` is redacted), never serialised; only the adapter's hash of it is
/// ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SecurityPassword(String);

impl SecurityPassword {
    /// A new password (`PUT /me/security-password`'s `password`): 8 to 64 characters,
    /// else 400 `INVALID_REQUEST` naming `field` (never the value).
    pub fn new(field: &str, text: String) -> Result<SecurityPassword, Problem> {
        let chars = text.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
            return Err(Problem::new(
                Code::InvalidRequest,
                format!(
                    "{field} is {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters, not \
                     {chars}"
                ),
            ));
        }
        Ok(SecurityPassword(text))
    }

    /// A try at the account's password (`security_password`, `current_password`): any
    /// text is a try, counted like any other; one that cannot be a password is simply wrong.
    pub fn attempt(text: String) -> SecurityPassword {
        SecurityPassword(text)
    }

    /// Whether it has a password's length (a try that has not cannot be right).
    pub fn is_well_formed(&self) -> bool {
        (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&self.0.chars().count())
    }

    /// The text, for the hash function only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecurityPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecurityPassword(<redacted>)")
    }
}

/// The tries of one minute (P12): how many were counted (each is counted before its
/// answer is checked) and how many of those were right. The rest count as wrong: a try
/// whose check never finished fails closed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MinuteTries {
    pub tries: u64,
    pub right: u64,
}

impl MinuteTries {
    /// The wrong (or unfinished) tries of the minute.
    pub fn wrong(self) -> u64 {
        self.tries.saturating_sub(self.right)
    }
}

/// P12: the tries of the last [`LOCK_WINDOW_MINUTES`] minutes, minute by minute, as read at
/// `now`: the window slides a minute at a time, so "five wrong within 15 minutes" holds to
/// the minute, with no boundary at which the count starts afresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryWindow {
    now: DateTime<Utc>,
    /// Oldest first; the last is the minute of `now`.
    minutes: Vec<MinuteTries>,
}

/// The start of the minute `at` is in.
pub fn minute_of(at: DateTime<Utc>) -> DateTime<Utc> {
    let seconds = at.timestamp();
    DateTime::from_timestamp(seconds - seconds.rem_euclid(60), 0).unwrap_or(at)
}

impl TryWindow {
    /// The starts of the window's minutes at `now`, oldest first (the minute of `now` last).
    pub fn minutes_at(now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let current = minute_of(now);
        (0..LOCK_WINDOW_MINUTES)
            .rev()
            .map(|back| current - Duration::minutes(back as i64))
            .collect()
    }

    /// The window at `now` with the tries of its minutes, in [`TryWindow::minutes_at`]'s
    /// order (missing minutes had none).
    pub fn new(now: DateTime<Utc>, mut minutes: Vec<MinuteTries>) -> TryWindow {
        minutes.resize(LOCK_WINDOW_MINUTES, MinuteTries::default());
        TryWindow { now, minutes }
    }

    /// The time the window was read at.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The minute the window ends with (where a try made now is counted).
    pub fn current_minute(&self) -> DateTime<Utc> {
        minute_of(self.now)
    }

    /// The wrong tries in the window.
    pub fn wrong(&self) -> u64 {
        self.minutes.iter().map(|m| m.wrong()).sum()
    }

    /// The most tries the current minute may hold for one more try to be counted, or `None`
    /// while locked. A try is counted by an atomic increment of the current minute's count
    /// with this ceiling, so tries racing each other can never make more than
    /// [`MAX_WRONG_TRIES`] wrong ones (the earlier minutes no longer change).
    pub fn ceiling(&self) -> Option<u64> {
        if self.wrong() >= MAX_WRONG_TRIES {
            return None;
        }
        let (current, earlier) = self.minutes.split_last()?;
        let wrong_before: u64 = earlier.iter().map(|m| m.wrong()).sum();
        Some(MAX_WRONG_TRIES - wrong_before + current.right)
    }

    /// Read again right after a try was counted (the minute after the window merged into its
    /// last): whether more than [`MAX_WRONG_TRIES`] wrong or unfinished tries are in it, the
    /// one just counted included. Then that try is refused as locked. The ceiling alone
    /// cannot see tries that raced across a minute's edge (counted in the minute before by
    /// a request that read the window earlier, or in the next by one that read this minute
    /// before this try was counted); of any set of racing tries, the one that reads last
    /// sees them all, so no more than five wrong ones are ever checked.
    pub fn over_limit(&self) -> bool {
        self.wrong() > MAX_WRONG_TRIES
    }

    /// How many more wrong tries the window takes before it locks (a try counted but not
    /// yet checked is one of its wrong ones).
    pub fn wrong_left(&self) -> u64 {
        MAX_WRONG_TRIES.saturating_sub(self.wrong())
    }

    /// Seconds until a try is counted again (`Retry-After` of `SECURITY_LOCKED`): until
    /// enough of the window's wrong tries have slid out of it. When this read saw fewer
    /// than [`MAX_WRONG_TRIES`] (the count was lost to tries racing it), the missing ones
    /// are this minute's, so the answer is never early. At least 1.
    pub fn retry_after(&self) -> u32 {
        let mut wrong: Vec<u64> = self.minutes.iter().map(|m| m.wrong()).collect();
        let total: u64 = wrong.iter().sum();
        if let Some(current) = wrong.last_mut() {
            *current += MAX_WRONG_TRIES.saturating_sub(total);
        }
        let mut remaining = total.max(MAX_WRONG_TRIES);
        let starts = TryWindow::minutes_at(self.now);
        let window = Duration::minutes(LOCK_WINDOW_MINUTES as i64);
        for (start, wrong) in starts.iter().zip(wrong) {
            remaining -= wrong;
            if remaining < MAX_WRONG_TRIES {
                let unlock = *start + window;
                let millis = (unlock - self.now).num_milliseconds().max(0);
                return u32::try_from((millis + 999) / 1000)
                    .unwrap_or(u32::MAX)
                    .max(1);
            }
        }
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn window(now: &str, tries: &[(usize, u64, u64)]) -> TryWindow {
        let mut minutes = vec![MinuteTries::default(); LOCK_WINDOW_MINUTES];
        for &(i, tries, right) in tries {
            minutes[i] = MinuteTries { tries, right };
        }
        TryWindow::new(at(now), minutes)
    }

    #[test]
    fn p12_the_policy_is_if_set_by_default_and_parses_its_two_values() {
        assert_eq!(PushSecurity::default(), PushSecurity::IfSet);
        assert_eq!(PushSecurity::parse("if_set"), Ok(PushSecurity::IfSet));
        assert_eq!(
            PushSecurity::parse(" required "),
            Ok(PushSecurity::Required)
        );
        for bad in ["", "always", "Required", "if-set"] {
            assert!(PushSecurity::parse(bad).is_err(), "{bad}");
        }
        for p in [PushSecurity::IfSet, PushSecurity::Required] {
            assert_eq!(PushSecurity::parse(p.as_str()), Ok(p));
        }
    }

    #[test]
    fn p12_if_set_requires_it_once_set_and_required_always() {
        assert!(!PushSecurity::IfSet.requires(false));
        assert!(PushSecurity::IfSet.requires(true));
        assert!(PushSecurity::Required.requires(false));
        assert!(PushSecurity::Required.requires(true));
    }

    #[test]
    fn p12_a_new_password_is_8_to_64_characters() {
        for ok in ["12345678", &"é".repeat(64), "correct horse"] {
            assert!(
                SecurityPassword::new("password", ok.to_owned()).is_ok(),
                "{ok}"
            );
        }
        for bad in ["", "1234567", &"x".repeat(65), &"密".repeat(65)] {
            let refused = SecurityPassword::new("password", bad.to_owned()).unwrap_err();
            assert_eq!(refused.code, Code::InvalidRequest);
            assert!(
                refused.detail.starts_with("password is 8 to 64"),
                "{refused:?}"
            );
        }
        // The refusal never repeats the text.
        let refused = SecurityPassword::new("password", "hunter2".into()).unwrap_err();
        assert!(!refused.detail.contains("hunter2"));
    }

    #[test]
    fn p12_a_password_never_prints() {
        let p = SecurityPassword::new("password", "s3cret-passw0rd".into()).unwrap();
        assert!(!format!("{p:?}").contains("s3cret"));
        assert_eq!(p.expose(), "s3cret-passw0rd");
        assert!(p.is_well_formed());
        assert!(!SecurityPassword::attempt("short".into()).is_well_formed());
        assert!(!SecurityPassword::attempt("x".repeat(65)).is_well_formed());
    }

    #[test]
    fn p12_the_window_is_the_fifteen_minutes_up_to_now() {
        let starts = TryWindow::minutes_at(at("2026-05-01T10:07:42.5Z"));
        assert_eq!(starts.len(), 15);
        assert_eq!(starts[0], at("2026-05-01T09:53:00Z"));
        assert_eq!(starts[14], at("2026-05-01T10:07:00Z"));
        assert_eq!(
            minute_of(at("2026-05-01T10:07:00Z")),
            at("2026-05-01T10:07:00Z")
        );
    }

    #[test]
    fn p12_four_wrong_leave_one_try_and_five_lock() {
        let now = "2026-05-01T10:07:42Z";
        let empty = window(now, &[]);
        assert_eq!(empty.ceiling(), Some(5));
        assert_eq!(empty.wrong_left(), 5);
        // Four wrong spread over the window: one more try may be counted, in this minute.
        let four = window(now, &[(0, 1, 0), (3, 2, 0), (14, 1, 0)]);
        assert_eq!(four.wrong(), 4);
        assert_eq!(
            four.ceiling(),
            Some(2),
            "the current minute holds 1: one more"
        );
        assert_eq!(four.wrong_left(), 1);
        let five = window(now, &[(0, 1, 0), (3, 2, 0), (14, 2, 0)]);
        assert_eq!(five.ceiling(), None);
    }

    #[test]
    fn p12_a_counted_try_is_refused_when_racing_tries_made_more_than_five() {
        let now = "2026-05-01T10:07:42Z";
        assert!(
            !window(now, &[(14, 5, 0)]).over_limit(),
            "the fifth is checked"
        );
        assert!(window(now, &[(13, 3, 0), (14, 3, 0)]).over_limit());
        assert!(!window(now, &[(13, 2, 0), (14, 5, 2)]).over_limit());
    }

    #[test]
    fn p12_right_tries_do_not_count_against_the_lock() {
        // Ten tries this minute, seven of them right: three wrong, two more may be made.
        let w = window("2026-05-01T10:07:42Z", &[(14, 10, 7)]);
        assert_eq!(w.wrong(), 3);
        assert_eq!(w.ceiling(), Some(12));
        // And earlier right ones free nothing now: the ceiling is this minute's.
        let w = window("2026-05-01T10:07:42Z", &[(2, 6, 2), (14, 1, 1)]);
        assert_eq!(w.wrong(), 4);
        assert_eq!(w.ceiling(), Some(2));
    }

    #[test]
    fn p12_a_lock_lasts_until_enough_wrong_tries_slide_out() {
        // Five wrong at 10:07: free at 10:22:00, 14 min 18 s after 10:07:42.
        let w = window("2026-05-01T10:07:42Z", &[(14, 5, 0)]);
        assert_eq!(w.retry_after(), 14 * 60 + 18);
        // Two at 09:55 (index 2), three at 10:07: the 09:55 ones slide out at 10:10:00,
        // leaving three: free then.
        let w = window("2026-05-01T10:07:42Z", &[(2, 2, 0), (14, 3, 0)]);
        assert_eq!(w.retry_after(), 2 * 60 + 18);
        // Seven wrong (tries that raced the lock): two must leave before the lock lifts.
        let w = window("2026-05-01T10:07:42Z", &[(0, 1, 0), (1, 2, 0), (14, 4, 0)]);
        assert_eq!(w.retry_after(), 60 + 18, "09:54's leave at 10:09:00");
        // A read that saw fewer than five (the increment lost to racing tries): the missing
        // ones are this minute's. One at 09:53 and at least four now: free when 09:53's
        // leaves, at 10:08:00.
        let w = window("2026-05-01T10:07:42Z", &[(0, 1, 0), (14, 2, 0)]);
        assert_eq!(w.retry_after(), 18);
        let w = window("2026-05-01T10:07:42Z", &[(14, 2, 0)]);
        assert_eq!(w.retry_after(), 14 * 60 + 18);
        // Never 0, even on the minute.
        let w = window("2026-05-01T10:07:59.999Z", &[(0, 5, 0)]);
        assert!(w.retry_after() >= 1);
    }

    #[test]
    fn p12_fifteen_minutes_later_every_try_has_slid_out() {
        // Whenever in a minute the tries were made, the window 900 s later no longer
        // holds that minute.
        for now in ["2026-05-01T10:07:00Z", "2026-05-01T10:07:59.9Z"] {
            let then = at(now);
            let later = then + Duration::seconds(900);
            let starts = TryWindow::minutes_at(later);
            assert!(starts[0] > minute_of(then), "{now}");
        }
    }
}
