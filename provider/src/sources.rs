//! Finding and checking the pact files to verify: those named by
//! `--pacts`, else `pacts/` in the working directory, else the contract
//! built into the binary (`pacts/` at build time, see `build.rs`).

use std::panic::RefUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pact_models::PactSpecification;
use pact_models::pact::Pact;
use pact_models::v4::interaction::{V4Interaction, interaction_from_json};
use pact_models::v4::pact::V4Pact;
use pact_verifier::PactSource;
use serde_json::Value;

/// The folder read when `--pacts` is not given, if the working directory
/// has one.
pub(crate) const DEFAULT_FOLDER: &str = "pacts";

mod built_in {
    // `BUILT_IN: &[(&str, &str)]`, written by build.rs.
    include!(concat!(env!("OUT_DIR"), "/built_in_pacts.rs"));
}

/// A pact file that parsed and names its consumer and provider.
#[derive(Clone, Debug)]
pub(crate) struct PactFile {
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
    pub(crate) fn short_hash(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.content.as_bytes());
        digest.as_ref()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// One line naming the pact: consumer, provider, interactions, hash.
    pub(crate) fn describe(&self) -> String {
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
pub(crate) struct PactBatch {
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
    pub(crate) fn files(pacts: &[PactFile]) -> Self {
        Self {
            provider: pacts
                .first()
                .map(|p| p.provider.clone())
                .unwrap_or_else(|| uipath_identity_client::contract::PROVIDER.into()),
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
pub(crate) fn discover(paths: &[PathBuf]) -> Result<Vec<PactFile>, SourceError> {
    Ok(discover_texts(paths)?
        .into_iter()
        .map(|(file, _)| file)
        .collect())
}

/// [`discover`], with each file's JSON as read, for a caller that reads
/// the interactions itself.
pub(crate) fn discover_parsed(paths: &[PathBuf]) -> Result<Vec<(PactFile, Value)>, SourceError> {
    Ok(discover_texts(paths)?
        .into_iter()
        .map(|(file, text)| (file, text.into_value()))
        .collect())
}

fn discover_texts(paths: &[PathBuf]) -> Result<Vec<(PactFile, PactText)>, SourceError> {
    if paths.is_empty() {
        return if Path::new(DEFAULT_FOLDER).is_dir() {
            discover_texts(&[PathBuf::from(DEFAULT_FOLDER)])
        } else {
            built_in_texts()
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
pub(crate) fn built_in_parsed() -> Result<Vec<(PactFile, Value)>, SourceError> {
    Ok(built_in_texts()?
        .into_iter()
        .map(|(file, text)| (file, text.into_value()))
        .collect())
}

fn built_in_texts() -> Result<Vec<(PactFile, PactText)>, SourceError> {
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
pub(crate) fn write_built_in(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
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

fn read(path: &Path) -> Result<(PactFile, PactText), SourceError> {
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

fn parse(path: &Path, text: Arc<str>, built_in: bool) -> Result<(PactFile, PactText), SourceError> {
    let not_a_pact = |reason: String| SourceError::NotAPact {
        path: path.to_owned(),
        reason,
    };
    let json: PactText =
        serde_json::from_str(&text).map_err(|e| not_a_pact(format!("invalid JSON ({e})")))?;
    let name = |role: &str| {
        json.top
            .get(role)
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| not_a_pact(format!("it has no `{role}.name`")))
    };
    let consumer = name("consumer")?;
    let provider = name("provider")?;
    let interactions = json
        .interactions
        .as_ref()
        .ok_or_else(|| not_a_pact("it has no `interactions` list".into()))?
        .len();
    // Let the pact library itself load it now (from the JSON read above,
    // as its own reader would), so that a file it would refuse is reported
    // here with its path rather than mid-run.
    LoadedPact::check(&path.to_string_lossy(), &json).map_err(|e| not_a_pact(format!("{e:#}")))?;
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

/// A pact's JSON with each interaction kept as compact text, read without
/// ever holding the whole document as a [`Value`] (which takes about
/// fifteen times the size of its text).
#[derive(Debug, Default)]
pub(crate) struct PactText {
    /// Everything but the interactions.
    top: serde_json::Map<String, Value>,
    /// The interactions, if `interactions` is a list.
    interactions: Option<Vec<String>>,
}

impl PactText {
    /// The whole document as a [`Value`].
    fn into_value(self) -> Value {
        let mut map = self.top;
        if let Some(list) = self.interactions {
            let list = list
                .iter()
                .map(|text| serde_json::from_str(text).expect("text written from a Value parses"))
                .collect();
            map.insert("interactions".into(), Value::Array(list));
        }
        Value::Object(map)
    }

    fn is_v4(&self, name: &str) -> bool {
        let top = Value::Object(self.top.clone());
        pact_models::pact::determine_spec_version(name, &pact_models::pact::parse_meta_data(&top))
            == PactSpecification::V4
    }
}

impl<'de> serde::Deserialize<'de> for PactText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Document;
        impl<'de> serde::de::Visitor<'de> for Document {
            type Value = PactText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a pact (a JSON object)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<PactText, A::Error> {
                let mut pact = PactText::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "interactions" {
                        pact.interactions = map.next_value::<Texts>()?.0;
                    } else {
                        let value = map.next_value::<Value>()?;
                        pact.top.insert(key, value);
                    }
                }
                Ok(pact)
            }
        }
        deserializer.deserialize_map(Document)
    }
}

/// A list of values, each kept as compact text as soon as it is read;
/// `None` for anything but a list.
struct Texts(Option<Vec<String>>);

impl<'de> serde::Deserialize<'de> for Texts {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct List;
        impl<'de> serde::de::Visitor<'de> for List {
            type Value = Texts;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of interactions")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Texts, A::Error> {
                let mut list = Vec::new();
                while let Some(value) = seq.next_element::<Value>()? {
                    list.push(value.to_string());
                }
                Ok(Texts(Some(list)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Texts, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Texts(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Texts, E> {
                Ok(Texts(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Texts, E> {
                Ok(Texts(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Texts, E> {
                Ok(Texts(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Texts, E> {
                Ok(Texts(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Texts, E> {
                Ok(Texts(None))
            }
            fn visit_unit<E>(self) -> Result<Texts, E> {
                Ok(Texts(None))
            }
        }
        deserializer.deserialize_any(List)
    }
}

/// A pact as the replay loop holds it: the pact without its interactions
/// (all `match_response` needs of it), and the interactions, of a V4 pact
/// kept as text and built one at a time, so that a pact of thousands of
/// interactions is never held as models (or as one JSON value) all at once.
pub(crate) struct LoadedPact {
    /// The pact, without its interactions.
    pub pact: Box<dyn Pact + Send + Sync + RefUnwindSafe>,
    name: String,
    interactions: Interactions,
}

enum Interactions {
    Text(Vec<String>),
    Built(Vec<Box<dyn V4Interaction + Send + Sync + RefUnwindSafe>>),
}

fn built(
    name: &str,
    index: usize,
    text: &str,
) -> anyhow::Result<Box<dyn V4Interaction + Send + Sync + RefUnwindSafe>> {
    interaction_from_json(name, index, &serde_json::from_str(text)?)
}

impl LoadedPact {
    /// Loads `text` (from `name`) as the pact library would. A pact that is
    /// not V4 is loaded whole here, so every interaction is checked; a V4
    /// pact's interactions stay text, and each is built, and so checked,
    /// when the caller reads it with [`LoadedPact::interaction`] (the replay
    /// loop reads every one to select them, before the first is verified),
    /// so that they are not all built twice.
    pub(crate) fn from_text(name: &str, text: PactText) -> anyhow::Result<Self> {
        let (pact, interactions) = if text.is_v4(name) {
            let shell = V4Pact::pact_from_json(&Value::Object(text.top), name)?;
            (
                shell,
                Interactions::Text(text.interactions.unwrap_or_default()),
            )
        } else {
            let mut pact =
                pact_models::pact::load_pact_from_json(name, &text.into_value())?.as_v4_pact()?;
            let list = std::mem::take(&mut pact.interactions);
            (pact, Interactions::Built(list))
        };
        Ok(Self {
            pact: Box::new(pact),
            name: name.to_owned(),
            interactions,
        })
    }

    /// Checks that the pact library loads `text` (from `name`), building
    /// one interaction at a time.
    pub(crate) fn check(name: &str, text: &PactText) -> anyhow::Result<()> {
        if !text.is_v4(name) {
            let whole = PactText {
                top: text.top.clone(),
                interactions: text.interactions.clone(),
            };
            return pact_models::pact::load_pact_from_json(name, &whole.into_value()).map(drop);
        }
        V4Pact::pact_from_json(&Value::Object(text.top.clone()), name)?;
        for (index, interaction) in text.interactions.iter().flatten().enumerate() {
            built(name, index, interaction)?;
        }
        Ok(())
    }

    /// How many interactions it has.
    pub(crate) fn len(&self) -> usize {
        match &self.interactions {
            Interactions::Text(list) => list.len(),
            Interactions::Built(list) => list.len(),
        }
    }

    /// Whether it has none.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its interaction at `index` (`< len()`), built now.
    pub(crate) fn interaction(
        &self,
        index: usize,
    ) -> anyhow::Result<Box<dyn V4Interaction + Send + Sync + RefUnwindSafe>> {
        match &self.interactions {
            Interactions::Text(list) => built(&self.name, index, &list[index]),
            Interactions::Built(list) => Ok(list[index].boxed_v4()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pact_read_as_text_reads_back_as_the_same_json() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../pacts")
                .join(uipath_identity_client::contract::pact_file_name()),
        )
        .unwrap();
        let whole: Value = serde_json::from_str(&text).unwrap();
        let lean: PactText = serde_json::from_str(&text).unwrap();
        assert_eq!(lean.interactions.as_ref().unwrap().len(), 5);
        assert_eq!(lean.into_value(), whole);
    }

    #[test]
    fn interactions_that_are_not_a_list_are_named() {
        // Removed when dropped, also when an assertion fails.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        std::fs::write(
            &file,
            r#"{"consumer":{"name":"c"},"provider":{"name":"p"},"interactions":{"a":[1]}}"#,
        )
        .unwrap();
        let error = discover(&[file]).unwrap_err().to_string();
        assert!(error.contains("it has no `interactions` list"), "{error}");
    }

    #[test]
    fn a_broken_interaction_is_refused_with_the_file() {
        // Removed when dropped, also when an assertion fails.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        std::fs::write(
            &file,
            r#"{"consumer":{"name":"c"},"provider":{"name":"p"},"interactions":[{"type":"Nonsense"}],"metadata":{"pactSpecification":{"version":"4.0"}}}"#,
        )
        .unwrap();
        let error = discover(std::slice::from_ref(&file))
            .unwrap_err()
            .to_string();
        assert!(error.contains("is not a pact file"), "{error}");
        assert!(error.contains("p.json"), "{error}");
    }
}
