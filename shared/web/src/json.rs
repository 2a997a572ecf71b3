//! Strict request parsing: JSON bodies with unknown fields refused (the DTOs deny them),
//! query strings, and path ids, all answered with 400 problem+json when malformed.
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use market_core::error::{Code, Problem};
use market_core::money::Money;

/// A JSON body; a malformed one, a wrong content type or an unknown field is a 400.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = super::problem::ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(super::too_large().into())
            }
            Err(rejection) => {
                Err(Problem::new(Code::InvalidRequest, json_detail(&rejection)).into())
            }
        }
    }
}

fn json_detail(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => "send the body as application/json".into(),
        other => other.body_text(),
    }
}

/// A query string; a malformed one is a 400.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = super::problem::ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => {
                Err(Problem::new(Code::InvalidRequest, query_detail(&rejection)).into())
            }
        }
    }
}

fn query_detail(rejection: &QueryRejection) -> String {
    rejection.body_text()
}

/// An amount as the API takes it: a JSON string (`"1999.00"`). Numbers are refused too:
/// money never travels as a float.
pub fn amount(value: &serde_json::Value) -> Result<Money, Problem> {
    match value {
        serde_json::Value::String(text) => Money::parse(text),
        other => Err(Problem::new(
            Code::InvalidAmount,
            format!("amounts are decimal strings such as \"1999.00\", not {other}"),
        )),
    }
}
