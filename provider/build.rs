//! Builds the recorded contract (`pacts/*.json`) and the known spec
//! divergences (`spec-divergences.toml`) into the binary, so that an
//! installed `orchestrator-pact` verifies the contract from any folder.
//!
//! Both live at the workspace root. In a checkout they are read there
//! (`../pacts`); a packaged crate (`cargo package`, `cargo install` from a
//! registry) has no parent folder, so `provider/pacts` and
//! `provider/spec-divergences.toml` are symbolic links to them, which
//! `cargo package` stores as the files themselves. The links are tried
//! first; where they are not links (a Windows checkout without
//! `core.symlinks` makes them small text files) the workspace root is used.
//!
//! Whatever is in the folder at build time is embedded, and a change to it
//! (an edited, added or removed pact) rebuilds the crate.

// Function length: the threshold is in clippy.toml.
#![warn(clippy::too_many_lines)]

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));

    let pacts = locate(&manifest, "pacts", Path::is_dir);
    // A directory makes cargo rerun this script when anything in it changes.
    println!("cargo:rerun-if-changed={}", pacts.display());
    let mut files: Vec<PathBuf> = fs::read_dir(&pacts)
        .unwrap_or_else(|e| panic!("cannot read the pacts at {}: {e}", pacts.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no pact files (*.json) in {}: record them with `ci/record-pacts.sh`",
        pacts.display()
    );
    let mut code = String::from(
        "/// The pact files of `pacts/` at build time: (file name, content).\n\
         pub(crate) const BUILT_IN: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        let name = file.file_name().expect("a file").to_string_lossy();
        // An absolute path (CARGO_MANIFEST_DIR is one); `{:?}` quotes and
        // escapes both strings (Windows paths have backslashes).
        writeln!(code, "    ({name:?}, include_str!({:?})),", file.display()).unwrap();
    }
    code.push_str("];\n");
    fs::write(out.join("built_in_pacts.rs"), code).expect("OUT_DIR is writable");

    let divergences = locate(&manifest, "spec-divergences.toml", Path::is_file);
    println!("cargo:rerun-if-changed={}", divergences.display());
    println!(
        "cargo:rustc-env=ORCHESTRATOR_PACT_DIVERGENCES={}",
        divergences.display()
    );
}

/// `provider/NAME` when it is what `is_kind` wants (the packaged copy, or
/// the symbolic link in a checkout), else the workspace root's `NAME`.
fn locate(manifest: &Path, name: &str, is_kind: fn(&Path) -> bool) -> PathBuf {
    let inside = manifest.join(name);
    if is_kind(&inside) {
        return inside;
    }
    let root = manifest.join("..").join(name);
    assert!(
        is_kind(&root),
        "neither {} nor {} is there: build from a checkout of the repository or from its packaged crate",
        inside.display(),
        root.display()
    );
    root
}
