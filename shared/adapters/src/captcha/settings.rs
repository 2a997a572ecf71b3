//! The siteverify verifier's settings (O7), read once at start and checked: a missing or
//! malformed one fails the start rather than every order later.
//!
//! - `CAPTCHA_VERIFY_URL`: the service's verify endpoint (default Cloudflare Turnstile's;
//!   hCaptcha's `https://api.hcaptcha.com/siteverify` and reCAPTCHA's
//!   `https://www.google.com/recaptcha/api/siteverify` speak the same protocol). HTTPS, or
//!   plain HTTP to a loopback address (a local fake);
//! - `CAPTCHA_HOSTNAMES`: the sites whose widgets are accepted, comma-separated (required);
//! - `CAPTCHA_SECRET_ARN` (the cloud) or `CAPTCHA_SECRET` (the local runner, tests): the
//!   secret key, one of the two.
use super::secret::SecretSetting;

/// Cloudflare Turnstile's verify endpoint, the default service.
pub const TURNSTILE_VERIFY_URL: &str = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

/// How the siteverify verifier reaches its service and what it accepts.
#[derive(Clone, Debug)]
pub struct SiteverifyConfig {
    pub verify_url: String,
    /// Lower case, without surrounding spaces; never empty.
    pub hostnames: Vec<String>,
    pub secret: SecretSetting,
}

impl SiteverifyConfig {
    /// Reads the settings through `var` (the environment, or a map in tests); an empty
    /// variable counts as unset.
    pub fn from_lookup(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<SiteverifyConfig> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let verify_url = var("CAPTCHA_VERIFY_URL")
            .map(|u| u.trim().to_owned())
            .unwrap_or_else(|| TURNSTILE_VERIFY_URL.to_owned());
        check_url(&verify_url)?;
        let hostnames: Vec<String> = var("CAPTCHA_HOSTNAMES")
            .unwrap_or_default()
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        if hostnames.is_empty() {
            anyhow::bail!(
                "MARKET_CAPTCHA=siteverify needs CAPTCHA_HOSTNAMES: the sites whose captcha answers are accepted (O7)"
            );
        }
        let secret = match (var("CAPTCHA_SECRET_ARN"), var("CAPTCHA_SECRET")) {
            (Some(arn), None) => SecretSetting::Arn(arn.trim().to_owned()),
            (None, Some(secret)) => SecretSetting::Value(secret.trim().to_owned().into()),
            (Some(_), Some(_)) => {
                anyhow::bail!("set one of CAPTCHA_SECRET_ARN and CAPTCHA_SECRET, not both")
            }
            (None, None) => anyhow::bail!(
                "MARKET_CAPTCHA=siteverify needs the service's secret key: CAPTCHA_SECRET_ARN (or CAPTCHA_SECRET locally)"
            ),
        };
        Ok(SiteverifyConfig {
            verify_url,
            hostnames,
            secret,
        })
    }
}

/// The secret key is sent to this URL: HTTPS, or HTTP that never leaves the machine.
fn check_url(url: &str) -> anyhow::Result<()> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("CAPTCHA_VERIFY_URL={url}: {e}"))?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => anyhow::bail!("CAPTCHA_VERIFY_URL={url}: the secret key is sent there; use https"),
    }
}
