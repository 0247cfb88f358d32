//! The OpenAPI 3.1 document and `GET /v1/openapi.json`.
//!
//! Each route is registered from its handler's `#[utoipa::path]` attribute (see
//! [`super::router`]), so the path and method the router serves and the ones the document
//! names are one and the same. This module adds what the attributes do not say: the document's
//! head, the two security schemes, the `ErrorCode` schema, and [`responses_of`], which turns
//! the list of codes an endpoint may answer into one response per status whose body schema
//! admits exactly those codes.

use crate::error::ErrorCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Extension;
use countersign_core::api::{ErrorBody, WalletEvent};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::Modify;

/// The security scheme of app endpoints: `Authorization: Bearer <app API key>`.
pub const APP_KEY: &str = "app_key";
/// The other security scheme of app endpoints: a signed request (the four `countersign-*`
/// headers; see "Signed app requests" in `docs/protocol.md`).
pub const APP_SIGNATURE: &str = "app_signature";
/// The security scheme of Wallet endpoints: `Authorization: Bearer <session token>`.
pub const WALLET_SESSION: &str = "wallet_session";

/// Codes of every endpoint that reads the database.
pub const STORE: [ErrorCode; 2] = [ErrorCode::StorageUnavailable, ErrorCode::Internal];
/// Codes of a JSON request body that does not parse or is too large.
pub const JSON_BODY: [ErrorCode; 4] = [
    ErrorCode::MalformedJson,
    ErrorCode::UnreadableBody,
    ErrorCode::RequestTooLarge,
    ErrorCode::InvalidRequest,
];
/// Codes of the bearer credential check (app key or wallet session).
pub const AUTH: [ErrorCode; 1] = [ErrorCode::Unauthorized];
/// Codes of the app endpoints' authentication: a bearer key or a signed request (whose body
/// is read, within the request cap, before the handler runs).
pub const APP_AUTH: [ErrorCode; 8] = [
    ErrorCode::Unauthorized,
    ErrorCode::InvalidSignatureHeaders,
    ErrorCode::UnknownApp,
    ErrorCode::StaleTimestamp,
    ErrorCode::BadRequestSignature,
    ErrorCode::NonceReused,
    ErrorCode::BearerNotAllowed,
    ErrorCode::RequestTooLarge,
];

/// Defines a type whose [`utoipa::IntoResponses`] are the error responses of the codes in
/// the listed arrays, for the `responses(...)` of a `#[utoipa::path]`.
macro_rules! error_responses {
    ($(#[$meta:meta])* $name:ident = [$($codes:expr),* $(,)?]) => {
        $(#[$meta])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::Response>,
            > {
                $crate::routes::openapi::responses_of(&[$(&$codes[..]),*])
            }
        }
    };
}
pub(crate) use error_responses;

/// One response per status among `codes`, each describing its codes, with a body that is the
/// error envelope whose `code` is one of them.
pub fn responses_of(codes: &[&[ErrorCode]]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for &code in codes.iter().flat_map(|c| c.iter()) {
        let same = by_status.entry(code.status().as_u16()).or_default();
        if !same.contains(&code) {
            same.push(code);
        }
    }
    by_status
        .into_iter()
        .map(|(status, codes)| (status.to_string(), error_response(&codes).into()))
        .collect()
}

fn error_response(codes: &[ErrorCode]) -> Response {
    let description = codes
        .iter()
        .map(|c| format!("`{}`: {}", c.as_str(), c.description()))
        .collect::<Vec<_>>()
        .join("\n\n");
    let restriction = ObjectBuilder::new().property(
        "error",
        ObjectBuilder::new().property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes.iter().map(|c| c.as_str()))),
        ),
    );
    let schema = AllOfBuilder::new()
        .item(Ref::from_schema_name("ErrorBody"))
        .item(restriction);
    ResponseBuilder::new()
        .description(description)
        .content("application/json", Content::new(Some(schema)))
        .build()
}

/// The head of the document: info, tags, security schemes, the error envelope and codes.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Countersign",
        description = "Sensitive third-party HTTP calls that wait for a person's signed \
            approval. Apps call `/v1/proxy` and `/v1/approvals/*` with their API key; the \
            Wallet pairs with `/v1/pair*`, signs in with `/v1/wallet/challenge` and \
            `/v1/wallet/session`, and uses the other `/v1/wallet/*` endpoints with its session \
            token. Every error is answered with the envelope `ErrorBody`; each operation lists \
            the codes it may answer. A path the service does not serve is answered 404 \
            `no_such_endpoint`, a method a path does not take 405 `method_not_allowed`. The \
            protocol reference (docs/protocol.md) says what is signed and how.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "app", description = "Endpoints of apps (agents, backends), with the app's API key"),
        (name = "pairing", description = "Registering a Wallet device with a one-time code"),
        (name = "wallet", description = "Endpoints of the Wallet, with a session token (sign-in excepted)"),
        (name = "service", description = "Health, readiness and this document"),
    ),
    components(schemas(ErrorBody, WalletEvent)),
    modifiers(&Head),
)]
pub struct ApiDoc;

struct Head;

impl Modify for Head {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            APP_KEY,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An app's API key (`Authorization: Bearer <key>`); the service keeps \
                         only its SHA-256 (`[[app]] api_key_sha256`).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            APP_SIGNATURE,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "countersign-signature",
                "A signed app request (`[[app]] auth = \"hmac\"` or `\"ed25519\"`): \
                 `countersign-app`, `countersign-timestamp`, `countersign-nonce` and \
                 `countersign-signature` over the method, path, query, timestamp, nonce and the \
                 body's SHA-256; see \"Signed app requests\" in docs/protocol.md.",
            ))),
        );
        components.add_security_scheme(
            WALLET_SESSION,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A Wallet session token from `POST /v1/wallet/session` \
                         (`Authorization: Bearer <token>`); it stops working when it expires \
                         or its device key is revoked.",
                    ))
                    .build(),
            ),
        );
        let codes = ErrorCode::ALL
            .iter()
            .map(|c| {
                format!(
                    "- `{}` ({}): {}",
                    c.as_str(),
                    c.status().as_u16(),
                    c.description()
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        components.schemas.insert(
            "ErrorCode".to_string(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
                .description(Some(format!(
                    "Every error code, stable, with the HTTP status it is answered with:\n\n{codes}"
                )))
                .into(),
        );
        // `ErrorDetail.code` is a plain string in the core types; here it is one of the codes.
        if let Some(RefOr::T(Schema::Object(detail))) = components.schemas.get_mut("ErrorDetail") {
            detail.properties.insert(
                "code".to_string(),
                Ref::from_schema_name("ErrorCode").into(),
            );
        }
    }
}

/// The document as served: its JSON text, made once when the router is built.
#[derive(Clone)]
pub struct Document(Arc<str>);

impl Document {
    /// The JSON text of `openapi`.
    pub fn new(openapi: &OpenApi) -> Self {
        Self(
            openapi
                .to_pretty_json()
                .expect("an OpenAPI document always serializes")
                .into(),
        )
    }
}

/// Handles `GET /v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "service",
    operation_id = "openapi",
    summary = "This OpenAPI 3.1 document",
    responses((status = 200, description = "The document", body = Object, content_type = "application/json")),
    security(()),
)]
pub async fn openapi(Extension(document): Extension<Document>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.0.to_string(),
    )
}

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod tests;
