//! The siteverify answer (Cloudflare Turnstile, hCaptcha, reCAPTCHA all send this shape) and
//! whether it proves a human passed the check for this action on our site (O7). Pure: no
//! I/O, so every way an answer can fail is a unit test.
use serde::Deserialize;

use market_app::ports::captcha::CaptchaAction;

/// The fields of the service's JSON answer the marketplace reads; others are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Answer {
    pub success: bool,
    #[serde(rename = "error-codes", default)]
    pub error_codes: Vec<String>,
    /// The widget's action the token was solved for.
    #[serde(default)]
    pub action: Option<String>,
    /// The site the widget was solved on.
    #[serde(default)]
    pub hostname: Option<String>,
}

/// Why an answer does not prove a human passed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `success: false`, with the service's error codes (`invalid-input-response`,
    /// `timeout-or-duplicate`, `invalid-input-secret`, …).
    ErrorCodes(Vec<String>),
    /// Solved for another action (or none).
    WrongAction { got: Option<String> },
    /// Solved on a site that is not ours (or none named).
    WrongHostname { got: Option<String> },
}

impl Refusal {
    /// The refusal's reason as it is logged.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::ErrorCodes(_) => "error-codes",
            Refusal::WrongAction { .. } => "wrong action",
            Refusal::WrongHostname { .. } => "wrong hostname",
        }
    }
}

/// O7: the answer passes only when the service says `success`, for `action`, on one of
/// `hostnames` (compared without regard to ASCII case; `hostnames` are lower case).
pub fn judge(answer: &Answer, action: CaptchaAction, hostnames: &[String]) -> Result<(), Refusal> {
    if !answer.success {
        return Err(Refusal::ErrorCodes(answer.error_codes.clone()));
    }
    if answer.action.as_deref() != Some(action.as_str()) {
        return Err(Refusal::WrongAction {
            got: answer.action.clone(),
        });
    }
    let ours = answer
        .hostname
        .as_deref()
        .is_some_and(|h| hostnames.iter().any(|ok| ok.eq_ignore_ascii_case(h)));
    if !ours {
        return Err(Refusal::WrongHostname {
            got: answer.hostname.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["market.example".into(), "www.market.example".into()]
    }

    fn answer(json: &str) -> Answer {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn o7_success_for_the_action_on_our_host_passes() {
        let a = answer(
            r#"{"success":true,"error-codes":[],"challenge_ts":"2026-01-01T00:00:00Z","hostname":"WWW.Market.example","action":"order","cdata":""}"#,
        );
        assert_eq!(judge(&a, CaptchaAction::Order, &hosts()), Ok(()));
    }

    #[test]
    fn o7_a_failed_answer_keeps_its_error_codes() {
        let a = answer(r#"{"success":false,"error-codes":["invalid-input-secret"]}"#);
        assert_eq!(
            judge(&a, CaptchaAction::Order, &hosts()),
            Err(Refusal::ErrorCodes(vec!["invalid-input-secret".into()]))
        );
    }

    #[test]
    fn o7_another_action_or_none_fails() {
        let a = answer(r#"{"success":true,"hostname":"market.example","action":"order"}"#);
        assert!(matches!(
            judge(&a, CaptchaAction::PushAccept, &hosts()),
            Err(Refusal::WrongAction { got: Some(g) }) if g == "order"
        ));
        let a = answer(r#"{"success":true,"hostname":"market.example"}"#);
        assert_eq!(
            judge(&a, CaptchaAction::Order, &hosts()),
            Err(Refusal::WrongAction { got: None })
        );
    }

    #[test]
    fn o7_another_host_or_none_fails() {
        for host in [
            r#","hostname":"evil.example""#,
            r#","hostname":"market.example.evil""#,
            "",
        ] {
            let a = answer(&format!(r#"{{"success":true,"action":"order"{host}}}"#));
            assert!(
                matches!(
                    judge(&a, CaptchaAction::Order, &hosts()),
                    Err(Refusal::WrongHostname { .. })
                ),
                "{host}"
            );
        }
    }
}
