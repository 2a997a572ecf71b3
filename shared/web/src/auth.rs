//! Identity. In the cloud, API Gateway's JWT authorizer has verified the token and the
//! function reads the `sub` and `roles` claims from the request context; the local runner
//! verifies HS256 tokens itself. No route takes an account id from the body or a header.
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use market_core::error::{Code, Problem};
use market_core::ids::AccountId;

/// How a deployment learns who is calling. Installed as a request extension.
pub enum AuthMode {
    /// The local runner: verify `Authorization: Bearer` HS256 tokens with this secret.
    Hs256(Box<DecodingKey>),
    /// Lambda behind API Gateway: trust the authorizer's claims in the request context.
    ApiGatewayClaims,
}

impl AuthMode {
    /// Local verification with a shared secret.
    pub fn hs256(secret: &str) -> Arc<AuthMode> {
        Arc::new(AuthMode::Hs256(Box::new(DecodingKey::from_secret(
            secret.as_bytes(),
        ))))
    }
}

/// The layer that installs an identity mode on every request.
pub fn layer(mode: Arc<AuthMode>) -> axum::Extension<Arc<AuthMode>> {
    axum::Extension(mode)
}

/// The claims the marketplace reads.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub exp: i64,
}

/// Signs a token for the local runner (its start banner and the tests).
pub fn sign_token(secret: &str, account: &str, roles: &[&str], expires_at: i64) -> String {
    let claims = Claims {
        sub: account.to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        exp: expires_at,
    };
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signs")
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountId,
    pub roles: Vec<String>,
}

/// A caller with the `admin` role (operator routes).
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

fn unauthenticated(why: &str) -> Problem {
    Problem::new(Code::Unauthenticated, why)
}

/// The caller's roles in the cloud: the exact entries of the token's `roles` claim.
///
/// API Gateway's JWT authorizer hands claims to the function as strings and renders an
/// array claim as `[admin ops]`: entries joined by spaces, unquoted, so `["not admin"]` and
/// `["not", "admin"]` arrive alike. The authorizer verified the token of the
/// `Authorization` header (its identity source), so the claim is read exactly from that
/// token, once it is shown to be the token whose claims the authorizer passed on
/// ([`roles_from_token`]). Only without the header (event-fixture tests, emulators) is the
/// rendered string read ([`roles_from_claim`]). Either way a role is an entry equal to its
/// name: `superadmin` or `admin,x` is not `admin`.
fn caller_roles(parts: &Parts, claims: &HashMap<String, String>) -> Vec<String> {
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match token {
        Some(token) => roles_from_token(token, claims).unwrap_or_else(|why| {
            // Fail closed: no roles, the caller is still who the authorizer says.
            tracing::warn!(why, "roles not read from the bearer token");
            Vec::new()
        }),
        None => ROLE_CLAIMS
            .iter()
            .filter_map(|name| claims.get(*name))
            .flat_map(|r| roles_from_claim(r))
            .collect(),
    }
}

/// The claims that tie a token to the authorizer's view of it.
const BINDING_CLAIMS: [&str; 5] = ["sub", "iss", "iat", "exp", "jti"];

/// The `roles` of the bearer token `header` (`Bearer <JWT>` or the bare JWT), read as JSON,
/// if the token is the one the authorizer verified: every binding claim the authorizer
/// passed on has the same value in the token. The signature is not checked again here:
/// API Gateway did, and the function is reachable only through it.
fn roles_from_token(
    header: &str,
    claims: &HashMap<String, String>,
) -> Result<Vec<String>, &'static str> {
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .unwrap_or(header)
        .trim();
    let payload = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(token)
        .map_err(|_| "the Authorization header is not a JWT")?
        .claims;
    if !claims.contains_key("sub") {
        return Err("the authorizer passed no sub");
    }
    for name in BINDING_CLAIMS {
        let Some(expected) = claims.get(name) else {
            continue;
        };
        let actual = match &payload[name] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => return Err("the token lacks a claim the authorizer passed"),
            other => other.to_string(),
        };
        if &actual != expected {
            return Err("the token is not the one the authorizer verified");
        }
    }
    Ok(ROLE_CLAIMS
        .iter()
        .flat_map(|name| match &payload[*name] {
            serde_json::Value::Array(entries) => entries
                .iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect(),
            serde_json::Value::String(one) => vec![one.clone()],
            _ => Vec::new(),
        })
        .collect())
}

/// Where a token names its roles: `roles` (the registrar's identity provider, the local
/// runner), or `cognito:groups` (the template's default Cognito pool: its group `admin`
/// makes operators, with no token-changing trigger to run).
const ROLE_CLAIMS: [&str; 2] = ["roles", "cognito:groups"];

/// The roles as API Gateway renders the claim: a JSON array as JSON; `[a b]` (its rendering
/// of an array) as the space-separated entries; any other string as one entry. Never split
/// on commas.
fn roles_from_claim(raw: &str) -> Vec<String> {
    let raw = raw.trim();
    if let Ok(entries) = serde_json::from_str::<Vec<String>>(raw) {
        return entries;
    }
    match raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) => inner
            .split(' ')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        None if raw.is_empty() => Vec::new(),
        None => vec![raw.to_owned()],
    }
}

fn from_context(parts: &Parts) -> Result<Caller, Problem> {
    use lambda_http::request::RequestContext;
    let Some(RequestContext::ApiGatewayV2(context)) = parts.extensions.get::<RequestContext>()
    else {
        return Err(unauthenticated("no authorizer context"));
    };
    let claims = context
        .authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .map(|jwt| &jwt.claims)
        .ok_or_else(|| unauthenticated("no JWT claims"))?;
    let sub = claims
        .get("sub")
        .ok_or_else(|| unauthenticated("the token has no sub"))?;
    Ok(Caller {
        account: AccountId::parse(sub)
            .map_err(|_| unauthenticated("the token's sub is not an account id"))?,
        roles: caller_roles(parts, claims),
    })
}

fn from_bearer(parts: &Parts, key: &DecodingKey) -> Result<Caller, Problem> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthenticated("send Authorization: Bearer <JWT>"))?;
    let token = header
        .strip_prefix("Bearer ")
        .ok_or_else(|| unauthenticated("the Authorization header must be `Bearer <JWT>`"))?;
    let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map_err(|e| unauthenticated(&format!("the token is not valid: {e}")))?;
    Ok(Caller {
        account: AccountId::parse(&data.claims.sub)
            .map_err(|_| unauthenticated("the token's sub is not an account id"))?,
        roles: data.claims.roles,
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = super::problem::ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mode = parts
            .extensions
            .get::<Arc<AuthMode>>()
            .cloned()
            .ok_or_else(|| unauthenticated("this deployment has no identity configured"))?;
        let caller = match &*mode {
            AuthMode::Hs256(key) => from_bearer(parts, key),
            AuthMode::ApiGatewayClaims => from_context(parts),
        }?;
        crate::trace::record_account(&parts.extensions, caller.account.as_str());
        Ok(caller)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = super::problem::ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.roles.iter().any(|r| r == "admin") {
            return Err(
                Problem::new(Code::Forbidden, "operator routes need the admin role").into(),
            );
        }
        Ok(Admin(caller))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_claim_strings_from_api_gateway_parse() {
        assert_eq!(roles_from_claim("[admin ops]"), vec!["admin", "ops"]);
        assert_eq!(roles_from_claim("admin"), vec!["admin"]);
        assert_eq!(roles_from_claim(r#"["admin","ops"]"#), vec!["admin", "ops"]);
        assert!(roles_from_claim("[]").is_empty());
        assert!(roles_from_claim("").is_empty());
    }

    #[test]
    fn only_an_exact_admin_entry_is_admin() {
        let is_admin = |raw: &str| roles_from_claim(raw).iter().any(|r| r == "admin");
        assert!(is_admin("[admin]"));
        assert!(is_admin("[ops admin]"));
        for not in [
            "superadmin",
            "[superadmin]",
            "admin,x",
            "[admin,x]",
            "admin x",
            "admins",
            r#"["admin x"]"#,
            r#"["superadmin"]"#,
        ] {
            assert!(!is_admin(not), "{not}");
        }
    }

    fn token(payload: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::default(),
            &payload,
            &EncodingKey::from_secret(b"any: not checked here"),
        )
        .unwrap()
    }

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_verified_token_gives_the_exact_entries() {
        let passed = claims(&[
            ("sub", "ops"),
            ("exp", "2000000000"),
            ("roles", "[not admin]"),
        ]);
        let spaced =
            token(serde_json::json!({ "sub": "ops", "exp": 2000000000, "roles": ["not admin"] }));
        assert_eq!(
            roles_from_token(&format!("Bearer {spaced}"), &passed).unwrap(),
            vec!["not admin"],
            "one entry with a space, not two"
        );
        let admin =
            token(serde_json::json!({ "sub": "ops", "exp": 2000000000, "roles": ["admin", "x"] }));
        assert_eq!(
            roles_from_token(&format!("Bearer {admin}"), &passed).unwrap(),
            vec!["admin", "x"]
        );
        let single = token(serde_json::json!({ "sub": "ops", "roles": "admin,x" }));
        assert_eq!(
            roles_from_token(&single, &claims(&[("sub", "ops")])).unwrap(),
            vec!["admin,x"]
        );
    }

    #[test]
    fn another_token_than_the_authorizers_gives_nothing() {
        let passed = claims(&[("sub", "mallory"), ("exp", "2000000000")]);
        let other =
            token(serde_json::json!({ "sub": "ops", "exp": 2000000000, "roles": ["admin"] }));
        assert!(roles_from_token(&format!("Bearer {other}"), &passed).is_err());
        let later =
            token(serde_json::json!({ "sub": "mallory", "exp": 2100000000, "roles": ["admin"] }));
        assert!(roles_from_token(&format!("Bearer {later}"), &passed).is_err());
        assert!(roles_from_token("Bearer not-a-jwt", &passed).is_err());
    }

    #[test]
    fn a_cognito_access_token_names_its_roles_by_its_groups() {
        let passed = claims(&[("sub", "3f1c"), ("exp", "2000000000")]);
        let access = token(serde_json::json!({
            "sub": "3f1c", "exp": 2000000000, "client_id": "console",
            "cognito:groups": ["admin"], "token_use": "access"
        }));
        assert_eq!(
            roles_from_token(&format!("Bearer {access}"), &passed).unwrap(),
            vec!["admin"]
        );
        // Without the header (event fixtures), the authorizer's rendering of the claim.
        let parts_claims = claims(&[("sub", "3f1c"), ("cognito:groups", "[admin buyers]")]);
        let (no_header, ()) = axum::http::Request::new(()).into_parts();
        assert_eq!(
            caller_roles(&no_header, &parts_claims),
            vec!["admin", "buyers"]
        );
    }
}
