//! The one place that knows every secret of a run and scrubs text of them.
//!
//! A [`Redactor`] is a shared handle: the log writer, the reports and the
//! provider-state executors hold clones of one, and a secret added by any of
//! them (a generated password, a renewed token) is scrubbed everywhere from
//! then on.
//!
//! A server or a log carries a secret in many forms, not only as given: a
//! JSON body escapes its quotes (and, from .NET or Python, its non-ASCII
//! characters), a form or a URL percent-encodes it (sometimes twice), an
//! `Authorization: Basic` header or an echoed body holds it in base64, an
//! HTML error page escapes it as XML would, a Markdown table escapes its
//! `|`; and these nest (a JSON body quoted inside a JSON error, then
//! logged). Reports scrub their text *before* escaping it for XML or
//! Markdown, so that their own escaping cannot hide a secret from the
//! scrubber.
//!
//! How: the secrets are kept as their bytes in one trie, which an `add`
//! extends in place, so memory grows with the secrets' length and nothing
//! is compiled. The scrubber reads the text as it could have been written:
//! at each byte, the byte itself or the escape that starts there decoded
//! (`%22`, `%2522`, `\"`, `\u00e9`, `\xc3`, `&quot;`, `&#233;`, `+` for a
//! space, `<br>` for a line break...), any backslashes before a character
//! skipped, and walks the trie along those readings from every position;
//! runs of base64 characters are decoded at each of the four alignments and
//! read the same way. The cost is one walk per position whatever the number
//! of secrets, so a run that registers thousands of passwords scrubs as fast
//! as one that registers three.
//!
//! A secret shorter than [`MIN_SECRET_LEN`] cannot be scrubbed by its
//! contents without mangling words; where its place is known (a URL's
//! password, query and fragment; a flag's value quoted by an error) it is
//! masked by that place instead ([`Shapes`], in `mask`).

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

use uipath_identity_client::SecretString;

mod mask;

pub use mask::{Shapes, masked_url, masked_url_text};

/// What a secret is replaced with.
const MASK: &str = "***";

/// Replaces each known secret, in every form it can take, with `***` in
/// text bound for output.
#[derive(Clone, Default)]
pub struct Redactor {
    known: Arc<RwLock<Trie>>,
    /// The secrets known by their place rather than their contents
    /// ([`Redactor::add_url`]).
    shapes: Arc<RwLock<Shapes>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        write!(f, "Redactor({} secrets)", known.secrets)
    }
}

/// Secrets shorter than this are not scrubbed: replacing them would mangle
/// ordinary text, and nothing this harness generates is that short.
pub const MIN_SECRET_LEN: usize = 4;

/// A URL's query values and fragment shorter than this are masked only
/// where the URL is shown, not scrubbed from any text: most are not
/// secrets (`?x=1`, `#top`), and as substrings they would mangle words.
pub const MIN_URL_VALUE_LEN: usize = 8;

impl Redactor {
    /// Adds a secret to scrub from now on, in every form.
    pub fn add(&self, secret: &SecretString) {
        let bytes = secret.expose().as_bytes();
        if bytes.len() < MIN_SECRET_LEN {
            return;
        }
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        known.insert(bytes);
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

    /// Adds what may be secret in a URL given by the user (valid or not):
    /// the password of its user info, the values of its query and its
    /// fragment are masked wherever the URL is shown, however short
    /// ([`Shapes::add_url`]); the password, and those values at least
    /// [`MIN_URL_VALUE_LEN`] long, are also scrubbed from any text, as
    /// secrets are.
    pub fn add_url(&self, text: &str) {
        let (password, values) = mask::url_secrets(text, MIN_URL_VALUE_LEN);
        if let Some(password) = password {
            self.add_str(password);
        }
        for value in values {
            self.add_str(&value);
        }
        let mut shapes = self.shapes.write().unwrap_or_else(|p| p.into_inner());
        shapes.add_url(text);
    }

    /// `text` with every known secret, in every form, replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let shapes = self.shapes.read().unwrap_or_else(|p| p.into_inner());
        let shaped = shapes.apply(text);
        drop(shapes);
        let text = shaped.as_ref();
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        if known.secrets == 0 {
            return text.to_owned();
        }
        let spans = known.spans(text.as_bytes());
        drop(known);
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in spans {
            out.push_str(&text[at..start]);
            out.push_str(MASK);
            at = end;
        }
        out.push_str(&text[at..]);
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

/// The secrets' bytes as a trie: node 0 is the root, every other node is
/// the path of bytes that leads to it.
struct Trie {
    /// The children of the root by byte (0: none), the lookup made at every
    /// position of every text.
    root: [u32; 256],
    /// The child of each other node by byte, keyed `node << 8 | byte`.
    edges: HashMap<u64, u32, BuildHasherDefault<Mix>>,
    /// Whether a secret ends at each node.
    ends: Vec<bool>,
    /// How many secrets end in the trie.
    secrets: usize,
    /// The length of the longest secret, which bounds a walk.
    longest: usize,
}

impl Default for Trie {
    fn default() -> Self {
        Trie {
            root: [0; 256],
            edges: HashMap::default(),
            ends: vec![false],
            secrets: 0,
            longest: 0,
        }
    }
}

impl Trie {
    fn child(&self, node: u32, byte: u8) -> Option<u32> {
        if node == 0 {
            Some(self.root[usize::from(byte)]).filter(|&c| c != 0)
        } else {
            self.edges
                .get(&(u64::from(node) << 8 | u64::from(byte)))
                .copied()
        }
    }

    fn insert(&mut self, bytes: &[u8]) {
        let mut node = 0;
        for &byte in bytes {
            node = match self.child(node, byte) {
                Some(child) => child,
                None => {
                    let child = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
                    self.ends.push(false);
                    if node == 0 {
                        self.root[usize::from(byte)] = child;
                    } else {
                        self.edges
                            .insert(u64::from(node) << 8 | u64::from(byte), child);
                    }
                    child
                }
            };
        }
        let end = &mut self.ends[node as usize];
        if !*end {
            *end = true;
            self.secrets += 1;
            self.longest = self.longest.max(bytes.len());
        }
    }

    /// Whether a secret, or an escape, may start with `byte`.
    #[inline]
    fn may_start(&self, byte: u8) -> bool {
        self.root[usize::from(byte)] != 0 || matches!(byte, b'\\' | b'%' | b'&' | b'+' | b'<')
    }

    /// Follows `bytes` down from `node`.
    fn descend(&self, mut node: u32, bytes: &[u8]) -> Option<u32> {
        for &byte in bytes {
            node = self.child(node, byte)?;
        }
        Some(node)
    }

    /// The byte ranges of `text` that hold a secret in some form, sorted,
    /// overlapping ones merged, each widened to whole characters.
    fn spans(&self, text: &[u8]) -> Vec<(usize, usize)> {
        let mut walk = Walk::default();
        let mut found = Vec::new();
        for start in 0..text.len() {
            if let Some(end) = self.longest_from(text, start, None, &mut walk) {
                found.push((backslashes_before(text, start), end));
            }
        }
        self.base64_spans(text, &mut walk, &mut found);
        found.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(found.len());
        for (mut start, mut end) in found {
            while start > 0 && !is_char_start(text[start]) {
                start -= 1;
            }
            while end < text.len() && !is_char_start(text[end]) {
                end += 1;
            }
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    /// Where the longest secret that starts at `start` of `text` (in any
    /// reading of its escapes) ends, if one does (`tail`: as for
    /// [`Trie::longest_below`]).
    fn longest_from(
        &self,
        text: &[u8],
        start: usize,
        tail: Option<(u8, u32)>,
        walk: &mut Walk,
    ) -> Option<usize> {
        // Most positions: a byte that starts no escape and no secret.
        if !self.may_start(text[start]) {
            return None;
        }
        self.longest_below(text, start, 0, tail, walk)
    }

    /// Where the longest secret that goes on from trie node `from` at
    /// `start` of `text` ends, if one does; `text.len() + 1` when it ends
    /// in `tail`, a last byte of which only the high bits are known (the
    /// value, in place, and how many).
    fn longest_below(
        &self,
        text: &[u8],
        start: usize,
        from: u32,
        tail: Option<(u8, u32)>,
        walk: &mut Walk,
    ) -> Option<usize> {
        let mut best = None;
        walk.stack.clear();
        walk.stack.push((start, from));
        // Every walk ends: each step moves forward in `text`, and a hostile
        // text that keeps a walk going (a secret's prefix followed by a
        // long run of backslashes) stops at this bound.
        let mut budget = 1024 + 64 * self.longest;
        while let Some((at, node)) = walk.stack.pop() {
            if at == text.len()
                && node != 0
                && let Some((high, known)) = tail
                && (0..1u16 << (8 - known)).any(|low| {
                    self.child(node, high | low as u8)
                        .is_some_and(|c| self.ends[c as usize])
                })
            {
                best = best.max(Some(text.len() + 1));
            }
            if at >= text.len() || budget == 0 {
                continue;
            }
            budget -= 1;
            // A run of backslashes between two characters of a secret
            // that holds none is skipped in one step, to its last one
            // (which may start an escape).
            if node != 0 && text[at] == b'\\' && self.child(node, b'\\').is_none() {
                let run = text[at..].iter().take_while(|&&b| b == b'\\').count();
                if run > 1 {
                    walk.stack.push((at + run - 1, node));
                    continue;
                }
            }
            readings(text, at, &mut walk.readings);
            for i in 0..walk.readings.len() {
                let reading = walk.readings[i];
                // Backslashes before a character are skipped (JSON and
                // Markdown escapes, at any depth of nesting), but not
                // before the first one: that is found from the next
                // position, and the backslashes put back in front.
                if reading.bytes() == b"\\" && node != 0 {
                    walk.stack.push((reading.next, node));
                }
                if let Some(child) = self.descend(node, reading.bytes()) {
                    if self.ends[child as usize] {
                        best = best.max(Some(reading.next));
                    }
                    walk.stack.push((reading.next, child));
                }
            }
        }
        best
    }

    /// Secrets in base64: each run of base64 characters (either alphabet)
    /// decoded on each of the four ways bytes can fall on its characters,
    /// and read as text. What is masked are the characters that encode the
    /// secret's bytes alone (those at either end also carry a neighbouring
    /// byte), so a secret may begin or end in a byte the run holds only
    /// some bits of: the characters around it may have been cut away.
    fn base64_spans(&self, text: &[u8], walk: &mut Walk, found: &mut Vec<(usize, usize)>) {
        let mut decoded = Vec::new();
        // For a run that starts 2, 4 or 6 bits into a byte: which values of
        // those bits some secret's first byte ends in (a bit each).
        let mut cuts = [0u64; 3];
        for (byte, &child) in self.root.iter().enumerate() {
            if child != 0 {
                for (k, cut) in cuts.iter_mut().enumerate() {
                    *cut |= 1 << (byte & ((1 << (2 * k + 2)) - 1));
                }
            }
        }
        let mut at = 0;
        while at < text.len() {
            if sextet(text[at]).is_none() {
                at += 1;
                continue;
            }
            let run_start = at;
            while at < text.len() && sextet(text[at]).is_some() {
                at += 1;
            }
            let run = &text[run_start..at];
            if run.len() < MIN_SECRET_LEN {
                continue;
            }
            // The first whole byte starts `lead` bits into the run; the
            // bits before it are the low bits of a byte cut off.
            for lead in [0u32, 2, 4, 6] {
                let tail = decode_base64(run, lead, &mut decoded);
                // Character j holds bits [6j, 6j + 6); byte i, [lead + 8i, lead + 8i + 8).
                let mut push = |first: usize, end: usize| {
                    let last = if end > decoded.len() {
                        run.len()
                    } else {
                        (lead as usize + 8 * end) / 6
                    };
                    if last >= first + MIN_SECRET_LEN {
                        found.push((run_start + first, run_start + last));
                    }
                };
                for start in 0..decoded.len() {
                    if !self.may_start(decoded[start]) {
                        continue;
                    }
                    if let Some(end) = self.longest_from(&decoded, start, tail, walk) {
                        push((lead as usize + 8 * start).div_ceil(6), end);
                    }
                }
                if lead > 0 {
                    let cut = u8::try_from(u32::from(sextet(run[0]).unwrap_or(0)) >> (6 - lead))
                        .unwrap_or(0);
                    if cuts[lead as usize / 2 - 1] >> cut & 1 == 0 {
                        continue;
                    }
                    for high in 0..1u16 << (8 - lead) {
                        let byte = (high << lead) as u8 | cut;
                        let Some(node) = self.child(0, byte) else {
                            continue;
                        };
                        if let Some(end) = self.longest_below(&decoded, 0, node, tail, walk) {
                            push(0, end);
                        }
                    }
                }
            }
        }
    }
}

/// The scratch space of a walk, reused from one position to the next.
#[derive(Default)]
struct Walk {
    /// Where to go on: (position in the text, trie node).
    stack: Vec<(usize, u32)>,
    readings: Vec<Reading>,
}

/// One way to read the text at a position: the bytes it stands for (at
/// most one character) and where the next reading starts.
#[derive(Clone, Copy)]
struct Reading {
    next: usize,
    len: u8,
    buf: [u8; 4],
}

impl Reading {
    fn byte(next: usize, byte: u8) -> Self {
        Reading {
            next,
            len: 1,
            buf: [byte, 0, 0, 0],
        }
    }

    fn char(next: usize, c: char) -> Self {
        let mut buf = [0; 4];
        let len = c.encode_utf8(&mut buf).len() as u8;
        Reading { next, len, buf }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

/// Every reading of `text` at `at`: the byte itself; `+` as a space (a
/// form); a percent-encoded byte, encoded any number of times (`%22`,
/// `%2522`), and `%2B` as a space; an XML or HTML reference (`&quot;`,
/// `&#34;`, `&#x22;`) and `<br>`; and the escape a backslash in any of
/// those forms starts: JSON's (`\"` is a skipped backslash and a quote;
/// `\n`, `\u00e9` with UTF-16 pairs), Rust's `{:?}` (`\u{e9}`, `\xc3`).
fn readings(text: &[u8], at: usize, out: &mut Vec<Reading>) {
    out.clear();
    let byte = text[at];
    out.push(Reading::byte(at + 1, byte));
    match byte {
        b'+' => out.push(Reading::byte(at + 1, b' ')),
        b'%' => {
            let mut next = at + 1;
            while let Some(value) = hex_byte(text, next) {
                next += 2;
                out.push(Reading::byte(next, value));
                match value {
                    b'+' => out.push(Reading::byte(next, b' ')),
                    b'%' => continue,
                    _ => {}
                }
                break;
            }
        }
        b'&' => {
            if let Some(reading) = reference(text, at) {
                out.push(reading);
            }
        }
        b'<' if text[at..].starts_with(b"<br>") => out.push(Reading::byte(at + 4, b'\n')),
        _ => {}
    }
    for i in 0..out.len() {
        if out[i].bytes() == b"\\"
            && let Some(reading) = escape(text, out[i].next)
        {
            out.push(reading);
        }
    }
}

/// The escape after a backslash, at `at`: `x` and two hex digits (a byte),
/// `u` and four (a UTF-16 unit; a high surrogate takes the `\u` of its low
/// one with it), `u{...}`, or a letter for a control character.
fn escape(text: &[u8], at: usize) -> Option<Reading> {
    match text.get(at)? {
        b'x' | b'X' => Some(Reading::byte(at + 3, hex_byte(text, at + 1)?)),
        b'u' | b'U' if text.get(at + 1) == Some(&b'{') => {
            let digits = text[at + 2..]
                .iter()
                .take(17)
                .take_while(|b| b.is_ascii_hexdigit())
                .count();
            if digits == 0 || text.get(at + 2 + digits) != Some(&b'}') {
                return None;
            }
            let value = number(&text[at + 2..at + 2 + digits], 16)?;
            Some(Reading::char(at + 3 + digits, char::from_u32(value)?))
        }
        b'u' | b'U' => {
            let unit = hex_unit(text, at + 1)?;
            if !(0xD800..0xDC00).contains(&unit) {
                return Some(Reading::char(at + 5, char::from_u32(unit)?));
            }
            // The low surrogate, after its own backslashes.
            let mut next = at + 5;
            let backslashes = text[next..].iter().take_while(|&&b| b == b'\\').count();
            if backslashes == 0 || !matches!(text.get(next + backslashes), Some(b'u' | b'U')) {
                return None;
            }
            next += backslashes + 1;
            let low = hex_unit(text, next)?;
            let c = char::decode_utf16([unit as u16, low as u16]).next()?.ok()?;
            Some(Reading::char(next + 4, c))
        }
        b'n' => Some(Reading::byte(at + 1, b'\n')),
        b'r' => Some(Reading::byte(at + 1, b'\r')),
        b't' => Some(Reading::byte(at + 1, b'\t')),
        b'b' => Some(Reading::byte(at + 1, 0x08)),
        b'f' => Some(Reading::byte(at + 1, 0x0C)),
        _ => None,
    }
}

/// An XML or HTML character reference at `at` (which holds `&`).
fn reference(text: &[u8], at: usize) -> Option<Reading> {
    let rest = &text[at + 1..];
    for (name, c) in [
        (&b"amp;"[..], '&'),
        (b"lt;", '<'),
        (b"gt;", '>'),
        (b"quot;", '"'),
        (b"apos;", '\''),
    ] {
        if rest.starts_with(name) {
            return Some(Reading::char(at + 1 + name.len(), c));
        }
    }
    let (radix, digits_at) = match rest {
        [b'#', b'x' | b'X', ..] => (16, 2),
        [b'#', ..] => (10, 1),
        _ => return None,
    };
    let digits = rest[digits_at..]
        .iter()
        .take(17)
        .take_while(|&&b| {
            if radix == 16 {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        })
        .count();
    if digits == 0 || rest.get(digits_at + digits) != Some(&b';') {
        return None;
    }
    let value = number(&rest[digits_at..digits_at + digits], radix)?;
    Some(Reading::char(
        at + 1 + digits_at + digits + 1,
        char::from_u32(value)?,
    ))
}

/// Digits (ASCII, of `radix`) as a number, if it fits.
fn number(digits: &[u8], radix: u32) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &d| {
        n.checked_mul(radix)?
            .checked_add(char::from(d).to_digit(radix)?)
    })
}

fn hex_byte(text: &[u8], at: usize) -> Option<u8> {
    let digits = text.get(at..at + 2)?;
    u8::try_from(number(digits, 16)?).ok()
}

fn hex_unit(text: &[u8], at: usize) -> Option<u32> {
    number(text.get(at..at + 4)?, 16)
}

/// Where the backslashes (raw, percent-encoded or as XML references) just
/// before `at` begin: a match takes those that escape its first character.
fn backslashes_before(text: &[u8], mut at: usize) -> usize {
    'outer: loop {
        for form in [&b"\\"[..], b"%5c", b"%255c", b"&#92;", b"&#x5c;"] {
            if at >= form.len() && text[at - form.len()..at].eq_ignore_ascii_case(form) {
                at -= form.len();
                continue 'outer;
            }
        }
        return at;
    }
}

fn is_char_start(byte: u8) -> bool {
    (byte as i8) >= -0x40
}

/// The 6-bit value of a base64 character, either alphabet.
fn sextet(byte: u8) -> Option<u8> {
    Some(SEXTETS[usize::from(byte)]).filter(|&v| v != NOT_BASE64)
}

const NOT_BASE64: u8 = 0xFF;

/// [`sextet`] as a table: it is asked for every byte of every text.
const SEXTETS: [u8; 256] = {
    let mut table = [NOT_BASE64; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => NOT_BASE64,
        };
        i += 1;
    }
    table
};

/// The whole bytes that base64 `chars` encode after skipping their first
/// `skip` bits, into `out`; and the bits left over at the end, which are
/// the high bits of one more byte (in place, and how many), if any.
fn decode_base64(chars: &[u8], skip: u32, out: &mut Vec<u8>) -> Option<(u8, u32)> {
    out.clear();
    let (mut bits, mut held) = (0u32, 0u32);
    for (n, &c) in chars.iter().enumerate() {
        bits = (bits << 6) | u32::from(sextet(c).unwrap_or(0));
        held += 6;
        if n == 0 {
            held -= skip;
            bits &= (1 << held) - 1;
        }
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    (held > 0).then(|| ((bits << (8 - held)) as u8, held))
}

/// A hasher for the trie's integer keys: one multiply, high bits folded in.
#[derive(Default)]
struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0 ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let h = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

    /// `raw` as inside a JSON string: `"`, `\` and control characters
    /// escaped, and the characters `as_unicode` picks written `\uXXXX`
    /// (UTF-16), as .NET and Python write them.
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

    #[test]
    fn scrubs_a_secret_percent_encoded_twice() {
        let secret = "Pa9-s\"e c%r|é";
        let r = Redactor::default();
        r.add_str(secret);
        let percent = |t: &str| utf8_percent_encode(t, NON_ALPHANUMERIC).to_string();
        let form = |t: &str| url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>();
        for twice in [
            percent(&percent(secret)),
            lower_hex(&percent(&percent(secret))),
            form(&form(secret)),
            percent(&form(secret)),
            form(&percent(secret)),
            percent(&percent(&percent(secret))),
        ] {
            assert!(twice.contains("%25"), "{twice}");
            assert_eq!(r.scrub(&format!("?p={twice}&x=1")), "?p=***&x=1", "{twice}");
        }
    }

    #[test]
    fn thousands_of_secrets_are_each_scrubbed_and_counted_once() {
        let r = Redactor::default();
        let secrets: Vec<String> = (0..3000)
            .map(|n| format!("Pa9-{n:05}-x{}", n * 7919))
            .collect();
        for s in &secrets {
            r.add_str(s);
        }
        r.add_str(&secrets[0]);
        assert_eq!(format!("{r:?}"), "Redactor(3000 secrets)");
        for s in secrets.iter().step_by(97) {
            assert_eq!(r.scrub(&format!(r#"{{"p":"{s}"}}"#)), r#"{"p":"***"}"#);
        }
        // What all of them start with is none of them.
        assert_eq!(r.scrub("Pa9-00001-x"), "Pa9-00001-x");
    }

    #[test]
    fn a_long_run_of_backslashes_inside_a_secret_is_skipped_and_a_walk_ends() {
        let r = Redactor::default();
        r.add_str("Pa9-secret");
        let run = "\\".repeat(200_000);
        assert_eq!(r.scrub(&format!("<Pa9-{run}secret>")), "<***>");
        let text = format!("Pa9-{}", "%5c".repeat(100_000));
        assert_eq!(r.scrub(&text), text);
    }

    #[test]
    fn scrubs_base64_cut_down_to_the_characters_that_encode_the_secret_alone() {
        let secret = "t0k&<>\"'|\\%-SECRET-9";
        let r = Redactor::default();
        r.add_str(secret);
        for offset in 0..3 {
            let mut stream = vec![b'x'; offset];
            stream.extend_from_slice(secret.as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&stream);
            let core = &encoded[(8 * offset).div_ceil(6)..8 * (offset + secret.len()) / 6];
            for core in [core.to_owned(), core.replace('+', "-").replace('/', "_")] {
                assert_eq!(r.scrub(&format!("a {core} b")), "a *** b", "{offset}");
            }
        }
    }
}
