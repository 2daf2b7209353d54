//! The one place that knows every secret of a run and scrubs text of them.
//!
//! A [`Redactor`] is a shared handle: the log writer, the reports and the
//! provider-state executors hold clones of one, and a secret added by any of
//! them (a generated password, a renewed token) is scrubbed everywhere from
//! then on.

use std::sync::{Arc, RwLock};

use consumer::SecretString;

/// Replaces each known secret with `***` in text bound for output.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<Known>>>,
}

/// A secret and the other forms it takes in output, worked out once: inside
/// JSON text a secret with quotes or backslashes appears escaped; inside a
/// URL, percent-encoded. Each form differs from the secret.
#[derive(Debug)]
struct Known {
    secret: SecretString,
    forms: Vec<SecretString>,
}

impl Known {
    fn new(secret: &SecretString) -> Self {
        let raw = secret.expose();
        let escaped = serde_json::to_string(raw).unwrap_or_default();
        let escaped = escaped.trim_matches('"').to_owned();
        let encoded: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
        let mut forms = Vec::new();
        for form in [escaped, encoded] {
            if form != raw {
                forms.push(SecretString::new(form));
            }
        }
        Self {
            secret: secret.clone(),
            forms,
        }
    }
}

/// Secrets shorter than this are not scrubbed: replacing them would mangle
/// ordinary text, and nothing this harness generates is that short.
pub const MIN_SECRET_LEN: usize = 4;

impl Redactor {
    /// Adds a secret to scrub from now on.
    pub fn add(&self, secret: &SecretString) {
        if secret.expose().len() < MIN_SECRET_LEN {
            return;
        }
        let mut secrets = self.secrets.write().unwrap_or_else(|p| p.into_inner());
        if !secrets.iter().any(|k| k.secret == *secret) {
            secrets.push(Known::new(secret));
            // Longest first, so a secret containing another is scrubbed whole.
            secrets.sort_by_key(|k| std::cmp::Reverse(k.secret.expose().len()));
        }
    }

    /// Adds a plain string as a secret.
    pub fn add_str(&self, secret: &str) {
        self.add(&SecretString::new(secret));
    }

    /// `text` with every known secret, and its JSON-escaped form, replaced
    /// by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let secrets = self.secrets.read().unwrap_or_else(|p| p.into_inner());
        let mut out = text.to_owned();
        for known in secrets.iter() {
            for form in std::iter::once(&known.secret).chain(&known.forms) {
                let form = form.expose();
                if out.contains(form) {
                    out = out.replace(form, "***");
                }
            }
        }
        out
    }

    /// Scrubs every string (keys included) of a JSON value in place.
    pub fn scrub_json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(s) => *s = self.scrub(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            Value::Object(map) => {
                let taken = std::mem::take(map);
                for (k, mut v) in taken {
                    self.scrub_json(&mut v);
                    map.insert(self.scrub(&k), v);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_every_occurrence_longest_first() {
        let r = Redactor::default();
        r.add_str("abcd");
        r.add_str("abcdef");
        assert_eq!(r.scrub("x abcdef y abcd z"), "x *** y *** z");
    }

    #[test]
    fn clones_share_what_they_learn() {
        let r = Redactor::default();
        let clone = r.clone();
        clone.add_str("Pa9-secret\"quote");
        assert_eq!(r.scrub(r#"{"p":"Pa9-secret\"quote"}"#), r#"{"p":"***"}"#);
        assert_eq!(r.scrub("p=Pa9-secret%22quote"), "p=***");
    }
}
