//! `verify --jobs`: interactions with throwaway users run concurrently, and
//! nothing a user sees depends on it. The same JUnit and JSON reports for
//! one job and the default; teardown that leaves nothing under faults and
//! signals; a 429 that pauses the whole run instead of failing it; a
//! broker's pacts verified from one pool and published per pact.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use orchestrator_pact::emulator::{Deviation, EmulatorConfig, EmulatorHandle, FaultRule};
use serde_json::Value;
use uipath_identity_client::contract::PROVIDER;

use crate::broker_double::BrokerDouble;
use crate::fixtures::{Run, ScratchDir, copied_pact, http, orchestrator_pact, start_emulator};
use crate::tenant::{CLIENT, CLIENT_SECRET, ORG, live_args, set_fault, tenant, users};

/// Writes into `dir` the committed pact with its interactions copied until
/// there are `n` ([`copied_pact`]); `consumer` renames its consumer.
fn copies(dir: &Path, n: usize, consumer: &str) {
    let mut pact = copied_pact(n);
    pact["consumer"]["name"] = consumer.into();
    std::fs::write(
        dir.join(format!("{consumer}-{PROVIDER}.json")),
        serde_json::to_vec_pretty(&pact).unwrap(),
    )
    .unwrap();
}

/// The tenant arguments of `live_args`, for the pacts in `pacts`.
fn args_for(url: &str, pacts: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = live_args(url, extra);
    args[2] = pacts.to_string_lossy().into_owned();
    args
}

/// The JUnit and JSON reports a run wrote into `dir`, their timings blanked.
fn reports(dir: &Path) -> (String, Value) {
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let time = regex::Regex::new(r#"time="[0-9.]+""#).unwrap();
    let junit = time.replace_all(&junit, r#"time="""#).into_owned();
    let mut json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    for i in json["interactions"].as_array_mut().unwrap() {
        i.as_object_mut().unwrap().remove("durationMs");
    }
    // The embedded emulator listens on a new port each run.
    let port = regex::Regex::new(r"127\.0\.0\.1:[0-9]+").unwrap();
    let target = port.replace(json["target"].as_str().unwrap(), "127.0.0.1:PORT");
    json["target"] = target.into_owned().into();
    (junit, json)
}

/// `--junit` and `--json` into `dir`.
fn report_flags(dir: &Path) -> [String; 4] {
    [
        "--junit".into(),
        dir.join("junit.xml").to_string_lossy().into_owned(),
        "--json".into(),
        dir.join("report.json").to_string_lossy().into_owned(),
    ]
}

/// Runs `args` plus the report flags once with `--jobs 1` and once with
/// the default; both must exit `code`; gives both runs' reports.
async fn one_job_and_the_default(args: &[String], code: i32) -> [(String, Value); 2] {
    let mut out = Vec::new();
    for jobs in [&["--jobs", "1"][..], &[]] {
        let dir = ScratchDir::new();
        let mut full = args.to_vec();
        full.extend(report_flags(dir.path()));
        full.extend(jobs.iter().map(|s| (*s).to_owned()));
        let run = orchestrator_pact(&full).await;
        assert_eq!(run.code, code, "{run}");
        out.push(reports(dir.path()));
    }
    [out.remove(0), out.remove(0)]
}

#[tokio::test]
async fn one_job_and_the_default_write_the_same_reports_on_the_embedded_emulator() {
    let pacts = ScratchDir::new();
    copies(pacts.path(), 20, "automation-client");
    let args: Vec<String> = ["verify", "--pacts", pacts.path().to_str().unwrap()]
        .map(String::from)
        .into();
    let [one, default] = one_job_and_the_default(&args, 0).await;
    assert_eq!(one.1["interactions"].as_array().unwrap().len(), 20);
    assert_eq!(one, default);
}

#[tokio::test]
async fn one_job_and_the_default_write_the_same_reports_with_throwaway_users() {
    // A tenant that accepts a wrong old password: the four copies of that
    // interaction fail, the sixteen others verify.
    let emulator = start_emulator(tenant(EmulatorConfig {
        deviation: Some(Deviation::WrongPasswordSucceeds),
        ..EmulatorConfig::default()
    }))
    .await;
    let before = users(&emulator).await;
    let pacts = ScratchDir::new();
    copies(pacts.path(), 20, "automation-client");
    let args = args_for(&emulator.url(), pacts.path(), &[]);
    let [one, default] = one_job_and_the_default(&args, 1).await;
    let failed: Vec<&str> = one.1["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["result"] == "failed")
        .map(|i| i["description"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 4, "{:#}", one.1);
    assert!(
        failed.iter().all(|d| d.contains("wrong old password")),
        "{failed:?}"
    );
    assert_eq!(one.0, default.0, "the JUnit reports differ");
    assert_eq!(one.1, default.1, "the JSON reports differ");
    assert_eq!(users(&emulator).await, before);
}

/// The tenant's users, its fault rules cleared first so that the listing
/// works whatever they were.
async fn users_after(emulator: &EmulatorHandle) -> Vec<(String, String)> {
    http()
        .delete(format!("{}/_admin/faults", emulator.url()))
        .send()
        .await
        .unwrap();
    users(emulator).await
}

#[rstest::rstest]
#[case::deletes_fail_with_503("route=delete-user,kind=503,next=6", 0)]
#[case::connections_dropped_on_delete("route=delete-user,kind=drop,next=3", 0)]
#[case::creates_fail_with_503("route=create-user,kind=503,next=6", 0)]
#[case::a_429_storm_on_creates("route=create-user,kind=429,retry-after=1,next=8", 0)]
#[case::creates_always_fail("route=create-user,kind=503", 2)]
#[tokio::test]
async fn concurrent_teardown_under_faults_leaves_nothing(#[case] fault: &str, #[case] code: i32) {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let pacts = ScratchDir::new();
    copies(pacts.path(), 20, "automation-client");
    set_fault(&emulator, fault).await;
    let run = orchestrator_pact(args_for(
        &emulator.url(),
        pacts.path(),
        &["--jobs", "4", "--setup-retries", "3"],
    ))
    .await;
    assert_eq!(run.code, code, "{run}");
    if code == 0 {
        assert!(run.stdout.contains("20 interactions: 20 verified"), "{run}");
    }
    assert_eq!(users_after(&emulator).await, before, "{run}");
}

/// Deletes that always fail: every user of the concurrent run is listed by
/// id as left, exactly those the tenant still has.
#[tokio::test]
async fn what_concurrent_teardowns_could_not_delete_is_listed_exactly() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let pacts = ScratchDir::new();
    copies(pacts.path(), 12, "automation-client");
    set_fault(&emulator, "route=delete-user,kind=503").await;
    let run = orchestrator_pact(args_for(
        &emulator.url(),
        pacts.path(),
        &["--jobs", "4", "--setup-retries", "1"],
    ))
    .await;
    assert_eq!(run.code, 0, "{run}");
    let left: Vec<(String, String)> = users_after(&emulator)
        .await
        .into_iter()
        .filter(|u| !before.contains(u))
        .collect();
    assert_eq!(left.len(), 12, "{run}");
    for (id, name) in &left {
        assert!(
            run.stdout.contains(id) && run.stderr.contains(id) && run.stderr.contains(name),
            "leftover {id} not listed: {run}"
        );
    }
    let listed = run.stderr.matches("was not deleted").count();
    assert_eq!(listed, 12, "{run}");
}

// SIGTERM is Unix's.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_in_the_middle_of_a_concurrent_run_still_removes_every_user() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let pacts = ScratchDir::new();
    copies(pacts.path(), 20, "automation-client");
    set_fault(
        &emulator,
        "route=change-password,kind=delay,delay-ms=1500,next=6",
    )
    .await;
    let child = crate::fixtures::clean_command(env!("CARGO_BIN_EXE_orchestrator-pact"))
        .args(args_for(&emulator.url(), pacts.path(), &["--jobs", "4"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Wait until four interactions are under way, each with its user.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while emulator.emulator.store.len() < before.len() + 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run did not start four interactions"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    let output = tokio::time::timeout(Duration::from_secs(40), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let run = Run {
        args: vec!["verify --jobs 4 (SIGTERM)".into()],
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("interrupted"), "{run}");
    assert!(
        run.stderr
            .contains("everything it created on the tenant was removed"),
        "{run}"
    );
    assert_eq!(users_after(&emulator).await, before, "{run}");
}

/// One 429 (Retry-After: 2) on reading a user back pauses every worker's
/// tenant calls, not only the one told: while the pause lasts no user is
/// deleted (without the pause, the three other workers would go on through
/// the other interactions, deleting their users). The run then passes.
#[tokio::test]
async fn a_429_pauses_every_worker_and_the_run_still_passes() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let pacts = ScratchDir::new();
    copies(pacts.path(), 20, "automation-client");
    set_fault(&emulator, "route=get-user,kind=429,retry-after=2,next=1").await;
    let started = tokio::time::Instant::now();
    let run = orchestrator_pact(args_for(&emulator.url(), pacts.path(), &["--jobs", "4"]));
    let watch = async {
        // When the 429 was answered, then how many users the tenant has
        // through most of the pause.
        while !emulator.emulator.faults.list().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut seen = Vec::new();
        for _ in 0..14 {
            seen.push(emulator.emulator.store.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        seen
    };
    let (run, seen) = tokio::join!(run, watch);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("20 interactions: 20 verified"), "{run}");
    assert!(started.elapsed() >= Duration::from_secs(2), "{run}");
    assert!(
        seen.windows(2).all(|w| w[1] >= w[0]) && seen[0] > before.len(),
        "users were deleted while the tenant asked to wait: {seen:?} (before: {}) {run}",
        before.len()
    );
    assert_eq!(users_after(&emulator).await, before, "{run}");
}

#[tokio::test]
async fn jobs_that_are_not_a_positive_number_or_with_an_existing_user_exit_2() {
    for (jobs, says) in [
        ("0", "at least one interaction"),
        ("many", "is not a number of interactions"),
    ] {
        let run = orchestrator_pact(["verify", "--jobs", jobs]).await;
        assert_eq!(run.code, 2, "{run}");
        assert!(run.stderr.contains(says), "{run}");
        let run = crate::fixtures::orchestrator_pact_with_env(
            ["verify"],
            &[("ORCHESTRATOR_PACT_JOBS", jobs)],
        )
        .await;
        assert_eq!(run.code, 2, "{run}");
        assert!(run.stderr.contains(says), "{run}");
    }
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = emulator.emulator.store.len();
    let run = orchestrator_pact(live_args(
        &emulator.url(),
        &[
            "--test-user-id",
            "5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b",
            "--test-user-password",
            "Existing-passw0rd",
            "--jobs",
            "3",
        ],
    ))
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr
            .contains("`--jobs 3` cannot be used with an existing user"),
        "{run}"
    );
    assert_eq!(emulator.emulator.store.len(), before, "{run}");
}

/// Two consumers' pacts from a broker, verified from one pool of workers
/// against a tenant with throwaway users: each pact's result is published
/// on its own, with its own verdict, as with one job.
#[tokio::test]
async fn a_brokers_pacts_are_verified_concurrently_and_published_per_pact() {
    let broker = BrokerDouble::start().await;
    let good = ScratchDir::new();
    copies(good.path(), 10, "automation-client");
    let broken = ScratchDir::new();
    copies(broken.path(), 10, "batch-client");
    // One interaction of the second consumer expects 418, which no tenant
    // answers.
    let file = broken.path().join("batch-client-uipath-identity.json");
    let mut pact: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    pact["interactions"][1]["response"]["status"] = 418.into();
    std::fs::write(&file, serde_json::to_vec(&pact).unwrap()).unwrap();
    for (dir, version) in [(&good, "c1"), (&broken, "b1")] {
        let published = orchestrator_pact([
            "publish",
            "--broker-url",
            &broker.url(),
            "--pacts",
            dir.path().to_str().unwrap(),
            "--consumer-app-version",
            version,
            "--branch",
            "main",
        ])
        .await;
        assert_eq!(published.code, 0, "{published}");
    }
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    for (n, jobs) in [("4", "t4"), ("1", "t1")] {
        let run = orchestrator_pact([
            "verify",
            "--broker-url",
            &broker.url(),
            "--base-url",
            &format!("{}/myorg/mytenant/", emulator.url()),
            "--client-id",
            CLIENT,
            "--client-secret",
            CLIENT_SECRET,
            "--organization-id",
            ORG,
            "--provider-version",
            jobs,
            "--publish",
            "--jobs",
            n,
        ])
        .await;
        assert_eq!(run.code, 1, "{run}");
        let mut results: Vec<_> = broker
            .verifications()
            .into_iter()
            .filter(|v| v.provider_version == jobs)
            .collect();
        results.sort_by(|a, b| a.consumer.cmp(&b.consumer));
        let verdicts: Vec<(&str, bool, usize)> = results
            .iter()
            .map(|v| {
                let failed = v.body["testResults"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|t| t["success"] == false)
                    .count();
                (v.consumer.as_str(), v.success, failed)
            })
            .collect();
        assert_eq!(
            verdicts,
            [("automation-client", true, 0), ("batch-client", false, 1)],
            "{run}"
        );
        let first = run.stdout.find("automation-client").unwrap();
        let second = run.stdout.find("batch-client").unwrap();
        assert!(first < second, "the pacts are reported out of order: {run}");
        assert_eq!(users(&emulator).await, before, "{run}");
    }
}

/// A fault rule that changes nothing (a 1 ms delay) on the next 1000
/// change-password requests: what is left of it counts the requests that
/// reached the tenant's handler after the 429 rules ahead of it ran out.
const COUNTER: &str = "route=change-password,kind=delay,delay-ms=1,next=1000";

/// How many change-password requests the `COUNTER` rule has seen so far.
fn counted(emulator: &EmulatorHandle) -> u64 {
    let counter: FaultRule = COUNTER.parse().unwrap();
    let left = emulator
        .emulator
        .faults
        .list()
        .into_iter()
        .find(|r| {
            FaultRule {
                next: None,
                ..r.clone()
            } == FaultRule {
                next: None,
                ..counter.clone()
            }
        })
        .and_then(|r| r.next)
        .expect("the counter rule is in force");
    1000 - left
}

/// The tenant answers 429 (Retry-After: 1) to the first two verified
/// change-password requests: the relay waits and sends them again, so the
/// contract is judged on the tenant's real answers and the run passes.
/// The emulator saw seven change-password requests: the two refused and
/// one for each of the five interactions.
#[tokio::test]
async fn a_429_to_a_verified_request_is_retried_after_the_pause_and_the_run_passes() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    set_fault(
        &emulator,
        "route=change-password,kind=429,retry-after=1,next=2",
    )
    .await;
    set_fault(&emulator, COUNTER).await;
    let started = tokio::time::Instant::now();
    let run = orchestrator_pact(live_args(&emulator.url(), &["--jobs", "4"])).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("5 interactions: 5 verified"), "{run}");
    let rules = emulator.emulator.faults.list();
    assert_eq!(rules.len(), 1, "both 429s were answered: {rules:?} {run}");
    assert_eq!(counted(&emulator), 5, "{rules:?} {run}");
    assert!(started.elapsed() >= Duration::from_secs(1), "{run}");
    assert_eq!(users_after(&emulator).await, before, "{run}");
}

/// A tenant that answers every verified request 429: the contract was not
/// checked (exit 2, not "does not hold"), the message names the rate limit,
/// the attempts and the next step; each request was sent the policy's
/// three times (`--setup-retries 2`), and no throwaway user is left.
#[tokio::test]
async fn a_verified_request_still_rate_limited_is_not_checked_and_exits_2() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    // Counts the 429s: 1000 is more than the run sends.
    set_fault(
        &emulator,
        "route=change-password,kind=429,retry-after=1,next=1000",
    )
    .await;
    let run = orchestrator_pact(live_args(
        &emulator.url(),
        &["--jobs", "4", "--setup-retries", "2"],
    ))
    .await;
    assert_eq!(run.code, 2, "{run}");
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(
        out.contains("429 Too Many Requests (rate limit) after 3 attempts")
            && out.contains("the contract was not checked")
            && out.contains("--jobs 1"),
        "{run}"
    );
    assert!(!out.contains("does not hold"), "{run}");
    let left = emulator.emulator.faults.list()[0].next;
    assert_eq!(
        left,
        Some(1000 - 5 * 3),
        "each request is sent three times: {run}"
    );
    assert_eq!(users_after(&emulator).await, before, "{run}");
}

/// With `--jobs 4`, one 429 (Retry-After: 2) to a verified request pauses
/// the whole run: while it lasts no other verified request reaches the
/// tenant and no user is created or deleted. The first two users are read
/// back 500 ms late, so when the 429 is answered (to the fourth verified
/// request, of the two quick workers) the two slow workers are in their
/// set-up and go on to their verified request during the pause, with no
/// tenant call in between: only the relay's wait holds them (and only the
/// relay telling the run's throttle holds the set-up calls). The run then
/// passes.
#[tokio::test]
async fn a_429_to_one_verified_request_pauses_the_other_workers() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let pacts = ScratchDir::new();
    copies(pacts.path(), 20, "automation-client");
    set_fault(&emulator, "route=get-user,kind=delay,delay-ms=500,next=2").await;
    set_fault(
        &emulator,
        "route=change-password,kind=delay,delay-ms=1,next=3",
    )
    .await;
    let refuse = "route=change-password,kind=429,retry-after=2,next=1";
    set_fault(&emulator, refuse).await;
    set_fault(&emulator, COUNTER).await;
    let refuse: FaultRule = refuse.parse().unwrap();
    let started = tokio::time::Instant::now();
    let run = orchestrator_pact(args_for(&emulator.url(), pacts.path(), &["--jobs", "4"]));
    let watch = async {
        // When the 429 was answered (the requests then in flight land
        // within a few milliseconds), then what reaches the tenant through
        // most of the pause.
        while emulator.emulator.faults.list().contains(&refuse) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut seen = Vec::new();
        for _ in 0..17 {
            seen.push((counted(&emulator), emulator.emulator.store.len()));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        seen
    };
    let (run, seen) = tokio::join!(run, watch);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("20 interactions: 20 verified"), "{run}");
    assert!(started.elapsed() >= Duration::from_secs(2), "{run}");
    assert!(
        seen.windows(2).all(|w| w[1] == w[0]),
        "requests reached the tenant while it asked to wait (change-passwords, users): {seen:?} {run}"
    );
    // Three before the 429, then the one refused sent again and the 16
    // others.
    assert_eq!(counted(&emulator), 17, "{run}");
    assert_eq!(users_after(&emulator).await, before, "{run}");
}
