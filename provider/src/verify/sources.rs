//! Finding and checking the pact files to verify.

use std::path::{Path, PathBuf};

use std::panic::RefUnwindSafe;

use pact_models::PactSpecification;
use pact_models::pact::Pact;
use pact_models::v4::interaction::{V4Interaction, interaction_from_json};
use pact_models::v4::pact::V4Pact;
use pact_verifier::PactSource;
use serde_json::Value;

/// A pact file that parsed and names its consumer and provider.
#[derive(Clone, Debug)]
pub struct PactFile {
    /// Where it is.
    pub path: PathBuf,
    /// The consumer's name.
    pub consumer: String,
    /// The provider's name.
    pub provider: String,
    /// How many interactions it holds.
    pub interactions: usize,
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
                .map(|p| PactSource::File(p.path.to_string_lossy().into_owned()))
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
        "`{0}` does not exist: pass a pact file or a folder of them with `--pacts`, or record them with `cargo test -p consumer`"
    )]
    Missing(PathBuf),
    /// A folder with no pact files in it.
    #[error(
        "no pact files (*.json) in `{0}`: record them with `cargo test -p consumer` and copy them there with `ci/record-pacts.sh`, or pass `--pacts PATH`"
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
}

/// Every pact file named by `paths`: files as they are, folders for their
/// `*.json` files (sorted, not recursive).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PactFile>, SourceError> {
    Ok(discover_parsed(paths)?
        .into_iter()
        .map(|(file, _)| file)
        .collect())
}

/// [`discover`], with each file's JSON as read, for a caller that reads
/// the interactions itself.
pub fn discover_parsed(paths: &[PathBuf]) -> Result<Vec<(PactFile, Value)>, SourceError> {
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

fn read(path: &Path) -> Result<(PactFile, Value), SourceError> {
    let text = std::fs::read(path).map_err(|e| SourceError::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let not_a_pact = |reason: String| SourceError::NotAPact {
        path: path.to_owned(),
        reason,
    };
    let json: Value =
        serde_json::from_slice(&text).map_err(|e| not_a_pact(format!("invalid JSON ({e})")))?;
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
    LoadedPact::check(&path.to_string_lossy(), &json).map_err(|e| not_a_pact(format!("{e:#}")))?;
    let file = PactFile {
        path: path.to_owned(),
        consumer,
        provider,
        interactions,
    };
    Ok((file, json))
}

/// A pact as the replay loop holds it: the pact without its interactions
/// (all `match_response` needs of it), and the interactions, of a V4 pact
/// kept as JSON and built one at a time, so that a pact of thousands of
/// interactions is never held as models all at once (they take many
/// times the size of their JSON).
pub struct LoadedPact {
    /// The pact, without its interactions.
    pub pact: Box<dyn Pact + Send + Sync + RefUnwindSafe>,
    name: String,
    interactions: Interactions,
}

enum Interactions {
    Json(Vec<Value>),
    Built(Vec<Box<dyn V4Interaction + Send + Sync + RefUnwindSafe>>),
}

impl LoadedPact {
    /// Loads `json` (from `name`) as the pact library would, checking every
    /// interaction.
    pub fn from_json(name: &str, mut json: Value) -> anyhow::Result<Self> {
        let pact = if is_v4(name, &json) {
            let list = match json.get_mut("interactions").map(Value::take) {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            };
            for (index, interaction) in list.iter().enumerate() {
                interaction_from_json(name, index, interaction)?;
            }
            Self {
                pact: Box::new(V4Pact::pact_from_json(&json, name)?),
                name: name.to_owned(),
                interactions: Interactions::Json(list),
            }
        } else {
            let mut pact = pact_models::pact::load_pact_from_json(name, &json)?.as_v4_pact()?;
            let list = std::mem::take(&mut pact.interactions);
            Self {
                pact: Box::new(pact),
                name: name.to_owned(),
                interactions: Interactions::Built(list),
            }
        };
        Ok(pact)
    }

    /// Checks that the pact library loads `json` (from `name`), building
    /// one interaction at a time.
    pub fn check(name: &str, json: &Value) -> anyhow::Result<()> {
        if !is_v4(name, json) {
            return pact_models::pact::load_pact_from_json(name, json).map(drop);
        }
        let Value::Object(map) = json else {
            anyhow::bail!(
                "Failed to parse Pact JSON from source '{name}' - it is not a valid pact file"
            );
        };
        let without: serde_json::Map<String, Value> = map
            .iter()
            .filter(|(key, _)| *key != "interactions")
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        V4Pact::pact_from_json(&Value::Object(without), name)?;
        if let Some(Value::Array(list)) = json.get("interactions") {
            for (index, interaction) in list.iter().enumerate() {
                interaction_from_json(name, index, interaction)?;
            }
        }
        Ok(())
    }

    /// How many interactions it has.
    pub fn len(&self) -> usize {
        match &self.interactions {
            Interactions::Json(list) => list.len(),
            Interactions::Built(list) => list.len(),
        }
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its interaction at `index` (`< len()`), built now.
    pub fn interaction(
        &self,
        index: usize,
    ) -> anyhow::Result<Box<dyn V4Interaction + Send + Sync + RefUnwindSafe>> {
        match &self.interactions {
            Interactions::Json(list) => interaction_from_json(&self.name, index, &list[index]),
            Interactions::Built(list) => Ok(list[index].boxed_v4()),
        }
    }
}

fn is_v4(name: &str, json: &Value) -> bool {
    json.is_object()
        && pact_models::pact::determine_spec_version(
            name,
            &pact_models::pact::parse_meta_data(json),
        ) == PactSpecification::V4
}
