//! The shape of the command-line crate, read from its source: its
//! top-level modules import each other in one direction only (README, "How
//! it is built"), with no cycle. `ci/module-graph.sh` prints the graph this
//! reads.
//!
//! What the compiler holds is left to it: the client and the emulator are
//! crates of their own, which cannot name this one, so a path into them
//! (`uipath_identity_emulator`, or `crate::emulator`, the root's re-export
//! of it) is no edge here. Function length is clippy's
//! (`too_many_lines`, clippy.toml).
//!
//! Only the standard library: the source is lexed just enough to leave out
//! comments and strings, then every path that reaches the crate root is
//! read, whatever its form: `crate::x::y` in an expression, `use
//! crate::{a, b::{c, d}}` groups over many lines, and `super::` climbing to
//! the root.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, top first. A module may use modules of a lower layer; within
/// a layer only the edges in [`SIDEWAYS`].
const LAYERS: &[(&str, &[&str])] = &[
    ("the command line", &["cli"]),
    (
        "commands",
        &["verify", "broker", "spec", "serve", "cleanup"],
    ),
    ("target set-up and inputs", &["states", "tenant", "sources"]),
    (
        "shared leaves",
        &["redact", "http", "retry", "logging", "exit", "signal"],
    ),
];

/// Edges allowed within a layer. `broker -> verify`: a verification from a
/// broker is a verify run with other pact sources and a publication step
/// after it; it drives verify's engine, and verify knows nothing of
/// brokers. `states -> tenant`: the tenant's provider states drive the
/// tenant's API client; `logging -> redact`: logs are scrubbed by the run's
/// redactor.
const SIDEWAYS: &[(&str, &str)] = &[
    ("broker", "verify"),
    ("states", "tenant"),
    ("logging", "redact"),
];

/// Source text with comments and the contents of string and char literals
/// blanked out (newlines kept, so line numbers still hold).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        i = if c == '/' && next == Some('/') {
            line_comment(&chars, i, &mut out)
        } else if c == '/' && next == Some('*') {
            block_comment(&chars, i, &mut out)
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !chars
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            raw_string(&chars, i, &mut out)
        } else if c == '"' {
            string(&chars, i, &mut out)
        } else if c == '\'' {
            char_or_lifetime(&chars, i, &mut out)
        } else {
            out.push(c);
            i + 1
        };
    }
    out
}

fn blank(c: char) -> char {
    if c == '\n' { '\n' } else { ' ' }
}

/// `// …` up to the end of the line; gives where lexing goes on.
fn line_comment(chars: &[char], mut i: usize, out: &mut String) -> usize {
    while i < chars.len() && chars[i] != '\n' {
        out.push(' ');
        i += 1;
    }
    i
}

/// `/* … */`, nested ones included.
fn block_comment(chars: &[char], mut i: usize, out: &mut String) -> usize {
    let mut depth = 0;
    while i < chars.len() {
        if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
            depth += 1;
            out.push_str("  ");
            i += 2;
        } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
            depth -= 1;
            out.push_str("  ");
            i += 2;
            if depth == 0 {
                break;
            }
        } else {
            out.push(blank(chars[i]));
            i += 1;
        }
    }
    i
}

/// A raw string, `r"…"` or `r#"…"#`; an `r` that starts none is kept.
fn raw_string(chars: &[char], i: usize, out: &mut String) -> usize {
    let mut j = i + 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if chars.get(j) != Some(&'"') {
        out.push(chars[i]);
        return i + 1;
    }
    out.push('"');
    j += 1;
    while j < chars.len() {
        if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
            j += 1 + hashes;
            break;
        }
        out.push(blank(chars[j]));
        j += 1;
    }
    out.push('"');
    j
}

/// A string, `"…"`, escapes included.
fn string(chars: &[char], mut i: usize, out: &mut String) -> usize {
    out.push('"');
    i += 1;
    while i < chars.len() && chars[i] != '"' {
        if chars[i] == '\\' {
            out.push(' ');
            i += 1;
        }
        if i < chars.len() {
            out.push(blank(chars[i]));
            i += 1;
        }
    }
    out.push('"');
    i + 1
}

/// A char literal (`'x'`, `'\n'`, `'\u{7b}'`) blanked, or a lifetime
/// (`'a`) kept.
fn char_or_lifetime(chars: &[char], i: usize, out: &mut String) -> usize {
    if chars.get(i + 1) == Some(&'\\') {
        let mut j = i + 2;
        while j < chars.len() && chars[j] != '\'' {
            j += 1;
        }
        out.push_str("' '");
        j + 1
    } else if chars.get(i + 2) == Some(&'\'') {
        out.push_str("' '");
        i + 3
    } else {
        out.push('\'');
        i + 1
    }
}

/// A token of lexed code, with its line (from 1).
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Ident(&'a str),
    /// `::`.
    Path,
    Open,
    Close,
    Comma,
    Other,
}

fn tokens(code: &str) -> Vec<(usize, Token<'_>)> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let token = if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push((line, Token::Ident(&code[start..i])));
            continue;
        } else if b == b':' && bytes.get(i + 1) == Some(&b':') {
            i += 1;
            Token::Path
        } else if b == b'{' {
            Token::Open
        } else if b == b'}' {
            Token::Close
        } else if b == b',' {
            Token::Comma
        } else if b.is_ascii_whitespace() {
            if b == b'\n' {
                line += 1;
            }
            i += 1;
            continue;
        } else {
            Token::Other
        };
        out.push((line, token));
        i += 1;
    }
    out
}

/// The top-level modules that `code` (lexed by [`code_only`]) names by a
/// path through the crate root, each with the line that does, in order. A
/// file at `depth` is module `a` (1: `src/a.rs`, `src/a/mod.rs`) or `a::b`
/// (2: `src/a/b.rs`), and so on; inline modules (`mod tests { … }`) add
/// one each, so `super::` climbs from where it is written.
fn named_modules(code: &str, depth: usize) -> Vec<(usize, String)> {
    let tokens = tokens(code);
    let mut named = Vec::new();
    // The brace depth at which each inline module open around here began.
    let mut inline: Vec<usize> = Vec::new();
    let mut braces = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let after_path = i > 0 && tokens[i - 1].1 == Token::Path;
        match &tokens[i].1 {
            Token::Open => braces += 1,
            Token::Close => {
                braces = braces.saturating_sub(1);
                if inline.last() == Some(&braces) {
                    inline.pop();
                }
            }
            Token::Ident("mod")
                if matches!(tokens.get(i + 1), Some((_, Token::Ident(_))))
                    && matches!(tokens.get(i + 2), Some((_, Token::Open))) =>
            {
                inline.push(braces);
            }
            Token::Ident("crate")
                if !after_path && tokens.get(i + 1).map(|t| &t.1) == Some(&Token::Path) =>
            {
                rooted(&tokens, i + 2, &mut named);
            }
            Token::Ident("super") if !after_path => {
                let mut climbed = 0;
                let mut j = i;
                while matches!(tokens.get(j), Some((_, Token::Ident("super"))))
                    && tokens.get(j + 1).map(|t| &t.1) == Some(&Token::Path)
                {
                    climbed += 1;
                    j += 2;
                }
                if climbed > 0 && climbed == depth + inline.len() {
                    rooted(&tokens, j, &mut named);
                }
                i = j.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    named
}

/// Reads the path that goes on at `at`, right after the crate root and its
/// `::`: a module (`x`), or a group (`{a, b::{c, d}, e as f}`) whose every
/// item starts with one. `self` (the root itself) and `*` name none.
fn rooted(tokens: &[(usize, Token<'_>)], at: usize, named: &mut Vec<(usize, String)>) {
    match tokens.get(at) {
        Some((line, Token::Ident(name))) if *name != "self" => {
            named.push((*line, (*name).to_owned()));
        }
        Some((_, Token::Open)) => {
            let mut depth = 0usize;
            let mut item_starts = true;
            for (line, token) in &tokens[at..] {
                match token {
                    Token::Open => {
                        depth += 1;
                        item_starts = depth == 1;
                        continue;
                    }
                    Token::Close => {
                        depth -= 1;
                        if depth == 0 {
                            return;
                        }
                    }
                    Token::Comma if depth == 1 => {
                        item_starts = true;
                        continue;
                    }
                    Token::Ident(name) if item_starts && depth == 1 && *name != "self" => {
                        named.push((*line, (*name).to_owned()));
                    }
                    _ => {}
                }
                item_starts = false;
            }
        }
        _ => {}
    }
}

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("the source folder reads") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the provider sits in the workspace")
        .to_path_buf()
}

/// The module path of a file of `provider/src` (`["verify", "report"]` for
/// `verify/report.rs`, `["verify"]` for `verify/mod.rs`; empty for the
/// crate roots, `lib.rs` and `main.rs`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("a file below src");
    let mut path: Vec<String> = relative
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .collect();
    if path.last().is_some_and(|last| last == "mod") {
        path.pop();
    }
    if path.len() == 1 && (path[0] == "lib" || path[0] == "main") {
        path.clear();
    }
    path
}

/// The names the crate root gives to other crates (`pub use
/// uipath_identity_emulator as emulator;`): paths through them lead out of
/// this crate, where the compiler keeps the direction.
fn crate_aliases(lib: &str) -> BTreeSet<String> {
    code_only(lib)
        .lines()
        .filter_map(|line| {
            let item = line.trim().strip_prefix("pub use ")?.strip_suffix(';')?;
            let (target, alias) = item.split_once(" as ")?;
            (!target.contains("::")).then(|| alias.trim().to_owned())
        })
        .collect()
}

/// The top-level module graph of the command-line crate: for each module,
/// the modules its code (tests included) names through the crate root,
/// with one file and line that does.
fn module_graph() -> BTreeMap<(String, String), String> {
    let src = workspace().join("provider/src");
    let aliases = crate_aliases(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut edges = BTreeMap::new();
    for file in rust_files(&src) {
        let path = module_path(&src, &file);
        let Some(from) = path.first() else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("a source file reads");
        for (line, to) in named_modules(&code_only(&text), path.len()) {
            if to == *from || aliases.contains(&to) {
                continue;
            }
            let place = format!(
                "{}:{line}",
                file.strip_prefix(workspace()).unwrap_or(&file).display()
            );
            edges.entry((from.clone(), to)).or_insert(place);
        }
    }
    edges
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// What is wrong with `graph`: edges from or to a module of no layer,
/// upward, or sideways and not in [`SIDEWAYS`], and cycles.
fn wrong_edges(graph: &BTreeMap<(String, String), String>) -> Vec<String> {
    let mut wrong = Vec::new();
    for ((from, to), place) in graph {
        let (Some(a), Some(b)) = (layer_of(from), layer_of(to)) else {
            wrong.push(format!(
                "{from} -> {to} ({place}): a module of no layer; place it in LAYERS"
            ));
            continue;
        };
        if a > b {
            wrong.push(format!(
                "{from} -> {to} ({place}): upward, from {} to {}",
                LAYERS[a].0, LAYERS[b].0
            ));
        } else if a == b && !SIDEWAYS.contains(&(from.as_str(), to.as_str())) {
            wrong.push(format!(
                "{from} -> {to} ({place}): sideways within {}",
                LAYERS[a].0
            ));
        }
    }
    // Cycles, with the allowed sideways edges too: a path that comes back.
    let next: BTreeMap<&str, BTreeSet<&str>> =
        graph.keys().fold(BTreeMap::new(), |mut m, (from, to)| {
            m.entry(from.as_str()).or_default().insert(to.as_str());
            m
        });
    for start in next.keys() {
        let mut paths = vec![vec![*start]];
        while let Some(path) = paths.pop() {
            let last = path[path.len() - 1];
            for to in next.get(last).into_iter().flatten() {
                if to == start {
                    wrong.push(format!("a cycle: {} -> {start}", path.join(" -> ")));
                } else if !path.contains(to) {
                    let mut longer = path.clone();
                    longer.push(to);
                    paths.push(longer);
                }
            }
        }
    }
    wrong
}

#[test]
fn modules_import_each_other_downward_only() {
    let wrong = wrong_edges(&module_graph());
    assert!(
        wrong.is_empty(),
        "the module graph goes the wrong way:\n  {}",
        wrong.join("\n  ")
    );
}

/// Every form of path that reaches the crate root is read, and nothing
/// else.
#[test]
fn the_parser_reads_every_form_of_path_to_the_root() {
    let named = |text: &str, depth: usize| -> Vec<String> {
        named_modules(&code_only(text), depth)
            .into_iter()
            .map(|(_, m)| m)
            .collect()
    };
    // Plain, grouped, nested, renamed, and over several lines.
    assert_eq!(named("use crate::a::B;", 1), ["a"]);
    assert_eq!(named("use crate::{a, b::c};", 1), ["a", "b"]);
    assert_eq!(
        named(
            "use crate::{\n    a::{b, c::{d, e}},\n    f as g,\n    self,\n    h::*,\n};",
            1
        ),
        ["a", "f", "h"]
    );
    assert_eq!(named("pub use crate::{a::{self, X}};", 1), ["a"]);
    // Paths in expressions and types, several on a line.
    assert_eq!(
        named(
            "let c = crate::http::client(crate::redact::Redactor::new());",
            2
        ),
        ["http", "redact"]
    );
    assert_eq!(named("fn f(x: &crate::tenant::Tenant) {}", 1), ["tenant"]);
    // `super::` that climbs to the root, from a file or an inline module.
    assert_eq!(named("use super::exit;", 1), ["exit"]);
    assert_eq!(named("use super::report;", 2), Vec::<String>::new());
    assert_eq!(
        named("use super::super::{http, retry};", 2),
        ["http", "retry"]
    );
    assert_eq!(
        named(
            "mod tests {\n    use super::*;\n    use super::super::exit;\n}",
            1
        ),
        ["exit"]
    );
    assert_eq!(
        named(
            "mod a { }\nuse super::http;\nmod tests { use super::x; }",
            1
        ),
        ["http"]
    );
    // Not paths to the root: comments, strings, visibility, other crates.
    assert_eq!(
        named(
            "// crate::x\nlet s = \"crate::{y, z}\";\npub(crate) fn f() {}\nuse other::crate_like::w;",
            1
        ),
        Vec::<String>::new()
    );
    // The lines are the lines of the paths.
    assert_eq!(
        named_modules(&code_only("use crate::{\n    a,\n    b,\n};"), 1),
        [(2, "a".to_owned()), (3, "b".to_owned())]
    );
}

/// The check refuses what it is there to refuse, and reads the crate's
/// real graph.
#[test]
fn the_check_refuses_upward_edges_sideways_edges_and_cycles() {
    let graph = |edges: &[(&str, &str)]| -> BTreeMap<(String, String), String> {
        edges
            .iter()
            .map(|(a, b)| (((*a).to_owned(), (*b).to_owned()), "here".to_owned()))
            .collect()
    };
    assert!(wrong_edges(&graph(&[("cli", "verify"), ("verify", "http")])).is_empty());
    let upward = wrong_edges(&graph(&[("http", "verify")]));
    assert!(upward.iter().any(|w| w.contains("upward")), "{upward:?}");
    let sideways = wrong_edges(&graph(&[("verify", "spec")]));
    assert!(
        sideways.iter().any(|w| w.contains("sideways")),
        "{sideways:?}"
    );
    let cycle = wrong_edges(&graph(&[("broker", "verify"), ("verify", "broker")]));
    assert!(cycle.iter().any(|w| w.contains("a cycle")), "{cycle:?}");
    let unknown = wrong_edges(&graph(&[("cli", "nowhere")]));
    assert!(
        unknown.iter().any(|w| w.contains("no layer")),
        "{unknown:?}"
    );
    // The lexer leaves out comments and strings, and keeps code.
    let code = code_only("let a = \"crate::x { \"; // crate::y {\nuse crate::z; let c = '{';");
    assert!(
        !code.contains("crate::x") && !code.contains("crate::y"),
        "{code}"
    );
    assert!(code.contains("use crate::z;"), "{code}");
    assert_eq!(code.matches('{').count(), 0, "{code}");
    // The real graph: grouped imports count (cli's `use crate::verify::{…}`),
    // and the emulator, a crate of its own, is no module here.
    let real = module_graph();
    assert!(
        real.contains_key(&("cli".to_owned(), "verify".to_owned())),
        "{real:?}"
    );
    assert!(
        real.keys()
            .all(|(from, to)| from != "emulator" && to != "emulator"),
        "{real:?}"
    );
}

/// Prints the module graph, one edge a line (`from -> to`), and where each
/// edge is first made: what `ci/module-graph.sh` shows.
/// `cargo test -p orchestrator-pact --test provider layers::print -- --ignored --nocapture`.
#[test]
#[ignore = "prints the graph; run by hand or by ci/module-graph.sh"]
fn print() {
    for ((from, to), place) in module_graph() {
        println!("{from} -> {to}    ({place})");
    }
}
