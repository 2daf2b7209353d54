//! Binding a request body to `ChangeUserPasswordCommand` the way ASP.NET
//! Core with Newtonsoft.Json does, with its error messages, so that a client
//! sees the same `ValidationProblemDetails` it would see from a tenant.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::answers;

/// Longest password the emulator accepts; a longer one is bad input.
pub const MAX_PASSWORD_CHARS: usize = 512;

/// The bound command. `None` is a field that was missing or `null`.
#[derive(Debug, Default)]
pub struct ChangePasswordCommand {
    /// `oldPassword`.
    pub old_password: Option<String>,
    /// `newPassword`.
    pub new_password: Option<String>,
}

/// Refuses anything but a JSON content type with 415, as `[Consumes]` does.
pub fn require_json(headers: &HeaderMap) -> Result<(), Response> {
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

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "{",
        Value::Array(_) => "[",
        _ => "",
    }
}

/// Validation errors: field (or JSON path) to messages.
pub type BindErrors = BTreeMap<String, Vec<String>>;

fn single(field: &str, message: impl Into<String>) -> BindErrors {
    BTreeMap::from([(field.to_owned(), vec![message.into()])])
}

/// Binds `body` to the command, or gives the errors that ASP.NET Core puts
/// in a 400 `ValidationProblemDetails`.
pub fn bind(body: &[u8]) -> Result<ChangePasswordCommand, BindErrors> {
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
                "Cannot deserialize the current JSON {} into type 'ChangeUserPasswordCommand' because the type requires a JSON object. Path '', line 1, position 1.",
                match value {
                    Value::Array(_) => "array",
                    Value::String(_) => "string",
                    Value::Null => "null",
                    _ => "value",
                }
            ),
        ));
    };

    let mut command = ChangePasswordCommand::default();
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, offset) in top_level_members(text) {
        let (line, position) = line_position(text, offset);
        let slot = if name.eq_ignore_ascii_case("oldPassword") {
            &mut command.old_password
        } else if name.eq_ignore_ascii_case("newPassword") {
            &mut command.new_password
        } else {
            errors.entry(name.clone()).or_default().push(format!(
                "Could not find member '{name}' on object of type 'ChangeUserPasswordCommand'. Path '{name}', line {line}, position {position}."
            ));
            continue;
        };
        match fields.get(&name) {
            Some(Value::String(s)) => *slot = Some(s.clone()),
            // Newtonsoft reads a number or a boolean into a string field.
            Some(Value::Number(n)) => *slot = Some(n.to_string()),
            Some(Value::Bool(b)) => *slot = Some(if *b { "True" } else { "False" }.to_owned()),
            Some(Value::Null) | None => *slot = None,
            Some(other) => errors.entry(name.clone()).or_default().push(format!(
                "Unexpected character encountered while parsing value: {}. Path '{name}', line {line}, position {position}.",
                describe(other)
            )),
        }
    }
    for (field, value) in [
        ("oldPassword", &command.old_password),
        ("newPassword", &command.new_password),
    ] {
        if let Some(v) = value
            && v.chars().count() > MAX_PASSWORD_CHARS
        {
            errors.entry(field.to_owned()).or_default().push(format!(
                "The field {field} must be a string with a maximum length of {MAX_PASSWORD_CHARS}."
            ));
        }
    }
    if command.new_password.is_none() && !errors.contains_key("newPassword") {
        errors
            .entry("newPassword".to_owned())
            .or_default()
            .push("The NewPassword field is required.".to_owned());
    }
    if errors.is_empty() {
        Ok(command)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
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
}
