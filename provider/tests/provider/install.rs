//! The installed binary, run outside the checkout: the contract built into
//! it (`pacts/` at build time), writing it out, and what overrides it.

use std::path::PathBuf;

use base64::Engine;
use serde_json::Value;
use uipath_identity_client::contract::{REFUSES_AN_ANONYMOUS_CALL, pact_file_name};

use crate::broker_double::BrokerDouble;
use crate::fixtures::{
    ScratchDir, committed_pact, interaction_mut, orchestrator_pact_in, pacts_dir,
};

/// The committed pact files (what the binary was built with), sorted.
fn committed_pacts() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(pacts_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no pacts in {}", pacts_dir().display());
    files
}

/// How `verify` and `pacts` name a pact file: consumer, provider,
/// interaction count and the first 12 hex digits of its SHA-256.
fn description(file: &PathBuf) -> String {
    let bytes = std::fs::read(file).unwrap();
    let pact: Value = serde_json::from_slice(&bytes).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let hash: String = digest.as_ref()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{} -> {}, {} interactions, sha256 {hash}",
        pact["consumer"]["name"].as_str().unwrap(),
        pact["provider"]["name"].as_str().unwrap(),
        pact["interactions"].as_array().unwrap().len()
    )
}

/// The committed pact with the no-token interaction expecting 418, which
/// the emulator never answers, written as `dir/pacts/NAME`.
fn broken_pact_in(dir: &std::path::Path) -> PathBuf {
    let mut pact = committed_pact();
    let interaction = interaction_mut(&mut pact, REFUSES_AN_ANONYMOUS_CALL);
    interaction["response"]["status"] = 418.into();
    let folder = dir.join("pacts");
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(pact_file_name());
    std::fs::write(&path, serde_json::to_vec_pretty(&pact).unwrap()).unwrap();
    path
}

#[tokio::test]
async fn verify_with_no_flags_in_an_empty_folder_verifies_the_built_in_contract_and_names_it() {
    let empty = ScratchDir::new();
    let run = orchestrator_pact_in(empty.path(), ["verify"]).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("the contract holds"), "{run}");
    for file in committed_pacts() {
        let named = format!(
            "the contract built into this binary: {}",
            description(&file)
        );
        assert!(run.stderr.contains(&named), "expected `{named}`{run}");
    }
}

#[tokio::test]
async fn pacts_lists_the_built_in_contract() {
    let empty = ScratchDir::new();
    let run = orchestrator_pact_in(empty.path(), ["pacts"]).await;
    assert_eq!(run.code, 0, "{run}");
    for file in committed_pacts() {
        assert!(run.stdout.contains(&description(&file)), "{run}");
    }
}

#[tokio::test]
async fn pacts_out_writes_the_built_in_pact_files_byte_for_byte() {
    let scratch = ScratchDir::new();
    let out = scratch.path().join("exported/contract");
    let run = orchestrator_pact_in(scratch.path(), ["pacts", "--out", out.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{run}");
    let committed = committed_pacts();
    let mut written: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    written.sort();
    let names: Vec<_> = committed
        .iter()
        .map(|f| f.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(written, names, "{run}");
    for file in &committed {
        let copy = out.join(file.file_name().unwrap());
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            std::fs::read(file).unwrap(),
            "{}",
            copy.display()
        );
        assert!(run.stdout.contains(&copy.display().to_string()), "{run}");
    }
    // The written files verify as the built-in contract does.
    let again =
        orchestrator_pact_in(scratch.path(), ["verify", "--pacts", out.to_str().unwrap()]).await;
    assert_eq!(again.code, 0, "{again}");
}

#[tokio::test]
async fn pacts_out_to_a_place_that_cannot_be_a_folder_is_an_error_naming_it() {
    let scratch = ScratchDir::new();
    let file = scratch.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let run =
        orchestrator_pact_in(scratch.path(), ["pacts", "--out", file.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("error: cannot write"), "{run}");
    assert!(run.stderr.contains("a-file"), "{run}");
}

#[tokio::test]
async fn pacts_flag_overrides_the_built_in_contract() {
    let scratch = ScratchDir::new();
    let broken = broken_pact_in(&scratch.path().join("elsewhere"));
    let run = orchestrator_pact_in(
        scratch.path(),
        ["verify", "--pacts", broken.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.contains("expected 418"), "{run}");
    assert!(!run.output().contains("built into this binary"), "{run}");
}

#[tokio::test]
async fn a_pacts_folder_in_the_working_directory_comes_before_the_built_in_contract() {
    let scratch = ScratchDir::new();
    broken_pact_in(scratch.path());
    let run = orchestrator_pact_in(scratch.path(), ["verify"]).await;
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.contains("expected 418"), "{run}");
    assert!(!run.output().contains("built into this binary"), "{run}");
}

#[tokio::test]
async fn publish_with_no_pacts_flag_publishes_the_built_in_contract() {
    let broker = BrokerDouble::start().await;
    let empty = ScratchDir::new();
    let run = orchestrator_pact_in(
        empty.path(),
        [
            "publish",
            "--broker-url",
            &broker.url(),
            "--consumer-app-version",
            "1.0.0",
            "--branch",
            "main",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    let publication = broker
        .received()
        .into_iter()
        .find(|r| r.path.ends_with("contracts/publish"))
        .expect("a publication");
    let body: Value = serde_json::from_str(&publication.body).unwrap();
    let contracts = body["contracts"].as_array().unwrap();
    let committed = committed_pacts();
    assert_eq!(contracts.len(), committed.len(), "{run}");
    for (contract, file) in contracts.iter().zip(&committed) {
        let content = base64::engine::general_purpose::STANDARD
            .decode(contract["content"].as_str().unwrap())
            .unwrap();
        assert_eq!(content, std::fs::read(file).unwrap(), "{}", file.display());
    }
}
