//! Thousands of concurrent password changes and user creations, across and
//! on the same users, then a look at the store: nothing lost or doubled, and
//! every answer consistent with the final state.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use uipath_identity_client::UserId;
use uipath_identity_emulator::EmulatorConfig;
use uipath_identity_emulator::SeedUser;

use crate::fixtures::{http, start_emulator};

const USERS: usize = 40;
const CHANGES_PER_USER: usize = 25;
const NAMES: usize = 500;
const CREATES_PER_NAME: usize = 2;
const START: &str = "Start-passw0rd";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_and_creations_lose_and_double_nothing() {
    let ids: Vec<UserId> = (0..USERS).map(|_| UserId::random()).collect();
    let emulator = start_emulator(EmulatorConfig {
        users: ids
            .iter()
            .map(|id| SeedUser {
                id: *id.as_uuid(),
                password: START.into(),
                user_name: None,
                organization: None,
            })
            .collect(),
        lockout_threshold: 0,
        ..EmulatorConfig::default()
    })
    .await;
    let url = emulator.url();
    let client = http();
    let gate = Arc::new(Semaphore::new(256));
    let mut tasks = Vec::new();

    // Every user gets CHANGES_PER_USER racing changes from START to a
    // distinct new password: exactly one may win.
    for id in &ids {
        for k in 0..CHANGES_PER_USER {
            let (client, gate, url, id) = (client.clone(), gate.clone(), url.clone(), *id);
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await.unwrap();
                let new = format!("New-passw0rd-{k}");
                let r = client
                    .post(format!("{url}/identity_/api/User/{id}/changepassword"))
                    .bearer_auth("any")
                    .json(&json!({ "oldPassword": START, "newPassword": new }))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap();
                ("change", id.to_string(), new, status, body)
            }));
        }
    }
    // Every user name is created CREATES_PER_NAME times at once: exactly one
    // may win.
    for n in 0..NAMES {
        for _ in 0..CREATES_PER_NAME {
            let (client, gate, url) = (client.clone(), gate.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await.unwrap();
                let name = format!("racer-{n}");
                let r = client
                    .post(format!("{url}/identity_/api/User"))
                    .bearer_auth("any")
                    .json(&json!({ "userName": name, "password": "Racer-passw0rd" }))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap();
                ("create", name, String::new(), status, body)
            }));
        }
    }
    assert_eq!(
        tasks.len(),
        USERS * CHANGES_PER_USER + NAMES * CREATES_PER_NAME
    );

    let mut winners: HashMap<String, Vec<String>> = HashMap::new();
    let mut created: HashMap<String, usize> = HashMap::new();
    for task in tasks {
        let (what, key, new, status, body) = task.await.unwrap();
        match (what, status) {
            ("change", 200) => winners.entry(key).or_default().push(new),
            ("change", 400) => assert_eq!(body["errors"][0]["code"], "PasswordMismatch", "{body}"),
            ("create", 200) => *created.entry(key).or_default() += 1,
            ("create", 400) => assert_eq!(body["errors"][0]["code"], "DuplicateUserName", "{body}"),
            other => panic!("unexpected answer {other:?}: {body}"),
        }
    }

    // One winner per user, and the store holds exactly its password.
    assert_eq!(winners.len(), USERS);
    for id in &ids {
        let won = &winners[&id.to_string()];
        assert_eq!(won.len(), 1, "user {id} changed {} times", won.len());
        let user = emulator.emulator.store.get(id).unwrap();
        assert_eq!(user.password.unwrap().expose(), won[0]);
    }
    // One creation per name, and the store holds each once.
    assert_eq!(created.len(), NAMES);
    assert!(created.values().all(|&n| n == 1));
    let all = emulator.emulator.store.all();
    assert_eq!(all.len(), USERS + NAMES);
    let mut names: Vec<&str> = all
        .iter()
        .map(|u| u.user_name.as_str())
        .filter(|n| n.starts_with("racer-"))
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), NAMES);
}
