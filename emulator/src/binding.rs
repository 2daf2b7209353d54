//! Binding a request body to `ChangeUserPasswordCommand` the way ASP.NET
//! Core with Newtonsoft.Json does, with its error messages, so that a client
//! sees the same `ValidationProblemDetails` it would see from a tenant.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::answers;

/// Longest string field the emulator accepts; a longer one is bad input.
pub(crate) const MAX_STRING_CHARS: usize = 512;

/// The bound command. `None` is a field that was missing or `null`.
#[derive(Debug, Default)]
pub(crate) struct ChangePasswordCommand {
    pub old_password: Option<String>,
    pub new_password: Option<String>,
}

/// Refuses anything but a JSON content type with 415, as `[Consumes]` does.
pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_json = media == "application/json"
        || media == "text/json"
        || (media.starts_with("application/") && media.ends_with("+json"));
    if is_json {
        Ok(())
    } else {
        let shown = if content_type.is_empty() {
            "no Content-Type".to_owned()
        } else {
            format!(
                "Content-Type `{}`",
                content_type.chars().take(100).collect::<String>()
            )
        };
        Err(answers::problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some(format!("{shown}: send `application/json`")),
        ))
    }
}

/// Line and 1-based position of byte `offset` in `text`, as Newtonsoft
/// counts them.
fn line_position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (
        line,
        text[line_start..offset.min(text.len())].chars().count() + 1,
    )
}

/// The top-level members of a JSON object in document order: each name and
/// the byte offset of its value's first character. `text` must be a valid
/// JSON object.
fn top_level_members(text: &str) -> Vec<(String, usize)> {
    let bytes = text.as_bytes();
    let mut members = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    // Whether the next string at depth 1 is a member name.
    let mut expect_name = false;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => {
                depth += 1;
                expect_name = depth == 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b',' => {
                expect_name = depth == 1;
                i += 1;
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                if expect_name && depth == 1 {
                    let raw = &text[i..(j + 1).min(text.len())];
                    let name: String = serde_json::from_str(raw).unwrap_or_default();
                    // Skip to the value after the colon.
                    let mut k = j + 1;
                    while k < bytes.len() && (bytes[k].is_ascii_whitespace() || bytes[k] == b':') {
                        k += 1;
                    }
                    members.push((name, k));
                    expect_name = false;
                }
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    members
}

fn describe(value: &Value) -> String {
    match value {
        Value::Object(_) => "{".into(),
        Value::Array(_) => "[".into(),
        Value::String(s) => s.chars().next().map(String::from).unwrap_or_default(),
        other => other
            .to_string()
            .chars()
            .next()
            .map(String::from)
            .unwrap_or_default(),
    }
}

/// Validation errors: field (or JSON path) to messages.
pub(crate) type BindErrors = BTreeMap<String, Vec<String>>;

fn single(field: &str, message: impl Into<String>) -> BindErrors {
    BTreeMap::from([(field.to_owned(), vec![message.into()])])
}

/// The JSON type a command field binds to, and how Newtonsoft converts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FieldKind {
    /// `string`, nullable; numbers and booleans are read as their text.
    Str,
    /// `string` (uuid), nullable.
    Uuid,
    /// `boolean`; `"true"`/`"false"` strings are converted.
    Bool,
    /// `integer` (int64), nullable.
    Int,
    /// `array` of uuid strings, nullable.
    UuidList,
    /// An array of anything, nullable (accepted and ignored).
    AnyList,
    /// An object of string values, nullable (accepted and ignored).
    StrMap,
    /// One of these strings (an enum), nullable.
    OneOf(&'static [&'static str]),
}

/// A command: its .NET type name and its fields.
pub(crate) struct CommandShape {
    /// The type name used in messages, e.g. `ChangeUserPasswordCommand`.
    pub type_name: &'static str,
    /// Each field's JSON name and kind.
    pub fields: &'static [(&'static str, FieldKind)],
}

/// `ChangeUserPasswordCommand`.
pub(crate) const CHANGE_PASSWORD: CommandShape = CommandShape {
    type_name: "ChangeUserPasswordCommand",
    fields: &[
        ("oldPassword", FieldKind::Str),
        ("newPassword", FieldKind::Str),
    ],
};

/// The user types of `UserType`.
pub(crate) const USER_TYPES: &[&str] = &[
    "user",
    "directoryUser",
    "directoryGroup",
    "robotAccount",
    "application",
];

/// `CreateUserCommand`.
pub(crate) const CREATE_USER: CommandShape = CommandShape {
    type_name: "CreateUserCommand",
    fields: &[
        ("id", FieldKind::Uuid),
        ("userName", FieldKind::Str),
        ("email", FieldKind::Str),
        ("name", FieldKind::Str),
        ("surname", FieldKind::Str),
        ("displayName", FieldKind::Str),
        ("type", FieldKind::OneOf(USER_TYPES)),
        ("bypassBasicAuthRestriction", FieldKind::Bool),
        ("legacyId", FieldKind::Int),
        ("invitationAccepted", FieldKind::Bool),
        ("partitionGlobalId", FieldKind::Uuid),
        ("password", FieldKind::Str),
        ("validatePassword", FieldKind::Bool),
        ("groupIDs", FieldKind::UuidList),
        ("userLogins", FieldKind::AnyList),
    ],
};

/// `UpdateUserCommand`.
pub(crate) const UPDATE_USER: CommandShape = CommandShape {
    type_name: "UpdateUserCommand",
    fields: &[
        ("name", FieldKind::Str),
        ("surname", FieldKind::Str),
        ("displayName", FieldKind::Str),
        ("email", FieldKind::Str),
        ("isActive", FieldKind::Bool),
        ("password", FieldKind::Str),
        ("groupIDsToAdd", FieldKind::UuidList),
        ("groupIDsToRemove", FieldKind::UuidList),
        ("bypassBasicAuthRestriction", FieldKind::Bool),
        ("invitationAccepted", FieldKind::Bool),
        ("extensionUserAttributesToAddOrUpdate", FieldKind::StrMap),
        ("extensionUserAttributesToRemove", FieldKind::AnyList),
    ],
};

/// `BulkSoftDeleteCommand`.
pub(crate) const BULK_DELETE: CommandShape = CommandShape {
    type_name: "BulkSoftDeleteCommand",
    fields: &[
        ("partitionGlobalId", FieldKind::Uuid),
        ("userIds", FieldKind::UuidList),
    ],
};

/// A bound command: each field present in the body under its canonical
/// name, converted to its kind (`null` kept as `Value::Null`).
#[derive(Debug, Default)]
pub(crate) struct Bound(BTreeMap<&'static str, Value>);

impl Bound {
    /// A string field, `None` when missing or null.
    pub(crate) fn str(&self, field: &str) -> Option<String> {
        self.0.get(field).and_then(Value::as_str).map(str::to_owned)
    }

    /// A uuid field, `None` when missing or null.
    pub(crate) fn uuid(&self, field: &str) -> Option<uuid::Uuid> {
        self.0
            .get(field)
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
    }

    /// A boolean field, `None` when missing.
    pub(crate) fn bool(&self, field: &str) -> Option<bool> {
        self.0.get(field).and_then(Value::as_bool)
    }

    /// An integer field, `None` when missing or null.
    pub(crate) fn int(&self, field: &str) -> Option<i64> {
        self.0.get(field).and_then(Value::as_i64)
    }

    /// A uuid list, empty when missing or null.
    pub(crate) fn uuids(&self, field: &str) -> Vec<uuid::Uuid> {
        self.0
            .get(field)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str()?.parse().ok()).collect())
            .unwrap_or_default()
    }
}

fn convert(kind: FieldKind, value: &Value) -> Result<Value, String> {
    let text_of = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_owned()),
        _ => None,
    };
    if value.is_null() && !matches!(kind, FieldKind::Bool) {
        return Ok(Value::Null);
    }
    match kind {
        FieldKind::Str => text_of(value).map(Value::String).ok_or_else(|| "Unexpected character encountered while parsing value".into()),
        FieldKind::Uuid => match value {
            Value::String(s) if s.parse::<uuid::Uuid>().is_ok() => Ok(value.clone()),
            Value::String(s) => Err(format!("Error converting value \"{}\" to type 'System.Guid'", s.chars().take(60).collect::<String>())),
            Value::Object(_) | Value::Array(_) => Err("Unexpected character encountered while parsing value".into()),
            other => Err(format!("Error converting value {other} to type 'System.Guid'")),
        },
        FieldKind::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            Value::Null => Err("Error converting value {null} to type 'System.Boolean'".into()),
            Value::String(s) => Err(format!("Could not convert string to boolean: {}", s.chars().take(60).collect::<String>())),
            Value::Object(_) | Value::Array(_) => Err("Unexpected character encountered while parsing value".into()),
            Value::Number(n) => Err(format!("Error converting value {n} to type 'System.Boolean'")),
        },
        FieldKind::Int => match value {
            Value::Number(n) if n.is_i64() => Ok(value.clone()),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("Could not convert string to integer: {}", s.chars().take(60).collect::<String>())),
            Value::Number(n) => Err(format!("Input string '{n}' is not a valid integer")),
            _ => Err("Unexpected character encountered while parsing value".into()),
        },
        FieldKind::UuidList => match value {
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(s) if s.parse::<uuid::Uuid>().is_ok() => {}
                        other => {
                            return Err(format!(
                                "Error converting value {} to type 'System.Guid'",
                                other.to_string().chars().take(60).collect::<String>()
                            ));
                        }
                    }
                }
                Ok(value.clone())
            }
            _ => Err("Cannot deserialize the current JSON value into type 'System.Collections.Generic.List`1[System.Guid]'".into()),
        },
        FieldKind::StrMap => match value {
            Value::Object(map) if map.values().all(|v| v.is_string() || v.is_null()) => {
                Ok(value.clone())
            }
            _ => Err("Cannot deserialize the current JSON value into type 'System.Collections.Generic.Dictionary`2[System.String,System.String]'".into()),
        },
        FieldKind::AnyList => match value {
            Value::Array(_) => Ok(value.clone()),
            _ => Err("Cannot deserialize the current JSON value into a list".into()),
        },
        FieldKind::OneOf(options) => match value {
            Value::String(s) => options
                .iter()
                .find(|o| o.eq_ignore_ascii_case(s))
                .map(|o| Value::String((*o).to_owned()))
                .ok_or_else(|| format!("Error converting value \"{}\" to type 'UserType'", s.chars().take(60).collect::<String>())),
            _ => Err("Unexpected character encountered while parsing value".into()),
        },
    }
}

/// Binds `body` to `shape` the way ASP.NET Core with Newtonsoft does, or
/// gives the errors it would put in a 400 `ValidationProblemDetails`.
pub(crate) fn bind_command(body: &[u8], shape: &CommandShape) -> Result<Bound, BindErrors> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(single("", "A non-empty request body is required."));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        single(
            "",
            format!(
                "The request body is not valid UTF-8 (invalid byte at offset {}).",
                e.valid_up_to()
            ),
        )
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let reason = e.to_string();
        let reason = reason.split(" at line").next().unwrap_or(&reason);
        single(
            "",
            format!(
                "Invalid JSON: {reason}. Path '', line {}, position {}.",
                e.line(),
                e.column()
            ),
        )
    })?;
    let Value::Object(fields) = &value else {
        return Err(single(
            "",
            format!(
                "Cannot deserialize the current JSON {} into type '{}' because the type requires a JSON object. Path '', line 1, position 1.",
                match value {
                    Value::Array(_) => "array",
                    Value::String(_) => "string",
                    Value::Null => "null",
                    _ => "value",
                },
                shape.type_name
            ),
        ));
    };

    let mut bound = Bound::default();
    let mut errors: BindErrors = BTreeMap::new();
    for (name, offset) in top_level_members(text) {
        let (line, position) = line_position(text, offset);
        let Some((canonical, kind)) = shape
            .fields
            .iter()
            .find(|(f, _)| f.eq_ignore_ascii_case(&name))
        else {
            errors.entry(name.clone()).or_default().push(format!(
                "Could not find member '{name}' on object of type '{}'. Path '{name}', line {line}, position {position}.",
                shape.type_name
            ));
            continue;
        };
        let raw = fields.get(&name).unwrap_or(&Value::Null);
        match convert(*kind, raw) {
            Ok(v) => {
                if let Value::String(s) = &v
                    && s.chars().count() > MAX_STRING_CHARS
                {
                    errors.entry((*canonical).to_owned()).or_default().push(format!(
                        "The field {canonical} must be a string with a maximum length of {MAX_STRING_CHARS}."
                    ));
                }
                bound.0.insert(canonical, v);
            }
            Err(message) => {
                let shown = describe(raw);
                let message = if message.starts_with("Unexpected character") {
                    format!("{message}: {shown}. Path '{name}', line {line}, position {position}.")
                } else {
                    format!("{message}. Path '{name}', line {line}, position {position}.")
                };
                errors.entry(name.clone()).or_default().push(message);
            }
        }
    }
    if errors.is_empty() {
        Ok(bound)
    } else {
        Err(errors)
    }
}

/// Binds `body` to `ChangeUserPasswordCommand`; a missing or null
/// `newPassword` is an error, as the action cannot proceed without it.
pub(crate) fn bind(body: &[u8]) -> Result<ChangePasswordCommand, BindErrors> {
    let bound = bind_command(body, &CHANGE_PASSWORD)?;
    let command = ChangePasswordCommand {
        old_password: bound.str("oldPassword"),
        new_password: bound.str("newPassword"),
    };
    if command.new_password.is_none() {
        return Err(single("newPassword", "The NewPassword field is required."));
    }
    Ok(command)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn finds_members_in_document_order_with_value_offsets() {
        let text = r#"{"b": {"x": "y"}, "a" :"z", "c":[1,{"d":2}]}"#;
        let members = top_level_members(text);
        let names: Vec<_> = members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert_eq!(&text[members[0].1..members[0].1 + 1], "{");
        assert_eq!(&text[members[1].1..members[1].1 + 1], "\"");
        assert_eq!(&text[members[2].1..members[2].1 + 1], "[");
    }

    #[test]
    fn positions_match_newtonsofts_example() {
        let text = r#"{"oldPassword":{"value":"x"}}"#;
        let (_, offset) = top_level_members(text)[0].clone();
        assert_eq!(line_position(text, offset), (1, 16));
    }

    /// JSON whose members are the commands' fields, nested, with values of
    /// every kind, wrong ones included.
    fn json_body() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            ".{0,20}".prop_map(Value::from),
            Just(Value::from("0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e")),
        ];
        let names: Vec<&str> = [CHANGE_PASSWORD, CREATE_USER, UPDATE_USER, BULK_DELETE]
            .iter()
            .flat_map(|shape| shape.fields.iter().map(|(name, _)| *name))
            .chain(["x", "userName "])
            .collect();
        leaf.prop_recursive(4, 32, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map(
                    prop::sample::select(names.clone()).prop_map(str::to_owned),
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            json_body().prop_map(|v| v.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..300),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn binding_any_bytes_never_panics(body in body()) {
            let _ = bind(&body);
            for shape in [&CREATE_USER, &UPDATE_USER, &BULK_DELETE] {
                let _ = bind_command(&body, shape);
            }
        }
    }
}
