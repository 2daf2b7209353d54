//! `verify --jobs`: interactions with throwaway users run concurrently, and
//! nothing a user sees depends on it. The same JUnit and JSON reports for
//! one job and the default; teardown that leaves nothing under faults and
//! signals; a 429 that pauses the whole run instead of failing it; a
//! broker's pacts verified from one pool and published per pact.

use std::path::Path;
use std::time::Duration;

use orchestrator_pact::emulator::{
    Deviation, Emulator, EmulatorConfig, EmulatorHandle, FaultRoute, FaultRule,
};
use serde_json::Value;
use uipath_identity_client::contract::PROVIDER;

use crate::broker_double::BrokerDouble;
use crate::fixtures::{Run, Running, ScratchDir, copied_pact, orchestrator_pact, start_emulator};
use crate::tenant::{CLIENT, CLIENT_SECRET, ORG, live_args, set_fault, tenant, users, users_at};
use crate::watched::{Exchange, WatchedEmulator};

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
async fn users_after(emulator: &impl Tenant) -> Vec<(String, String)> {
    emulator.state().faults.clear();
    users_at(&emulator.url()).await
}

/// An emulator of the tests here, served plain or behind a watch.
trait Tenant {
    fn url(&self) -> String;
    fn state(&self) -> &Emulator;
}

impl Tenant for EmulatorHandle {
    fn url(&self) -> String {
        self.url()
    }
    fn state(&self) -> &Emulator {
        &self.emulator
    }
}

impl Tenant for WatchedEmulator {
    fn url(&self) -> String {
        self.url()
    }
    fn state(&self) -> &Emulator {
        &self.emulator
    }
}

/// What the run prints (at `--loglevel info`) once a 429 has paused every
/// tenant call: from then on, no worker starts a request before the pause
/// ends.
const PAUSED: &str = "every tenant call of the run waits";

/// Runs the pacts in `pacts` with four jobs against `emulator`, whose
/// barrier is set, and releases it once the run says a 429 paused it; the
/// run passes all 20 interactions, after at least the pause. Gives the run
/// and how many users the tenant had when the pause began.
async fn through_a_pause(emulator: &WatchedEmulator, pacts: &Path) -> (Run, usize) {
    let started = tokio::time::Instant::now();
    let mut running = Running::start(args_for(
        &emulator.url(),
        pacts,
        &["--jobs", "4", "--loglevel", "info"],
    ));
    running
        .wait_for_line("the run did not take the 429 in", |l| l.contains(PAUSED))
        .await;
    let users_in_the_pause = emulator.emulator.store.len();
    emulator.release();
    let run = running.finish().await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("20 interactions: 20 verified"), "{run}");
    assert!(started.elapsed() >= Duration::from_secs(2), "{run}");
    (run, users_in_the_pause)
}

/// The one exchange the tenant answered 429.
fn refused(exchanges: &[Exchange]) -> &Exchange {
    let mut refused = exchanges.iter().filter(|e| e.status == Some(429));
    let first = refused.next().expect("the tenant answered 429");
    assert!(
        refused.next().is_none(),
        "more than one 429: {exchanges:#?}"
    );
    first
}

/// The requests that reached the tenant from the 429's answer until
/// `pause` later, one a line. The run takes the 429 in after the tenant
/// answered it, on the same monotonic clock, so a request the run started
/// once paused arrives after this window: what arrives in it was in flight
/// before.
fn reached_in_the_pause(exchanges: &[Exchange], pause: Duration) -> Vec<String> {
    let began = refused(exchanges).answered.unwrap();
    exchanges
        .iter()
        .filter(|e| e.arrived > began && e.arrived < began + pause)
        .map(|e| e.since(began))
        .collect()
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
    let emulator = WatchedEmulator::start(tenant(EmulatorConfig::default())).await;
    let before = users_at(&emulator.url()).await;
    let pacts = ScratchDir::new();
    copies(pacts.path(), 20, "automation-client");
    // Every verified request waits at the barrier until the signal is sent:
    // the run cannot get past its first four interactions before it, and
    // the tenant answers them once the run is told to stop (as a slow
    // tenant would).
    emulator.hold(|request, _| request.is(FaultRoute::ChangePassword));
    let running = Running::start(args_for(&emulator.url(), pacts.path(), &["--jobs", "4"]));
    emulator
        .wait_until("the run did not start four interactions", |log| {
            log.iter().filter(|e| e.held).count() == 4
        })
        .await;
    // Four interactions under way, each with its user.
    assert_eq!(emulator.emulator.store.len(), before.len() + 4);
    running.terminate();
    emulator.release();
    let run = running.finish().await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("interrupted"), "{run}");
    assert!(
        run.stderr
            .contains("everything it created on the tenant was removed"),
        "{run}"
    );
    assert_eq!(users_at(&emulator.url()).await, before, "{run}");
}

/// One 429 (Retry-After: 2) on reading a user back pauses every worker's
/// tenant calls, not only the one told: from the 429's answer until two
/// seconds later, at most one request per other worker reaches the tenant
/// (the one it had in flight when the pause began; without the pause, the
/// three other workers would go on through the other interactions), and
/// the users of the interactions under way are still there. The run then
/// passes.
#[tokio::test]
async fn a_429_pauses_every_worker_and_the_run_still_passes() {
    let emulator = WatchedEmulator::start(tenant(EmulatorConfig::default())).await;
    let before = users_at(&emulator.url()).await;
    let pacts = ScratchDir::new();
    copies(pacts.path(), 20, "automation-client");
    emulator.emulator.faults.add(
        "route=get-user,kind=429,retry-after=2,next=1"
            .parse()
            .unwrap(),
    );
    // What arrives once the 429 is answered waits until the run says it
    // took the 429 in: no worker gets more than one request through before
    // the pause is in force.
    emulator.hold(|_, before| before.iter().any(|e| e.status == Some(429)));
    let (run, users_in_the_pause) = through_a_pause(&emulator, pacts.path()).await;
    let exchanges = emulator.exchanges();
    let during = reached_in_the_pause(&exchanges, Duration::from_secs(2));
    assert!(
        during.len() <= 3 && users_in_the_pause > before.len(),
        "requests reached the tenant while it asked to wait: {during:#?}\n(users in the pause: {users_in_the_pause}, before: {}) {run}",
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
fn counted(emulator: &Emulator) -> u64 {
    let counter: FaultRule = COUNTER.parse().unwrap();
    let left = emulator
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
    assert_eq!(counted(&emulator.emulator), 5, "{rules:?} {run}");
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
/// back only once the run has taken the 429 in (it is answered to the
/// fourth verified request, of the two quick workers), so the two slow
/// workers come out of their set-up during the pause and go on to their
/// verified request with no tenant call in between: only the wait of the
/// verified request holds them (and only the verified request's 429
/// reaching the run's throttle holds the quick worker's set-up calls). From
/// the 429's answer until two seconds later, the only request that may
/// reach the tenant is the one the other quick worker had in flight. The
/// run then passes.
#[tokio::test]
async fn a_429_to_one_verified_request_pauses_the_other_workers() {
    let emulator = WatchedEmulator::start(tenant(EmulatorConfig::default())).await;
    let before = users_at(&emulator.url()).await;
    let pacts = ScratchDir::new();
    copies(pacts.path(), 20, "automation-client");
    let refuse = "route=change-password,kind=429,retry-after=2,next=1";
    for rule in [
        "route=change-password,kind=delay,delay-ms=1,next=3",
        refuse,
        COUNTER,
    ] {
        emulator.emulator.faults.add(rule.parse().unwrap());
    }
    // The first two users read back, and whatever arrives once the 429 is
    // answered, wait until the run says it took the 429 in.
    emulator.hold(|request, before| {
        let read_back = before.iter().filter(|e| e.is(FaultRoute::GetUser)).count();
        (request.is(FaultRoute::GetUser) && read_back < 2)
            || before.iter().any(|e| e.status == Some(429))
    });
    let (run, _) = through_a_pause(&emulator, pacts.path()).await;
    let exchanges = emulator.exchanges();
    let during = reached_in_the_pause(&exchanges, Duration::from_secs(2));
    assert!(
        during.len() <= 1,
        "requests reached the tenant while it asked to wait: {during:#?} {run}"
    );
    // The slow workers' verified requests came after the pause.
    let slow: Vec<&str> = exchanges
        .iter()
        .filter(|e| e.held && e.is(FaultRoute::GetUser))
        .map(|e| e.path.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(slow.len(), 2, "{exchanges:#?}");
    let pause_began = refused(&exchanges).answered.unwrap();
    for user in slow {
        let verified = exchanges
            .iter()
            .find(|e| e.is(FaultRoute::ChangePassword) && e.path.contains(user))
            .unwrap_or_else(|| panic!("no verified request for {user}: {run}"));
        assert!(
            verified.arrived >= pause_began + Duration::from_secs(2),
            "a slow worker's verified request came in the pause: {} {run}",
            verified.since(pause_began)
        );
    }
    // Three before the 429, then the one refused sent again and the 16
    // others.
    assert_eq!(counted(&emulator.emulator), 17, "{run}");
    assert_eq!(users_after(&emulator).await, before, "{run}");
}
