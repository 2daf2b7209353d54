//! A small validator for the schema objects of OpenAPI 3.0 and Swagger 2.0
//! (and the `type` lists of 3.1), enough to say whether a pact's example
//! body or parameter is one the API describes.
//!
//! Understood: `type` (one or a list), `nullable` (3.0) / `x-nullable`
//! (2.0), `enum`, `format` (`uuid`, `date-time`, `date`, `int32`, `int64`),
//! `minLength`, `maxLength`, `pattern`, `minimum`, `maximum`,
//! `exclusiveMinimum`, `exclusiveMaximum`, `items`, `minItems`, `maxItems`,
//! `properties`, `required`, `additionalProperties`, `allOf`, `oneOf`,
//! `anyOf`, `not`, and `$ref` to `#/...` within the document. Other keywords
//! (`discriminator`, `readOnly`, `multipleOf`, `uniqueItems`, other formats)
//! are ignored: they never produce a finding.
//!
//! Two directions, as PactFlow's checker has them (see [`Direction`]): in a
//! response, the pact need not list every property (`required` is not
//! enforced), but a property the schema does not declare is a finding, since
//! the consumer would rely on something the API never promised.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

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

/// One way a value differs from its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Violation {
    /// Where in the value, as a JSON path (`$.errors[0].code`).
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.at, self.message)
    }
}

/// A schema the validator cannot follow: the spec, not the pact, is at fault.
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
        /// The references followed, in order.
        chain: String,
    },
}

/// The JSON types a schema may allow at a place, as a set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Types(u8);

impl Types {
    /// `null`.
    pub(crate) const NULL: Types = Types(1);
    /// `true` or `false`.
    pub(crate) const BOOLEAN: Types = Types(2);
    /// A number without a fractional part.
    pub(crate) const INTEGER: Types = Types(4);
    /// Any number (integers included).
    pub(crate) const NUMBER: Types = Types(8 | 4);
    /// A string.
    pub(crate) const STRING: Types = Types(16);
    /// An array.
    pub(crate) const ARRAY: Types = Types(32);
    /// An object.
    pub(crate) const OBJECT: Types = Types(64);
    /// Every type.
    pub(crate) const ANY: Types = Types(127);

    /// The set of the type named in a schema's `type`.
    pub(crate) fn named(name: &str) -> Option<Types> {
        Some(match name {
            "null" => Types::NULL,
            "boolean" => Types::BOOLEAN,
            "integer" => Types::INTEGER,
            "number" => Types::NUMBER,
            "string" => Types::STRING,
            "array" => Types::ARRAY,
            "object" => Types::OBJECT,
            _ => return None,
        })
    }

    /// The type of a JSON value.
    pub(crate) fn of(value: &Value) -> Types {
        match value {
            Value::Null => Types::NULL,
            Value::Bool(_) => Types::BOOLEAN,
            Value::Number(n) if is_integer(n) => Types::INTEGER,
            Value::Number(_) => Types(8),
            Value::String(_) => Types::STRING,
            Value::Array(_) => Types::ARRAY,
            Value::Object(_) => Types::OBJECT,
        }
    }

    /// Both sets.
    pub(crate) fn union(self, other: Types) -> Types {
        Types(self.0 | other.0)
    }

    /// What the two sets share.
    pub(crate) fn intersection(self, other: Types) -> Types {
        Types(self.0 & other.0)
    }

    /// Whether the two sets share a type.
    pub(crate) fn overlaps(self, other: Types) -> bool {
        self.0 & other.0 != 0
    }
}

impl fmt::Display for Types {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Vec::new();
        if self.0 & Types::NUMBER.0 == Types::NUMBER.0 {
            names.push("number");
        } else if self.0 & Types::INTEGER.0 != 0 {
            names.push("integer");
        } else if self.0 & 8 != 0 {
            names.push("number with a fraction");
        }
        for (t, name) in [
            (Types::BOOLEAN, "boolean"),
            (Types::STRING, "string"),
            (Types::ARRAY, "array"),
            (Types::OBJECT, "object"),
            (Types::NULL, "null"),
        ] {
            if self.0 & t.0 != 0 {
                names.push(name);
            }
        }
        match names.as_slice() {
            [] => f.write_str("nothing"),
            [one] => f.write_str(one),
            [rest @ .., last] => write!(f, "{} or {last}", rest.join(", ")),
        }
    }
}

fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

/// Deepest chain of `$ref`s followed for one value before giving up.
const MAX_REF_DEPTH: usize = 64;

/// Validates values against schemas of one document.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Validator<'a> {
    root: &'a Value,
    dialect: Dialect,
    direction: Direction,
}

/// What is carried down while validating one value.
#[derive(Clone, Default)]
struct Context {
    /// The `$ref`s followed for the current value (reset on descending into
    /// a child value): following one twice means a circle.
    refs: Vec<String>,
    /// Properties declared by schemas combined with this one (`allOf`
    /// siblings, the parent of a `oneOf`), so that a response's property
    /// declared by one of them is not called undeclared by another.
    known: BTreeSet<String>,
}

impl Context {
    fn child(&self) -> Context {
        Context::default()
    }
}

impl<'a> Validator<'a> {
    /// A validator for schemas of the document `root`.
    pub(crate) fn new(root: &'a Value, dialect: Dialect, direction: Direction) -> Self {
        Self {
            root,
            dialect,
            direction,
        }
    }

    /// The same validator for the other side of the exchange.
    pub(crate) fn with_direction(self, direction: Direction) -> Self {
        Self { direction, ..self }
    }

    /// Every way `instance` differs from `schema` (none: it is valid).
    pub(crate) fn validate(
        &self,
        schema: &'a Value,
        instance: &Value,
    ) -> Result<Vec<Violation>, SchemaError> {
        let mut out = Vec::new();
        self.check(schema, instance, "$", &Context::default(), &mut out)?;
        Ok(out)
    }

    /// The value a local reference (`#/components/schemas/X`) points at.
    pub(crate) fn resolve(&self, reference: &str) -> Result<&'a Value, SchemaError> {
        resolve_pointer(self.root, reference)
    }

    fn nullable(&self, map: &serde_json::Map<String, Value>) -> bool {
        let key = match self.dialect {
            Dialect::Swagger2 => "x-nullable",
            Dialect::OpenApi30 | Dialect::OpenApi31 => "nullable",
        };
        map.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    /// The types `schema`'s own `type` keyword allows (with `null` when it
    /// is nullable); `None` when it has no `type`.
    fn own_types(&self, map: &serde_json::Map<String, Value>) -> Option<Types> {
        let declared = match map.get("type")? {
            Value::String(name) => Types::named(name).unwrap_or(Types::ANY),
            Value::Array(names) => names
                .iter()
                .filter_map(Value::as_str)
                .map(|n| Types::named(n).unwrap_or(Types::ANY))
                .fold(Types::default(), Types::union),
            _ => return None,
        };
        Some(if self.nullable(map) {
            declared.union(Types::NULL)
        } else {
            declared
        })
    }

    fn follow(&self, reference: &str, ctx: &Context) -> Result<(&'a Value, Context), SchemaError> {
        if ctx.refs.iter().any(|r| r == reference) || ctx.refs.len() >= MAX_REF_DEPTH {
            let mut chain = ctx.refs.clone();
            chain.push(reference.to_owned());
            return Err(SchemaError::Cycle {
                chain: chain.join(" -> "),
            });
        }
        let target = self.resolve(reference)?;
        let mut next = ctx.clone();
        next.refs.push(reference.to_owned());
        Ok((target, next))
    }

    fn check(
        &self,
        schema: &'a Value,
        instance: &Value,
        at: &str,
        ctx: &Context,
        out: &mut Vec<Violation>,
    ) -> Result<(), SchemaError> {
        let violation = |message: String| Violation {
            at: at.to_owned(),
            message,
        };
        let map = match schema {
            Value::Bool(true) => return Ok(()),
            Value::Bool(false) => {
                out.push(violation("the spec allows no value here".into()));
                return Ok(());
            }
            Value::Object(map) => map,
            _ => return Ok(()),
        };
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            let (target, next) = self.follow(reference, ctx)?;
            self.check(target, instance, at, &next, out)?;
            if self.dialect != Dialect::OpenApi31 {
                // OpenAPI 3.0 and Swagger 2.0 ignore a `$ref`'s siblings.
                return Ok(());
            }
        }

        if instance.is_null() && self.nullable(map) {
            return Ok(());
        }
        if let Some(types) = self.own_types(map)
            && !types.overlaps(Types::of(instance))
        {
            out.push(violation(format!(
                "expected {types}, the pact has {}",
                describe(instance)
            )));
            return Ok(());
        }

        if let Some(Value::Array(options)) = map.get("enum")
            && !options.iter().any(|o| json_equal(o, instance))
        {
            out.push(violation(format!(
                "{} is not one of the values the spec allows ({})",
                describe(instance),
                options
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }

        match instance {
            Value::String(s) => self.check_string(map, s, &violation, out),
            Value::Number(n) => check_number(map, n, &violation, out),
            Value::Array(items) => {
                self.check_array(map, items, at, ctx, &violation, out)?;
            }
            Value::Object(fields) => {
                self.check_object(schema, map, fields, at, ctx, out)?;
            }
            Value::Null | Value::Bool(_) => {}
        }

        self.check_combinations(schema, map, instance, at, ctx, out)
    }

    fn check_string(
        &self,
        map: &serde_json::Map<String, Value>,
        s: &str,
        violation: &dyn Fn(String) -> Violation,
        out: &mut Vec<Violation>,
    ) {
        let chars = s.chars().count();
        if let Some(min) = map.get("minLength").and_then(Value::as_u64)
            && (chars as u64) < min
        {
            out.push(violation(format!(
                "{} is shorter than {min} characters",
                describe_str(s)
            )));
        }
        if let Some(max) = map.get("maxLength").and_then(Value::as_u64)
            && (chars as u64) > max
        {
            out.push(violation(format!(
                "{} is longer than {max} characters",
                describe_str(s)
            )));
        }
        if let Some(pattern) = map.get("pattern").and_then(Value::as_str)
            // A pattern Rust's regex cannot compile is not decided here.
            && let Ok(re) = regex::Regex::new(pattern)
            && !re.is_match(s)
        {
            out.push(violation(format!(
                "{} does not match the pattern `{pattern}`",
                describe_str(s)
            )));
        }
        if let Some(format) = map.get("format").and_then(Value::as_str) {
            let ok = match format {
                "uuid" => is_uuid(s),
                "date-time" => is_date_time(s),
                "date" => is_date(s),
                _ => true,
            };
            if !ok {
                out.push(violation(format!(
                    "{} is not a {format} (the spec's `format: {format}`)",
                    describe_str(s)
                )));
            }
        }
    }

    fn check_array(
        &self,
        map: &'a serde_json::Map<String, Value>,
        items: &[Value],
        at: &str,
        ctx: &Context,
        violation: &dyn Fn(String) -> Violation,
        out: &mut Vec<Violation>,
    ) -> Result<(), SchemaError> {
        if let Some(min) = map.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            out.push(violation(format!(
                "{} items, the spec wants at least {min}",
                items.len()
            )));
        }
        if let Some(max) = map.get("maxItems").and_then(Value::as_u64)
            && (items.len() as u64) > max
        {
            out.push(violation(format!(
                "{} items, the spec allows at most {max}",
                items.len()
            )));
        }
        if let Some(item_schema) = map.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.check(item_schema, item, &format!("{at}[{i}]"), &ctx.child(), out)?;
            }
        }
        Ok(())
    }

    fn check_object(
        &self,
        schema: &'a Value,
        map: &'a serde_json::Map<String, Value>,
        fields: &serde_json::Map<String, Value>,
        at: &str,
        ctx: &Context,
        out: &mut Vec<Violation>,
    ) -> Result<(), SchemaError> {
        let properties = map.get("properties").and_then(Value::as_object);
        if self.direction == Direction::Request
            && let Some(Value::Array(required)) = map.get("required")
        {
            for name in required.iter().filter_map(Value::as_str) {
                if !fields.contains_key(name) {
                    out.push(Violation {
                        at: at.to_owned(),
                        message: format!(
                            "the spec requires the property `{name}`, the pact has none"
                        ),
                    });
                }
            }
        }
        let mut declared = ctx.known.clone();
        declared.extend(self.declared_properties(schema)?);
        for (name, value) in fields {
            let child_at = child_path(at, name);
            if let Some(property) = properties.and_then(|p| p.get(name)) {
                self.check(property, value, &child_at, &ctx.child(), out)?;
                continue;
            }
            match map.get("additionalProperties") {
                Some(Value::Bool(false)) if !declared.contains(name) => out.push(Violation {
                    at: child_at,
                    message: "the spec does not declare this property and allows no others".into(),
                }),
                Some(extra @ Value::Object(_)) => {
                    self.check(extra, value, &child_at, &ctx.child(), out)?;
                }
                None if self.direction == Direction::Response
                    && properties.is_some()
                    && !declared.contains(name) =>
                {
                    out.push(Violation {
                        at: child_at,
                        message: "the pact expects a property the spec does not declare (the API never promised it)"
                            .into(),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn check_combinations(
        &self,
        schema: &'a Value,
        map: &'a serde_json::Map<String, Value>,
        instance: &Value,
        at: &str,
        ctx: &Context,
        out: &mut Vec<Violation>,
    ) -> Result<(), SchemaError> {
        if let Some(Value::Array(all)) = map.get("allOf") {
            let mut inner = ctx.clone();
            inner.known.extend(self.declared_properties(schema)?);
            for member in all {
                self.check(member, instance, at, &inner, out)?;
            }
        }
        let mut branch_ctx = ctx.clone();
        if let Some(Value::Object(own)) = map.get("properties") {
            branch_ctx.known.extend(own.keys().cloned());
        }
        for (keyword, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            let Some(Value::Array(branches)) = map.get(keyword) else {
                continue;
            };
            let mut matching = Vec::new();
            let mut first_reasons = Vec::new();
            for (i, branch) in branches.iter().enumerate() {
                let mut found = Vec::new();
                self.check(branch, instance, at, &branch_ctx, &mut found)?;
                if found.is_empty() {
                    matching.push(i + 1);
                } else if let Some(first) = found.first() {
                    first_reasons.push(format!("{}: {first}", i + 1));
                }
            }
            if matching.is_empty() {
                out.push(Violation {
                    at: at.to_owned(),
                    message: format!(
                        "matches none of the {} alternatives of the spec's `{keyword}` ({})",
                        branches.len(),
                        first_reasons.join("; ")
                    ),
                });
            } else if exactly_one && matching.len() > 1 {
                out.push(Violation {
                    at: at.to_owned(),
                    message: format!(
                        "matches alternatives {matching:?} of the spec's `oneOf`, which allows exactly one"
                    ),
                });
            }
        }
        if let Some(not) = map.get("not") {
            let mut found = Vec::new();
            self.check(not, instance, at, &branch_ctx, &mut found)?;
            if found.is_empty() {
                out.push(Violation {
                    at: at.to_owned(),
                    message: "matches the schema the spec's `not` excludes".into(),
                });
            }
        }
        Ok(())
    }

    /// The property names a schema declares, itself and through `allOf`
    /// and `$ref`.
    fn declared_properties(&self, schema: &'a Value) -> Result<BTreeSet<String>, SchemaError> {
        let mut names = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut stack = vec![schema];
        while let Some(s) = stack.pop() {
            if let Some(Value::Object(props)) = s.get("properties") {
                names.extend(props.keys().cloned());
            }
            if let Some(reference) = s.get("$ref").and_then(Value::as_str)
                && seen.insert(reference.to_owned())
            {
                stack.push(self.resolve(reference)?);
            }
            if let Some(Value::Array(all)) = s.get("allOf") {
                stack.extend(all.iter());
            }
        }
        Ok(names)
    }

    /// The types the schema allows at `path` below it (`None`: any, or not
    /// decidable). `oneOf`/`anyOf` contribute the union of their branches,
    /// `allOf` the intersection of its members.
    pub(crate) fn types_at(
        &self,
        schema: &'a Value,
        path: &[Step],
    ) -> Result<Option<Types>, SchemaError> {
        self.types_at_inner(schema, path, &Context::default())
    }

    fn types_at_inner(
        &self,
        schema: &'a Value,
        path: &[Step],
        ctx: &Context,
    ) -> Result<Option<Types>, SchemaError> {
        let Value::Object(map) = schema else {
            return Ok(match schema {
                Value::Bool(false) => Some(Types::default()),
                _ => None,
            });
        };
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            let (target, next) = self.follow(reference, ctx)?;
            let through = self.types_at_inner(target, path, &next)?;
            if self.dialect != Dialect::OpenApi31 {
                return Ok(through);
            }
            let rest = self.types_here_or_below(map, path, ctx)?;
            return Ok(intersect(through, rest));
        }
        self.types_here_or_below(map, path, ctx)
    }

    fn types_here_or_below(
        &self,
        map: &'a serde_json::Map<String, Value>,
        path: &[Step],
        ctx: &Context,
    ) -> Result<Option<Types>, SchemaError> {
        let mut result = match path.split_first() {
            None => self.own_types(map),
            Some((step, rest)) => {
                let mut children: Vec<&'a Value> = Vec::new();
                let mut open = false;
                match step {
                    Step::Field(name) => {
                        if let Some(p) = map.get("properties").and_then(|p| p.get(name)) {
                            children.push(p);
                        } else {
                            match map.get("additionalProperties") {
                                Some(extra @ Value::Object(_)) => children.push(extra),
                                Some(Value::Bool(false)) => {}
                                _ => open = true,
                            }
                        }
                    }
                    Step::AnyField => {
                        if let Some(Value::Object(props)) = map.get("properties") {
                            children.extend(props.values());
                        }
                        match map.get("additionalProperties") {
                            Some(extra @ Value::Object(_)) => children.push(extra),
                            Some(Value::Bool(false)) => {}
                            _ => open = true,
                        }
                    }
                    Step::Index(_) | Step::AnyIndex => match map.get("items") {
                        Some(items) => children.push(items),
                        None => open = true,
                    },
                }
                if open {
                    None
                } else {
                    let mut union = Some(Types::default());
                    for child in children {
                        let t = self.types_at_inner(child, rest, &ctx.child())?;
                        union = match (union, t) {
                            (Some(a), Some(b)) => Some(a.union(b)),
                            _ => None,
                        };
                    }
                    union
                }
            }
        };
        if let Some(Value::Array(all)) = map.get("allOf") {
            for member in all {
                result = intersect(result, self.types_at_inner(member, path, ctx)?);
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = map.get(keyword) {
                let mut union = Some(Types::default());
                for branch in branches {
                    union = match (union, self.types_at_inner(branch, path, ctx)?) {
                        (Some(a), Some(b)) => Some(a.union(b)),
                        _ => None,
                    };
                }
                result = intersect(result, union);
            }
        }
        Ok(result)
    }
}

fn intersect(a: Option<Types>, b: Option<Types>) -> Option<Types> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.intersection(b)),
        (Some(a), None) => Some(a),
        (None, b) => b,
    }
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

/// `$.a`, `$.a.b`, `$['a b']`.
pub(crate) fn child_path(at: &str, name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        format!("{at}.{name}")
    } else {
        format!("{at}['{}']", name.replace('\'', "\\'"))
    }
}

/// A short description of a value for messages: its type and, when short,
/// the value itself.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", describe_str(s)),
        Value::Array(a) if a.len() == 1 => "an array of 1 item".into(),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(_) => "an object".into(),
    }
}

fn describe_str(s: &str) -> String {
    let short: String = s.chars().take(40).collect();
    if short.len() < s.len() {
        format!("{:?}…", short)
    } else {
        format!("{s:?}")
    }
}

fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn check_number(
    map: &serde_json::Map<String, Value>,
    n: &serde_json::Number,
    violation: &dyn Fn(String) -> Violation,
    out: &mut Vec<Violation>,
) {
    let Some(x) = n.as_f64() else { return };
    let flag = |k: &str| map.get(k).and_then(Value::as_bool).unwrap_or(false);
    if let Some(min) = map.get("minimum").and_then(Value::as_f64) {
        let exclusive = flag("exclusiveMinimum");
        if x < min || (exclusive && x == min) {
            out.push(violation(format!("{n} is below the spec's minimum {min}")));
        }
    }
    if let Some(min) = map.get("exclusiveMinimum").and_then(Value::as_f64)
        && x <= min
    {
        out.push(violation(format!(
            "{n} is not above the spec's exclusive minimum {min}"
        )));
    }
    if let Some(max) = map.get("maximum").and_then(Value::as_f64) {
        let exclusive = flag("exclusiveMaximum");
        if x > max || (exclusive && x == max) {
            out.push(violation(format!("{n} is above the spec's maximum {max}")));
        }
    }
    if let Some(max) = map.get("exclusiveMaximum").and_then(Value::as_f64)
        && x >= max
    {
        out.push(violation(format!(
            "{n} is not below the spec's exclusive maximum {max}"
        )));
    }
    let range = match map.get("format").and_then(Value::as_str) {
        Some("int32") => Some((i32::MIN as f64, i32::MAX as f64)),
        Some("int64") => Some((i64::MIN as f64, i64::MAX as f64)),
        _ => None,
    };
    if let Some((lo, hi)) = range
        && (x < lo || x > hi)
    {
        out.push(violation(format!(
            "{n} does not fit the spec's `format: {}`",
            map.get("format")
                .and_then(Value::as_str)
                .unwrap_or_default()
        )));
    }
}

/// Whether `s` is a UUID in its usual hyphenated form (8-4-4-4-12 hex).
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

fn is_date_time(s: &str) -> bool {
    static RFC3339: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
        )
        .expect("a valid regex")
    });
    RFC3339.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn violations(
        root: &Value,
        schema: &Value,
        instance: Value,
        direction: Direction,
    ) -> Vec<String> {
        Validator::new(root, Dialect::OpenApi30, direction)
            .validate(schema, &instance)
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
        let v = Validator::new(&doc, Dialect::Swagger2, Direction::Request);
        assert!(v.validate(&schema, &Value::Null).unwrap().is_empty());
        let v3 = Validator::new(&doc, Dialect::OpenApi30, Direction::Request);
        assert_eq!(v3.validate(&schema, &Value::Null).unwrap().len(), 1);
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
        let err = Validator::new(&doc, Dialect::OpenApi30, Direction::Request)
            .validate(&schema, &json!({}))
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
            let err = Validator::new(&doc, Dialect::OpenApi30, Direction::Request)
                .validate(&schema, &json!({}))
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
        let v = Validator::new(&doc, Dialect::OpenApi30, Direction::Response);
        let schema = json!({ "$ref": "#/components/schemas/Result" });
        let at = |path: &[Step]| v.types_at(&schema, path).unwrap();
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
}
