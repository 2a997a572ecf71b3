//! The captcha port (O7): the human check before an order or a push acceptance.
use std::net::IpAddr;

use async_trait::async_trait;

/// What a human check is asked for (O7). The captcha widget is rendered with this name as
/// its `action`, and the service signs it into its answer, so a token solved for one action
/// cannot be spent on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptchaAction {
    /// `POST /orders`.
    Order,
    /// `POST /pushes/{id}/accept`.
    PushAccept,
}

impl CaptchaAction {
    /// The action's name as the widget and the service know it.
    pub fn as_str(self) -> &'static str {
        match self {
            CaptchaAction::Order => "order",
            CaptchaAction::PushAccept => "push_accept",
        }
    }
}

impl std::fmt::Display for CaptchaAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The human check as a client brings it (O7): the widget's token, and the address the
/// request came from when the transport knows it (API Gateway's source IP, the local
/// runner's socket peer; never a header the client could write).
#[derive(Clone, PartialEq, Eq)]
pub struct HumanCheck {
    pub token: String,
    pub remote_ip: Option<IpAddr>,
}

impl HumanCheck {
    /// A token from a caller whose address is not known.
    pub fn new(token: impl Into<String>) -> HumanCheck {
        HumanCheck {
            token: token.into(),
            remote_ip: None,
        }
    }

    /// The same check, from `remote_ip`.
    pub fn from_ip(mut self, remote_ip: Option<IpAddr>) -> HumanCheck {
        self.remote_ip = remote_ip;
        self
    }
}

/// Never prints the token (it is a bearer credential until the service has spent it).
impl std::fmt::Debug for HumanCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HumanCheck")
            .field("token", &"<redacted>")
            .field("remote_ip", &self.remote_ip)
            .finish()
    }
}

/// The captcha port.
#[async_trait]
pub trait Captcha: Send + Sync {
    /// Whether `check` proves a human passed the check for `action`. Fails closed: an
    /// answer the verifier cannot get or cannot trust is `false`.
    async fn verify(&self, action: CaptchaAction, check: &HumanCheck) -> bool;
}
