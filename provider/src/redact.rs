//! The one place that knows every secret of a run and scrubs text of them.
//!
//! A [`Redactor`] is a shared handle: the log writer, the reports and the
//! provider-state executors hold clones of one, and a secret added by any of
//! them (a generated password, a renewed token) is scrubbed everywhere from
//! then on.
//!
//! A server or a log carries a secret in many forms, not only as given: a
//! JSON body escapes its quotes (and, from .NET or Python, its non-ASCII
//! characters), a form or a URL percent-encodes it, an `Authorization:
//! Basic` header or an echoed body holds it in base64, an HTML error page
//! escapes it as XML would, a Markdown table escapes its `|`. Each secret is
//! turned into all of these forms once, when it is added, and every form is
//! scrubbed. Reports scrub their text *before* escaping it for XML or
//! Markdown, so that the escaping cannot hide a secret from the scrubber.

use std::fmt;
use std::sync::{Arc, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use consumer::SecretString;
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a secret is replaced with.
const MASK: &str = "***";

/// Replaces each known secret, in every form it can take, with `***` in
/// text bound for output.
#[derive(Clone, Default)]
pub struct Redactor {
    known: Arc<RwLock<Known>>,
}

/// The secrets added so far, every form of them, and one matcher over all
/// the forms (leftmost-longest, so that a secret containing another is
/// scrubbed whole).
#[derive(Default)]
struct Known {
    secrets: Vec<SecretString>,
    forms: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        write!(f, "Redactor({} secrets)", known.secrets.len())
    }
}

/// Secrets shorter than this are not scrubbed: replacing them would mangle
/// ordinary text, and nothing this harness generates is that short.
pub const MIN_SECRET_LEN: usize = 4;

impl Redactor {
    /// Adds a secret to scrub from now on, in every form.
    pub fn add(&self, secret: &SecretString) {
        if secret.expose().len() < MIN_SECRET_LEN {
            return;
        }
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        if known.secrets.iter().any(|s| s == secret) {
            return;
        }
        known.secrets.push(secret.clone());
        for form in forms(secret.expose()) {
            if !known.forms.contains(&form) {
                known.forms.push(form);
            }
        }
        known.matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&known.forms)
            .ok();
    }

    /// Adds a plain string as a secret.
    pub fn add_str(&self, secret: &str) {
        self.add(&SecretString::new(secret));
    }

    /// Adds the `username:password` pair of HTTP Basic auth (as well as the
    /// password): the header carries the pair in base64, where the
    /// password's own base64 does not appear.
    pub fn add_basic(&self, username: &str, password: &SecretString) {
        self.add(password);
        self.add(&SecretString::new(format!(
            "{username}:{}",
            password.expose()
        )));
    }

    /// `text` with every known secret, in every form, replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        match &known.matcher {
            Some(matcher) => {
                let mut out = String::with_capacity(text.len());
                matcher.replace_all_with(text, &mut out, |_, _, dst| {
                    dst.push_str(MASK);
                    true
                });
                out
            }
            None => text.to_owned(),
        }
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

/// Every form of `raw` that output can carry, `raw` first; none shorter
/// than [`MIN_SECRET_LEN`].
fn forms(raw: &str) -> Vec<String> {
    // Forms of the text itself, as JSON, URLs and logs write it.
    let mut texts = vec![raw.to_owned()];
    texts.push(json_escaped(raw, |_| false, false));
    // Python's `json.dumps` (ASCII only, lower-case hex).
    texts.push(json_escaped(raw, |c| !c.is_ascii(), false));
    // .NET's System.Text.Json: also HTML-sensitive characters, upper case.
    texts.push(json_escaped(
        raw,
        |c| !c.is_ascii() || "\"&'+<>`".contains(c),
        true,
    ));
    // Rust's `{:?}` of a string and of its bytes (`b"…"` in library logs).
    texts.push(format!("{raw:?}").trim_matches('"').to_owned());
    texts.push(raw.as_bytes().escape_ascii().to_string());
    for encoded in url_encoded(raw) {
        texts.push(encoded);
    }
    // Base64 of the forms a request body or header carries.
    let wire: Vec<String> = dedup(texts.iter().take(3).cloned().chain(url_encoded(raw)));
    for bytes in &wire {
        texts.extend(base64_cores(bytes.as_bytes()));
    }
    // Escaped for XML/HTML and for Markdown, as a page or a report has it.
    texts.extend(xml_escaped(raw));
    texts.push(raw.replace('|', "\\|"));
    texts.push(
        raw.chars()
            .map(|c| {
                if c.is_ascii_punctuation() {
                    format!("\\{c}")
                } else {
                    c.to_string()
                }
            })
            .collect(),
    );
    let mut all = dedup(texts);
    all.retain(|f| f.len() >= MIN_SECRET_LEN);
    all
}

fn dedup(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// `raw` as inside a JSON string: `"`, `\` and control characters escaped,
/// and the characters `as_unicode` picks written `\uXXXX` (UTF-16).
fn json_escaped(raw: &str, as_unicode: impl Fn(char) -> bool, upper: bool) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut units = [0u16; 2];
    for c in raw.chars() {
        if as_unicode(c) || ((c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t')) {
            for unit in c.encode_utf16(&mut units) {
                if upper {
                    out.push_str(&format!("\\u{unit:04X}"));
                } else {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        } else {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
    }
    out
}

/// The characters a WHATWG URL percent-encodes in a query.
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'\'');
/// ... and in a path segment.
const PATH: &AsciiSet = &QUERY.add(b'?').add(b'`').add(b'{').add(b'}').add(b'/');
/// Everything but the unreserved characters (RFC 3986).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// JavaScript's `encodeURIComponent`.
const JS_COMPONENT: &AsciiSet = &COMPONENT
    .remove(b'!')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*');

/// `raw` percent-encoded as forms (`+` for a space), URL components (`%20`;
/// everything but letters and digits, or all but the unreserved; upper- and
/// lower-case hex), JavaScript and WHATWG URLs do it.
fn url_encoded(raw: &str) -> Vec<String> {
    let form: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
    let component = utf8_percent_encode(raw, COMPONENT).to_string();
    let lower = lower_hex(&component);
    dedup([
        form,
        utf8_percent_encode(raw, NON_ALPHANUMERIC).to_string(),
        lower_hex(&utf8_percent_encode(raw, NON_ALPHANUMERIC).to_string()),
        component,
        lower,
        utf8_percent_encode(raw, JS_COMPONENT).to_string(),
        utf8_percent_encode(raw, QUERY).to_string(),
        utf8_percent_encode(raw, PATH).to_string(),
    ])
}

/// `%2F` → `%2f`, leaving the rest as it is.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut since_percent = 3;
    for c in encoded.chars() {
        since_percent += 1;
        if c == '%' {
            since_percent = 0;
        }
        if since_percent <= 2 {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The base64 characters that encode `bytes` alone wherever they start in a
/// longer stream (at an offset of 0, 1 or 2 bytes into a 3-byte group), in
/// the standard and the URL-safe alphabet. The characters at either end,
/// which mix in the neighbouring bytes, are left out: what remains is in
/// every encoding of every stream that contains `bytes`.
fn base64_cores(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for offset in 0..3usize {
        let mut stream = vec![0u8; offset];
        stream.extend_from_slice(bytes);
        let encoded = STANDARD_NO_PAD.encode(&stream);
        // Character i holds bits [6i, 6i + 6); the secret, [8·offset, 8·end).
        let first = (8 * offset).div_ceil(6);
        let end = 8 * (offset + bytes.len()) / 6;
        if end < first + MIN_SECRET_LEN {
            continue;
        }
        let core = &encoded[first..end];
        out.push(core.to_owned());
        out.push(core.replace('+', "-").replace('/', "_"));
    }
    dedup(out)
}

/// `raw` escaped for XML or HTML, with the apostrophe and the quote in each
/// of the ways serialisers write them (or left alone, in element text).
fn xml_escaped(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    for apos in ["&apos;", "&#39;", "&#x27;", "'"] {
        for quot in ["&quot;", "&#34;", "\""] {
            let mut text = String::with_capacity(raw.len());
            for c in raw.chars() {
                match c {
                    '&' => text.push_str("&amp;"),
                    '<' => text.push_str("&lt;"),
                    '>' => text.push_str("&gt;"),
                    '"' => text.push_str(quot),
                    '\'' => text.push_str(apos),
                    c => text.push(c),
                }
            }
            out.push(text);
        }
    }
    dedup(out)
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

    #[test]
    fn debug_names_no_secret() {
        let r = Redactor::default();
        r.add_str("Pa9-secret");
        assert_eq!(format!("{r:?}"), "Redactor(1 secrets)");
    }

    #[test]
    fn scrubs_base64_at_every_offset_and_in_both_alphabets() {
        let secret = "s3cr€t|&<>\"'\\% ÿ?>>";
        let r = Redactor::default();
        r.add_str(secret);
        for prefix in ["", "x", "xy", "xyz"] {
            let stream = format!("{prefix}{secret}tail");
            for engine in [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::URL_SAFE,
            ] {
                let encoded = engine.encode(stream.as_bytes());
                let scrubbed = r.scrub(&encoded);
                assert!(scrubbed.contains(MASK), "{prefix:?}: {scrubbed}");
                // What is left is at most the characters at either end.
                assert!(scrubbed.len() < encoded.len() / 2, "{scrubbed}");
            }
        }
    }

    #[test]
    fn scrubs_the_basic_auth_pair() {
        let r = Redactor::default();
        r.add_basic("ci", &SecretString::new("pä|ss"));
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("ci:pä|ss")
        );
        let scrubbed = r.scrub(&header);
        assert!(scrubbed.starts_with("Basic ***"), "{scrubbed}");
        assert!(scrubbed.len() <= "Basic ***".len() + 3, "{scrubbed}");
    }
}
