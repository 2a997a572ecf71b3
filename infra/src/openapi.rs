//! The HTTP contract (API.md) as an OpenAPI 3.1 document, derived from the code: every
//! function's `Api` (a `#[utoipa::path]` per handler, the request DTOs and the views as
//! schemas), the dev routes' and `/health`. `cargo run -p infra --bin openapi > openapi.yaml`
//! writes it; a test fails when the committed `openapi.yaml` differs from it, and another
//! keeps its paths equal to the route tables'.
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

/// What `/health` answers.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Health {
    #[schema(pattern = "^ok$")]
    status: String,
}

/// Ready (local runner)
#[utoipa::path(
    get,
    path = "/health",
    tag = "local runner",
    security(()),
    responses((status = 200, description = "Ready", body = Health))
)]
#[allow(dead_code)]
fn health() {}

/// The bearer JWT scheme: API Gateway's JWT authorizer in the cloud, HS256 tokens signed
/// with `MARKET_JWT_SECRET` in the local runner (`cargo run` prints demo tokens).
struct BearerJwt;

impl utoipa::Modify for BearerJwt {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Domain marketplace",
        version = "0.1.0",
        description = "The HTTP contract of ../shared/API.md, generated from the code \
            (`cargo run -p infra --bin openapi > openapi.yaml`). Errors are \
            application/problem+json with a stable code. Local-runner routes (tag 'local \
            runner') are never deployed.",
    ),
    servers((url = "http://127.0.0.1:3000", description = "local runner")),
    security(("bearer" = [])),
    paths(health),
    components(
        responses(
            market_web::openapi::Busy,
            market_web::openapi::RateLimited,
            market_web::openapi::RateLimitedOrSecurityLocked,
            market_web::openapi::SecurityLocked,
            market_web::openapi::TooLarge,
            market_web::openapi::Unauthenticated,
            market_web::openapi::PartnerUnsigned
        ),
        schemas(
            market_web::openapi::ProblemSchema,
            market_app::schema::DomainRefusalSchema,
            market_app::schema::MoneySchema,
            market_app::schema::PushStatusSchema,
        )
    ),
    modifiers(&BearerJwt),
    tags(
        (name = "listings", description = "Fixed-price listings"),
        (name = "orders", description = "Carts, orders, payment attempts"),
        (name = "pushes", description = "Priced pushes to a named buyer"),
        (name = "account", description = "Domains and money of the caller, and the security password (P12)"),
        (name = "payments", description = "The payment provider's notifications"),
        (name = "operators", description = "The registrar's side; the `admin` role"),
        (name = "local runner", description = "Dev routes of the local runner; never deployed"),
    )
)]
struct Base;

/// The whole document: every function's paths, the dev routes' and `/health`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    for api in [
        fn_list::Api::openapi(),
        fn_order::Api::openapi(),
        fn_pay_callback::Api::openapi(),
        fn_push::Api::openapi(),
        fn_admin::Api::openapi(),
        fn_account::Api::openapi(),
        crate::dev::Api::openapi(),
    ] {
        doc.merge(api);
    }
    every_body_may_be_too_large(&mut doc);
    doc
}

/// API.md: a request body over 1 MB is a 413 on every route that takes one (the router's
/// limit, `market_web::MAX_BODY_BYTES`): documented once here rather than on each handler.
fn every_body_may_be_too_large(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Ref, RefOr};
    for item in doc.paths.paths.values_mut() {
        for operation in [
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            if operation.request_body.is_some() {
                operation
                    .responses
                    .responses
                    .entry("413".into())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name("TooLarge")));
            }
        }
    }
}

/// The document as the committed `openapi.yaml` holds it.
pub fn yaml() -> String {
    let body = document()
        .to_yaml()
        .expect("the OpenAPI document serialises");
    format!(
        "# Generated from the code by `cargo run -p infra --bin openapi > openapi.yaml`: do not\n\
         # edit. A test fails when this file differs from what the code generates.\n{body}"
    )
}
