//! How a finding against a schema reads: the place in the value as a JSON
//! path, the value described, and one sentence per kind of the crate's
//! errors (the sentences the hand-written validator had).

use std::fmt;

use boon::ErrorKind;
use serde_json::Value;

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
            Value::Number(n) if n.is_i64() || n.is_u64() => Types::INTEGER,
            Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => Types::INTEGER,
            Value::Number(_) => Types(8),
            Value::String(_) => Types::STRING,
            Value::Array(_) => Types::ARRAY,
            Value::Object(_) => Types::OBJECT,
        }
    }

    /// The set a `type` keyword (a name or a list of names) allows.
    pub(crate) fn of_keyword(keyword: &Value) -> Option<Types> {
        let names = keyword
            .as_array()
            .map_or(std::slice::from_ref(keyword), Vec::as_slice);
        union_all(names.iter().map(|n| n.as_str().and_then(Types::named)))
    }

    /// Both sets.
    pub(crate) fn union(self, other: Types) -> Types {
        Types(self.0 | other.0)
    }

    /// Whether the two sets share a type.
    pub(crate) fn overlaps(self, other: Types) -> bool {
        self.0 & other.0 != 0
    }
}

/// The union of sets; `None` (any type) when one is.
pub(crate) fn union_all(mut sets: impl Iterator<Item = Option<Types>>) -> Option<Types> {
    sets.try_fold(Types::default(), |all, t| Some(all.union(t?)))
}

/// Both constraints: `None` is no constraint.
pub(crate) fn intersect(a: Option<Types>, b: Option<Types>) -> Option<Types> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Types(a.0 & b.0)),
        (a, b) => a.or(b),
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

/// What the crate's error `kind` about `value` means, in one sentence.
pub(super) fn words(kind: &ErrorKind<'_, '_>, value: &Value) -> String {
    use ErrorKind as K;
    let s = || describe_str(value.as_str().unwrap_or_default());
    match kind {
        K::Type { want, .. } => {
            let want = want.iter().map(|t| t.to_string()).collect::<Value>();
            let want = Types::of_keyword(&want).unwrap_or_default();
            format!("expected {want}, the pact has {}", describe(value))
        }
        K::FalseSchema => "the spec allows no value here".into(),
        K::Enum { want } => {
            let allowed: Vec<String> = want.iter().map(Value::to_string).collect();
            let allowed = allowed.join(", ");
            format!(
                "{} is not one of the values the spec allows ({allowed})",
                describe(value)
            )
        }
        K::Format { want, .. } if value.is_number() => {
            format!("{value} does not fit the spec's `format: {want}`")
        }
        K::Format { want, .. } => format!("{} is not a {want} (the spec's `format: {want}`)", s()),
        K::MinLength { want, .. } => format!("{} is shorter than {want} characters", s()),
        K::MaxLength { want, .. } => format!("{} is longer than {want} characters", s()),
        K::Pattern { want, .. } => format!("{} does not match the pattern `{want}`", s()),
        K::Minimum { got, want } => format!("{got} is below the spec's minimum {want}"),
        K::Maximum { got, want } => format!("{got} is above the spec's maximum {want}"),
        K::ExclusiveMinimum { got, want } => {
            format!("{got} is not above the spec's exclusive minimum {want}")
        }
        K::ExclusiveMaximum { got, want } => {
            format!("{got} is not below the spec's exclusive maximum {want}")
        }
        K::MinItems { got, want } => format!("{got} items, the spec wants at least {want}"),
        K::MaxItems { got, want } => format!("{got} items, the spec allows at most {want}"),
        K::MinProperties { got, want } => {
            format!("{got} properties, the spec wants at least {want}")
        }
        K::MaxProperties { got, want } => {
            format!("{got} properties, the spec allows at most {want}")
        }
        K::MultipleOf { got, want } => {
            format!("{got} is not a multiple of the spec's `multipleOf` {want}")
        }
        K::UniqueItems { got: [i, j] } => {
            format!("items {i} and {j} are equal, the spec's `uniqueItems` wants them distinct")
        }
        other => format!("{other} (the spec's schema)"),
    }
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
