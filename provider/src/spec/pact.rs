//! The HTTP interactions of a pact file (Pact V2, V3 or V4), read into the
//! few things the spec check looks at: method, path, query, headers, bodies,
//! status and body matching rules.
//!
//! # What pact_models reads, and what is read by hand
//!
//! Matching-rule paths (`$.errors[*].code`) are parsed by pact_models'
//! [`DocPath`], the grammar pact matching applies rules with, so that the
//! check reads a rule where the verifier would apply it.
//!
//! The rest is read from the pact's JSON here, because pact_models' model
//! (`RequestResponsePact`, `SynchronousHttp`) would change what the report
//! says:
//! - **Order.** Query parameters and matching rules are `HashMap`s there;
//!   the report lists findings in the pact's order (and names an undeclared
//!   query parameter once per run of equal names), which a hash order would
//!   shuffle from one run to the next.
//! - **Values as recorded.** pact_models splits some header values at
//!   commas (`Accept`, `Cache-Control`, ...) and trims them, and turns V2
//!   matchers into its own rule type, written back in V3 form; the check
//!   reads a header's value and a matcher's definition as the pact has them.
//! - **What is missing.** pact_models fills gaps with defaults (no method is
//!   `GET`, no `request` is a `GET /`); the check names the interaction and
//!   what it lacks, and stops (exit 2).
//! - **Bodies.** A body with no content type is JSON here, Pact's default
//!   for a recorded JSON value; pact_models guesses a type from the bytes.

use crate::sources::PactFile;

use pact_models::path_exp::{DocPath, PathToken};
use serde_json::Value;

use super::SpecError;
use super::document::essence;

/// A pact file's interactions.
#[derive(Clone, Debug)]
pub(crate) struct PactInteractions {
    /// The consumer's name.
    pub consumer: String,
    /// The provider's name.
    pub provider: String,
    /// The HTTP interactions, in file order.
    pub interactions: Vec<Interaction>,
    /// Interactions of other kinds (messages), by description: not checked.
    pub skipped: Vec<String>,
}

/// A body as the pact records it.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    /// A JSON body.
    Json(Value),
    /// Anything else (text, binary, encoded): its content type is checked,
    /// its content is not.
    Other,
}

/// One step of a path into a value, as Pact's matcher paths have them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// `.name` or `['name']`.
    Field(String),
    /// `.*`: any property.
    AnyField,
    /// `[3]`.
    Index(usize),
    /// `[*]`: any item.
    AnyIndex,
}

/// One matcher of a matching rule, by the JSON types it lets through.
#[derive(Clone, Debug)]
pub(crate) struct Matcher {
    /// `type`, `regex`, `integer`, `eachValue`, ...
    pub kind: String,
    /// The whole matcher as the pact has it.
    pub definition: Value,
}

/// The matchers on one place in a body.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    /// The place, as written (`$.errors[*].code`).
    pub expression: String,
    /// The place, parsed (`None`: a path this does not understand).
    pub path: Option<Vec<Step>>,
    /// Whether every matcher must pass (`AND`) or any one (`OR`).
    pub all: bool,
    /// The matchers.
    pub matchers: Vec<Matcher>,
}

/// One side of an exchange.
#[derive(Clone, Debug, Default)]
pub(crate) struct Part {
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body, when there is one.
    pub body: Option<Body>,
    /// The body's content type (the `Content-Type` header's, else the V4
    /// body's own), without parameters.
    pub content_type: Option<String>,
    /// Matching rules on the body.
    pub body_rules: Vec<Rule>,
    /// Matching rules on headers, by lower-case name.
    pub header_rules: Vec<(String, Rule)>,
}

impl Part {
    /// The first value of header `name` (any case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body's content type, `application/json` when the pact gives
    /// none.
    pub(crate) fn content_type_or_json(&self) -> String {
        self.content_type
            .clone()
            .unwrap_or_else(|| "application/json".into())
    }
}

/// One HTTP interaction.
#[derive(Clone, Debug)]
pub(crate) struct Interaction {
    /// Its description.
    pub description: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request path, as recorded (percent-encoded).
    pub path: String,
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The request.
    pub request: Part,
    /// The expected response status.
    pub status: u16,
    /// The expected response.
    pub response: Part,
}

/// The HTTP interactions of a pact file, from its JSON as
/// [`crate::sources::discover_parsed`] read it.
pub(crate) fn interactions(file: &PactFile, json: &Value) -> Result<PactInteractions, SpecError> {
    let bad = |reason: String| SpecError::Pact {
        path: file.path.clone(),
        reason,
    };
    let version = json
        .pointer("/metadata/pactSpecification/version")
        .or_else(|| json.pointer("/metadata/pact-specification/version"))
        .and_then(Value::as_str)
        .unwrap_or("2.0.0");
    let v2 = version.starts_with('1') || version.starts_with('2');
    let list = json
        .get("interactions")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("it has no `interactions` list".into()))?;
    let mut interactions = Vec::new();
    let mut skipped = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let description = item
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("interaction {}", i + 1));
        match item.get("type").and_then(Value::as_str) {
            None | Some("Synchronous/HTTP") => {}
            Some(_) => {
                skipped.push(description);
                continue;
            }
        }
        let at = |what: &str| bad(format!("interaction `{description}` has no {what}"));
        let request = item.get("request").ok_or_else(|| at("`request`"))?;
        let response = item.get("response").ok_or_else(|| at("`response`"))?;
        let method = request
            .get("method")
            .and_then(Value::as_str)
            .ok_or_else(|| at("`request.method`"))?
            .to_ascii_uppercase();
        let path = request
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("/")
            .to_owned();
        let status = response
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(200);
        interactions.push(Interaction {
            description,
            method,
            path,
            query: query(request.get("query")),
            request: part(request, v2),
            status,
            response: part(response, v2),
        });
    }
    Ok(PactInteractions {
        consumer: file.consumer.clone(),
        provider: file.provider.clone(),
        interactions,
        skipped,
    })
}

fn query(value: Option<&Value>) -> Vec<(String, String)> {
    match value {
        // V2: a query string.
        Some(Value::String(q)) => url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        // V3, V4: name -> [values].
        Some(Value::Object(map)) => map
            .iter()
            .flat_map(|(k, v)| {
                let values: Vec<String> = match v {
                    Value::Array(items) => items
                        .iter()
                        .map(|i| {
                            i.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| i.to_string())
                        })
                        .collect(),
                    Value::String(s) => vec![s.clone()],
                    other => vec![other.to_string()],
                };
                values.into_iter().map(move |v| (k.clone(), v))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn part(side: &Value, v2: bool) -> Part {
    let mut headers = Vec::new();
    if let Some(Value::Object(map)) = side.get("headers") {
        for (name, value) in map {
            let name = name.to_ascii_lowercase();
            match value {
                Value::Array(values) => {
                    for v in values.iter().filter_map(Value::as_str) {
                        headers.push((name.clone(), v.to_owned()));
                    }
                }
                Value::String(v) => headers.push((name, v.clone())),
                _ => {}
            }
        }
    }
    let header_type = headers
        .iter()
        .find(|(n, _)| n == "content-type")
        .map(|(_, v)| essence(v));
    let (body, content_type) = match side.get("body") {
        None => (None, header_type),
        // V4: { content, contentType, encoded }.
        Some(Value::Object(b))
            if b.contains_key("content")
                && (b.contains_key("contentType") || b.contains_key("encoded")) =>
        {
            // The header is what goes on the wire; the body's own type is
            // the fallback.
            let content_type =
                header_type.or_else(|| b.get("contentType").and_then(Value::as_str).map(essence));
            let encoded = !matches!(b.get("encoded"), None | Some(Value::Bool(false)));
            let content = b.get("content").cloned().unwrap_or(Value::Null);
            let body = if encoded {
                Body::Other
            } else {
                json_body(content, content_type.as_deref())
            };
            (Some(body), content_type)
        }
        Some(content) => {
            let body = json_body(content.clone(), header_type.as_deref());
            (Some(body), header_type)
        }
    };
    let rules = side.get("matchingRules");
    let (body_rules, header_rules) = if v2 {
        v2_rules(rules)
    } else {
        (
            category_rules(rules.and_then(|r| r.get("body"))),
            category_rules(rules.and_then(|r| r.get("header")))
                .into_iter()
                .map(|r| (r.expression.to_ascii_lowercase(), r))
                .collect(),
        )
    };
    Part {
        headers,
        body,
        content_type,
        body_rules,
        header_rules,
    }
}

fn json_body(content: Value, content_type: Option<&str>) -> Body {
    // A pact that gives no content type has a JSON body (Pact's default).
    if !content_type.is_none_or(crate::http::is_json) {
        return Body::Other;
    }
    match content {
        // A JSON body recorded as text.
        Value::String(text) if content_type.is_some() => {
            serde_json::from_str(&text).map_or(Body::Other, Body::Json)
        }
        other => Body::Json(other),
    }
}

/// V3/V4: `{ "<path>": { "combine": "AND", "matchers": [..] } }`.
fn category_rules(category: Option<&Value>) -> Vec<Rule> {
    let Some(Value::Object(map)) = category else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(expression, rule)| {
            let matchers = rule.get("matchers").and_then(Value::as_array)?;
            Some(Rule {
                expression: expression.clone(),
                path: parse_path(expression),
                all: rule.get("combine").and_then(Value::as_str) != Some("OR"),
                matchers: matchers.iter().map(matcher).collect(),
            })
        })
        .collect()
}

/// V2: `{ "$.body.a": { "match": "type" }, "$.headers.Content-Type": {..} }`.
fn v2_rules(rules: Option<&Value>) -> (Vec<Rule>, Vec<(String, Rule)>) {
    let mut body = Vec::new();
    let mut headers = Vec::new();
    let Some(Value::Object(map)) = rules else {
        return (body, headers);
    };
    for (key, m) in map {
        let rule = |expression: String| Rule {
            path: parse_path(&expression),
            expression,
            all: true,
            matchers: vec![matcher(m)],
        };
        if let Some(rest) = key.strip_prefix("$.body") {
            body.push(rule(format!("${rest}")));
        } else if let Some(name) = key.strip_prefix("$.headers.") {
            headers.push((name.to_ascii_lowercase(), rule(name.to_owned())));
        }
    }
    (body, headers)
}

fn matcher(definition: &Value) -> Matcher {
    let kind = definition
        .get("match")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            // V2 matchers may be `{ "regex": ".." }` or `{ "min": 1 }` alone.
            if definition.get("regex").is_some() {
                "regex".into()
            } else {
                "type".into()
            }
        });
    Matcher {
        kind,
        definition: definition.clone(),
    }
}

/// Parses a matcher path such as `$.errors[*].code` or `$['a b'][0]` with
/// pact_models' [`DocPath`], the grammar pact matching itself reads rule
/// paths with. `None` for a path that grammar refuses, and for one that does
/// not start at the root `$` (pact_models would read `errors` as
/// `$.errors`; a body rule without `$` is not one this check understands).
pub(crate) fn parse_path(expression: &str) -> Option<Vec<Step>> {
    let expression = expression.trim();
    if !expression.starts_with('$') {
        return None;
    }
    let path = DocPath::new(expression).ok()?;
    Some(
        path.tokens()
            .iter()
            .filter_map(|token| match token {
                PathToken::Root => None,
                PathToken::Field(name) => Some(Step::Field(name.clone())),
                PathToken::Index(n) => Some(Step::Index(*n)),
                PathToken::Star => Some(Step::AnyField),
                PathToken::StarIndex => Some(Step::AnyIndex),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher_paths_parse() {
        assert_eq!(
            parse_path("$.errors[*].code"),
            Some(vec![
                Step::Field("errors".into()),
                Step::AnyIndex,
                Step::Field("code".into())
            ])
        );
        assert_eq!(
            parse_path("$['a b'][2].*"),
            Some(vec![
                Step::Field("a b".into()),
                Step::Index(2),
                Step::AnyField
            ])
        );
        assert_eq!(parse_path("$"), Some(vec![]));
        assert_eq!(parse_path("errors"), None);
        // What pact's own grammar refuses, pact matching would not apply.
        assert_eq!(parse_path("$.a b"), None);
        assert_eq!(parse_path("$[ 2 ]"), None);
    }
}
