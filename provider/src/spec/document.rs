//! Reading an OpenAPI 3.0 or Swagger 2.0 document, YAML or JSON, from a
//! file or a URL, into one model of its operations.
//!
//! Paths are kept relative to the Identity root (`.../identity_`): the part
//! of the document's base (OpenAPI 3's first `servers` URL, Swagger 2's
//! `basePath`) after its `identity_` or `identity` segment is put in front
//! of every path; a base without such a segment is put in front whole.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};
use url::Url;

use super::SpecError;
use super::schema::{Dialect, SchemaError, resolve_pointer};
use crate::redact::masked_url;

/// Where the document comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecSource {
    /// A file on disk.
    File(PathBuf),
    /// An http(s) URL, such as a tenant's
    /// `https://cloud.uipath.com/myorg/identity_/swagger/external/swagger.json`.
    Url(Url),
}

impl SpecSource {
    /// A URL when `value` starts with `http://` or `https://`, else a file.
    pub fn parse(value: &str) -> Result<Self, SpecError> {
        let value = value.trim();
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let url = Url::parse(value).map_err(|e| SpecError::BadUrl {
                input: value.to_owned(),
                reason: e.to_string(),
            })?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err(SpecError::BadUrl {
                    input: value.to_owned(),
                    reason: "it has no host".into(),
                });
            }
            return Ok(SpecSource::Url(url));
        }
        if let Some((scheme, _)) = value.split_once("://") {
            return Err(SpecError::BadUrl {
                input: value.to_owned(),
                reason: format!("the scheme `{scheme}` is not http or https"),
            });
        }
        if value.is_empty() {
            return Err(SpecError::BadUrl {
                input: value.to_owned(),
                reason: "it is empty".into(),
            });
        }
        Ok(SpecSource::File(PathBuf::from(value)))
    }

    /// How to name it in messages and reports: a URL with the password of
    /// its user info, the values of its query and its fragment (any of
    /// which may carry a token) shown as `***`.
    pub fn label(&self) -> String {
        match self {
            SpecSource::File(path) => path.display().to_string(),
            SpecSource::Url(url) => masked_url(url),
        }
    }
}

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie (not checked).
    Cookie,
}

/// One declared parameter.
#[derive(Clone, Debug)]
pub(crate) struct Parameter {
    /// Its name.
    pub name: String,
    /// Where it goes.
    pub location: Location,
    /// Whether a request must carry it.
    pub required: bool,
    /// Its schema (for Swagger 2, the parameter object itself).
    pub schema: Value,
}

/// One media type of a body.
#[derive(Clone, Debug)]
pub(crate) struct Media {
    /// Such as `application/json` (lower case, without parameters).
    pub media_type: String,
    /// Its schema, when the document gives one.
    pub schema: Option<Value>,
}

/// A request body the operation accepts.
#[derive(Clone, Debug)]
pub(crate) struct RequestBody {
    /// Whether a request must carry one.
    pub required: bool,
    /// The media types it may come in.
    pub media: Vec<Media>,
}

/// How a security scheme carries credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SecurityScheme {
    /// `Authorization: <scheme> ...` (OpenAPI `http`, Swagger `basic`;
    /// OAuth2 and OpenID Connect tokens are sent as `Bearer`).
    Authorization(String),
    /// An API key in a header.
    HeaderKey(String),
    /// An API key in the query string.
    QueryKey(String),
    /// An API key in a cookie.
    CookieKey(String),
}

impl SecurityScheme {
    /// How a request satisfies it, for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            SecurityScheme::Authorization(scheme) => {
                format!("an `Authorization: {} …` header", capitalise(scheme))
            }
            SecurityScheme::HeaderKey(name) => format!("the header `{name}`"),
            SecurityScheme::QueryKey(name) => format!("the query parameter `{name}`"),
            SecurityScheme::CookieKey(name) => format!("the cookie `{name}`"),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One operation: a method on a path.
#[derive(Clone, Debug)]
pub(crate) struct Operation {
    /// The path as the document writes it (`/api/User/{userId}/changepassword`).
    pub template: String,
    /// The same, relative to the Identity root (with the document's base).
    pub path: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// Its parameters, the path's merged in.
    pub parameters: Vec<Parameter>,
    /// The body it accepts.
    pub request_body: Option<RequestBody>,
    /// Its responses by status (`200`, `4XX`, `default`), in document order.
    pub responses: Vec<(String, Vec<Media>)>,
    /// The security requirements: any one alternative must be met; each
    /// alternative lists scheme names. Empty: none required. An empty
    /// alternative: anonymous calls allowed.
    pub security: Vec<Vec<String>>,
}

impl Operation {
    /// `POST /api/User/{userId}/changepassword`.
    pub(crate) fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A document read into operations.
#[derive(Clone, Debug)]
pub(crate) struct Document {
    /// The whole document, for `$ref`s.
    pub root: Value,
    /// Swagger 2.0, OpenAPI 3.0 or 3.1.
    pub dialect: Dialect,
    /// `OpenAPI 3.0.1`, `Swagger 2.0`.
    pub format: String,
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// Every operation.
    pub operations: Vec<Operation>,
    /// The security schemes by name.
    pub security_schemes: Vec<(String, SecurityScheme)>,
}

impl Document {
    /// The scheme named `name`.
    pub(crate) fn security_scheme(&self, name: &str) -> Option<&SecurityScheme> {
        self.security_schemes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }
}

/// Reads the document from its source.
pub(crate) async fn load(
    source: &SpecSource,
    timeout: Duration,
    max_body: usize,
) -> Result<Document, SpecError> {
    let label = source.label();
    let text = match source {
        SpecSource::File(path) => {
            if !path.exists() {
                return Err(SpecError::Missing(path.clone()));
            }
            std::fs::read(path).map_err(|e| SpecError::Unreadable {
                origin: label.clone(),
                reason: e.to_string(),
            })?
        }
        SpecSource::Url(url) => fetch(url, timeout, max_body).await?,
    };
    let text = String::from_utf8(text).map_err(|_| SpecError::Unparsable {
        origin: label.clone(),
        reason: "it is not UTF-8 text".into(),
    })?;
    parse(&text, &label)
}

async fn fetch(url: &Url, timeout: Duration, max_body: usize) -> Result<Vec<u8>, SpecError> {
    let fetch_error = |reason: String| SpecError::Fetch {
        url: masked_url(url),
        reason,
    };
    let client = crate::http::client(crate::http::ClientSettings {
        timeout,
        insecure: false,
        redirects: crate::http::Redirects::SameOrigin,
    })
    .map_err(|e| fetch_error(format!("{e:#}")))?;
    let response = client
        .get(url.clone())
        .header(
            reqwest::header::ACCEPT,
            "application/json, application/yaml;q=0.9, */*;q=0.5",
        )
        .send()
        .await
        .map_err(|e| {
            fetch_error(uipath_identity_client::client::error_chain(
                &e.without_url(),
            ))
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(SpecError::HttpStatus {
            url: masked_url(url),
            status: status.to_string(),
        });
    }
    crate::http::read_body(response, max_body)
        .await
        .map_err(|e| match e {
            crate::http::BodyError::TooLarge { .. } => {
                fetch_error(format!("{e}{}", crate::http::TOO_LARGE_HINT))
            }
            crate::http::BodyError::Transport(e) => fetch_error(
                uipath_identity_client::client::error_chain(&e.without_url()),
            ),
        })
}

/// Parses a document's text (JSON or YAML).
pub(crate) fn parse(text: &str, origin: &str) -> Result<Document, SpecError> {
    let root = parse_text(text, origin)?;
    normalise(root, origin)
}

fn parse_text(text: &str, origin: &str) -> Result<Value, SpecError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).map_err(|e| SpecError::Unparsable {
            origin: origin.to_owned(),
            reason: format!("invalid JSON ({e})"),
        });
    }
    let yaml: serde_norway::Value =
        serde_norway::from_str(trimmed).map_err(|e| SpecError::Unparsable {
            origin: origin.to_owned(),
            reason: format!("neither JSON nor valid YAML ({e})"),
        })?;
    yaml_to_json(yaml).map_err(|reason| SpecError::Unparsable {
        origin: origin.to_owned(),
        reason,
    })
}

/// YAML to JSON, with mapping keys (such as unquoted status codes `200:`)
/// turned into strings.
fn yaml_to_json(value: serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| format!("the number {n} has no JSON form"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".into(),
                    other => return Err(format!("a mapping key that is not a scalar ({other:?})")),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn not_openapi(origin: &str, reason: impl Into<String>) -> SpecError {
    SpecError::NotOpenApi {
        origin: origin.to_owned(),
        reason: reason.into(),
    }
}

fn normalise(root: Value, origin: &str) -> Result<Document, SpecError> {
    let Value::Object(top) = &root else {
        return Err(not_openapi(origin, "it is not a JSON/YAML object"));
    };
    let version_of = |key: &str| match top.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let (dialect, format) = if let Some(v) = version_of("openapi") {
        if v.starts_with("3.0") {
            (Dialect::OpenApi30, format!("OpenAPI {v}"))
        } else if v.starts_with("3.1") {
            (Dialect::OpenApi31, format!("OpenAPI {v}"))
        } else {
            return Err(not_openapi(
                origin,
                format!("`openapi: {v}` is not a version this reads (3.0 or 3.1)"),
            ));
        }
    } else if let Some(v) = version_of("swagger") {
        if v == "2.0" || v == "2" {
            (Dialect::Swagger2, "Swagger 2.0".to_owned())
        } else {
            return Err(not_openapi(
                origin,
                format!("`swagger: {v}` is not a version this reads (2.0)"),
            ));
        }
    } else {
        return Err(not_openapi(
            origin,
            "it has neither `openapi: 3.x` nor `swagger: \"2.0\"` at the top",
        ));
    };
    let Some(Value::Object(paths)) = top.get("paths") else {
        return Err(not_openapi(origin, "it has no `paths`"));
    };
    let info = |key: &str| {
        top.get("info")
            .and_then(|i| i.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let base = match dialect {
        Dialect::Swagger2 => top
            .get("basePath")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        _ => top
            .get("servers")
            .and_then(|s| s.get(0))
            .and_then(|s| s.get("url"))
            .and_then(Value::as_str)
            .map(server_path)
            .unwrap_or_default(),
    };
    let offset = offset_below_identity(&base);
    let reader = Reader {
        root: &root,
        dialect,
        origin,
    };
    let security_schemes = reader.security_schemes()?;
    let global_security = top.get("security");
    let mut operations = Vec::new();
    for (template, item) in paths {
        if template.starts_with("x-") {
            continue;
        }
        let item = reader.deref(item, &format!("paths.{template}"))?;
        let shared = item.get("parameters");
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let at = format!("paths.{template}.{method}");
            operations.push(reader.operation(
                template,
                &offset,
                method,
                op,
                shared,
                global_security,
                &at,
            )?);
        }
    }
    let title = info("title");
    let version = info("version");
    Ok(Document {
        dialect,
        format,
        title,
        version,
        operations,
        security_schemes,
        root,
    })
}

/// The path part of a `servers` URL, absolute (`https://host/identity_`)
/// or relative (`/identity_`).
fn server_path(url: &str) -> String {
    if let Ok(parsed) = Url::parse(url) {
        return parsed.path().to_owned();
    }
    // Relative, or with `{variables}` a URL parser refuses: the part after
    // the host.
    let url = url.split(['?', '#']).next().unwrap_or("");
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]).to_owned(),
        None => url.to_owned(),
    }
}

/// What comes after the Identity root in a base path: `/identity_` → ``,
/// `/org/identity_/api` → `/api`, `/api` → `/api`.
fn offset_below_identity(base: &str) -> String {
    let segments: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    let after = match segments
        .iter()
        .rposition(|s| s.parse::<uipath_identity_client::IdentityPrefix>().is_ok())
    {
        Some(i) => &segments[i + 1..],
        None => &segments[..],
    };
    after.iter().map(|s| format!("/{s}")).collect()
}

struct Reader<'a> {
    root: &'a Value,
    dialect: Dialect,
    origin: &'a str,
}

impl<'a> Reader<'a> {
    fn bad(&self, at: &str, reason: impl Into<String>) -> SpecError {
        not_openapi(self.origin, format!("at `{at}`: {}", reason.into()))
    }

    /// Follows `$ref`s (a few levels) on a parameter, response, request
    /// body or path item.
    fn deref(&self, value: &'a Value, at: &str) -> Result<&'a Value, SpecError> {
        let mut current = value;
        for _ in 0..16 {
            match current.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    current = resolve_pointer(self.root, reference)
                        .map_err(|e: SchemaError| self.bad(at, e.to_string()))?;
                }
                None => return Ok(current),
            }
        }
        Err(self.bad(at, "`$ref`s nested more than 16 deep"))
    }

    fn security_schemes(&self) -> Result<Vec<(String, SecurityScheme)>, SpecError> {
        let defs = match self.dialect {
            Dialect::Swagger2 => self.root.get("securityDefinitions"),
            _ => self
                .root
                .get("components")
                .and_then(|c| c.get("securitySchemes")),
        };
        let Some(Value::Object(defs)) = defs else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (name, def) in defs {
            let def = self.deref(def, &format!("security scheme {name}"))?;
            let field = |k: &str| def.get(k).and_then(Value::as_str).unwrap_or("");
            let scheme = match field("type") {
                "http" => SecurityScheme::Authorization(field("scheme").to_ascii_lowercase()),
                "basic" => SecurityScheme::Authorization("basic".into()),
                "oauth2" | "openIdConnect" => SecurityScheme::Authorization("bearer".into()),
                "apiKey" => match field("in") {
                    "header" => SecurityScheme::HeaderKey(field("name").to_owned()),
                    "query" => SecurityScheme::QueryKey(field("name").to_owned()),
                    "cookie" => SecurityScheme::CookieKey(field("name").to_owned()),
                    other => {
                        return Err(self.bad(
                            &format!("security scheme {name}"),
                            format!("an API key `in: {other}`"),
                        ));
                    }
                },
                other => {
                    return Err(self.bad(
                        &format!("security scheme {name}"),
                        format!("the type `{other}` is not one OpenAPI defines"),
                    ));
                }
            };
            out.push((name.clone(), scheme));
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &self,
        template: &str,
        offset: &str,
        method: &str,
        op: &'a Value,
        shared: Option<&'a Value>,
        global_security: Option<&'a Value>,
        at: &str,
    ) -> Result<Operation, SpecError> {
        let (parameters, mut request_body) = self.parameters(op, shared, at)?;
        if self.dialect != Dialect::Swagger2
            && let Some(body) = op.get("requestBody")
        {
            let body = self.deref(body, at)?;
            request_body = Some(RequestBody {
                required: body
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                media: self.content(body.get("content")),
            });
        }
        let responses = self.responses(op, at)?;
        let security = match op.get("security").or(global_security) {
            Some(Value::Array(alternatives)) => alternatives
                .iter()
                .map(|alt| match alt {
                    Value::Object(schemes) => schemes.keys().cloned().collect(),
                    _ => Vec::new(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(Operation {
            template: template.to_owned(),
            path: format!("{offset}{template}"),
            method: method.to_ascii_uppercase(),
            parameters,
            request_body,
            responses,
            security,
        })
    }

    /// The parameters of an operation, its path's (`shared`) overridden by
    /// its own; and, in Swagger 2.0, the request body a `body` or
    /// `formData` parameter describes.
    fn parameters(
        &self,
        op: &'a Value,
        shared: Option<&'a Value>,
        at: &str,
    ) -> Result<(Vec<Parameter>, Option<RequestBody>), SpecError> {
        let mut parameters: Vec<Parameter> = Vec::new();
        let mut request_body = None;
        let lists = [shared, op.get("parameters")];
        for list in lists.into_iter().flatten() {
            let Value::Array(list) = list else {
                return Err(self.bad(at, "`parameters` is not a list"));
            };
            for p in list {
                let p = self.deref(p, at)?;
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                let location = match p.get("in").and_then(Value::as_str).unwrap_or("") {
                    "path" => Location::Path,
                    "query" => Location::Query,
                    "header" => Location::Header,
                    "cookie" => Location::Cookie,
                    "body" if self.dialect == Dialect::Swagger2 => {
                        request_body = Some(RequestBody {
                            required,
                            media: self
                                .swagger_media(op, "consumes")
                                .into_iter()
                                .map(|media_type| Media {
                                    media_type,
                                    schema: p.get("schema").cloned(),
                                })
                                .collect(),
                        });
                        continue;
                    }
                    "formData" if self.dialect == Dialect::Swagger2 => {
                        let media = self.swagger_media(op, "consumes");
                        request_body.get_or_insert(RequestBody {
                            required: false,
                            media: media
                                .into_iter()
                                .map(|media_type| Media {
                                    media_type,
                                    schema: None,
                                })
                                .collect(),
                        });
                        continue;
                    }
                    other => {
                        return Err(self.bad(at, format!("a parameter `in: {other}`")));
                    }
                };
                let schema = match self.dialect {
                    Dialect::Swagger2 => p.clone(),
                    _ => p.get("schema").cloned().unwrap_or(Value::Bool(true)),
                };
                // An operation's parameter overrides the path's of the same
                // name and place.
                parameters.retain(|q| !(q.name == name && q.location == location));
                parameters.push(Parameter {
                    name,
                    location,
                    required: required || location == Location::Path,
                    schema,
                });
            }
        }
        Ok((parameters, request_body))
    }

    /// The responses of an operation: each status with its media types.
    fn responses(&self, op: &'a Value, at: &str) -> Result<Vec<(String, Vec<Media>)>, SpecError> {
        let mut responses = Vec::new();
        if let Some(Value::Object(map)) = op.get("responses") {
            for (status, response) in map {
                if status.starts_with("x-") {
                    continue;
                }
                let response = self.deref(response, &format!("{at}.responses.{status}"))?;
                let media = match self.dialect {
                    Dialect::Swagger2 => match response.get("schema") {
                        Some(schema) => self
                            .swagger_media(op, "produces")
                            .into_iter()
                            .map(|media_type| Media {
                                media_type,
                                schema: Some(schema.clone()),
                            })
                            .collect(),
                        None => Vec::new(),
                    },
                    _ => self.content(response.get("content")),
                };
                responses.push((status.clone(), media));
            }
        } else {
            return Err(self.bad(at, "it has no `responses`"));
        }
        Ok(responses)
    }

    fn content(&self, content: Option<&Value>) -> Vec<Media> {
        let Some(Value::Object(content)) = content else {
            return Vec::new();
        };
        content
            .iter()
            .map(|(media_type, media)| Media {
                media_type: essence(media_type),
                schema: media.get("schema").cloned(),
            })
            .collect()
    }

    /// Swagger 2's `consumes`/`produces` of the operation, else of the
    /// document, else JSON.
    fn swagger_media(&self, op: &Value, key: &str) -> Vec<String> {
        let list = op
            .get(key)
            .or_else(|| self.root.get(key))
            .and_then(Value::as_array);
        match list {
            Some(list) if !list.is_empty() => {
                list.iter().filter_map(Value::as_str).map(essence).collect()
            }
            _ => vec!["application/json".into()],
        }
    }
}

/// A media type without its parameters, in lower case:
/// `application/json; charset=utf-8` → `application/json`.
pub(crate) fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_below_the_identity_root_is_kept() {
        assert_eq!(offset_below_identity("/identity_"), "");
        assert_eq!(
            offset_below_identity("https://x/identity_".trim_start_matches("https://x")),
            ""
        );
        assert_eq!(offset_below_identity("/org/identity/api"), "/api");
        assert_eq!(offset_below_identity("/"), "");
        assert_eq!(offset_below_identity("/api"), "/api");
        assert_eq!(
            server_path("https://cloud.uipath.com/identity_"),
            "/identity_"
        );
    }

    #[test]
    fn yaml_status_codes_become_strings() {
        let doc = parse(
            "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        200:\n          description: ok\n",
            "test",
        )
        .unwrap();
        assert_eq!(doc.operations[0].responses[0].0, "200");
        assert_eq!(doc.format, "Swagger 2.0");
    }

    #[test]
    fn a_document_without_a_version_is_refused() {
        let err = parse("{\"paths\": {}}", "x.json").unwrap_err();
        assert!(err.to_string().contains("neither `openapi: 3.x`"), "{err}");
    }

    #[test]
    fn urls_and_files_are_told_apart() {
        assert!(matches!(
            SpecSource::parse("https://h/x.json"),
            Ok(SpecSource::Url(_))
        ));
        assert!(matches!(
            SpecSource::parse("spec.yaml"),
            Ok(SpecSource::File(_))
        ));
        assert!(SpecSource::parse("ftp://h/x").is_err());
        assert!(SpecSource::parse("http://").is_err());
    }

    #[test]
    fn a_url_is_named_without_its_password_query_values_or_fragment() {
        let source =
            SpecSource::parse("https://ci:pa55-w0rd@h/x.json?token=t0k-3n&v=2;k=s3c#frag-m3nt")
                .unwrap();
        assert_eq!(
            source.label(),
            "https://ci:***@h/x.json?token=***&v=***;k=***#***"
        );
        let plain = "https://h/org/identity_/swagger/external/swagger.json";
        assert_eq!(SpecSource::parse(plain).unwrap().label(), plain);
        assert_eq!(
            SpecSource::parse("https://h/x?s3cr3t").unwrap().label(),
            "https://h/x?***"
        );
    }
}
