//! The known divergences between UiPath's published behaviour and its
//! OpenAPI document: findings they explain print as warnings, not errors.
//!
//! The list is `spec-divergences.toml` at the repository's root, built into
//! the binary; `--divergences FILE` reads another. An entry names the
//! operation (method and path relative to the Identity root), optionally
//! the status, the checks it excuses, what differs and why; with a
//! `body_schema`, it excuses only an interaction whose response body matches
//! that schema (the shape the guide documents), so that the same status
//! answered with the declared shape is still checked in full.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::SpecError;
use super::check::{Check, Finding};
use super::document::Operation;
use super::pact::{Body, Interaction};
use super::schema::{Dialect, Direction};
use super::validator::Validator;

/// The repository's list, as built into the binary.
pub(crate) const BUILTIN: &str = include_str!(env!("ORCHESTRATOR_PACT_DIVERGENCES"));

/// One known divergence.
#[derive(Clone, Debug)]
pub(crate) struct Divergence {
    /// A short name, printed with each warning.
    pub id: String,
    /// The operation's method.
    pub method: String,
    /// The operation's path relative to the Identity root, as the spec
    /// writes it (`/api/User/{userId}/changepassword`).
    pub path: String,
    /// The response status it is about; any when absent.
    pub status: Option<u16>,
    /// The checks whose findings it explains.
    pub excuses: Vec<Check>,
    /// The body the guide documents instead; when set, only a response body
    /// that matches it is excused.
    pub body_schema: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    method: String,
    path: String,
    status: Option<u16>,
    excuses: Vec<String>,
    what: String,
    reason: String,
    #[serde(default)]
    documented_in: Option<String>,
    #[serde(default)]
    body_schema: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile {
    #[serde(default)]
    divergence: Vec<Entry>,
}

/// The list in force for a run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Divergences {
    /// The entries, in file order.
    pub entries: Vec<Divergence>,
}

impl Divergences {
    /// The list built into the binary.
    pub(crate) fn builtin() -> Result<Self, SpecError> {
        Self::parse(BUILTIN, "spec-divergences.toml (built in)")
    }

    /// Reads a list from a file.
    pub(crate) fn load(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError::Divergences {
            origin: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses a list; `origin` names it in errors.
    pub(crate) fn parse(text: &str, origin: &str) -> Result<Self, SpecError> {
        let bad = |reason: String| SpecError::Divergences {
            origin: origin.to_owned(),
            reason,
        };
        let file: ListFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut entries = Vec::new();
        for e in file.divergence {
            let _ = e.documented_in;
            if e.what.trim().is_empty() || e.reason.trim().is_empty() {
                return Err(bad(format!(
                    "the entry `{}` must say `what` differs and the `reason` it is excused",
                    e.id
                )));
            }
            if entries.iter().any(|d: &Divergence| d.id == e.id) {
                return Err(bad(format!("two entries are named `{}`", e.id)));
            }
            let excuses = e
                .excuses
                .iter()
                .map(|c| c.parse::<Check>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|reason| bad(format!("in the entry `{}`: {reason}", e.id)))?;
            if excuses.is_empty() {
                return Err(bad(format!("the entry `{}` excuses no check", e.id)));
            }
            entries.push(Divergence {
                id: e.id,
                method: e.method.to_ascii_uppercase(),
                path: e.path,
                status: e.status,
                excuses,
                body_schema: e.body_schema,
            });
        }
        Ok(Self { entries })
    }

    /// The entry that explains `finding` of `interaction` on `op`, if any.
    pub(crate) fn excuse(
        &self,
        op: &Operation,
        interaction: &Interaction,
        finding: &Finding,
    ) -> Option<&Divergence> {
        self.entries.iter().find(|d| {
            d.method == op.method
                && (d.path == op.path || d.path == op.template)
                && d.status.is_none_or(|s| s == interaction.status)
                && d.excuses.contains(&finding.check)
                && d.body_schema
                    .as_ref()
                    .is_none_or(|schema| body_matches(schema, interaction))
        })
    }
}

/// Whether the interaction's response body has the documented shape (plain
/// JSON Schema rules: `required` counts).
fn body_matches(schema: &Value, interaction: &Interaction) -> bool {
    let Some(Body::Json(body)) = &interaction.response.body else {
        return false;
    };
    Validator::new(schema, Dialect::OpenApi30)
        .validate(schema, body, Direction::Request)
        .is_ok_and(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_list_parses_and_explains_each_entry() {
        let list = Divergences::builtin().expect("the repository's list parses");
        assert!(!list.entries.is_empty());
        // Loading refuses an entry without `what` or `reason`, so each
        // loaded entry explains itself.
        for d in &list.entries {
            assert!(!d.id.is_empty() && !d.excuses.is_empty(), "{}", d.id);
        }
    }

    #[test]
    fn an_unknown_check_is_refused_with_the_known_ones() {
        let text = r#"
[[divergence]]
id = "x"
method = "POST"
path = "/a"
excuses = ["response.bodies"]
what = "w"
reason = "r"
"#;
        let err = Divergences::parse(text, "t.toml").unwrap_err().to_string();
        assert!(
            err.contains("response.bodies") && err.contains("response.body"),
            "{err}"
        );
    }

    #[test]
    fn an_entry_without_a_reason_is_refused() {
        let text = r#"
[[divergence]]
id = "x"
method = "POST"
path = "/a"
excuses = ["response.status"]
what = "w"
reason = " "
"#;
        assert!(Divergences::parse(text, "t.toml").is_err());
    }
}
