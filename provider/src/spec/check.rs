//! The checks of one interaction against the document: path and method,
//! parameters, security, request body, response status and response body.
//!
//! Two rules decide what a request that breaks the spec means, because a
//! contract may test the API's refusals on purpose:
//! - a request without the credentials the operation requires is compatible
//!   only when the interaction expects 401 (the API must refuse it);
//! - a request body the schema refuses is compatible only when the
//!   interaction expects 400 (Bad Request, the answer to such a body).
//!
//! Both print a `note` so that nothing is accepted silently.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use uipath_identity_client::IdentityPrefix;

use super::document::{Document, Location, Media, Operation, SecurityScheme};
use super::matchers;
use super::pact::{Body, Interaction, Part, Rule};
use super::schema::{Direction, SchemaError};
use super::validator::Validator;
use super::wording::Violation;

/// What a finding is about. The divergence list names these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Check {
    /// The path does not start with the Identity prefix.
    PathPrefix,
    /// No path of the spec matches.
    PathUnknown,
    /// The path exists, not with this method.
    MethodUnknown,
    /// A path parameter does not match its schema.
    PathParameter,
    /// A query parameter is missing, undeclared, or does not match.
    QueryParameter,
    /// A header parameter is missing or does not match.
    HeaderParameter,
    /// Required credentials are missing.
    Security,
    /// The request's content type is not one the operation accepts.
    RequestContentType,
    /// The request body is missing, undeclared, or does not match.
    RequestBody,
    /// The response status is not declared.
    ResponseStatus,
    /// The response's content type is not one declared.
    ResponseContentType,
    /// The response body is undeclared or does not match.
    ResponseBody,
}

impl Check {
    /// Every check, in the order they run.
    pub(crate) const ALL: [Check; 12] = [
        Check::PathPrefix,
        Check::PathUnknown,
        Check::MethodUnknown,
        Check::PathParameter,
        Check::QueryParameter,
        Check::HeaderParameter,
        Check::Security,
        Check::RequestContentType,
        Check::RequestBody,
        Check::ResponseStatus,
        Check::ResponseContentType,
        Check::ResponseBody,
    ];

    /// Its name, as printed and as the divergence list writes it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Check::PathPrefix => "path.prefix",
            Check::PathUnknown => "path.unknown",
            Check::MethodUnknown => "method.unknown",
            Check::PathParameter => "path.parameter",
            Check::QueryParameter => "query.parameter",
            Check::HeaderParameter => "header.parameter",
            Check::Security => "security",
            Check::RequestContentType => "request.content-type",
            Check::RequestBody => "request.body",
            Check::ResponseStatus => "response.status",
            Check::ResponseContentType => "response.content-type",
            Check::ResponseBody => "response.body",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Check {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Check::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a check: use one of {}",
                    Check::ALL.map(Check::as_str).join(", ")
                )
            })
    }
}

/// One way an interaction differs from the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    /// What it is about.
    pub check: Check,
    /// What differs.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.message)
    }
}

/// What checking one interaction found.
#[derive(Clone, Debug, Default)]
pub(crate) struct Checked {
    /// The operation it was matched to (index into the document's).
    pub operation: Option<usize>,
    /// Its findings.
    pub findings: Vec<Finding>,
    /// What was accepted by a rule, or not decided, for the reader.
    pub notes: Vec<String>,
}

impl Checked {
    fn find(&mut self, check: Check, message: impl Into<String>) {
        self.findings.push(Finding {
            check,
            message: message.into(),
        });
    }
}

/// Checks one interaction.
pub(crate) fn check(
    doc: &Document,
    validator: &Validator<'_>,
    interaction: &Interaction,
    prefix: IdentityPrefix,
) -> Result<Checked, SchemaError> {
    let mut out = Checked::default();
    let raw_path = interaction.path.split(['?', '#']).next().unwrap_or("");
    let root = format!("/{}", prefix.as_str());
    let Some(rest) = raw_path
        .strip_prefix(&root)
        .filter(|r| r.is_empty() || r.starts_with('/'))
    else {
        out.find(
            Check::PathPrefix,
            format!(
                "the path `{raw_path}` does not start with the Identity prefix `{root}/` (`--identity-prefix {prefix}`); the spec's paths are below it"
            ),
        );
        return Ok(out);
    };
    let rest = if rest.is_empty() { "/" } else { rest };

    let matches: Vec<PathMatch> = doc
        .operations
        .iter()
        .enumerate()
        .filter_map(|(operation, op)| {
            match_template(&op.path, rest).map(|(values, literals)| PathMatch {
                operation,
                values,
                literals,
            })
        })
        .collect();
    // The most literal template wins: `/api/User/BulkCreate` over
    // `/api/User/{userId}`.
    let Some(best) = matches.iter().map(|m| m.literals).max() else {
        out.find(
            Check::PathUnknown,
            format!(
                "no path of the spec matches `{rest}` (the request's `{raw_path}` without `{root}`)"
            ),
        );
        return Ok(out);
    };
    let candidates: Vec<&PathMatch> = matches.iter().filter(|m| m.literals == best).collect();
    let Some(matched) = candidates
        .iter()
        .find(|m| doc.operations[m.operation].method == interaction.method)
    else {
        let template = &doc.operations[candidates[0].operation].path;
        let mut methods: Vec<&str> = candidates
            .iter()
            .map(|m| doc.operations[m.operation].method.as_str())
            .collect();
        methods.sort_unstable();
        methods.dedup();
        out.find(
            Check::MethodUnknown,
            format!(
                "the spec declares `{template}` for {}, not for {}",
                methods.join(", "),
                interaction.method
            ),
        );
        return Ok(out);
    };
    out.operation = Some(matched.operation);
    let op = &doc.operations[matched.operation];
    let path_values = &matched.values;

    check_parameters(validator, op, interaction, path_values, &mut out)?;
    check_security(doc, op, interaction, &mut out);
    check_request_body(validator, op, interaction, &mut out)?;
    check_response(validator, op, interaction, &mut out)?;
    Ok(out)
}

/// An operation whose path template matches the request's path.
struct PathMatch {
    /// Its index in the document's operations.
    operation: usize,
    /// The path parameters' raw values.
    values: Vec<(String, String)>,
    /// How many segments matched literally.
    literals: usize,
}

/// Matches a concrete path against a template: the path parameters' raw
/// values and the number of literal segments, or `None`.
fn match_template(template: &str, path: &str) -> Option<(Vec<(String, String)>, usize)> {
    let t: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut values = Vec::new();
    let mut literals = 0;
    for (ts, ps) in t.iter().zip(&p) {
        if !ts.contains('{') {
            if ts != ps {
                return None;
            }
            literals += usize::from(!ts.is_empty());
            continue;
        }
        // A segment with templates, such as `{id}` or `{name}.json`.
        let mut pattern = String::from("^");
        let mut names = Vec::new();
        let mut remaining = *ts;
        while let Some(open) = remaining.find('{') {
            let close = remaining[open..].find('}')? + open;
            pattern.push_str(&regex::escape(&remaining[..open]));
            pattern.push_str("([^/]+?)");
            names.push(remaining[open + 1..close].to_owned());
            remaining = &remaining[close + 1..];
        }
        pattern.push_str(&regex::escape(remaining));
        pattern.push('$');
        let re = regex::Regex::new(&pattern).ok()?;
        let caps = re.captures(ps)?;
        for (i, name) in names.into_iter().enumerate() {
            values.push((name, caps.get(i + 1)?.as_str().to_owned()));
        }
    }
    Some((values, literals))
}

/// A parameter's text as the JSON value its schema describes (a number for
/// `integer`, a boolean for `boolean`), so that it can be validated.
fn coerce(validator: &Validator<'_>, schema: &Value, text: &str) -> Value {
    let mut schema = schema;
    for _ in 0..8 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => match validator.resolve(r) {
                Ok(target) => schema = target,
                Err(_) => break,
            },
            None => break,
        }
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("integer" | "number") => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| Value::String(text.to_owned())),
        Some("boolean") => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text.to_owned()),
        },
        _ => Value::String(text.to_owned()),
    }
}

fn parameter_violations(
    validator: &Validator<'_>,
    schema: &Value,
    text: &str,
) -> Result<Vec<Violation>, SchemaError> {
    let value = coerce(validator, schema, text);
    validator.validate(schema, &value, Direction::Request)
}

fn check_parameters(
    validator: &Validator<'_>,
    op: &Operation,
    interaction: &Interaction,
    path_values: &[(String, String)],
    out: &mut Checked,
) -> Result<(), SchemaError> {
    for param in &op.parameters {
        match param.location {
            Location::Path => {
                let Some((_, raw)) = path_values.iter().find(|(n, _)| *n == param.name) else {
                    continue;
                };
                let value = percent_encoding::percent_decode_str(raw)
                    .decode_utf8_lossy()
                    .into_owned();
                for v in parameter_violations(validator, &param.schema, &value)? {
                    out.find(
                        Check::PathParameter,
                        format!("the path parameter `{}`: {}", param.name, v.message),
                    );
                }
            }
            Location::Query => {
                let values: Vec<&str> = interaction
                    .query
                    .iter()
                    .filter(|(n, _)| *n == param.name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                if values.is_empty() && param.required {
                    out.find(
                        Check::QueryParameter,
                        format!(
                            "the spec requires the query parameter `{}`, the request has none",
                            param.name
                        ),
                    );
                }
                for value in values {
                    for v in parameter_violations(validator, &param.schema, value)? {
                        out.find(
                            Check::QueryParameter,
                            format!("the query parameter `{}`: {}", param.name, v.message),
                        );
                    }
                }
            }
            Location::Header => {
                // OpenAPI ignores these three as header parameters.
                if ["accept", "content-type", "authorization"]
                    .contains(&param.name.to_ascii_lowercase().as_str())
                {
                    continue;
                }
                match interaction.request.header(&param.name) {
                    None if param.required => out.find(
                        Check::HeaderParameter,
                        format!(
                            "the spec requires the header `{}`, the request has none",
                            param.name
                        ),
                    ),
                    None => {}
                    Some(value) => {
                        for v in parameter_violations(validator, &param.schema, value)? {
                            out.find(
                                Check::HeaderParameter,
                                format!("the header `{}`: {}", param.name, v.message),
                            );
                        }
                    }
                }
            }
            Location::Cookie => {}
        }
    }
    let mut undeclared: Vec<&str> = interaction
        .query
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| {
            !op.parameters
                .iter()
                .any(|p| p.location == Location::Query && p.name == *n)
        })
        .collect();
    undeclared.dedup();
    for name in undeclared {
        out.find(
            Check::QueryParameter,
            format!("the spec does not declare the query parameter `{name}`"),
        );
    }
    Ok(())
}

fn satisfied(scheme: &SecurityScheme, interaction: &Interaction) -> bool {
    let request = &interaction.request;
    match scheme {
        SecurityScheme::Authorization(kind) => request.header("authorization").is_some_and(|v| {
            let v = v.trim_start();
            kind.is_empty()
                || v.len() > kind.len()
                    && v[..kind.len()].eq_ignore_ascii_case(kind)
                    && v[kind.len()..].starts_with(' ')
        }),
        SecurityScheme::HeaderKey(name) => request.header(name).is_some(),
        SecurityScheme::QueryKey(name) => interaction.query.iter().any(|(n, _)| n == name),
        SecurityScheme::CookieKey(name) => request.header("cookie").is_some_and(|c| {
            c.split(';')
                .any(|kv| kv.trim().starts_with(&format!("{name}=")))
        }),
    }
}

fn check_security(doc: &Document, op: &Operation, interaction: &Interaction, out: &mut Checked) {
    if op.security.is_empty() || op.security.iter().any(Vec::is_empty) {
        return;
    }
    let met = op.security.iter().any(|alternative| {
        alternative
            .iter()
            .all(|name| match doc.security_scheme(name) {
                Some(scheme) => satisfied(scheme, interaction),
                // A scheme the document does not define cannot be checked.
                None => true,
            })
    });
    if met {
        return;
    }
    let wanted: Vec<String> = op
        .security
        .iter()
        .map(|alt| {
            alt.iter()
                .map(|name| match doc.security_scheme(name) {
                    Some(s) => format!("{} (`{name}`)", s.describe()),
                    None => format!("`{name}`"),
                })
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect();
    if interaction.status == 401 {
        out.notes.push(format!(
            "sent without the credentials the operation requires ({}): accepted, the interaction expects 401",
            wanted.join(" or ")
        ));
    } else {
        out.find(
            Check::Security,
            format!(
                "the operation requires {}, the request has none; only an interaction that expects 401 may leave credentials out",
                wanted.join(" or ")
            ),
        );
    }
}

/// The declared media type a content type matches: exactly, or through a
/// wildcard (`*/*`, `application/*`).
fn media_for<'m>(media: &'m [Media], content_type: &str) -> Option<&'m Media> {
    media
        .iter()
        .find(|m| m.media_type == content_type)
        .or_else(|| {
            media.iter().find(|m| {
                let (t, s) = m.media_type.split_once('/').unwrap_or((&m.media_type, ""));
                let (ct, _) = content_type.split_once('/').unwrap_or((content_type, ""));
                t == "*" || (s == "*" && t == ct)
            })
        })
}

fn media_list(media: &[Media]) -> String {
    if media.is_empty() {
        return "no body".into();
    }
    media
        .iter()
        .map(|m| format!("`{}`", m.media_type))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the spec's `media_type` admits JSON: a JSON type
/// ([`crate::http::is_json`]), or the range `*/*`, which admits any.
fn admits_json(media_type: &str) -> bool {
    media_type == "*/*" || crate::http::is_json(media_type)
}

/// What is wrong with a body against its schema: the example itself, and
/// what the body's matchers allow where that can be decided.
fn body_violations(
    validator: &Validator<'_>,
    direction: Direction,
    schema: &Value,
    value: &Value,
    rules: &[Rule],
) -> Result<Vec<Violation>, SchemaError> {
    let mut violations = validator.validate(schema, value, direction)?;
    violations.extend(matchers::check(validator, direction, schema, value, rules)?);
    Ok(violations)
}

fn check_request_body(
    validator: &Validator<'_>,
    op: &Operation,
    interaction: &Interaction,
    out: &mut Checked,
) -> Result<(), SchemaError> {
    let request = &interaction.request;
    let declared = op.request_body.as_ref();
    let Some(body) = &request.body else {
        if declared.is_some_and(|b| b.required) {
            out.find(
                Check::RequestBody,
                "the spec requires a request body, the request has none",
            );
        }
        return Ok(());
    };
    let Some(declared) = declared else {
        out.find(
            Check::RequestBody,
            "the request has a body, the spec declares none for this operation",
        );
        return Ok(());
    };
    let content_type = request.content_type_or_json();
    let Some(media) = media_for(&declared.media, &content_type) else {
        out.find(
            Check::RequestContentType,
            format!(
                "the request sends `{content_type}`, the spec accepts {}",
                media_list(&declared.media)
            ),
        );
        return Ok(());
    };
    let (Body::Json(value), Some(schema)) = (body, &media.schema) else {
        if !admits_json(&media.media_type) || matches!(body, Body::Other) {
            out.notes.push(format!(
                "the `{content_type}` request body was not checked: only JSON bodies are"
            ));
        }
        return Ok(());
    };
    let violations = body_violations(
        validator,
        Direction::Request,
        schema,
        value,
        &request.body_rules,
    )?;
    if violations.is_empty() {
        return Ok(());
    }
    if interaction.status == 400 {
        out.notes.push(format!(
            "the request body does not match the spec's schema ({}): accepted, the interaction expects 400, the answer to a body the API refuses",
            violations
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ));
    } else {
        for v in violations {
            out.find(Check::RequestBody, v.to_string());
        }
    }
    Ok(())
}

/// The declared response for `status`: exact, then `4XX`, then `default`.
fn response_for(op: &Operation, status: u16) -> Option<(&str, &[Media])> {
    let exact = status.to_string();
    let range = format!("{}XX", status / 100);
    op.responses
        .iter()
        .find(|(k, _)| *k == exact)
        .or_else(|| {
            op.responses
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&range))
        })
        .or_else(|| op.responses.iter().find(|(k, _)| k == "default"))
        .map(|(k, m)| (k.as_str(), m.as_slice()))
}

/// The declared media types the pact's `Content-Type` matcher accepts.
fn matcher_accepts<'m>(part: &Part, media: &'m [Media]) -> Option<&'m Media> {
    let (_, rule) = part
        .header_rules
        .iter()
        .find(|(n, _)| n == "content-type")?;
    let regexes: Vec<regex::Regex> = rule
        .matchers
        .iter()
        .filter(|m| m.kind == "regex")
        .filter_map(|m| m.definition.get("regex").and_then(Value::as_str))
        .filter_map(|r| regex::Regex::new(r).ok())
        .collect();
    if regexes.is_empty() {
        return None;
    }
    media.iter().find(|m| {
        let candidates = [
            m.media_type.clone(),
            format!("{}; charset=utf-8", m.media_type),
        ];
        candidates
            .iter()
            .any(|c| regexes.iter().all(|re| re.is_match(c)))
    })
}

fn check_response(
    validator: &Validator<'_>,
    op: &Operation,
    interaction: &Interaction,
    out: &mut Checked,
) -> Result<(), SchemaError> {
    let status = interaction.status;
    let Some((key, media)) = response_for(op, status) else {
        let declared: Vec<&str> = op.responses.iter().map(|(k, _)| k.as_str()).collect();
        out.find(
            Check::ResponseStatus,
            format!(
                "the spec declares {} for `{}`, not {status}",
                declared.join(", "),
                op.label()
            ),
        );
        if interaction.response.body.is_some() {
            out.find(
                Check::ResponseBody,
                format!("the pact expects a body with {status}, a status for which the spec declares nothing"),
            );
        }
        return Ok(());
    };
    if key == "default" {
        out.notes.push(format!(
            "{status} is declared only by the spec's `default` response"
        ));
    }
    let response = &interaction.response;
    let Some(body) = &response.body else {
        return Ok(());
    };
    if media.is_empty() {
        out.find(
            Check::ResponseBody,
            format!("the pact expects a body with {status}, the spec declares none"),
        );
        return Ok(());
    }
    let content_type = response.content_type_or_json();
    let chosen = match media_for(media, &content_type) {
        Some(m) => m,
        None => match matcher_accepts(response, media) {
            Some(m) => {
                out.notes.push(format!(
                    "the pact's example `Content-Type` is `{content_type}`; its matcher also accepts the spec's `{}`",
                    m.media_type
                ));
                m
            }
            None => {
                out.find(
                    Check::ResponseContentType,
                    format!(
                        "the pact expects `{content_type}`, the spec declares {} for {status}",
                        media_list(media)
                    ),
                );
                return Ok(());
            }
        },
    };
    let (Body::Json(value), Some(schema)) = (body, &chosen.schema) else {
        if matches!(body, Body::Other) {
            out.notes.push(format!(
                "the `{content_type}` response body was not checked: only JSON bodies are"
            ));
        }
        return Ok(());
    };
    let violations = body_violations(
        validator,
        Direction::Response,
        schema,
        value,
        &response.body_rules,
    )?;
    for v in violations {
        out.find(Check::ResponseBody, v.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments_and_count_literals() {
        let (values, literals) = match_template(
            "/api/User/{userId}/changepassword",
            "/api/User/abc/changepassword",
        )
        .unwrap();
        assert_eq!(values, [("userId".to_owned(), "abc".to_owned())]);
        assert_eq!(literals, 3);
        assert!(match_template("/api/User/{userId}", "/api/User/abc/changepassword").is_none());
        assert!(match_template("/api/User/{id}.json", "/api/User/7.json").is_some());
        assert!(match_template("/api/Users/{userId}", "/api/User/7").is_none());
    }

    #[test]
    fn checks_have_stable_names() {
        for check in Check::ALL {
            assert_eq!(check.as_str().parse::<Check>(), Ok(check));
        }
        assert!("response.bodies".parse::<Check>().is_err());
    }
}
