//! Masking by shape: the parts of a text that are secret by where they
//! stand, whatever their length.
//!
//! The trie of [`super::Redactor`] finds a secret by its contents, in every
//! encoding, which is only safe for secrets long enough not to occur by
//! chance: scrubbing `pw` or `frag` as substrings would turn "password"
//! and "fragment" into nonsense. A short secret typed on the command line
//! is found by its place instead: the password of a URL's user info
//! (`//user:pw@`), a URL's query (`?token=abc`) and fragment (`#frag`),
//! and a secret flag's value where an error quotes it (`'abc'`). The
//! tool's own words around them are never touched.

use std::borrow::Cow;

use url::Url;

use super::MASK;

/// What may be secret in a URL: the password of its user info, the values
/// of its query and its fragment.
struct UrlParts<'a> {
    /// Where the password starts and ends in the text.
    password: Option<(usize, usize)>,
    /// The query, without its `?`.
    query: Option<&'a str>,
    /// The fragment, without its `#`.
    fragment: Option<&'a str>,
}

impl<'a> UrlParts<'a> {
    /// Read by hand, so that text that is not a valid URL (which an error
    /// quotes) is read too. User info counts only after a `://`.
    fn of(text: &'a str) -> Self {
        let (rest, fragment) = match text.split_once('#') {
            Some((rest, fragment)) => (rest, Some(fragment)),
            None => (text, None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        let password = rest.find("://").and_then(|scheme| {
            let start = scheme + 3;
            let authority = &rest[start..];
            let authority = &authority[..authority.find('/').unwrap_or(authority.len())];
            let userinfo = &authority[..authority.rfind('@')?];
            let colon = userinfo.find(':')?;
            Some((start + colon + 1, start + userinfo.len()))
        });
        UrlParts {
            password,
            query,
            fragment,
        }
    }
}

/// A query with the value of each of its parameters masked, names kept:
/// `a=1&token=abc` becomes `a=***&token=***`.
fn masked_query(query: &str) -> String {
    let mut masked = String::with_capacity(query.len());
    for (n, pair) in query.split('&').enumerate() {
        if n > 0 {
            masked.push('&');
        }
        for (m, part) in pair.split(';').enumerate() {
            if m > 0 {
                masked.push(';');
            }
            match part.split_once('=') {
                Some((name, _)) => {
                    masked.push_str(name);
                    masked.push('=');
                    masked.push_str(MASK);
                }
                None if part.is_empty() => {}
                None => masked.push_str(MASK),
            }
        }
    }
    masked
}

/// `text`, a URL or what was meant as one, with the password of its user
/// info, the values of its query and its fragment shown as `***`, whatever
/// their length; the rest as typed.
pub fn masked_url_text(text: &str) -> String {
    let parts = UrlParts::of(text);
    let end = text.len()
        - parts.fragment.map_or(0, |f| f.len() + 1)
        - parts.query.map_or(0, |q| q.len() + 1);
    let mut shown = String::with_capacity(text.len());
    match parts.password {
        Some((start, stop)) => {
            shown.push_str(&text[..start]);
            shown.push_str(MASK);
            shown.push_str(&text[stop..end]);
        }
        None => shown.push_str(&text[..end]),
    }
    if let Some(query) = parts.query {
        shown.push('?');
        shown.push_str(&masked_query(query));
    }
    if parts.fragment.is_some() {
        shown.push('#');
        shown.push_str(MASK);
    }
    shown
}

/// `url` as [`masked_url_text`] shows it: the form to print a URL given by
/// the user in.
pub fn masked_url(url: &Url) -> String {
    masked_url_text(url.as_str())
}

/// The parts of `text` (a URL as typed) that [`super::Redactor::add_url`]
/// also adds to the trie: its password, and the values of its query and
/// its fragment, as typed and percent-decoded, that are at least
/// `min_len` bytes long.
pub(super) fn url_secrets(text: &str, min_len: usize) -> (Option<&str>, Vec<String>) {
    let parts = UrlParts::of(text);
    let password = parts.password.map(|(start, end)| &text[start..end]);
    let mut values: Vec<String> = Vec::new();
    let mut push = |value: &str| {
        values.push(value.to_owned());
        if let Ok(decoded) = percent_encoding::percent_decode_str(value).decode_utf8() {
            values.push(decoded.replace('+', " "));
        }
    };
    for pair in parts.query.into_iter().flat_map(|q| q.split(['&', ';'])) {
        push(pair.split_once('=').map_or(pair, |(_, v)| v));
    }
    if let Some(fragment) = parts.fragment {
        push(fragment);
    }
    values.retain(|v| v.len() >= min_len);
    values.dedup();
    (password, values)
}

/// One shape to mask: an exact text, replaced where it stands between the
/// right neighbours.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Shape {
    find: String,
    replace: String,
    /// What may stand just before the match (`None`: anything).
    before: Option<&'static [char]>,
    /// What may stand just after it.
    after: Ends,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ends {
    Anything,
    /// A closing quote.
    Quote,
    /// Anything that does not go on the URL (a `#` after a query does
    /// not: the fragment starts).
    UrlEnd,
}

/// The characters an error quotes a value between.
const QUOTES: &[char] = &['\'', '`', '"'];
/// Before a quoted value: a quote, or the space of clap's
/// "use '-- VALUE'".
const BEFORE_QUOTED: &[char] = &['\'', '`', '"', ' '];

impl Ends {
    fn allows(self, text: &str, at: usize) -> bool {
        let mut rest = text[at..].chars();
        match (self, rest.next()) {
            (Ends::Anything, _) | (Ends::UrlEnd, None) => true,
            (Ends::Quote, next) => next.is_some_and(|c| QUOTES.contains(&c)),
            // Punctuation that ends a sentence or a clause goes on a URL
            // only when more of it follows.
            (Ends::UrlEnd, Some('.' | ':' | ',' | '!')) => {
                !rest.next().is_some_and(|c| c.is_alphanumeric() || c == '/')
            }
            (Ends::UrlEnd, Some(c)) => !(c.is_alphanumeric() || "-_~%+=&;/@?[]$*".contains(c)),
        }
    }
}

/// Texts masked by their shape (see the module's documentation): the
/// secret parts of URLs given by the user, and values that may be secret
/// where they stand quoted.
#[derive(Clone, Debug, Default)]
pub struct Shapes {
    shapes: Vec<Shape>,
}

impl Shapes {
    /// Masks the password, query values and fragment of `text` (a URL as
    /// typed, valid or not) wherever that URL is shown, as typed or as the
    /// URL parser writes it. Nothing when it has none of them.
    pub fn add_url(&mut self, text: &str) {
        self.add_url_parts(text);
        if let Ok(url) = Url::parse(text.trim())
            && url.as_str() != text
        {
            self.add_url_parts(url.as_str());
        }
    }

    fn add_url_parts(&mut self, text: &str) {
        let parts = UrlParts::of(text);
        if let Some((start, end)) = parts.password {
            // `//user:pw@`: the slashes and the `@` bound it.
            let from = text[..start].rfind("//").unwrap_or(0);
            self.push(Shape {
                find: text[from..=end].to_owned(),
                replace: format!("{}{MASK}@", &text[from..start]),
                before: None,
                after: Ends::Anything,
            });
        }
        if let Some(query) = parts.query.filter(|q| !q.is_empty()) {
            self.push(Shape {
                find: format!("?{query}"),
                replace: format!("?{}", masked_query(query)),
                before: None,
                after: Ends::UrlEnd,
            });
        }
        if let Some(fragment) = parts.fragment.filter(|f| !f.is_empty()) {
            self.push(Shape {
                find: format!("#{fragment}"),
                replace: format!("#{MASK}"),
                before: None,
                after: Ends::UrlEnd,
            });
        }
    }

    /// Masks `secret` where it stands quoted (`'…'`, `` `…` ``, `"…"`, or
    /// after a space before a closing quote, as clap's "use '-- …'"); and,
    /// for a value that starts with one `-`, which clap reads as short
    /// flags, each `'-x'` of its letters.
    pub fn add_quoted(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        self.push(Shape {
            find: secret.to_owned(),
            replace: MASK.to_owned(),
            before: Some(BEFORE_QUOTED),
            after: Ends::Quote,
        });
        if let Some(letters) = secret.strip_prefix('-')
            && !letters.starts_with('-')
        {
            for c in letters.chars() {
                self.push(Shape {
                    find: format!("-{c}"),
                    replace: MASK.to_owned(),
                    before: Some(QUOTES),
                    after: Ends::Quote,
                });
            }
        }
    }

    /// `url`'s secret parts, masked wherever it is shown (as
    /// [`Shapes::add_url`]), as the argument of an error: the whole value as
    /// typed, quoted, is shown as [`masked_url_text`] shows it.
    pub fn add_quoted_url(&mut self, text: &str) {
        let shown = masked_url_text(text);
        if shown != text {
            self.push(Shape {
                find: text.to_owned(),
                replace: shown,
                before: Some(BEFORE_QUOTED),
                after: Ends::Quote,
            });
        }
        self.add_url(text);
    }

    fn push(&mut self, shape: Shape) {
        if !self.shapes.contains(&shape) {
            self.shapes.push(shape);
        }
    }

    /// Whether nothing is masked.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    /// `text` with every shape masked, longest shapes first (a whole URL
    /// before a part of it).
    pub fn apply<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut text = Cow::Borrowed(text);
        let mut order: Vec<&Shape> = self.shapes.iter().collect();
        order.sort_by_key(|s| std::cmp::Reverse(s.find.len()));
        for shape in order {
            if let Some(masked) = shape.apply(&text) {
                text = Cow::Owned(masked);
            }
        }
        text
    }
}

impl Shape {
    /// `text` with this shape masked, or `None` where it is not found.
    fn apply(&self, text: &str) -> Option<String> {
        let mut out = String::new();
        let mut done = 0;
        let mut from = 0;
        while let Some(found) = text[from..].find(&self.find) {
            let start = from + found;
            let end = start + self.find.len();
            let before_ok = self.before.is_none_or(|allowed| {
                text[..start]
                    .chars()
                    .next_back()
                    .is_some_and(|c| allowed.contains(&c))
            });
            if before_ok && self.after.allows(text, end) {
                out.push_str(&text[done..start]);
                out.push_str(&self.replace);
                done = end;
                from = end;
            } else {
                from = start + text[start..].chars().next().map_or(1, char::len_utf8);
            }
        }
        if done == 0 {
            return None;
        }
        out.push_str(&text[done..]);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_shown_with_its_password_query_values_and_fragment_masked_however_short() {
        for (typed, shown) in [
            (
                "https://ci:pw@host.example/o/t/?token=abc&x=1#f",
                "https://ci:***@host.example/o/t/?token=***&x=***#***",
            ),
            ("http://h/?a", "http://h/?***"),
            ("http://user@h/p@q", "http://user@h/p@q"),
            ("ht tp://ci:s@h/?x=1", "ht tp://ci:***@h/?x=***"),
            ("nota url?client_secret=s", "nota url?client_secret=***"),
            (
                "https://cloud.example/org/tenant/",
                "https://cloud.example/org/tenant/",
            ),
        ] {
            assert_eq!(masked_url_text(typed), shown, "{typed}");
        }
        let url = Url::parse("https://ci:p%20w@h.example/x?y=z").unwrap();
        assert_eq!(masked_url(&url), "https://ci:***@h.example/x?y=***");
    }

    #[test]
    fn a_urls_secret_parts_are_masked_where_they_stand_and_words_are_left_alone() {
        let mut shapes = Shapes::default();
        shapes.add_url("https://ci:pw@host.example/o/t/?token=abc#frag");
        let text = "could not reach https://ci:pw@host.example/o/t/?token=abc#frag: a password, a query or fragment";
        assert_eq!(
            shapes.apply(text),
            "could not reach https://ci:***@host.example/o/t/?token=***#***: a password, a query or fragment"
        );
        // The same URL joined to a path keeps its user info only.
        assert_eq!(
            shapes.apply("POST https://ci:pw@host.example/o/t/identity_/api"),
            "POST https://ci:***@host.example/o/t/identity_/api"
        );
        // A longer query or fragment is another URL's: not cut into.
        assert_eq!(
            shapes.apply("x/?token=abcd #fragment"),
            "x/?token=abcd #fragment"
        );
        assert_eq!(shapes.apply("`…#frag`."), "`…#***`.");
    }

    #[test]
    fn a_quoted_value_is_masked_and_the_same_letters_elsewhere_are_not() {
        let mut shapes = Shapes::default();
        shapes.add_quoted("ion");
        shapes.add_quoted("-abc");
        let text = "error: unexpected argument 'ion' found; one interaction at a time; '-a', use '-- -abc' or `-abc`";
        assert_eq!(
            shapes.apply(text),
            "error: unexpected argument '***' found; one interaction at a time; '***', use '-- ***' or `***`"
        );
    }

    #[test]
    fn a_quoted_url_is_shown_masked_whole() {
        let mut shapes = Shapes::default();
        shapes.add_quoted_url("ftp://h/?token=q7");
        assert_eq!(
            shapes.apply("invalid value 'ftp://h/?token=q7': `ftp://h/?token=q7` is not"),
            "invalid value 'ftp://h/?token=***': `ftp://h/?token=***` is not"
        );
    }

    #[test]
    fn only_long_query_values_and_fragments_are_secrets_for_the_trie() {
        let (password, values) = url_secrets(
            "https://ci:pw@h/?a=short&token=t0k%2Fen-long#fragment-long",
            8,
        );
        assert_eq!(password, Some("pw"));
        assert_eq!(values, ["t0k%2Fen-long", "t0k/en-long", "fragment-long"]);
    }
}
