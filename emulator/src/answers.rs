//! The bodies the emulator answers with, shaped as ASP.NET Core writes them.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uipath_identity_client::{IdentityError, IdentityResult};

const PROBLEM_JSON: &str = "application/problem+json; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// A W3C traceparent, `00-<32 hex>-<16 hex>-00`, as older ASP.NET Core
/// writes into `traceId`.
pub(crate) fn trace_id() -> String {
    let trace: u128 = rand::random();
    let span: u64 = rand::random();
    format!("00-{trace:032x}-{span:016x}-00")
}

fn with_content_type(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `IdentityResult` with the given status.
pub(crate) fn identity_result(status: StatusCode, errors: Vec<IdentityError>) -> Response {
    let body = IdentityResult {
        succeeded: errors.is_empty(),
        errors,
    };
    with_content_type(
        status,
        JSON,
        serde_json::to_string(&body).expect("IdentityResult serialises"),
    )
}

/// 400 `ValidationProblemDetails` with `errors` as given.
fn validation_problem_body(errors: serde_json::Value) -> Response {
    let body = json!({
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "traceId": trace_id(),
        "errors": errors,
    });
    with_content_type(StatusCode::BAD_REQUEST, PROBLEM_JSON, body.to_string())
}

/// 400 `ValidationProblemDetails`: field (or JSON path) to messages.
pub(crate) fn validation_problem(errors: BTreeMap<String, Vec<String>>) -> Response {
    validation_problem_body(json!(errors))
}

/// A validation problem whose `errors` is a flat list of messages instead
/// of a map: the deviation `validation-errors-as-list`, for testing the gate.
pub(crate) fn validation_problem_as_list(errors: BTreeMap<String, Vec<String>>) -> Response {
    let messages: Vec<String> = errors.into_values().flatten().collect();
    validation_problem_body(json!(messages))
}

/// A validation problem whose `errors` values are single strings: the
/// deviation `validation-messages-as-strings`, for testing the gate.
pub(crate) fn validation_problem_with_string_messages(
    errors: BTreeMap<String, Vec<String>>,
) -> Response {
    let joined: BTreeMap<String, String> =
        errors.into_iter().map(|(k, v)| (k, v.join(" "))).collect();
    validation_problem_body(json!(joined))
}

/// A validation problem about one field.
pub(crate) fn validation_error(field: &str, message: impl Into<String>) -> Response {
    validation_problem(BTreeMap::from([(field.to_owned(), vec![message.into()])]))
}

/// RFC 7807 `ProblemDetails` for any other status, as ASP.NET Core writes
/// for `NotFound()`, 405, 413, 415.
pub(crate) fn problem(status: StatusCode, detail: Option<String>) -> Response {
    let section = match status.as_u16() {
        404 => "rfc7231#section-6.5.4",
        405 => "rfc7231#section-6.5.5",
        413 => "rfc7231#section-6.5.11",
        415 => "rfc7231#section-6.5.13",
        _ => "rfc7231#section-6.5.1",
    };
    let mut body = json!({
        "type": format!("https://tools.ietf.org/html/{section}"),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "traceId": trace_id(),
    });
    if let Some(detail) = detail {
        body["detail"] = json!(detail);
    }
    with_content_type(status, PROBLEM_JSON, body.to_string())
}

/// The `WWW-Authenticate` challenge of a 401 to a request with no token.
pub(crate) const NO_TOKEN: &str = "Bearer";
/// ... to a token that is not one the tenant issued.
pub(crate) const INVALID_TOKEN: &str = "Bearer error=\"invalid_token\"";
/// ... to a token that has expired.
pub(crate) const EXPIRED_TOKEN: &str =
    "Bearer error=\"invalid_token\", error_description=\"The token expired\"";

/// 401 as JwtBearer answers it: empty body and this `WWW-Authenticate`
/// challenge.
pub(crate) fn unauthorized(challenge: &'static str) -> Response {
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// `{"error": message}` with `status`: the emulator's own refusals (the
/// OAuth token endpoint, provider states, the admin endpoints).
pub(crate) fn error_json(status: StatusCode, message: impl serde::Serialize) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}
