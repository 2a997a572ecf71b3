//! Identity. In the cloud, API Gateway's JWT authorizer has verified the token and the
//! function reads the `sub` and `roles` claims from the request context; the local runner
//! verifies HS256 tokens itself. No route takes an account id from the body or a header.
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::core::error::{Code, Problem};
use crate::core::ids::AccountId;

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

/// API Gateway hands claims over as strings; an array claim looks like `[admin ops]`.
fn roles_from_claim(raw: &str) -> Vec<String> {
    raw.trim_matches(|c| c == '[' || c == ']')
        .split([' ', ','])
        .map(|r| r.trim_matches('"'))
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
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
        roles: claims
            .get("roles")
            .map(|r| roles_from_claim(r))
            .unwrap_or_default(),
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
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mode = parts
            .extensions
            .get::<Arc<AuthMode>>()
            .cloned()
            .ok_or_else(|| unauthenticated("this deployment has no identity configured"))?;
        match &*mode {
            AuthMode::Hs256(key) => from_bearer(parts, key),
            AuthMode::ApiGatewayClaims => from_context(parts),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.roles.iter().any(|r| r == "admin") {
            return Err(Problem::new(
                Code::Forbidden,
                "operator routes need the admin role",
            ));
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
        assert!(roles_from_claim("[]").is_empty());
    }
}
