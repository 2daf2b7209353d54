//! The broker's notices: the sentences it attaches to a publication, to
//! each pact it hands out for verification, and to a can-i-deploy answer.
//! They explain its decisions (why this pact, why pending), so they are
//! printed as they are.

use std::io::Write;

use serde_json::Value;

/// One notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// `info`, `warning`, `error`, `success`, `debug`, `prompt`, … (the
    /// `type` of a notice, or the `level` of an older `logs` entry).
    pub kind: String,
    /// When it applies, for pacts for verification: `before_verification`,
    /// `after_verification:success_true_published_false`, …
    pub when: Option<String>,
    /// What it says.
    pub text: String,
}

impl Notice {
    /// The notices of a broker answer: `notices` (`{type|when, text}`), or
    /// the older `logs` (`{level, message}`) when there are none.
    pub fn from_answer(answer: &Value) -> Vec<Notice> {
        let notices = Self::list(answer.get("notices"), "text", "type");
        if !notices.is_empty() {
            return notices;
        }
        Self::list(answer.get("logs"), "message", "level")
    }

    /// The notices of a list such as `verificationProperties.notices`.
    pub fn list(list: Option<&Value>, text_key: &str, kind_key: &str) -> Vec<Notice> {
        list.and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| {
                        let text = item.get(text_key)?.as_str()?.to_owned();
                        let field =
                            |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
                        Some(Notice {
                            kind: field(kind_key).unwrap_or_else(|| "info".into()),
                            when: field("when"),
                            text,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether this is a `before_verification` notice (or has no `when`).
    pub fn is_before_verification(&self) -> bool {
        self.when
            .as_deref()
            .is_none_or(|w| w == "before_verification")
    }

    /// Whether this notice is for after a verification with this outcome.
    pub fn is_after_verification(&self, success: bool, published: bool) -> bool {
        self.when.as_deref()
            == Some(&*format!(
                "after_verification:success_{success}_published_{published}"
            ))
    }
}

/// Prints each notice on its own line, `indent`ed, prefixed by its kind
/// when that is a warning or an error; debug notices are left out.
pub(crate) fn print<'a>(
    out: &mut (dyn Write + Send),
    notices: impl IntoIterator<Item = &'a Notice>,
    indent: &str,
) {
    for notice in notices {
        let prefix = match notice.kind.as_str() {
            "debug" => continue,
            "warning" | "warn" => "broker warning: ",
            "error" | "danger" => "broker error: ",
            _ => "broker: ",
        };
        let text = notice.text.trim().replace('\n', &format!("\n{indent}  "));
        let _ = writeln!(out, "{indent}{prefix}{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_notices_or_falls_back_to_logs() {
        let with_notices = json!({
            "notices": [{"type": "info", "text": "a"}, {"type": "warning", "text": "b"}],
            "logs": [{"level": "info", "message": "old"}]
        });
        let notices = Notice::from_answer(&with_notices);
        assert_eq!(notices.len(), 2);
        assert_eq!(notices[1].kind, "warning");

        let with_logs = json!({"logs": [{"level": "debug", "message": "m"}]});
        let logs = Notice::from_answer(&with_logs);
        assert_eq!(logs[0].text, "m");
        assert_eq!(logs[0].kind, "debug");
    }

    #[test]
    fn sorts_verification_notices_by_when() {
        let notices = Notice::list(
            Some(&json!([
                {"when": "before_verification", "text": "why"},
                {"when": "after_verification:success_false_published_true", "text": "failed"}
            ])),
            "text",
            "type",
        );
        assert!(notices[0].is_before_verification());
        assert!(!notices[1].is_before_verification());
        assert!(notices[1].is_after_verification(false, true));
        assert!(!notices[1].is_after_verification(true, true));
    }

    #[test]
    fn prints_without_debug_and_marks_warnings() {
        let mut out = Vec::new();
        print(
            &mut out,
            &[
                Notice {
                    kind: "debug".into(),
                    when: None,
                    text: "hidden".into(),
                },
                Notice {
                    kind: "warning".into(),
                    when: None,
                    text: "careful".into(),
                },
                Notice {
                    kind: "info".into(),
                    when: None,
                    text: "fine".into(),
                },
            ],
            "  ",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  broker warning: careful\n  broker: fine\n"
        );
    }
}
