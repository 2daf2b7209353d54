//! The one place that knows every secret of a run and scrubs text of them.

use consumer::SecretString;

/// Replaces each known secret with `***` in text bound for output.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    secrets: Vec<SecretString>,
}

impl Redactor {
    /// Adds a secret to scrub; empty and very short ones are ignored, as
    /// scrubbing them would mangle ordinary text.
    pub fn add(&mut self, secret: &SecretString) {
        if secret.expose().len() >= 4 && !self.secrets.contains(secret) {
            self.secrets.push(secret.clone());
            // Longest first, so a secret containing another is scrubbed whole.
            self.secrets
                .sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
        }
    }

    /// `text` with every known secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.expose()) {
                out = out.replace(secret.expose(), "***");
            }
        }
        out
    }
}

impl Redactor {
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
        let mut r = Redactor::default();
        r.add(&SecretString::new("abcd"));
        r.add(&SecretString::new("abcdef"));
        assert_eq!(r.scrub("x abcdef y abcd z"), "x *** y *** z");
    }
}
