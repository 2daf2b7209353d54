//! The provider-state endpoint as a provider's own state handler (the
//! standard Pact flow): it sets up the user the parameters name with the
//! passwords they give, so that a pact without generators verifies with its
//! example values; and the in-process set-up, which rehearses a tenant run
//! with values of its own.

use rstest::rstest;
use serde_json::{Value, json};
use uipath_identity_client::contract::{
    PARAM_NEW_PASSWORD, PARAM_OLD_PASSWORD, PARAM_PASSWORD, PARAM_USER_ID, STATE_KNOWN_PASSWORD,
    STATE_POLICY_VIOLATION, STATE_WRONG_OLD_PASSWORD,
};
use uipath_identity_client::{
    BaseUrl, ChangePassword, ChangePasswordOutcome, IdentityClient, IdentityPrefix, UserId,
};
use uipath_identity_emulator::{Emulator, EmulatorConfig, PasswordPolicy, SeedUser, states};

use crate::fixtures::{setup_state_with, start_emulator, state_change};

/// The user id of the committed pact's examples.
const EXAMPLE_ID: &str = "5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b";

/// A state's parameters as the committed pact records them.
fn pact_params(state: &str) -> Value {
    let (old, new) = match state {
        STATE_WRONG_OLD_PASSWORD => ("Wrong-passw0rd", "New-passw0rd"),
        STATE_POLICY_VIOLATION => ("Old-passw0rd", "a1"),
        _ => ("Old-passw0rd", "New-passw0rd"),
    };
    json!({
        PARAM_USER_ID: EXAMPLE_ID,
        PARAM_PASSWORD: "Old-passw0rd",
        PARAM_OLD_PASSWORD: old,
        PARAM_NEW_PASSWORD: new,
    })
}

fn client(url: &str) -> IdentityClient {
    IdentityClient::new(
        BaseUrl::parse(url, IdentityPrefix::Cloud).unwrap(),
        Some("any".into()),
    )
    .unwrap()
}

fn text<'a>(values: &'a Value, param: &str) -> &'a str {
    values[param]
        .as_str()
        .unwrap_or_else(|| panic!("`{param}` is answered: {values}"))
}

/// The request a pact without generators sends (its example id and
/// passwords) gets the state's answer, and the answer carries the same
/// values, for pacts that generate them.
#[rstest]
#[case::known_password(STATE_KNOWN_PASSWORD, None)]
#[case::wrong_old_password(STATE_WRONG_OLD_PASSWORD, Some("PasswordMismatch"))]
#[case::policy_violation(STATE_POLICY_VIOLATION, Some("PasswordTooShort"))]
#[tokio::test]
async fn sets_up_the_user_the_parameters_name_with_the_passwords_they_give(
    #[case] state: &str,
    #[case] refused_with: Option<&str>,
) {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let params = pact_params(state);
    let (status, answer) = setup_state_with(&emulator.url(), state, params.clone()).await;
    assert_eq!(status, 200, "{answer}");
    for param in [
        PARAM_USER_ID,
        PARAM_PASSWORD,
        PARAM_OLD_PASSWORD,
        PARAM_NEW_PASSWORD,
    ] {
        assert_eq!(answer[param], params[param], "`{param}`: {answer}");
    }

    let user: UserId = EXAMPLE_ID.parse().unwrap();
    let examples = ChangePassword::new(
        text(&params, PARAM_OLD_PASSWORD),
        text(&params, PARAM_NEW_PASSWORD),
    );
    let outcome = client(&emulator.url())
        .change_password(&user, &examples)
        .await
        .unwrap();
    match refused_with {
        None => assert_eq!(outcome, ChangePasswordOutcome::Changed),
        Some(code) => assert_eq!(outcome.error_codes(), [code], "{outcome:?}"),
    }
}

/// A state handler makes the world match the state: a user that already
/// has the named id gets the given password (and is unlocked), and
/// teardown puts it back as it was; a user the set-up created is removed.
#[tokio::test]
async fn teardown_puts_back_a_named_user_that_existed_and_removes_one_it_created() {
    let seeded: UserId = EXAMPLE_ID.parse().unwrap();
    let emulator = start_emulator(EmulatorConfig {
        users: vec![SeedUser::new(seeded, "Seeded-passw0rd")],
        lockout_threshold: 1,
        ..EmulatorConfig::default()
    })
    .await;
    let url = emulator.url();
    let api = client(&url);
    // One wrong password locks the seeded user.
    api.change_password(&seeded, &ChangePassword::new("nope", "New-passw0rd"))
        .await
        .unwrap();
    assert!(emulator.emulator.store.get(&seeded).unwrap().locked);

    let (status, answer) = setup_state_with(
        &url,
        STATE_KNOWN_PASSWORD,
        pact_params(STATE_KNOWN_PASSWORD),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let during = emulator.emulator.store.get(&seeded).unwrap();
    assert_eq!(during.password.unwrap().expose(), "Old-passw0rd");
    assert!(!during.locked, "the state's user must be usable");
    assert_eq!(emulator.emulator.store.len(), 1);

    let teardown = json!({ "state": STATE_KNOWN_PASSWORD, "params": pact_params(STATE_KNOWN_PASSWORD), "action": "teardown" });
    assert_eq!(state_change(&url, teardown).await.0, 200);
    let after = emulator.emulator.store.get(&seeded).unwrap();
    assert_eq!(after.password.unwrap().expose(), "Seeded-passw0rd");
    assert!(after.locked, "put back as it was");

    let other = UserId::random();
    let mut params = pact_params(STATE_WRONG_OLD_PASSWORD);
    params[PARAM_USER_ID] = other.to_string().into();
    let (status, answer) = setup_state_with(&url, STATE_WRONG_OLD_PASSWORD, params.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert!(emulator.emulator.store.get(&other).is_some());
    let teardown =
        json!({ "state": STATE_WRONG_OLD_PASSWORD, "params": params, "action": "teardown" });
    assert_eq!(state_change(&url, teardown).await.0, 200);
    assert!(emulator.emulator.store.get(&other).is_none());
    assert_eq!(emulator.emulator.store.len(), 1, "the seeded user stays");
}

/// What the parameters leave out, the handler chooses: a new id without
/// `userId`, the current password from `oldPassword` where the state sends
/// it, another one where it does not.
#[rstest]
#[case::known_password(STATE_KNOWN_PASSWORD, "Old-passw0rd", true)]
#[case::wrong_old_password(STATE_WRONG_OLD_PASSWORD, "Wrong-passw0rd", false)]
#[tokio::test]
async fn chooses_what_the_parameters_leave_out(
    #[case] state: &str,
    #[case] old: &str,
    #[case] old_is_current: bool,
) {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let (status, answer) =
        setup_state_with(&emulator.url(), state, json!({ PARAM_OLD_PASSWORD: old })).await;
    assert_eq!(status, 200, "{answer}");
    let user: UserId = text(&answer, PARAM_USER_ID).parse().unwrap();
    assert_ne!(user.to_string(), EXAMPLE_ID);
    assert_eq!(text(&answer, PARAM_OLD_PASSWORD), old);
    assert_eq!(text(&answer, PARAM_PASSWORD) == old, old_is_current);
    let stored = emulator
        .emulator
        .store
        .get(&user)
        .expect("the user is set up");
    assert_eq!(
        stored.password.unwrap().expose(),
        text(&answer, PARAM_PASSWORD)
    );
}

/// Under a stricter policy than the pact's examples assume, the new
/// password answered is one that gives the state's answer: a pact that
/// generates it from the answer still verifies.
#[rstest]
#[case::known_password(STATE_KNOWN_PASSWORD, true)]
#[case::policy_violation(STATE_POLICY_VIOLATION, false)]
#[tokio::test]
async fn a_new_password_that_would_not_give_the_states_answer_is_replaced(
    #[case] state: &str,
    #[case] must_comply: bool,
) {
    let policy = PasswordPolicy {
        min_length: 20,
        ..PasswordPolicy::default()
    };
    let emulator = start_emulator(EmulatorConfig {
        policy: policy.clone(),
        ..EmulatorConfig::default()
    })
    .await;
    let mut params = pact_params(state);
    // Compliant under the default policy, too short under this one; and
    // for the violation, one that complies.
    params[PARAM_NEW_PASSWORD] = if must_comply {
        "New-passw0rd"
    } else {
        "A-new-password-long-enough-1"
    }
    .into();
    let (status, answer) = setup_state_with(&emulator.url(), state, params.clone()).await;
    assert_eq!(status, 200, "{answer}");
    let new = text(&answer, PARAM_NEW_PASSWORD);
    assert_ne!(new, params[PARAM_NEW_PASSWORD], "{answer}");
    assert_eq!(policy.violations(new).is_empty(), must_comply, "{new}");

    let user: UserId = EXAMPLE_ID.parse().unwrap();
    let generated = ChangePassword::new(text(&answer, PARAM_OLD_PASSWORD), new);
    let outcome = client(&emulator.url())
        .change_password(&user, &generated)
        .await
        .unwrap();
    assert_eq!(
        outcome == ChangePasswordOutcome::Changed,
        must_comply,
        "{outcome:?}"
    );
}

/// Parameters that cannot name a user or a password are refused with a
/// 400 that names the parameter, and nothing is set up.
#[rstest]
#[case::id_not_a_uuid(json!({ PARAM_USER_ID: "har-3107" }), "`userId`")]
#[case::id_not_a_string(json!({ PARAM_USER_ID: 7 }), "`userId`")]
#[case::new_password_not_a_string(json!({ PARAM_NEW_PASSWORD: ["New-passw0rd"] }), "`newPassword`")]
#[tokio::test]
async fn refuses_parameters_that_name_no_user_or_password(
    #[case] params: Value,
    #[case] names: &str,
) {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let (status, answer) = setup_state_with(&emulator.url(), STATE_KNOWN_PASSWORD, params).await;
    assert_eq!(status, 400, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(error.contains(names), "{error}");
    assert!(emulator.emulator.store.is_empty(), "a user was set up");
}

/// In process (`verify` against its embedded emulator), a set-up rehearses
/// a run against a real tenant: a new user and passwords of its own,
/// whatever the parameters name, so that only a pact whose generators
/// carry the answered values verifies; teardown removes the user.
#[rstest]
#[case::known_password(STATE_KNOWN_PASSWORD)]
#[case::wrong_old_password(STATE_WRONG_OLD_PASSWORD)]
#[case::policy_violation(STATE_POLICY_VIOLATION)]
fn the_in_process_setup_rehearses_a_tenant_run_with_values_of_its_own(#[case] state: &str) {
    let emulator = Emulator::new(EmulatorConfig::default());
    let params = pact_params(state);
    let answer = states::setup(&emulator, state, |name| params.get(name)).unwrap();
    let answer = Value::from(serde_json::Map::from_iter(answer));
    for param in [
        PARAM_USER_ID,
        PARAM_PASSWORD,
        PARAM_OLD_PASSWORD,
        PARAM_NEW_PASSWORD,
    ] {
        assert_ne!(answer[param], params[param], "`{param}`: {answer}");
    }
    let user: UserId = text(&answer, PARAM_USER_ID).parse().unwrap();
    assert!(emulator.store.get(&user).is_some());
    assert!(emulator.store.get(&EXAMPLE_ID.parse().unwrap()).is_none());
    states::teardown(&emulator, state);
    assert!(emulator.store.is_empty());
}
