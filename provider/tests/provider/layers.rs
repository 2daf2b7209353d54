//! The shape of the command-line crate, read from its source: the
//! top-level modules import each other in one direction only (docs/building.md,
//! "Layers of the command"), and no function outside tests is longer than
//! [`MAX_FN_LINES`]. `ci/module-graph.sh` prints the same graph.
//!
//! Only the standard library: the source is lexed just enough to leave out
//! comments, strings and `#[cfg(test)]` modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest function allowed outside tests, in lines from `fn` to its
/// closing brace.
const MAX_FN_LINES: usize = 120;

/// The layers, top first. A module may use modules of a lower layer; within
/// a layer only the edges in [`SIDEWAYS`].
const LAYERS: &[(&str, &[&str])] = &[
    ("the command line", &["cli"]),
    (
        "commands",
        &["verify", "broker", "spec", "serve", "cleanup"],
    ),
    (
        "target set-up and inputs",
        &["states", "tenant", "emulator", "sources"],
    ),
    (
        "shared leaves",
        &["redact", "http", "retry", "logging", "exit", "signal"],
    ),
];

/// Edges allowed within a layer. `broker -> verify`: a verification from a
/// broker is a verify run with other pact sources and a publication step
/// after it; it drives verify's engine, and verify knows nothing of
/// brokers. `states -> tenant`: the tenant's provider states drive the
/// tenant's API client; `states -> emulator`: the embedded
/// target's states are the emulator's own; `logging -> redact`: logs are
/// scrubbed by the run's redactor.
const SIDEWAYS: &[(&str, &str)] = &[
    ("broker", "verify"),
    ("states", "tenant"),
    ("states", "emulator"),
    ("logging", "redact"),
];

/// Source text with comments and the contents of string and char literals
/// blanked out (newlines kept, so line numbers still hold).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
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
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !chars
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push('"');
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                out.push(blank(chars[j]));
                j += 1;
            }
            out.push('"');
            i = j;
        } else if c == '"' {
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
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{7b}') or a lifetime ('a).
            if next == Some('\\') {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                out.push_str("' '");
                i = j + 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                out.push_str("' '");
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The byte offset of the brace that closes the one at `open`.
fn closing(code: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, b) in code.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    code.len()
}

/// `code` with every `#[cfg(test)]` module blanked out.
fn without_tests(code: &str) -> String {
    let mut code = code.to_owned();
    while let Some(at) = code.find("#[cfg(test)]") {
        let bytes = code.as_bytes();
        let rest = &code[at..];
        // The item after the attribute: a module is blanked whole, any other
        // item (a test-only function or import) up to its end.
        let end = match (rest.find('{'), rest.find(';')) {
            (Some(brace), semi) if semi.is_none_or(|s| brace < s) => closing(bytes, at + brace),
            (_, Some(semi)) => at + semi,
            _ => code.len() - 1,
        };
        let blanked: String = code[at..=end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        code.replace_range(at..=end, &blanked);
    }
    code
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
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

/// The top-level module a file of `provider/src` belongs to (`None` for
/// the crate root, `lib.rs` and `main.rs`).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).expect("a file below src");
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_owned();
    (name != "lib" && name != "main").then_some(name)
}

/// The top-level module graph of the command-line crate: for each module,
/// the modules its code (tests included) names with a `crate::` path, with
/// one file and line that does.
fn module_graph() -> BTreeMap<(String, String), String> {
    let src = workspace().join("provider/src");
    let mut edges = BTreeMap::new();
    for file in rust_files(&src) {
        let Some(from) = top_module(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("a source file reads");
        let code = code_only(&text);
        for (n, line) in code.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                let before = rest[..at].bytes().last();
                let after = &rest[at + "crate::".len()..];
                rest = after;
                if before.is_some_and(is_ident) {
                    continue;
                }
                let to: String = after
                    .bytes()
                    .take_while(|b| is_ident(*b))
                    .map(char::from)
                    .collect();
                if to.is_empty() || to == from {
                    continue;
                }
                let place = format!(
                    "{}:{}",
                    file.strip_prefix(workspace()).unwrap_or(&file).display(),
                    n + 1
                );
                edges.entry((from.clone(), to)).or_insert(place);
            }
        }
    }
    edges
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// The functions outside tests in `provider/src` and `consumer/src` longer
/// than `limit` lines, as `path:line fn name (N lines)`.
fn long_functions(limit: usize) -> Vec<String> {
    let root = workspace();
    let mut found = Vec::new();
    for crate_src in ["provider/src", "emulator/src", "consumer/src"] {
        for file in rust_files(&root.join(crate_src)) {
            let shown = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            let text = std::fs::read_to_string(&file).expect("a source file reads");
            let code = without_tests(&code_only(&text));
            let bytes = code.as_bytes();
            let mut at = 0;
            while let Some(pos) = code[at..].find("fn ") {
                let start = at + pos;
                at = start + 3;
                if start > 0 && is_ident(bytes[start - 1]) {
                    continue;
                }
                let name: String = code[at..]
                    .bytes()
                    .take_while(|b| is_ident(*b))
                    .map(char::from)
                    .collect();
                if name.is_empty() {
                    continue; // `fn(` in a type
                }
                // The body, unless the signature ends first (a trait method
                // without one).
                let rest = &code[at..];
                let Some(open) = rest.find('{') else {
                    continue;
                };
                if rest.find(';').is_some_and(|semi| semi < open) {
                    continue;
                }
                let close = closing(bytes, at + open);
                let first = code[..start].matches('\n').count() + 1;
                let last = code[..close].matches('\n').count() + 1;
                let lines = last - first + 1;
                if lines > limit {
                    found.push(format!("{shown}:{first} fn {name} ({lines} lines)"));
                }
            }
        }
    }
    found
}

#[test]
fn modules_import_each_other_downward_only() {
    let graph = module_graph();
    let mut wrong = Vec::new();
    for ((from, to), place) in &graph {
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
    assert!(
        wrong.is_empty(),
        "the module graph goes the wrong way:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn no_function_outside_tests_is_longer_than_the_limit() {
    let long = long_functions(MAX_FN_LINES);
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them by job):\n  {}",
        long.join("\n  ")
    );
}

#[test]
fn the_checks_see_what_they_check() {
    // The lexer leaves out comments and strings, and keeps code.
    let code = code_only("let a = \"crate::x { \"; // crate::y {\nuse crate::z; let c = '{';");
    assert!(
        !code.contains("crate::x") && !code.contains("crate::y"),
        "{code}"
    );
    assert!(code.contains("use crate::z;"), "{code}");
    assert_eq!(code.matches('{').count(), 0, "{code}");
    // The graph is not empty: it reads the crate's real edges.
    let graph = module_graph();
    assert!(
        graph.contains_key(&("cli".to_owned(), "verify".to_owned())),
        "{graph:?}"
    );
    // The length check finds a long function.
    let body = format!("fn long() {{\n{}}}\n", "    x();\n".repeat(130));
    let blanked = without_tests(&code_only(&body));
    assert!(blanked.contains("fn long"));
    assert!(!long_functions(10).is_empty());
}

/// Prints the module graph and the longest functions:
/// `cargo test -p orchestrator-pact --test provider layers::print -- --ignored --nocapture`.
#[test]
#[ignore = "prints the graph; run by hand"]
fn print() {
    for ((from, to), place) in module_graph() {
        println!("{from} -> {to}    ({place})");
    }
    for f in long_functions(MAX_FN_LINES) {
        println!("{f}");
    }
}
