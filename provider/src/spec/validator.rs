//! Checking values against the spec's schemas with the `boon` crate: each
//! schema is rewritten once per direction ([`super::schema`]), compiled once,
//! and the crate's tree of errors becomes the findings, in the words of
//! [`super::wording`] and in the order the hand-written validator told them:
//! by where they are in the value, a value's own before its children's, and
//! `anyOf`/`oneOf`/`not` last.

use std::cell::RefCell;
use std::collections::HashMap;

use boon::{CompileError, Compiler, ErrorKind, InstanceToken, SchemaIndex, Schemas};
use serde_json::Value;

use super::matchers;
use super::pact::Step;
use super::schema::{
    BASE, Dialect, Direction, Resources, SchemaError, UNDECLARED, resolve_pointer,
};
use super::wording::{Types, Violation, child_path, words};

/// Checks values against schemas of one document, both directions.
pub(crate) struct Validator<'a> {
    root: &'a Value,
    sides: [RefCell<Side<'a>>; 2],
}

/// One direction: its rewritten schemas, and the crate's compiler and
/// compiled schemas.
struct Side<'a> {
    resources: Resources<'a>,
    compiler: Compiler,
    schemas: Schemas,
    /// The resource and compiled schema of each value's schema, by its text.
    roots: HashMap<String, (usize, SchemaIndex)>,
}

/// A finding, and where it comes in the order findings are told.
type Placed = (Vec<usize>, Violation);

/// A loader that loads nothing: the crate is given every resource it needs.
struct NoLoader;

impl boon::UrlLoader for NoLoader {
    fn load(&self, url: &str) -> Result<Value, Box<dyn std::error::Error>> {
        Err(format!("`{url}` is not read").into())
    }
}

/// `format: int32` and `int64`: a number within the range.
fn fits(v: &Value, lo: f64, hi: f64) -> Result<(), Box<dyn std::error::Error>> {
    match v.as_f64() {
        Some(x) if x < lo || x > hi => Err("out of range".into()),
        _ => Ok(()),
    }
}

impl<'a> Validator<'a> {
    /// A validator for schemas of the document `root`.
    pub(crate) fn new(root: &'a Value, dialect: Dialect) -> Self {
        let side = |direction| {
            let mut compiler = Compiler::new();
            compiler.set_default_draft(boon::Draft::V2020_12);
            compiler.enable_format_assertions();
            compiler.use_loader(Box::new(NoLoader));
            let int32 = |v: &Value| fits(v, i32::MIN.into(), i32::MAX.into());
            let int64 = |v: &Value| fits(v, i64::MIN as f64, i64::MAX as f64);
            compiler.register_format(boon::Format {
                name: "int32",
                func: int32,
            });
            compiler.register_format(boon::Format {
                name: "int64",
                func: int64,
            });
            RefCell::new(Side {
                resources: Resources::new(root, dialect, direction),
                compiler,
                schemas: Schemas::new(),
                roots: HashMap::new(),
            })
        };
        let sides = [side(Direction::Request), side(Direction::Response)];
        Self { root, sides }
    }

    /// Every way `instance` differs from `schema` (none: it is valid).
    pub(crate) fn validate(
        &self,
        schema: &Value,
        instance: &Value,
        direction: Direction,
    ) -> Result<Vec<Violation>, SchemaError> {
        let mut side = self.sides[direction as usize].borrow_mut();
        let (_, index) = side.compile(schema)?;
        let (mut out, mut recount) = (Vec::new(), Vec::new());
        if let Err(e) = side.schemas.validate(instance, index) {
            side.collect(&e, instance, &mut out, &mut recount)?;
        }
        // The crate names two alternatives that match; the finding, all.
        for (i, url, pointer) in recount {
            let value = instance.pointer(&pointer).unwrap_or(&Value::Null);
            let branches = side
                .doc_at(&url)
                .and_then(|s| s.get("oneOf"))
                .and_then(Value::as_array);
            let mut matching = Vec::new();
            for k in 0..branches.map_or(0, Vec::len) {
                let Side {
                    compiler, schemas, ..
                } = &mut *side;
                let branch = compiler.compile(&format!("{url}/oneOf/{k}"), schemas);
                let branch = branch.map_err(|e| side.invalid(e))?;
                if side.schemas.validate(value, branch).is_ok() {
                    matching.push(k + 1);
                }
            }
            out[i].1.message = format!(
                "matches alternatives {matching:?} of the spec's `oneOf`, which allows exactly one"
            );
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out.into_iter().map(|(_, v)| v).collect())
    }

    /// The value a local reference (`#/components/schemas/X`) points at.
    pub(crate) fn resolve(&self, reference: &str) -> Result<&'a Value, SchemaError> {
        resolve_pointer(self.root, reference)
    }

    /// The types the schema allows at `path` below it (`None`: any, or not
    /// decidable; see [`matchers::declared_types`]).
    pub(crate) fn types_at(
        &self,
        schema: &Value,
        path: &[Step],
        direction: Direction,
    ) -> Result<Option<Types>, SchemaError> {
        let mut side = self.sides[direction as usize].borrow_mut();
        let (n, _) = side.compile(schema)?;
        let docs = &side.resources.docs;
        Ok(matchers::declared_types(docs, &docs[n].1, path, 0))
    }
}

impl Side<'_> {
    /// The crate's schema for a value's `schema`, compiled once.
    fn compile(&mut self, schema: &Value) -> Result<(usize, SchemaIndex), SchemaError> {
        let key = schema.to_string();
        if let Some(&compiled) = self.roots.get(&key) {
            return Ok(compiled);
        }
        let added = self.resources.add(schema)?;
        for n in added.clone() {
            let doc = self.resources.docs[n].1.clone();
            let given = self.compiler.add_resource(&format!("{BASE}{n}"), doc);
            given.map_err(|e| self.invalid(e))?;
        }
        let index = self
            .compiler
            .compile(&format!("{BASE}{}", added.start), &mut self.schemas);
        let compiled = (added.start, index.map_err(|e| self.invalid(e))?);
        self.roots.insert(key, compiled);
        Ok(compiled)
    }

    /// The findings in the crate's tree of errors; `recount`: the `oneOf`s
    /// more than one branch matched.
    fn collect(
        &self,
        e: &boon::ValidationError<'_, '_>,
        instance: &Value,
        out: &mut Vec<Placed>,
        recount: &mut Vec<(usize, String, String)>,
    ) -> Result<(), SchemaError> {
        let (at, key, value) = place(instance, &e.instance_location.tokens);
        let last = [key.as_slice(), &[usize::MAX]].concat();
        let message = match &e.kind {
            ErrorKind::Group
            | ErrorKind::Schema { .. }
            | ErrorKind::Reference { .. }
            | ErrorKind::AllOf => {
                for cause in &e.causes {
                    self.collect(cause, instance, out, recount)?;
                }
                return Ok(());
            }
            ErrorKind::RefCycle { url, kw_loc1, .. } => {
                let at = self.written(url);
                let chain = format!("{at} -> … -> {at} (through `{kw_loc1}`)");
                return Err(SchemaError::Cycle { chain });
            }
            ErrorKind::AdditionalProperties { got } => {
                let marked = self
                    .doc_at(e.schema_url)
                    .is_some_and(|s| s.get(UNDECLARED).is_some());
                let message = if marked {
                    "the pact expects a property the spec does not declare (the API never promised it)"
                } else {
                    "the spec does not declare this property and allows no others"
                };
                for name in got {
                    let (_, position, _) = place(value, &[InstanceToken::Prop(name.clone())]);
                    let violation = Violation {
                        at: child_path(&at, name),
                        message: message.into(),
                    };
                    out.push(([key.as_slice(), &position].concat(), violation));
                }
                return Ok(());
            }
            ErrorKind::Required { want } => {
                for name in want {
                    let message =
                        format!("the spec requires the property `{name}`, the pact has none");
                    out.push((
                        key.clone(),
                        Violation {
                            at: at.clone(),
                            message,
                        },
                    ));
                }
                return Ok(());
            }
            ErrorKind::AnyOf | ErrorKind::OneOf(None) => {
                let keyword = if matches!(e.kind, ErrorKind::AnyOf) {
                    "anyOf"
                } else {
                    "oneOf"
                };
                let mut reasons = Vec::new();
                for (i, cause) in e.causes.iter().enumerate() {
                    let mut found = Vec::new();
                    self.collect(cause, instance, &mut found, recount)?;
                    found.sort_by(|a, b| a.0.cmp(&b.0));
                    reasons.extend(
                        found
                            .first()
                            .map(|(_, first)| format!("{}: {first}", i + 1)),
                    );
                }
                let (n, reasons) = (e.causes.len(), reasons.join("; "));
                let message = format!(
                    "matches none of the {n} alternatives of the spec's `{keyword}` ({reasons})"
                );
                out.push((last, Violation { at, message }));
                return Ok(());
            }
            ErrorKind::OneOf(Some(_)) => {
                let pointer = e.instance_location.to_string();
                recount.push((out.len(), e.schema_url.to_owned(), pointer));
                out.push((
                    last,
                    Violation {
                        at,
                        message: String::new(),
                    },
                ));
                return Ok(());
            }
            ErrorKind::Not => {
                let message = "matches the schema the spec's `not` excludes".into();
                out.push((last, Violation { at, message }));
                return Ok(());
            }
            kind => words(kind, value),
        };
        out.push((key, Violation { at, message }));
        Ok(())
    }

    /// The rewritten schema at a location the crate names.
    fn doc_at(&self, url: &str) -> Option<&Value> {
        let (resource, pointer) = url.strip_prefix(BASE)?.split_once('#')?;
        let pointer = percent_encoding::percent_decode_str(pointer)
            .decode_utf8()
            .ok()?;
        self.resources
            .docs
            .get(resource.parse::<usize>().ok()?)?
            .1
            .pointer(&pointer)
    }

    /// A location the crate names, as the spec writes it: the `$ref` and
    /// the place below it, or a place in the operation's own schema.
    fn written(&self, url: &str) -> String {
        let rest = url.strip_prefix(BASE).unwrap_or(url);
        let (resource, pointer) = rest.split_once('#').unwrap_or((rest, ""));
        let pointer = percent_encoding::percent_decode_str(pointer).decode_utf8_lossy();
        match resource
            .parse::<usize>()
            .ok()
            .and_then(|n| self.resources.docs.get(n))
        {
            Some((reference, _)) if !reference.is_empty() => format!("{reference}{pointer}"),
            _ if pointer.is_empty() => "in the operation".into(),
            _ => format!("in the operation (at `{pointer}`)"),
        }
    }

    /// A schema the crate refuses, named as the spec writes it.
    fn invalid(&self, e: CompileError) -> SchemaError {
        let CompileError::ValidationError { url, src } = e else {
            return SchemaError::Invalid {
                at: "in the operation".into(),
                reason: e.to_string(),
            };
        };
        let mut reasons = Vec::new();
        let mut stack = vec![&src];
        while let Some(e) = stack.pop() {
            if e.causes.is_empty() {
                reasons.push(format!("`{}` {}", e.instance_location, e.kind));
            }
            stack.extend(e.causes.iter().rev());
        }
        let at = self.written(&url);
        let at = if at.starts_with('#') {
            format!("`{at}`")
        } else {
            at
        };
        SchemaError::Invalid {
            at,
            reason: reasons.join("; "),
        }
    }
}

/// Where `tokens` lead in `value`: as a JSON path, as the position of each
/// property and item on the way, and the value there.
fn place<'v>(
    mut value: &'v Value,
    tokens: &[InstanceToken<'_>],
) -> (String, Vec<usize>, &'v Value) {
    let (mut at, mut key) = ("$".to_owned(), Vec::new());
    for token in tokens {
        let (position, next) = match token {
            InstanceToken::Prop(name) => {
                at = child_path(&at, name);
                let map = value.as_object();
                let position = map.and_then(|m| m.keys().position(|k| k == name.as_ref()));
                (position, map.and_then(|m| m.get(name.as_ref())))
            }
            InstanceToken::Item(i) => {
                at = format!("{at}[{i}]");
                (Some(*i), value.get(*i))
            }
        };
        key.push(position.unwrap_or_default());
        value = next.unwrap_or(&Value::Null);
    }
    (at, key, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::schema::{Dialect, Direction, SchemaError};
    use serde_json::json;

    fn violations(
        root: &Value,
        schema: &Value,
        instance: Value,
        direction: Direction,
    ) -> Vec<String> {
        Validator::new(root, Dialect::OpenApi30)
            .validate(schema, &instance, direction)
            .expect("the schema can be followed")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn document() -> Value {
        json!({
            "components": { "schemas": {
                "Result": { "type": "object", "properties": {
                    "succeeded": { "type": "boolean" },
                    "errors": { "type": "array", "nullable": true,
                                "items": { "$ref": "#/components/schemas/Error" } } } },
                "Error": { "type": "object", "properties": {
                    "code": { "type": "string", "nullable": true } } },
                "Node": { "type": "object", "properties": {
                    "children": { "type": "array", "items": { "$ref": "#/components/schemas/Node" } } } },
                "Loop": { "$ref": "#/components/schemas/Loop2" },
                "Loop2": { "allOf": [ { "$ref": "#/components/schemas/Loop" } ] },
                "Command": { "type": "object", "required": ["newPassword"], "properties": {
                    "newPassword": { "type": "string" } } }
            } }
        })
    }

    #[test]
    fn follows_refs_to_nested_schemas() {
        let doc = document();
        let schema = json!({ "$ref": "#/components/schemas/Result" });
        let ok = json!({ "succeeded": true, "errors": [ { "code": "X" } ] });
        assert!(violations(&doc, &schema, ok, Direction::Response).is_empty());
        let bad = json!({ "succeeded": true, "errors": [ { "code": 7 } ] });
        assert_eq!(
            violations(&doc, &schema, bad, Direction::Response),
            ["`$.errors[0].code`: expected string or null, the pact has the number 7"]
        );
    }

    #[test]
    fn a_string_where_the_spec_says_boolean_is_a_violation() {
        let doc = document();
        let schema = json!({ "$ref": "#/components/schemas/Result" });
        let found = violations(
            &doc,
            &schema,
            json!({ "succeeded": "true" }),
            Direction::Response,
        );
        assert_eq!(
            found,
            ["`$.succeeded`: expected boolean, the pact has the string \"true\""]
        );
    }

    #[test]
    fn nullable_allows_null_and_its_absence_does_not() {
        let doc = document();
        let schema = json!({ "$ref": "#/components/schemas/Result" });
        assert!(
            violations(
                &doc,
                &schema,
                json!({ "errors": null }),
                Direction::Response
            )
            .is_empty()
        );
        let found = violations(
            &doc,
            &schema,
            json!({ "succeeded": null }),
            Direction::Response,
        );
        assert_eq!(
            found,
            ["`$.succeeded`: expected boolean, the pact has null"]
        );
    }

    #[test]
    fn swagger_2_uses_x_nullable() {
        let doc = json!({});
        let schema = json!({ "type": "string", "x-nullable": true });
        let v = Validator::new(&doc, Dialect::Swagger2);
        assert!(
            v.validate(&schema, &Value::Null, Direction::Request)
                .unwrap()
                .is_empty()
        );
        let v3 = Validator::new(&doc, Dialect::OpenApi30);
        assert_eq!(
            v3.validate(&schema, &Value::Null, Direction::Request)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn recursive_schemas_follow_the_data() {
        let doc = document();
        let schema = json!({ "$ref": "#/components/schemas/Node" });
        let tree = json!({ "children": [ { "children": [ { "children": [] } ] } ] });
        assert!(violations(&doc, &schema, tree, Direction::Request).is_empty());
        let bad = json!({ "children": [ { "children": "no" } ] });
        assert_eq!(
            violations(&doc, &schema, bad, Direction::Request),
            ["`$.children[0].children`: expected array, the pact has the string \"no\""]
        );
    }

    #[test]
    fn a_ref_cycle_that_describes_nothing_is_an_error_not_a_hang() {
        let doc = document();
        let schema = json!({ "$ref": "#/components/schemas/Loop" });
        let err = Validator::new(&doc, Dialect::OpenApi30)
            .validate(&schema, &json!({}), Direction::Request)
            .unwrap_err();
        assert!(matches!(err, SchemaError::Cycle { .. }), "{err}");
        assert!(
            err.to_string().contains("#/components/schemas/Loop ->"),
            "{err}"
        );
    }

    #[test]
    fn refs_outside_the_document_or_to_nothing_are_errors() {
        let doc = document();
        for reference in ["other.yaml#/X", "#/components/schemas/Missing"] {
            let schema = json!({ "$ref": reference });
            let err = Validator::new(&doc, Dialect::OpenApi30)
                .validate(&schema, &json!({}), Direction::Request)
                .unwrap_err();
            assert!(err.to_string().contains(reference), "{err}");
        }
    }

    #[test]
    fn required_counts_in_requests_and_not_in_responses() {
        let doc = document();
        let schema = json!({ "$ref": "#/components/schemas/Command" });
        assert_eq!(
            violations(&doc, &schema, json!({}), Direction::Request),
            ["`$`: the spec requires the property `newPassword`, the pact has none"]
        );
        assert!(violations(&doc, &schema, json!({}), Direction::Response).is_empty());
    }

    #[test]
    fn undeclared_properties_count_in_responses_only() {
        let doc = document();
        let schema = json!({ "$ref": "#/components/schemas/Result" });
        let body = json!({ "succeeded": true, "userId": "x" });
        assert_eq!(
            violations(&doc, &schema, body.clone(), Direction::Response),
            [
                "`$.userId`: the pact expects a property the spec does not declare (the API never promised it)"
            ]
        );
        assert!(violations(&doc, &schema, body, Direction::Request).is_empty());
    }

    #[test]
    fn all_of_members_share_their_declared_properties() {
        let doc = json!({});
        let schema = json!({ "allOf": [
            { "type": "object", "properties": { "a": { "type": "string" } } },
            { "type": "object", "properties": { "b": { "type": "integer" } } } ] });
        assert!(
            violations(
                &doc,
                &schema,
                json!({ "a": "x", "b": 1 }),
                Direction::Response
            )
            .is_empty()
        );
        assert_eq!(
            violations(
                &doc,
                &schema,
                json!({ "a": "x", "b": "1" }),
                Direction::Response
            ),
            ["`$.b`: expected integer, the pact has the string \"1\""]
        );
    }

    #[test]
    fn one_of_wants_exactly_one_and_any_of_at_least_one() {
        let doc = json!({});
        let one = json!({ "oneOf": [ { "type": "integer" }, { "type": "number" } ] });
        assert_eq!(
            violations(&doc, &one, json!(1.5), Direction::Request).len(),
            0
        );
        assert_eq!(
            violations(&doc, &one, json!(1), Direction::Request).len(),
            1
        );
        let any = json!({ "anyOf": [ { "type": "integer" }, { "type": "boolean" } ] });
        assert!(violations(&doc, &any, json!(true), Direction::Request).is_empty());
        assert_eq!(
            violations(&doc, &any, json!("x"), Direction::Request).len(),
            1
        );
    }

    #[test]
    fn formats_enums_and_bounds() {
        let doc = json!({});
        let uuid = json!({ "type": "string", "format": "uuid" });
        assert!(
            violations(
                &doc,
                &uuid,
                json!("5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b"),
                Direction::Request
            )
            .is_empty()
        );
        assert_eq!(
            violations(&doc, &uuid, json!("har-3107"), Direction::Request).len(),
            1
        );
        let e = json!({ "type": "string", "enum": ["a", "b"] });
        assert_eq!(
            violations(&doc, &e, json!("c"), Direction::Request).len(),
            1
        );
        let n = json!({ "type": "integer", "minimum": 0, "maximum": 10 });
        assert_eq!(violations(&doc, &n, json!(11), Direction::Request).len(), 1);
        assert_eq!(
            violations(&doc, &n, json!(1.5), Direction::Request).len(),
            1
        );
    }

    #[test]
    fn types_at_walks_properties_items_refs_and_combinations() {
        let doc = document();
        let v = Validator::new(&doc, Dialect::OpenApi30);
        let schema = json!({ "$ref": "#/components/schemas/Result" });
        let at = |path: &[Step]| v.types_at(&schema, path, Direction::Response).unwrap();
        assert_eq!(at(&[Step::Field("succeeded".into())]), Some(Types::BOOLEAN));
        assert_eq!(
            at(&[Step::Field("errors".into())]),
            Some(Types::ARRAY.union(Types::NULL))
        );
        assert_eq!(
            at(&[
                Step::Field("errors".into()),
                Step::AnyIndex,
                Step::Field("code".into())
            ]),
            Some(Types::STRING.union(Types::NULL))
        );
        // Undeclared, and no additionalProperties: not decidable here.
        assert_eq!(at(&[Step::Field("other".into())]), None);
    }

    #[test]
    fn nullable_all_of_allows_null_and_checks_the_member_otherwise() {
        let doc = document();
        let schema =
            json!({ "nullable": true, "allOf": [ { "$ref": "#/components/schemas/Error" } ] });
        assert!(violations(&doc, &schema, Value::Null, Direction::Request).is_empty());
        assert_eq!(
            violations(&doc, &schema, json!({ "code": 7 }), Direction::Request),
            ["`$.code`: expected string or null, the pact has the number 7"]
        );
    }

    #[test]
    fn one_of_names_every_alternative_that_matches() {
        let doc = json!({});
        let schema =
            json!({ "oneOf": [ { "type": "integer" }, { "type": "number" }, { "minimum": 0 } ] });
        assert_eq!(
            violations(&doc, &schema, json!(1), Direction::Request),
            ["`$`: matches alternatives [1, 2, 3] of the spec's `oneOf`, which allows exactly one"]
        );
    }

    /// UiPath's `GroupDto.members`: a `oneOf` of types that extend one
    /// base through `allOf`; in a response, an object's own properties say
    /// which one it is.
    #[test]
    fn a_response_object_matches_the_one_alternative_that_declares_its_properties() {
        let doc = json!({ "components": { "schemas": {
            "Entity": { "type": "object", "required": ["objectType"],
                        "properties": { "objectType": { "type": "string" }, "name": { "type": "string" } } },
            "User": { "type": "object", "allOf": [ { "$ref": "#/components/schemas/Entity" } ],
                      "properties": { "firstName": { "type": "string" } } },
            "Group": { "type": "object", "allOf": [ { "$ref": "#/components/schemas/Entity" } ] },
            "Members": { "type": "array", "items": { "oneOf": [
                { "$ref": "#/components/schemas/User" }, { "$ref": "#/components/schemas/Group" } ] } }
        } } });
        let schema = json!({ "$ref": "#/components/schemas/Members" });
        let user = json!([ { "objectType": "User", "name": "a", "firstName": "b" } ]);
        assert!(violations(&doc, &schema, user, Direction::Response).is_empty());
        let both = json!([ { "objectType": "Group", "name": "g" } ]);
        assert_eq!(
            violations(&doc, &schema, both, Direction::Response),
            ["`$[0]`: matches alternatives [1, 2] of the spec's `oneOf`, which allows exactly one"]
        );
        let neither = json!([ { "objectType": "User", "nickname": "n" } ]);
        assert_eq!(
            violations(&doc, &schema, neither, Direction::Response),
            [
                "`$[0]`: matches none of the 2 alternatives of the spec's `oneOf` (1: `$[0].nickname`: the pact expects a property the spec does not declare (the API never promised it); 2: `$[0].nickname`: the pact expects a property the spec does not declare (the API never promised it))"
            ]
        );
    }

    #[test]
    fn additional_properties_false_allows_what_all_of_declares() {
        let doc = document();
        let schema = json!({ "allOf": [ { "$ref": "#/components/schemas/Error" } ],
                             "properties": { "at": { "type": "string" } },
                             "additionalProperties": false });
        let body = json!({ "code": "X", "at": "here" });
        assert!(violations(&doc, &schema, body, Direction::Request).is_empty());
        assert_eq!(
            violations(
                &doc,
                &schema,
                json!({ "code": "X", "other": 1 }),
                Direction::Request
            ),
            ["`$.other`: the spec does not declare this property and allows no others"]
        );
    }

    #[test]
    fn exclusive_bounds_of_3_0_and_integer_formats_are_checked() {
        let doc = json!({});
        let above = json!({ "type": "integer", "minimum": 0, "exclusiveMinimum": true });
        assert_eq!(
            violations(&doc, &above, json!(0), Direction::Request),
            ["`$`: 0 is not above the spec's exclusive minimum 0"]
        );
        assert!(violations(&doc, &above, json!(1), Direction::Request).is_empty());
        let int32 = json!({ "type": "integer", "format": "int32" });
        assert_eq!(
            violations(&doc, &int32, json!(2_147_483_648_i64), Direction::Request),
            ["`$`: 2147483648 does not fit the spec's `format: int32`"]
        );
    }

    /// Checked by the crate since it replaced the hand-written validator,
    /// which ignored these keywords and checked `date-time` by its shape.
    #[test]
    fn multiple_of_unique_items_and_real_dates_are_checked_now() {
        let doc = json!({});
        let step = json!({ "type": "integer", "multipleOf": 5 });
        assert_eq!(
            violations(&doc, &step, json!(7), Direction::Request),
            ["`$`: 7 is not a multiple of the spec's `multipleOf` 5"]
        );
        let set = json!({ "type": "array", "uniqueItems": true });
        assert_eq!(
            violations(&doc, &set, json!(["a", "a"]), Direction::Request),
            ["`$`: items 0 and 1 are equal, the spec's `uniqueItems` wants them distinct"]
        );
        let when = json!({ "type": "string", "format": "date-time" });
        assert!(
            violations(
                &doc,
                &when,
                json!("2024-02-29T10:00:00Z"),
                Direction::Request
            )
            .is_empty()
        );
        for not_a_date in ["2024-13-01T10:00:00Z", "2024-01-01 10:00:00Z"] {
            assert_eq!(
                violations(&doc, &when, json!(not_a_date), Direction::Request),
                [format!(
                    "`$`: \"{not_a_date}\" is not a date-time (the spec's `format: date-time`)"
                )]
            );
        }
    }

    #[test]
    fn swagger_file_types_and_formats_not_checked_allow_any_value() {
        let doc = json!({});
        for schema in [
            json!({ "type": "file" }),
            json!({ "type": "string", "format": "email" }),
        ] {
            assert!(
                violations(&doc, &schema, json!("not an email"), Direction::Request).is_empty()
            );
        }
    }

    /// `$id` and `$schema` could make a JSON Schema crate read a file or a
    /// URL; the rewrite leaves them out, and the crate loads nothing.
    #[test]
    fn a_schema_that_names_files_to_load_loads_nothing() {
        let doc = json!({});
        let schema = json!({ "$schema": "file:///etc/passwd", "$id": "file:///etc/hostname",
                             "type": "object", "properties": { "a": { "type": "string" } } });
        assert_eq!(
            violations(&doc, &schema, json!({ "a": 1 }), Direction::Request),
            ["`$.a`: expected string, the pact has the number 1"]
        );
    }

    #[test]
    fn a_schema_json_schema_refuses_is_an_error_naming_its_place() {
        let doc = json!({ "components": { "schemas": { "Short": { "type": "string", "minLength": -1 } } } });
        let schema = json!({ "$ref": "#/components/schemas/Short" });
        let err = Validator::new(&doc, Dialect::OpenApi30)
            .validate(&schema, &json!("x"), Direction::Request)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`#/components/schemas/Short`") && err.contains("minLength"),
            "{err}"
        );
    }

    /// The crate compiles a schema whole: a `$ref` to nothing is an error
    /// even in an alternative the value does not take (the hand-written
    /// validator met it only when the value led there).
    #[test]
    fn a_dangling_ref_is_an_error_wherever_it_is_in_the_schema() {
        let doc = document();
        let schema =
            json!({ "anyOf": [ { "type": "string" }, { "$ref": "#/components/schemas/Gone" } ] });
        let err = Validator::new(&doc, Dialect::OpenApi30)
            .validate(&schema, &json!("x"), Direction::Request)
            .unwrap_err();
        assert!(
            err.to_string().contains("#/components/schemas/Gone"),
            "{err}"
        );
    }
}
