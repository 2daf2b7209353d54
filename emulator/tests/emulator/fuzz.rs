//! Property-based fuzzing of request parsing and the handlers: whatever the
//! method, path, headers and body, the emulator answers, and never with a
//! 5xx (no fault rule is set). Runs the router in process (`oneshot`) for
//! speed; the hostile corpus in `emulator.rs` covers the real socket.

use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use tower::ServiceExt;
use uipath_identity_emulator::{self as emulator, Emulator, EmulatorConfig};

fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS",
    ])
}

fn path() -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec!["", "/org", "/org/tenant", "/%ff", "/.."]);
    let identity = prop::sample::select(vec![
        "/identity_",
        "/identity",
        "/identityX",
        "/_pact",
        "/_admin",
    ]);
    let tail = prop::sample::select(vec![
        "/api/User",
        "/api/User/{id}",
        "/api/User/{id}/changepassword",
        "/api/User/users/{id}",
        "/api/User/users/{id}?top=-1&skip=abc&searchTerm=%00",
        "/api/User/users/{id}?top=99999999999999999999",
        "/connect/token",
        "/provider-states",
        "/api/User/{id}/changepassword/extra",
        "/",
    ]);
    let id = prop_oneof![
        Just("0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e".to_owned()),
        "[a-zA-Z0-9%._~-]{0,40}",
    ];
    (prefix, identity, tail, id)
        .prop_map(|(p, i, t, id)| format!("{p}{i}{}", t.replace("{id}", &id)))
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(vec![
        "application/json",
        "application/json; charset=utf-16",
        "text/json",
        "application/problem+json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "",
    ]))
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from(
            "0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e"
        )),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "oldPassword",
                    "newPassword",
                    "userName",
                    "email",
                    "password",
                    "partitionGlobalId",
                    "userIds",
                    "id",
                    "type",
                    "validatePassword",
                    "legacyId",
                    "groupIDs",
                    "state",
                    "action",
                    "params",
                    "x",
                ])
                .prop_map(str::to_owned),
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..300),
        "grant_type=[a-z_]{0,20}&client_id=.{0,10}&client_secret=.{0,10}"
            .prop_map(String::into_bytes),
    ]
}

fn authorization() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::of(prop_oneof![
        Just(b"Bearer any".to_vec()),
        Just(b"Basic dXNlcjpwYXNz".to_vec()),
        Just(b"Bearer ".to_vec()),
        prop::collection::vec(any::<u8>(), 0..40),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn never_answers_5xx(method in method(), path in path(), ct in content_type(), auth in authorization(), body in body()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let app = emulator::app(Emulator::new(EmulatorConfig { admin: true, ..EmulatorConfig::default() }));
        let mut request = Request::builder().method(method).uri(&path);
        if let Some(ct) = ct {
            request = request.header("content-type", ct);
        }
        if let Some(auth) = auth
            && let Ok(value) = axum::http::HeaderValue::from_bytes(&auth)
        {
            request = request.header("authorization", value);
        }
        let Ok(request) = request.body(Body::from(body)) else {
            // Not an HTTP request at all (the URI does not parse): nothing to send.
            return Ok(());
        };
        let status = runtime.block_on(app.oneshot(request)).unwrap().status();
        prop_assert!(status.as_u16() < 500, "{method} {path} -> {status}");
    }
}
