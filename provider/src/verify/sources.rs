//! Finding and checking the pact files to verify: those named by
//! `--pacts`, else `pacts/` in the working directory, else the contract
//! built into the binary (`pacts/` at build time, see `build.rs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pact_verifier::PactSource;
use serde_json::Value;

/// The folder read when `--pacts` is not given, if the working directory
/// has one.
pub const DEFAULT_FOLDER: &str = "pacts";

mod built_in {
    // `BUILT_IN: &[(&str, &str)]`, written by build.rs.
    include!(concat!(env!("OUT_DIR"), "/built_in_pacts.rs"));
}

/// A pact file that parsed and names its consumer and provider.
#[derive(Clone, Debug)]
pub struct PactFile {
    /// Where it is; for a built-in pact, `built-in:` and its file name.
    pub path: PathBuf,
    /// The consumer's name.
    pub consumer: String,
    /// The provider's name.
    pub provider: String,
    /// How many interactions it holds.
    pub interactions: usize,
    /// Its bytes, as read (a broker hashes them to tell versions apart).
    pub content: Arc<str>,
    /// Whether it was built into the binary rather than read from a file.
    pub built_in: bool,
}

impl PactFile {
    /// The first 12 hex digits of the SHA-256 of its bytes: what
    /// `sha256sum` prints for the file `orchestrator-pact pacts --out`
    /// writes.
    pub fn short_hash(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.content.as_bytes());
        digest.as_ref()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// One line naming the pact: consumer, provider, interactions, hash.
    pub fn describe(&self) -> String {
        format!(
            "{} -> {}, {} interactions, sha256 {}",
            self.consumer,
            self.provider,
            self.interactions,
            self.short_hash()
        )
    }
}

/// One group of pacts verified by one call of the pact library: the local
/// pact files together, or one pact fetched from a broker (so that each
/// broker pact's results, pending flag and publication link stay together).
#[derive(Clone, Debug)]
pub struct PactBatch {
    /// The provider's name, as the pacts give it.
    pub provider: String,
    /// The pacts themselves.
    pub sources: Vec<PactSource>,
    /// How many pacts they are.
    pub pacts: usize,
    /// How many interactions they hold.
    pub interactions: usize,
}

impl PactBatch {
    /// The local pact files, verified together.
    pub fn files(pacts: &[PactFile]) -> Self {
        Self {
            provider: pacts
                .first()
                .map(|p| p.provider.clone())
                .unwrap_or_else(|| "uipath-identity".into()),
            sources: pacts
                .iter()
                .map(|p| {
                    if p.built_in {
                        PactSource::String(p.content.to_string())
                    } else {
                        PactSource::File(p.path.to_string_lossy().into_owned())
                    }
                })
                .collect(),
            pacts: pacts.len(),
            interactions: pacts.iter().map(|p| p.interactions).sum(),
        }
    }
}

/// Why the pacts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A path that does not exist.
    #[error(
        "`{0}` does not exist: pass a pact file or a folder of them with `--pacts`, or record them with `cargo test -p uipath-identity-client`"
    )]
    Missing(PathBuf),
    /// A folder with no pact files in it.
    #[error(
        "no pact files (*.json) in `{0}`: record them with `cargo test -p uipath-identity-client` and copy them there with `ci/record-pacts.sh`, or pass `--pacts PATH`"
    )]
    Empty(PathBuf),
    /// A file that cannot be read.
    #[error("cannot read `{path}`: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file that is not a pact.
    #[error("`{path}` is not a pact file: {reason}")]
    NotAPact {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A built-in pact that could not be written out.
    #[error("cannot write `{path}`: {reason}; pass `--out` a folder you can write to")]
    Unwritable {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Every pact file named by `paths`: files as they are, folders for their
/// `*.json` files (sorted, not recursive). No paths: `pacts/` in the
/// working directory if there is one, else the built-in contract.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PactFile>, SourceError> {
    Ok(discover_parsed(paths)?
        .into_iter()
        .map(|(file, _)| file)
        .collect())
}

/// [`discover`], with each file's JSON as read, for a caller that reads
/// the interactions itself.
pub fn discover_parsed(paths: &[PathBuf]) -> Result<Vec<(PactFile, Value)>, SourceError> {
    if paths.is_empty() {
        return if Path::new(DEFAULT_FOLDER).is_dir() {
            discover_parsed(&[PathBuf::from(DEFAULT_FOLDER)])
        } else {
            built_in_parsed()
        };
    }
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| SourceError::Unreadable {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(SourceError::Empty(path.clone()));
            }
            for file in found {
                files.push(read(&file)?);
            }
        } else if path.is_file() {
            files.push(read(path)?);
        } else {
            return Err(SourceError::Missing(path.clone()));
        }
    }
    Ok(files)
}

/// The contract built into the binary, parsed (each checked as a file is).
pub fn built_in_parsed() -> Result<Vec<(PactFile, Value)>, SourceError> {
    built_in::BUILT_IN
        .iter()
        .map(|(name, text)| {
            parse(
                &PathBuf::from(format!("built-in:{name}")),
                Arc::from(*text),
                true,
            )
        })
        .collect()
}

/// Writes the built-in pact files into `dir` (created if need be), byte
/// for byte as they were at build time, and returns their paths.
pub fn write_built_in(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let unwritable = |path: &Path, e: std::io::Error| SourceError::Unwritable {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, e))?;
    let mut written = Vec::with_capacity(built_in::BUILT_IN.len());
    for (name, text) in built_in::BUILT_IN {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| unwritable(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

fn read(path: &Path) -> Result<(PactFile, Value), SourceError> {
    let bytes = std::fs::read(path).map_err(|e| SourceError::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| SourceError::NotAPact {
        path: path.to_owned(),
        reason: format!("it is not UTF-8 text ({e})"),
    })?;
    parse(path, Arc::from(text), false)
}

fn parse(path: &Path, text: Arc<str>, built_in: bool) -> Result<(PactFile, Value), SourceError> {
    let not_a_pact = |reason: String| SourceError::NotAPact {
        path: path.to_owned(),
        reason,
    };
    let json: Value =
        serde_json::from_str(&text).map_err(|e| not_a_pact(format!("invalid JSON ({e})")))?;
    let name = |role: &str| {
        json.get(role)
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| not_a_pact(format!("it has no `{role}.name`")))
    };
    let consumer = name("consumer")?;
    let provider = name("provider")?;
    let interactions = json
        .get("interactions")
        .and_then(Value::as_array)
        .ok_or_else(|| not_a_pact("it has no `interactions` list".into()))?
        .len();
    // Let the pact library itself load it now (from the JSON read above,
    // as its own reader would), so that a file it would refuse is reported
    // here with its path rather than mid-run.
    pact_models::pact::load_pact_from_json(&path.to_string_lossy(), &json)
        .map_err(|e| not_a_pact(format!("{e:#}")))?;
    let file = PactFile {
        path: path.to_owned(),
        consumer,
        provider,
        interactions,
        content: text,
        built_in,
    };
    Ok((file, json))
}
