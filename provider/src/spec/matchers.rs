//! What a pact's body matchers allow, compared with what the spec declares.
//!
//! The example body is validated first; matchers then widen it, and where
//! the widening can be decided it is checked too: each matcher lets through
//! values of certain JSON types (`regex`, `include`, `date` … strings;
//! `integer`, `decimal`, `number` numbers; `boolean`; `null`; `type` the
//! example's own type; `eachKey`/`eachValue` objects or arrays, with
//! `eachValue`'s inner rules applied to each element), and those types must
//! meet the types the spec allows at that place. A `regex` matcher on a
//! field the spec declares boolean is therefore a finding, a `type` matcher
//! on a boolean is not. Not decided (no finding either way): whether a regex
//! can produce a string the spec's `format`, `pattern` or `enum` allows,
//! and `min`/`max` against `minItems`/`maxItems`.

use serde_json::Value;

use super::pact::{Matcher, Rule, Step};
use super::schema::{BASE, Direction, SchemaError, UNDECLARED};
use super::validator::Validator;
use super::wording::{Types, Violation, child_path, intersect, union_all};

/// The JSON types `matcher` lets through, given the example at its place;
/// `None` when that cannot be said.
fn allowed(matcher: &Matcher, example: Option<&Value>) -> Option<Types> {
    Some(match matcher.kind.as_str() {
        "type" | "equality" | "notEmpty" | "values" => Types::of(example?),
        // Pact applies a regex to the text of a number or boolean too.
        "regex" => match example {
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Types::of(v),
            _ => Types::STRING,
        },
        "include" | "date" | "time" | "datetime" | "timestamp" | "semver" => Types::STRING,
        "integer" => Types::INTEGER,
        "decimal" | "number" => Types::NUMBER,
        "boolean" => Types::BOOLEAN,
        "null" => Types::NULL,
        "eachKey" => Types::OBJECT,
        "eachValue" => Types::OBJECT.union(Types::ARRAY),
        "arrayContains" => Types::ARRAY,
        _ => return None,
    })
}

/// The example's value at `path` (the first element for `[*]` and `.*`).
fn example_at<'v>(body: &'v Value, path: &[Step]) -> Option<&'v Value> {
    let mut current = body;
    for step in path {
        current = match (step, current) {
            (Step::Field(name), Value::Object(map)) => map.get(name)?,
            (Step::AnyField, Value::Object(map)) => map.values().next()?,
            (Step::Index(i), Value::Array(items)) => items.get(*i)?,
            (Step::AnyIndex, Value::Array(items)) => items.first()?,
            _ => return None,
        };
    }
    Some(current)
}

fn describe_path(path: &[Step]) -> String {
    let mut out = String::from("$");
    for step in path {
        match step {
            Step::Field(name) => out = child_path(&out, name),
            Step::AnyField => out.push_str(".*"),
            Step::Index(i) => out.push_str(&format!("[{i}]")),
            Step::AnyIndex => out.push_str("[*]"),
        }
    }
    out
}

/// Every matcher on `body` whose values can never be ones the schema
/// allows.
pub(crate) fn check(
    validator: &Validator<'_>,
    direction: Direction,
    schema: &Value,
    body: &Value,
    rules: &[Rule],
) -> Result<Vec<Violation>, SchemaError> {
    let mut out = Vec::new();
    for rule in rules {
        let Some(path) = &rule.path else { continue };
        check_at(
            validator,
            direction,
            schema,
            body,
            path,
            &rule.matchers,
            rule.all,
            &mut out,
        )?;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn check_at(
    validator: &Validator<'_>,
    direction: Direction,
    schema: &Value,
    body: &Value,
    path: &[Step],
    matchers: &[Matcher],
    all: bool,
    out: &mut Vec<Violation>,
) -> Result<(), SchemaError> {
    let declared = validator.types_at(schema, path, direction)?;
    let example = example_at(body, path);
    let mut any_of = Some(Types::default());
    for m in matchers {
        let allowed = allowed(m, example);
        if all
            && let (Some(allowed), Some(declared)) = (allowed, declared)
            && !allowed.overlaps(declared)
        {
            out.push(Violation {
                at: describe_path(path),
                message: format!(
                    "the pact's `{}` matcher accepts only {allowed}, the spec declares {declared}",
                    m.kind
                ),
            });
        }
        any_of = match (any_of, allowed) {
            (Some(a), Some(b)) => Some(a.union(b)),
            _ => None,
        };
        // `eachValue`: its own rules hold for every element.
        if m.kind == "eachValue"
            && let Some(Value::Array(inner)) = m.definition.get("rules")
        {
            let step = match example {
                Some(Value::Array(_)) => Step::AnyIndex,
                Some(Value::Object(_)) => Step::AnyField,
                _ => continue,
            };
            let mut child = path.to_vec();
            child.push(step);
            let inner: Vec<Matcher> = inner
                .iter()
                .map(|d| Matcher {
                    kind: d
                        .get("match")
                        .and_then(Value::as_str)
                        .unwrap_or("type")
                        .to_owned(),
                    definition: d.clone(),
                })
                .collect();
            check_at(
                validator, direction, schema, body, &child, &inner, true, out,
            )?;
        }
    }
    if !all
        && let (Some(allowed), Some(declared)) = (any_of, declared)
        && !allowed.overlaps(declared)
    {
        out.push(Violation {
            at: describe_path(path),
            message: format!(
                "the pact's matchers accept only {allowed}, the spec declares {declared}"
            ),
        });
    }
    Ok(())
}

/// How deep [`declared_types`] follows schemas before it says "any".
const MAX_DEPTH: usize = 64;

/// The types a rewritten schema (see [`super::schema`]; `docs`: the
/// resources its `$ref`s point to) allows at `path` below it; `None`: any,
/// or not decidable. `oneOf`/`anyOf` contribute the union of their
/// branches, `allOf` and `$ref` the intersection.
pub(super) fn declared_types(
    docs: &[(String, Value)],
    schema: &Value,
    path: &[Step],
    depth: usize,
) -> Option<Types> {
    let Value::Object(map) = schema else {
        return (schema == &Value::Bool(false)).then(Types::default);
    };
    if depth > MAX_DEPTH {
        return None;
    }
    let below = |s: &Value| declared_types(docs, s, path, depth + 1);
    let mut result = match path.split_first() {
        None => map.get("type").and_then(Types::of_keyword),
        Some((step, rest)) => children(map, step).and_then(|list| {
            union_all(
                list.into_iter()
                    .map(|c| declared_types(docs, c, rest, depth + 1)),
            )
        }),
    };
    let target = map.get("$ref").and_then(Value::as_str);
    let target = target.and_then(|r| r.strip_prefix(BASE)?.parse::<usize>().ok());
    if let Some((_, doc)) = target.and_then(|n| docs.get(n)) {
        result = intersect(result, below(doc));
    }
    for member in map
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        result = intersect(result, below(member));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = map.get(key) {
            result = intersect(result, union_all(branches.iter().map(below)));
        }
    }
    // A nullable schema's `enum` and combinations, under `else`.
    if let Some(moved) = map.get("else") {
        let null = if path.is_empty() {
            Types::NULL
        } else {
            Types::default()
        };
        result = intersect(result, below(moved).map(|t| t.union(null)));
    }
    result
}

/// The schemas that describe a value's child at `step` (`None`: any value).
fn children<'v>(map: &'v serde_json::Map<String, Value>, step: &Step) -> Option<Vec<&'v Value>> {
    let properties = map.get("properties").and_then(Value::as_object);
    // The response rule's `additionalProperties: false` says nothing of types.
    let others = || match map.get("additionalProperties") {
        Some(extra @ Value::Object(_)) => Some(vec![extra]),
        Some(Value::Bool(false)) if !map.contains_key(UNDECLARED) => Some(Vec::new()),
        _ => None,
    };
    match step {
        Step::Field(name) => properties
            .and_then(|p| p.get(name))
            .map(|p| vec![p])
            .or_else(others),
        Step::AnyField => {
            let mut all: Vec<&Value> = properties.into_iter().flat_map(|p| p.values()).collect();
            all.extend(others()?);
            Some(all)
        }
        Step::Index(_) | Step::AnyIndex => map.get("items").map(|i| vec![i]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::pact::parse_path;
    use crate::spec::schema::Dialect;
    use serde_json::json;

    fn rule(expression: &str, matchers: Value) -> Rule {
        Rule {
            expression: expression.into(),
            path: parse_path(expression),
            all: true,
            matchers: matchers
                .as_array()
                .unwrap()
                .iter()
                .map(|d| Matcher {
                    kind: d["match"].as_str().unwrap().into(),
                    definition: d.clone(),
                })
                .collect(),
        }
    }

    fn findings(schema: Value, body: Value, rules: &[Rule]) -> Vec<String> {
        let root = json!({});
        let v = Validator::new(&root, Dialect::OpenApi30);
        check(&v, Direction::Response, &schema, &body, rules)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn result_schema() -> Value {
        json!({ "type": "object", "properties": {
            "succeeded": { "type": "boolean" },
            "errors": { "type": "array", "nullable": true, "items": { "type": "object",
                "properties": { "code": { "type": "string", "nullable": true } } } } } })
    }

    #[test]
    fn a_type_matcher_on_a_boolean_still_means_boolean() {
        let rules = [rule("$.succeeded", json!([{ "match": "type" }]))];
        assert!(findings(result_schema(), json!({ "succeeded": true }), &rules).is_empty());
    }

    #[test]
    fn a_regex_matcher_where_the_spec_says_boolean_is_a_finding() {
        let rules = [rule(
            "$.succeeded",
            json!([{ "match": "regex", "regex": "^(yes|no)$" }]),
        )];
        let found = findings(result_schema(), json!({ "succeeded": "yes" }), &rules);
        assert_eq!(
            found,
            [
                "`$.succeeded`: the pact's `regex` matcher accepts only string, the spec declares boolean"
            ]
        );
    }

    #[test]
    fn each_value_rules_reach_the_elements() {
        let rules = [rule(
            "$.errors",
            json!([{ "match": "eachValue", "rules": [ { "match": "integer" } ] }]),
        )];
        let found = findings(
            result_schema(),
            json!({ "errors": [ { "code": "x" } ] }),
            &rules,
        );
        assert_eq!(
            found,
            [
                "`$.errors[*]`: the pact's `integer` matcher accepts only integer, the spec declares object"
            ]
        );
    }

    /// The hand-written validator said such a property declares "nothing";
    /// `additionalProperties: false` allows what `allOf` declares.
    #[test]
    fn a_property_an_all_of_member_declares_has_that_members_type() {
        let schema = json!({ "allOf": [ { "properties": { "kind": { "type": "string" } } } ],
                             "properties": { "count": { "type": "integer" } },
                             "additionalProperties": false });
        let body = json!({ "kind": "a", "count": 1 });
        let regex = [rule(
            "$.kind",
            json!([{ "match": "regex", "regex": "^a$" }]),
        )];
        assert!(findings(schema.clone(), body.clone(), &regex).is_empty());
        let integer = [rule("$.kind", json!([{ "match": "integer" }]))];
        assert_eq!(
            findings(schema, body, &integer),
            [
                "`$.kind`: the pact's `integer` matcher accepts only integer, the spec declares string"
            ]
        );
    }
}
