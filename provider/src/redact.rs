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
//! escapes it as XML would, a Markdown table escapes its `|`; and these
//! nest (a JSON body quoted inside a JSON error, then logged). Each secret
//! gets one pattern, built when it is added, that matches it however each
//! of its characters is escaped, at any depth of backslashes, or in base64.
//! Reports scrub their text *before* escaping it for XML or Markdown, so
//! that their own escaping cannot hide a secret from the scrubber.

use std::fmt;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use regex::{Regex, RegexBuilder};
use uipath_identity_client::SecretString;

/// What a secret is replaced with.
const MASK: &str = "***";

/// Replaces each known secret, in every form it can take, with `***` in
/// text bound for output.
#[derive(Clone, Default)]
pub struct Redactor {
    known: Arc<RwLock<Vec<Known>>>,
}

/// A secret and the one pattern that matches every form of it.
struct Known {
    secret: SecretString,
    matcher: Regex,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        write!(f, "Redactor({} secrets)", known.len())
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
        if known.iter().any(|k| k.secret == *secret) {
            return;
        }
        let Some(matcher) = matcher(secret.expose()) else {
            return;
        };
        known.push(Known {
            secret: secret.clone(),
            matcher,
        });
        // Longest first, so a secret containing another is scrubbed whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.secret.expose().len()));
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
        let mut out = std::borrow::Cow::Borrowed(text);
        for k in known.iter() {
            if let std::borrow::Cow::Owned(scrubbed) = k.matcher.replace_all(&out, MASK) {
                out = std::borrow::Cow::Owned(scrubbed);
            }
        }
        out.into_owned()
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

/// Backslashes (raw, percent-encoded or as an XML character reference),
/// any number of them: JSON strings, Rust's `{:?}` and Markdown put one
/// before a character they escape, and each layer of nesting (a JSON body
/// quoted in a JSON error, then logged) doubles them.
const BACKSLASHES: &str = r"(?:\\|(?i:%5c|&#0*92;|&#x0*5c;))*";

/// One pattern for every form of `raw`: each character as itself or
/// escaped as JSON (`\"`, `\u00e9`, any nesting), Rust's `{:?}` of
/// strings and bytes (`\u{e9}`, `\xc3\xa9`), URLs (`%22`, `+` for a
/// space; any subset of characters, either case), XML and HTML (`&quot;`,
/// `&#39;`, `&#x27;`) and Markdown (`\|`, `<br>`); or base64 of the forms
/// a request carries (see [`base64_cores`]).
fn matcher(raw: &str) -> Option<Regex> {
    let mut pattern = String::from("(?:");
    for c in raw.chars() {
        pattern.push_str(&char_pattern(c));
    }
    pattern.push(')');
    for bytes in wire_forms(raw) {
        for core in base64_cores(bytes.as_bytes()) {
            pattern.push('|');
            pattern.push_str(&regex::escape(&core));
        }
    }
    RegexBuilder::new(&pattern)
        .size_limit(64 << 20)
        .build()
        .ok()
}

/// The forms of one character of a secret, each after any backslashes.
fn char_pattern(c: char) -> String {
    let mut alternatives = vec![regex::escape(c.encode_utf8(&mut [0u8; 4]))];
    if !c.is_ascii_alphanumeric() {
        let mut utf8 = [0u8; 4];
        let bytes = c.encode_utf8(&mut utf8).as_bytes();
        let hex = |f: &dyn Fn(&u8) -> String| bytes.iter().map(f).collect::<String>();
        // Percent-encoded, and Rust's escaped bytes.
        alternatives.push(format!("(?i:{})", hex(&|b| format!("%{b:02x}"))));
        alternatives.push(format!("(?i:{})", hex(&|b| format!(r"\\+x{b:02x}"))));
        // JSON's \uXXXX (UTF-16) and Rust's \u{X}.
        let mut units = [0u16; 2];
        let utf16: String = c
            .encode_utf16(&mut units)
            .iter()
            .map(|u| format!(r"\\+u{u:04x}"))
            .collect();
        alternatives.push(format!("(?i:{utf16})"));
        alternatives.push(format!(r"(?i:\\+u\{{0*{:x}\}})", c as u32));
        // XML and HTML character references.
        alternatives.push(format!("(?i:&#0*{};|&#x0*{:x};)", c as u32, c as u32));
        let named = match c {
            '&' => Some("&amp;"),
            '<' => Some("&lt;"),
            '>' => Some("&gt;"),
            '"' => Some("&quot;"),
            '\'' => Some("&apos;"),
            ' ' => Some(r"\+"),
            '\n' => Some(r"\\+n|<br>"),
            '\r' => Some(r"\\+r"),
            '\t' => Some(r"\\+t"),
            _ => None,
        };
        alternatives.extend(named.map(str::to_owned));
    }
    format!("{BACKSLASHES}(?:{})", alternatives.join("|"))
}

/// The forms a request carries a secret in, whose base64 a server may echo:
/// as given, inside a JSON body (.NET and Python escape more), and
/// form- or percent-encoded.
fn wire_forms(raw: &str) -> Vec<String> {
    let mut forms = vec![
        raw.to_owned(),
        json_escaped(raw, |_| false, false),
        json_escaped(raw, |c| !c.is_ascii(), false),
        json_escaped(raw, |c| !c.is_ascii() || "\"&'+<>`".contains(c), true),
    ];
    forms.extend(url_encoded(raw));
    dedup(forms)
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

    #[test]
    fn scrubs_every_escaping_and_nestings_of_them() {
        let secret = "Pä|s s&<>\"'\\%€-9";
        let r = Redactor::default();
        r.add_str(secret);
        let json = |t: &str| {
            serde_json::to_string(t)
                .unwrap()
                .trim_matches('"')
                .to_owned()
        };
        let form = |t: &str| url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>();
        let percent = |t: &str| utf8_percent_encode(t, NON_ALPHANUMERIC).to_string();
        let xml = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&#34;")
                .replace('\'', "&#x27;")
        };
        let forms = [
            secret.to_owned(),
            json(secret),
            json(&json(secret)),
            json(&json(&json(secret))),
            json_escaped(secret, |c| !c.is_ascii(), false),
            json_escaped(secret, |c| !c.is_ascii() || "\"&'+<>`".contains(c), true),
            format!("{secret:?}").trim_matches('"').to_owned(),
            secret.as_bytes().escape_ascii().to_string(),
            json(secret).as_bytes().escape_ascii().to_string(),
            form(secret),
            percent(secret),
            lower_hex(&percent(secret)),
            form(&json(secret)),
            xml(secret),
            xml(&json(secret)),
            secret.replace('|', "\\|"),
        ];
        for form in forms {
            let text = format!("before {form} after");
            assert_eq!(r.scrub(&text), "before *** after", "{form}");
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        let r = Redactor::default();
        r.add_str("Pa9-secret");
        let text = r#"{"succeeded": true, "errors": [], "path": "a\\b%20c"}"#;
        assert_eq!(r.scrub(text), text);
    }
}
