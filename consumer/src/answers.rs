//! The JSON bodies the Identity API answers with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// ASP.NET Core Identity's `IdentityResult`: `{"succeeded", "errors"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityResult {
    /// Whether the operation succeeded.
    pub succeeded: bool,
    /// Why it did not; `null` and `[]` both read as none.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub errors: Vec<IdentityError>,
}

/// One error of an [`IdentityResult`], such as `PasswordMismatch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityError {
    /// A stable code, for instance `PasswordTooShort`.
    #[serde(default)]
    pub code: Option<String>,
    /// A human-readable text.
    #[serde(default)]
    pub description: Option<String>,
}

impl IdentityError {
    /// An error with its code and description.
    pub fn new(code: &str, description: impl Into<String>) -> Self {
        Self {
            code: Some(code.to_owned()),
            description: Some(description.into()),
        }
    }
}

/// ASP.NET Core's `ValidationProblemDetails`: the answer to a body that
/// cannot be bound to the command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationProblem {
    /// A URI naming the kind of problem.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A short summary, "One or more validation errors occurred.".
    pub title: String,
    /// The HTTP status, repeated in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The trace id the server logged the failure under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// For each field (or JSON path), the messages about it.
    pub errors: BTreeMap<String, Vec<String>>,
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}
