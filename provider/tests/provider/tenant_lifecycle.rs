//! The tenant's lifecycle on a real, imperfect tenant (issue 10): an
//! existing user never gets a wrong password from the harness and has its
//! password set back by an administrator's `PUT` (by `cleanup` too); absurd
//! token lifetimes; listings that never end; a signal while a teardown is in
//! flight; a create that answers 200 and creates nothing.
//!
//! The tenant double is the emulator behind one middleware that misbehaves
//! on the routes a test names, over real sockets on 127.0.0.1.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use orchestrator_pact::emulator::SeedUser;
use orchestrator_pact::emulator::{Deviation, Emulator, EmulatorConfig};
use orchestrator_pact::emulator::{FaultRoute, classify};
use rstest::rstest;
use serde_json::{Value, json};
use tokio::sync::Notify;
use uipath_identity_client::UserId;

use crate::fixtures::{
    Run, finish, http, orchestrator_pact, orchestrator_pact_command, start_emulator,
};
use crate::tenant::{CLIENT, CLIENT_SECRET, ORG, live_args, tenant};

/// How the double departs from the emulator's answers.
#[derive(Clone, Default)]
struct Misbehaviour {
    /// Answer `connect/token` with these bodies (status 200), one per
    /// request, the last one again once they run out.
    token_bodies: Vec<Value>,
    /// Token requests so far.
    token_requests: Arc<std::sync::atomic::AtomicUsize>,
    /// Answer `POST api/User` with success and create nothing.
    create_without_creating: bool,
    /// Answer the user listing with pages of this kind.
    list: Option<Pages>,
    /// Hold each user `DELETE` this long before doing it, telling the test
    /// when one arrives; if the client goes away first, the server may drop
    /// the work with the connection, as some tenants do.
    slow_delete: Option<(Duration, Arc<Notify>)>,
}

/// Listings that never end by themselves.
#[derive(Clone, Copy)]
enum Pages {
    /// The same page whatever `skip` says, with one throwaway user.
    SameEveryTime,
    /// A hundred users never listed before, on every page.
    Endless,
}

/// A user id the same-page listing always answers with.
const STUCK: &str = "5e5e5e5e-0000-4000-8000-000000000001";
/// More users than any listing should try to read.
const BILLION: u64 = 1_000_000_000;

struct Double {
    url: String,
    emulator: Arc<Emulator>,
    /// Token requests the double answered.
    token_requests: Arc<std::sync::atomic::AtomicUsize>,
}

async fn misbehave(State(m): State<Arc<Misbehaviour>>, request: Request, next: Next) -> Response {
    let route = classify(request.method(), request.uri().path());
    match (route, m.token_bodies.last(), m.list, &m.slow_delete) {
        (Some(FaultRoute::Token), Some(last), _, _) => {
            let n = m
                .token_requests
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            axum::Json(m.token_bodies.get(n).unwrap_or(last).clone()).into_response()
        }
        (Some(FaultRoute::CreateUser), ..) if m.create_without_creating => {
            axum::Json(json!({ "succeeded": true, "errors": [] })).into_response()
        }
        (Some(FaultRoute::ListUsers), _, Some(pages), _) => {
            let results: Vec<Value> = match pages {
                Pages::SameEveryTime => {
                    vec![json!({ "id": STUCK, "userName": "orchestrator-pact-stuck-1" })]
                }
                Pages::Endless => (0..100)
                    .map(|n| json!({ "id": uuid::Uuid::new_v4(), "userName": format!("someone-{n}") }))
                    .collect(),
            };
            axum::Json(json!({ "totalCount": BILLION, "results": results })).into_response()
        }
        (Some(FaultRoute::DeleteUser), _, _, Some((delay, arrived))) => {
            arrived.notify_one();
            tokio::time::sleep(*delay).await;
            next.run(request).await
        }
        _ => next.run(request).await,
    }
}

async fn start_double(config: EmulatorConfig, misbehaviour: Misbehaviour) -> Double {
    let emulator = Emulator::new(config);
    let token_requests = misbehaviour.token_requests.clone();
    let app = orchestrator_pact::emulator::app(emulator.clone()).layer(
        axum::middleware::from_fn_with_state(Arc::new(misbehaviour), misbehave),
    );
    let url = format!("http://{}", crate::doubles::serve(app).await);
    Double {
        url,
        emulator,
        token_requests,
    }
}

/// The names of the users the tenant holds.
fn user_names(emulator: &Emulator) -> Vec<String> {
    let mut names: Vec<String> = emulator
        .store
        .all()
        .into_iter()
        .map(|u| u.user_name)
        .collect();
    names.sort();
    names
}

const EXISTING_PASSWORD: &str = "Existing-passw0rd";

fn with_existing_user(extra: EmulatorConfig) -> (EmulatorConfig, UserId) {
    let id = UserId::random();
    let mut config = tenant(extra);
    config.users.push(SeedUser {
        id: *id.as_uuid(),
        password: EXISTING_PASSWORD.into(),
        user_name: Some("ci-user".into()),
        organization: None,
    });
    (config, id)
}

/// Without `--allow-lockout-risk` no request with a wrong old password
/// reaches the existing user, whether the contract holds or not; with it,
/// exactly the one interaction meant to send one. The original code sent 2
/// (passing), 4 (failing) and more with the flag: its teardown "restored"
/// the password by guessing after interactions that never changed it.
#[rstest]
#[case::passing(None, false, 0, 0)]
#[case::failing(Some(Deviation::ValidationErrorsAsList), false, 1, 0)]
#[case::passing_with_lockout_risk(None, true, 0, 1)]
#[case::failing_with_lockout_risk(Some(Deviation::ValidationErrorsAsList), true, 1, 1)]
// The request with no token changes the password: it is set back all the same.
#[case::failing_by_changing_it_anonymously(Some(Deviation::AnonymousAllowed), false, 1, 0)]
#[case::failing_by_taking_a_wrong_password(Some(Deviation::WrongPasswordSucceeds), true, 1, 1)]
#[tokio::test]
async fn an_existing_user_gets_no_wrong_password_but_the_one_allowed(
    #[case] deviation: Option<Deviation>,
    #[case] allow_lockout_risk: bool,
    #[case] code: i32,
    #[case] wrong_passwords: u32,
) {
    let (config, id) = with_existing_user(EmulatorConfig {
        deviation,
        ..EmulatorConfig::default()
    });
    let emulator = start_emulator(config).await;
    let mut args = live_args(
        &emulator.url(),
        &[
            "--test-user-id",
            &id.to_string(),
            "--test-user-password",
            EXISTING_PASSWORD,
        ],
    );
    if allow_lockout_risk {
        args.push("--allow-lockout-risk".into());
    }
    let run = orchestrator_pact(&args).await;
    assert_eq!(run.code, code, "{run}");
    let user = emulator.emulator.store.get(&id).unwrap();
    assert_eq!(
        user.wrong_passwords, wrong_passwords,
        "requests with a wrong old password that reached the user: {run}"
    );
    assert_eq!(
        user.password.unwrap().expose(),
        EXISTING_PASSWORD,
        "the password was not set back: {run}"
    );
    assert!(!run.output().contains(EXISTING_PASSWORD), "{run}");
    // Before anything is changed, the run says what a kill would leave and
    // how to put it back.
    let notice = format!(
        "cleanup --base-url {}/myorg/mytenant/ --test-user-id {id}",
        emulator.url()
    );
    assert!(
        run.stderr.contains("killed") && run.stderr.contains(&notice),
        "{run}"
    );
}

/// A run killed between a change and its restore leaves a password nobody
/// knows; `cleanup` sets the old one back as an administrator, without
/// sending any old password (the original `cleanup` had no such flags).
#[tokio::test]
async fn cleanup_sets_an_existing_users_password_back() {
    let id = UserId::random();
    let mut config = tenant(EmulatorConfig::default());
    config.users.push(SeedUser {
        id: *id.as_uuid(),
        password: "Generated-by-a-killed-run-7".into(),
        user_name: Some("ci-user".into()),
        organization: None,
    });
    let emulator = start_emulator(config).await;
    let run = orchestrator_pact([
        "cleanup",
        "--base-url",
        &format!("{}/myorg/mytenant/", emulator.url()),
        "--client-id",
        CLIENT,
        "--client-secret",
        CLIENT_SECRET,
        "--test-user-id",
        &id.to_string(),
        "--test-user-password",
        EXISTING_PASSWORD,
    ])
    .await;
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains(&format!("set the password of {id} back")),
        "{run}"
    );
    assert!(!run.output().contains(EXISTING_PASSWORD), "{run}");
    let user = emulator.emulator.store.get(&id).unwrap();
    assert_eq!(user.password.unwrap().expose(), EXISTING_PASSWORD);
    assert_eq!(user.wrong_passwords, 0);

    // A password the policy refuses is an error naming the user, exit 2.
    let weak = orchestrator_pact([
        "cleanup",
        "--base-url",
        &format!("{}/myorg/mytenant/", emulator.url()),
        "--client-id",
        CLIENT,
        "--client-secret",
        CLIENT_SECRET,
        "--test-user-id",
        &id.to_string(),
        "--test-user-password",
        "x",
    ])
    .await;
    assert_eq!(weak.code, 2, "{weak}");
    assert!(
        weak.stderr
            .contains(&format!("error: could not set the password of {id} back"))
            && weak.stderr.contains("PasswordTooShort"),
        "{weak}"
    );
    let user = emulator.emulator.store.get(&id).unwrap();
    assert_eq!(user.password.unwrap().expose(), EXISTING_PASSWORD);
}

/// Lifetimes a token endpoint may write: huge ones are clamped (the
/// original crashed on 2^63 with exit 101), a fraction or a string is read,
/// and a negative one is named; none is "the answer has no access_token",
/// which the original said of all but the first.
#[rstest]
#[case::two_to_the_63(json!(9_223_372_036_854_775_808u64), 0, "")]
#[case::u64_max(json!(u64::MAX), 0, "")]
#[case::ten_to_the_30(json!(1e30), 0, "")]
#[case::a_fraction(json!(3600.5), 0, "")]
#[case::a_string(json!("3600"), 0, "")]
#[case::negative(json!(-1), 2, "`expires_in` is -1, not a positive number of seconds")]
#[tokio::test]
async fn token_lifetimes_are_clamped_or_named(
    #[case] expires_in: Value,
    #[case] code: i32,
    #[case] says: &str,
) {
    let mut config = tenant(EmulatorConfig::default());
    config.tokens.push("double-token-5521".parse().unwrap());
    let double = start_double(
        config,
        Misbehaviour {
            token_bodies: vec![token_answer(expires_in)],
            ..Misbehaviour::default()
        },
    )
    .await;
    let before = user_names(&double.emulator);
    let run = orchestrator_pact(live_args(&double.url, &[])).await;
    assert_eq!(run.code, code, "{run}");
    assert!(run.stderr.contains(says), "{run}");
    assert!(!run.output().contains("no access_token"), "{run}");
    assert!(!run.output().contains("double-token-5521"), "{run}");
    assert_eq!(user_names(&double.emulator), before, "{run}");
}

fn token_answer(expires_in: Value) -> Value {
    json!({
        "access_token": "double-token-5521",
        "token_type": "Bearer",
        "expires_in": expires_in,
    })
}

/// A token renewed in the middle of a run with a lifetime of 2^63 s: the
/// original crashed there (exit 101), inside a teardown, and left the
/// interaction's user on the tenant.
#[tokio::test]
async fn an_absurd_lifetime_on_renewal_mid_run_leaves_nothing_behind() {
    let mut config = tenant(EmulatorConfig::default());
    config.tokens.push("double-token-5521".parse().unwrap());
    // The first interaction outlives the first token (1 s), so that the
    // teardown after it renews.
    config.faults.push(
        "route=change-password,kind=delay,delay-ms=1200,next=1"
            .parse()
            .unwrap(),
    );
    let double = start_double(
        config,
        Misbehaviour {
            token_bodies: vec![
                token_answer(json!(1)),
                token_answer(json!(9_223_372_036_854_775_808u64)),
            ],
            ..Misbehaviour::default()
        },
    )
    .await;
    let before = user_names(&double.emulator);
    let run = orchestrator_pact(live_args(&double.url, &[])).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(
        double
            .token_requests
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 2,
        "the token was never renewed: {run}"
    );
    assert_eq!(user_names(&double.emulator), before, "{run}");
}

/// `cleanup` against listings that never end by themselves ends, says
/// how far it got on stderr, and exits 2 because it could not see
/// everything. The original read the same page forever (2,400 requests in
/// 90 s, no output).
#[rstest]
#[case::same_page_whatever_skip_says(
    Pages::SameEveryTime,
    "seems to ignore `skip`",
    "1 user(s) removed"
)]
#[case::endless_new_users(Pages::Endless, "stopped after 200 pages", "nothing to remove")]
#[tokio::test]
async fn cleanup_ends_on_a_listing_that_never_does(
    #[case] pages: Pages,
    #[case] warns: &str,
    #[case] says: &str,
) {
    let double = start_double(
        tenant(EmulatorConfig::default()),
        Misbehaviour {
            list: Some(pages),
            ..Misbehaviour::default()
        },
    )
    .await;
    let args = [
        "cleanup",
        "--base-url",
        &format!("{}/myorg/mytenant/", double.url),
        "--client-id",
        CLIENT,
        "--client-secret",
        CLIENT_SECRET,
        "--organization-id",
        ORG,
    ];
    let mut command = orchestrator_pact_command();
    command.args(args).kill_on_drop(true);
    let run = tokio::time::timeout(
        Duration::from_secs(60),
        finish(command, args.iter().map(|s| (*s).to_owned()).collect()),
    )
    .await
    .expect("cleanup did not end within 60 s");
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("listing users: page 1,"), "{run}");
    assert!(run.stderr.contains(warns), "{run}");
    assert!(run.stdout.contains(says), "{run}");
}

/// Runs a throwaway verification against a tenant that holds each user
/// `DELETE` for `delay`, sends SIGTERM when the first teardown `DELETE`
/// arrives, and gives the run with the tenant's user names before it and at
/// the moment the process ended.
async fn sigterm_during_a_teardown(delay: Duration) -> (Run, Vec<String>, Vec<String>) {
    let arrived = Arc::new(Notify::new());
    let double = start_double(
        tenant(EmulatorConfig::default()),
        Misbehaviour {
            slow_delete: Some((delay, arrived.clone())),
            ..Misbehaviour::default()
        },
    )
    .await;
    let before = user_names(&double.emulator);
    let mut command = orchestrator_pact_command();
    // One interaction at a time: the scenario is the one teardown in
    // flight (jobs.rs signals a concurrent run).
    command
        .args(live_args(&double.url, &["--jobs", "1"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().unwrap();
    tokio::time::timeout(Duration::from_secs(30), arrived.notified())
        .await
        .expect("no teardown DELETE arrived");
    assert_eq!(user_names(&double.emulator).len(), before.len() + 1);
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the run did not end within 60 s of SIGTERM")
        .unwrap();
    // Looked at the moment the process has ended.
    let after = user_names(&double.emulator);
    let run = Run::from_output(
        vec![format!(
            "verify (SIGTERM during a teardown; ended with {})",
            output.status
        )],
        &output,
    );
    (run, before, after)
}

/// SIGTERM while a teardown `DELETE` is in flight, against a tenant that
/// drops the work when the client goes away: the run sends the teardown
/// again and waits for the answer before it ends, so the user is gone when
/// the process exits. The original exited at once, saying everything was
/// removed while the user was still there.
#[tokio::test]
async fn sigterm_during_a_teardown_waits_for_the_tenant_to_answer() {
    let (run, before, after) = sigterm_during_a_teardown(Duration::from_millis(1500)).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("interrupted"), "{run}");
    assert_eq!(after, before, "a user was left behind: {run}");
}

/// When the tenant does not answer the teardown within the bound after a
/// signal (30 s), the run still ends, and reports the user as left on the
/// tenant by id instead of claiming it removed (as the original did, at
/// once).
#[tokio::test]
async fn sigterm_during_a_teardown_that_never_ends_reports_the_user_as_left() {
    let (run, before, after) = sigterm_during_a_teardown(Duration::from_secs(600)).await;
    assert_eq!(run.code, 2, "{run}");
    let left: Vec<&String> = after.iter().filter(|u| !before.contains(u)).collect();
    assert_eq!(left.len(), 1, "{run}");
    assert!(
        run.stderr.contains("left on the tenant after the run")
            && run.stderr.contains(left[0].as_str())
            && run.stderr.contains("did not answer within 30 s"),
        "{run}"
    );
    assert!(!run.output().contains("was removed"), "{run}");
}

/// A create that answers 200 and creates nothing is a set-up failure
/// ("could not check", exit 2), not a broken contract (the original exited
/// 1), and nothing is reported as left on the tenant.
#[tokio::test]
async fn a_create_that_creates_nothing_means_could_not_check() {
    let double = start_double(
        tenant(EmulatorConfig::default()),
        Misbehaviour {
            create_without_creating: true,
            ..Misbehaviour::default()
        },
    )
    .await;
    let run = orchestrator_pact(live_args(&double.url, &[])).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.output().contains("was not created"), "{run}");
    assert!(!run.output().contains("LEFT ON THE TENANT"), "{run}");
}

/// A create the tenant refuses (here 403: the token may only read) created
/// nothing: no user is reported left on the tenant, and no `DELETE` is sent
/// for it (the original listed each as "was not deleted").
#[tokio::test]
async fn a_refused_create_is_not_reported_as_left_on_the_tenant() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let mut args = live_args(&emulator.url(), &[]);
    let at = args.iter().position(|a| a == "--client-id").unwrap();
    args.splice(
        at..at + 4,
        ["--token".to_owned(), "read-pat-9931".to_owned()],
    );
    let run = orchestrator_pact(&args).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.output().contains("403"), "{run}");
    assert!(!run.output().contains("LEFT ON THE TENANT"), "{run}");
    assert!(!run.output().contains("was not deleted"), "{run}");
}

/// The emulator's `PUT api/User/{id}` sets a password without the current
/// one, with the policy's checks, as `IdentityResult` 200/400.
#[tokio::test]
async fn the_emulator_sets_a_password_as_an_administrator() {
    let (config, id) = with_existing_user(EmulatorConfig::default());
    let emulator = start_emulator(config).await;
    let url = format!("{}/myorg/mytenant/identity_/api/User/{id}", emulator.url());
    let put = async |bearer: &str, body: Value| {
        let response = http()
            .put(&url)
            .bearer_auth(bearer)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json::<Value>().await.unwrap_or(Value::Null),
        )
    };
    let (status, weak) = put("read-pat-9931", json!({ "password": "New-passw0rd-1" })).await;
    assert_eq!(status, 403, "{weak}");
    let (status, weak) = put("unused", json!({ "password": "short" })).await;
    assert_eq!(status, 401, "{weak}");
    let writer = crate::tenant::client_token(&emulator).await;
    let (status, refused) = put(&writer, json!({ "password": "a1" })).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["succeeded"], false);
    assert_eq!(refused["errors"][0]["code"], "PasswordTooShort");
    assert_eq!(
        emulator
            .emulator
            .store
            .get(&id)
            .unwrap()
            .password
            .unwrap()
            .expose(),
        EXISTING_PASSWORD
    );
    let (status, ok) = put(
        &writer,
        json!({ "password": "New-passw0rd-1", "displayName": "CI user", "isActive": true }),
    )
    .await;
    assert_eq!(
        (status, &ok),
        (200, &json!({ "succeeded": true, "errors": [] }))
    );
    let user = emulator.emulator.store.get(&id).unwrap();
    assert_eq!(user.password.unwrap().expose(), "New-passw0rd-1");
    assert_eq!(user.display_name.as_deref(), Some("CI user"));
    assert_eq!(user.wrong_passwords, 0);
    let (status, _) = put(&writer, json!({ "unknownField": 1 })).await;
    assert_eq!(status, 400);
}
