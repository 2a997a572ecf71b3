//! The address a request came from, as the transport (not the client) tells it: in the
//! cloud API Gateway's `requestContext.http.sourceIp`, in the local runner the socket's
//! peer. Never a header such as `X-Forwarded-For`, which the client writes itself. The
//! human check (O7) passes it to the captcha service as `remoteip`.
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The client's address, when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

/// The address in a request's parts: API Gateway's source IP, else the socket peer.
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    use lambda_http::request::RequestContext;
    if let Some(RequestContext::ApiGatewayV2(context)) = parts.extensions.get::<RequestContext>() {
        return context
            .http
            .source_ip
            .as_deref()
            .and_then(|ip| ip.trim().parse().ok());
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(request: axum::http::Request<()>) -> Parts {
        request.into_parts().0
    }

    #[test]
    fn o7_the_socket_peer_locally_and_never_a_forwarded_header() {
        let mut request = axum::http::Request::builder()
            .header("x-forwarded-for", "203.0.113.9")
            .body(())
            .unwrap();
        assert_eq!(client_ip(&parts(request)), None);
        request = axum::http::Request::builder()
            .header("x-forwarded-for", "203.0.113.9")
            .body(())
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4242))));
        assert_eq!(
            client_ip(&parts(request)),
            Some(IpAddr::from([127, 0, 0, 1]))
        );
    }
}
