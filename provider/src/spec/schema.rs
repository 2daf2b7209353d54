//! The spec's schema objects (OpenAPI 3.0, Swagger 2.0, and the `type`
//! lists of 3.1) as JSON Schema 2020-12, which the `boon` crate checks
//! ([`super::validator`]). Each schema object is rewritten:
//! - `nullable: true` (3.0) / `x-nullable: true` (2.0) adds `null` to `type`
//!   and puts `enum`, `allOf`, `anyOf`, `oneOf` and `not` under the `else` of
//!   an `if: {type: null}`; a `$ref`'s siblings go (not in 3.1); a boolean
//!   `exclusiveMinimum`/`exclusiveMaximum` becomes the bound itself; a `type`
//!   JSON Schema does not know (Swagger's `file`) allows any value;
//! - only the keywords in [`KEPT`] stay, so `$id`, `$schema` and the like
//!   cannot make the crate load anything; `format` is checked for `uuid`,
//!   `date-time`, `date`, `int32` and `int64` only; a `pattern` Rust's regex
//!   cannot compile, or a `required` that is not a list, is left out;
//! - each `$ref` within the document (`#/...`) points to its target, itself
//!   rewritten as a resource of its own.
//!
//! Two directions, as PactFlow's checker has them (see [`Direction`]): in a
//! response, the pact need not list every property (`required` goes), but a
//! property the schema does not declare is a finding, since the consumer
//! would rely on something the API never promised. A value's schema that
//! lists `properties` without `additionalProperties` (itself or through
//! `allOf` and `$ref`) gets `additionalProperties: false` and the mark
//! [`UNDECLARED`]. `additionalProperties: false` allows what the schema
//! declares through `allOf` and `$ref` (and, in an `anyOf`/`oneOf`/`not`
//! branch, what its parent declares).

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};

/// Which flavour of schema object the document uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Swagger 2.0: `x-nullable`.
    Swagger2,
    /// OpenAPI 3.0: `nullable`; `$ref` siblings ignored.
    OpenApi30,
    /// OpenAPI 3.1, read as 3.0 plus `type` lists with `"null"` and `$ref`
    /// siblings.
    OpenApi31,
}

/// Which side of the exchange a value is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// A value the consumer sends: plain JSON Schema rules (`required`
    /// enforced, undeclared properties allowed unless
    /// `additionalProperties: false`).
    Request,
    /// A value the consumer expects: `required` not enforced, undeclared
    /// properties are findings unless `additionalProperties` allows them.
    Response,
}

/// A schema that cannot be checked: the spec, not the pact, is at fault.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SchemaError {
    /// A `$ref` outside the document, or to nothing.
    #[error(
        "the spec's `$ref` `{reference}` cannot be followed: {reason}; only references within the document (`#/...`) are followed"
    )]
    Unresolvable {
        /// The reference as written.
        reference: String,
        /// Why.
        reason: String,
    },
    /// References that lead back to themselves without describing a value.
    #[error(
        "the spec's `$ref`s go round in a circle without describing a value: {chain}; fix the schemas in the spec"
    )]
    Cycle {
        /// Where the circle closes.
        chain: String,
    },
    /// Not a schema JSON Schema allows (a negative `minLength`, ...).
    #[error("the spec's schema {at} is not one JSON Schema allows: {reason}; fix it in the spec")]
    Invalid {
        /// A `$ref` and the place below it, or a place in the operation.
        at: String,
        /// What is wrong.
        reason: String,
    },
}

/// The keywords checked; the rest of a schema object is left out.
const KEPT: &str = "$ref type enum const format minLength maxLength pattern minimum maximum \
    exclusiveMinimum exclusiveMaximum multipleOf items minItems maxItems uniqueItems properties \
    required additionalProperties minProperties maxProperties allOf anyOf oneOf not";
/// The types JSON Schema knows.
const TYPES: [&str; 7] = [
    "null", "boolean", "integer", "number", "string", "array", "object",
];
/// The formats checked: the crate's three, and the integer ranges.
const FORMATS: [&str; 5] = ["uuid", "date-time", "date", "int32", "int64"];
/// Where the crate finds resource `n`: `{BASE}{n}`.
pub(super) const BASE: &str = "http://spec.invalid/";
/// Marks the `additionalProperties: false` of the response rule, whose
/// finding reads "the API never promised it".
pub(super) const UNDECLARED: &str = "x-undeclared";

/// The rewritten schemas of one direction, each a resource of the crate.
pub(super) struct Resources<'a> {
    root: &'a Value,
    dialect: Dialect,
    direction: Direction,
    /// Resource `n`: the `$ref` it was rewritten from (empty: a value's own
    /// schema) and its rewritten form.
    pub(super) docs: Vec<(String, Value)>,
    /// The resource of each `$ref` met, by the reference as written.
    targets: HashMap<String, usize>,
    /// Resources not rewritten yet.
    pending: Vec<usize>,
}

impl<'a> Resources<'a> {
    pub(super) fn new(root: &'a Value, dialect: Dialect, direction: Direction) -> Self {
        Self {
            root,
            dialect,
            direction,
            docs: Vec::new(),
            targets: HashMap::new(),
            pending: Vec::new(),
        }
    }

    /// Rewrites a value's `schema` and the targets of its `$ref`s not met
    /// before; the resources added (the first is `schema`'s).
    pub(super) fn add(&mut self, schema: &Value) -> Result<std::ops::Range<usize>, SchemaError> {
        let first = self.docs.len();
        self.docs.push((String::new(), Value::Null));
        let rewritten = self
            .rewrite(schema, true, &BTreeSet::new())
            .and_then(|own| {
                self.docs[first].1 = own;
                while let Some(n) = self.pending.pop() {
                    let target = resolve_pointer(self.root, &self.docs[n].0)?;
                    self.docs[n].1 = self.rewrite(target, false, &BTreeSet::new())?;
                }
                Ok(first..self.docs.len())
            });
        if rewritten.is_err() {
            self.docs.truncate(first);
            self.pending.clear();
            self.targets.retain(|_, n| *n < first);
        }
        rewritten
    }

    /// The resource of the `$ref` `reference`.
    fn target(&mut self, reference: &str) -> Result<usize, SchemaError> {
        if let Some(&n) = self.targets.get(reference) {
            return Ok(n);
        }
        resolve_pointer(self.root, reference)?;
        self.docs.push((reference.to_owned(), Value::Null));
        let n = self.docs.len() - 1;
        self.pending.push(n);
        self.targets.insert(reference.to_owned(), n);
        Ok(n)
    }

    /// `schema` as JSON Schema 2020-12 (see the module's doc). `own`: a
    /// value's own schema or a branch, not an `allOf` member or a `$ref`'s
    /// target; `known`: the property names its parents declare.
    fn rewrite(
        &mut self,
        schema: &Value,
        own: bool,
        known: &BTreeSet<String>,
    ) -> Result<Value, SchemaError> {
        let Value::Object(original) = schema else {
            return Ok(Value::Bool(schema != &Value::Bool(false)));
        };
        let kept = |k: &&String| KEPT.split_whitespace().any(|w| w == k.as_str());
        let mut map: Map<String, Value> = original
            .iter()
            .filter(|(k, _)| kept(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let nullable_key = match self.dialect {
            Dialect::Swagger2 => "x-nullable",
            Dialect::OpenApi30 | Dialect::OpenApi31 => "nullable",
        };
        let mut nullable = original.get(nullable_key) == Some(&Value::Bool(true));
        if let Some(reference) = original.get("$ref").and_then(Value::as_str) {
            if self.dialect != Dialect::OpenApi31 {
                map.retain(|k, _| k == "$ref");
                nullable = false;
            }
            let url = format!("{BASE}{}", self.target(reference)?);
            map.insert("$ref".into(), url.into());
        }
        map_keywords(&mut map, nullable, self.direction);

        let none = BTreeSet::new();
        for key in ["additionalProperties", "items"] {
            if let Some(sub) = map.get_mut(key) {
                *sub = self.rewrite(sub, true, &none)?;
            }
        }
        if let Some(Value::Object(properties)) = map.get_mut("properties") {
            for p in properties.values_mut() {
                *p = self.rewrite(p, true, &none)?;
            }
        }
        let (mut members, closed) = self.declared(schema)?;
        members.extend(known.iter().cloned());
        let mut branches = known.clone();
        let own_properties = original.get("properties").and_then(Value::as_object);
        branches.extend(own_properties.into_iter().flat_map(|p| p.keys().cloned()));
        map.retain(|k, v| {
            !matches!(k.as_str(), "allOf" | "anyOf" | "oneOf")
                || v.as_array().is_some_and(|a| !a.is_empty())
        });
        for (key, as_own, known) in [
            ("allOf", false, &members),
            ("anyOf", true, &branches),
            ("oneOf", true, &branches),
            ("not", true, &branches),
        ] {
            let subs: Vec<&mut Value> = match map.get_mut(key) {
                Some(Value::Array(list)) if key != "not" => list.iter_mut().collect(),
                Some(not) if key == "not" => vec![not],
                _ => Vec::new(),
            };
            for sub in subs {
                *sub = self.rewrite(sub, as_own, known)?;
            }
        }
        if own
            && closed
            && self.direction == Direction::Response
            && !map.contains_key("additionalProperties")
        {
            map.insert("additionalProperties".into(), false.into());
            map.insert(UNDECLARED.into(), true.into());
        }
        if map.get("additionalProperties") == Some(&Value::Bool(false)) {
            let listed = map.entry("properties").or_insert_with(|| json!({}));
            for name in &members {
                listed
                    .as_object_mut()
                    .map(|l| l.entry(name).or_insert(true.into()));
            }
        }
        if nullable {
            let moved: Map<String, Value> = ["enum", "allOf", "anyOf", "oneOf", "not"]
                .into_iter()
                .filter_map(|k| map.remove_entry(k))
                .collect();
            if !moved.is_empty() {
                map.insert("if".into(), json!({ "type": "null" }));
                map.insert("else".into(), moved.into());
            }
        }
        Ok(map.into())
    }

    /// The property names `schema` declares, itself and through `allOf` and
    /// `$ref`, and whether one of those lists properties without
    /// `additionalProperties` (then, in a response, no others are allowed).
    fn declared(&self, schema: &Value) -> Result<(BTreeSet<String>, bool), SchemaError> {
        let (mut names, mut closed, mut seen) = (BTreeSet::new(), false, BTreeSet::new());
        let mut stack = vec![schema];
        while let Some(s) = stack.pop() {
            if let Some(reference) = s.get("$ref").and_then(Value::as_str) {
                if seen.insert(reference) {
                    stack.push(resolve_pointer(self.root, reference)?);
                }
                if self.dialect != Dialect::OpenApi31 {
                    continue;
                }
            }
            if let Some(Value::Object(properties)) = s.get("properties") {
                names.extend(properties.keys().cloned());
                closed |= s.get("additionalProperties").is_none();
            }
            stack.extend(
                s.get("allOf")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
        }
        Ok((names, closed))
    }
}

/// The keywords of one schema object that differ between OpenAPI and JSON
/// Schema, mapped (see the module's doc).
fn map_keywords(map: &mut Map<String, Value>, nullable: bool, direction: Direction) {
    let mut types = match map.remove("type") {
        Some(Value::Array(names)) => names,
        Some(name) => vec![name],
        None => Vec::new(),
    };
    if !types.is_empty()
        && types
            .iter()
            .all(|t| t.as_str().is_some_and(|t| TYPES.contains(&t)))
    {
        if nullable && !types.contains(&json!("null")) {
            types.push(json!("null"));
        }
        map.insert("type".into(), types.into());
    }
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(Value::Bool(on)) = map.get(exclusive).cloned() {
            map.remove(exclusive);
            if let (true, Some(b)) = (on, map.remove(bound)) {
                map.insert(exclusive.into(), b);
            }
        }
    }
    let unusable = |key: &str, ok: fn(&Value) -> bool| map.get(key).is_some_and(|v| !ok(v));
    let gone = [
        (
            "required",
            direction == Direction::Response || unusable("required", Value::is_array),
        ),
        (
            "pattern",
            unusable("pattern", |p| {
                p.as_str().is_some_and(|p| regex::Regex::new(p).is_ok())
            }),
        ),
        (
            "format",
            unusable("format", |f| {
                f.as_str().is_some_and(|f| FORMATS.contains(&f))
            }),
        ),
    ];
    for (key, _) in gone.into_iter().filter(|(_, gone)| *gone) {
        map.remove(key);
    }
}

/// Follows a local reference (`#/a/b~1c`) in `root`.
pub(crate) fn resolve_pointer<'a>(
    root: &'a Value,
    reference: &str,
) -> Result<&'a Value, SchemaError> {
    let unresolvable = |reason: &str| SchemaError::Unresolvable {
        reference: reference.to_owned(),
        reason: reason.to_owned(),
    };
    let Some(pointer) = reference.strip_prefix('#') else {
        return Err(unresolvable("it points outside the document"));
    };
    let decoded = percent_encoding::percent_decode_str(pointer)
        .decode_utf8()
        .map_err(|_| unresolvable("it is not valid UTF-8"))?;
    if decoded.is_empty() {
        return Ok(root);
    }
    if !decoded.starts_with('/') {
        return Err(unresolvable("it is not a JSON pointer (`#/...`)"));
    }
    root.pointer(&decoded)
        .ok_or_else(|| unresolvable("nothing in the document is at that place"))
}
