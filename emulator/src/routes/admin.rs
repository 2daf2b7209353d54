//! `/_admin/`: fault rules at run time and unlocking users. Served only when
//! the emulator is started with `--admin`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::{UserPath, parse_user_id, read_body};
use crate::faults::FaultRule;
use crate::{Emulator, answers};

pub(crate) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route(
            "/_admin/faults",
            axum::routing::get(list_faults)
                .post(add_fault)
                .delete(clear_faults),
        )
        .route("/_admin/users/{user_id}/unlock", post(unlock))
}

async fn list_faults(State(emulator): State<Arc<Emulator>>) -> Response {
    Json(emulator.faults.list()).into_response()
}

async fn add_fault(
    State(emulator): State<Arc<Emulator>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match read_body(&emulator, &headers, body).await {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    let rule: FaultRule = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            return answers::error_json(
                StatusCode::BAD_REQUEST,
                format!(
                    "not a fault rule: {e}; expected {{\"route\", \"kind\", \"retry-after\"?, \"delay-ms\"?, \"next\"?, \"share\"?}}"
                ),
            );
        }
    };
    if let Err(e) = rule.validate() {
        return answers::error_json(StatusCode::BAD_REQUEST, e);
    }
    emulator.faults.add(rule);
    (StatusCode::CREATED, Json(emulator.faults.list())).into_response()
}

async fn clear_faults(State(emulator): State<Arc<Emulator>>) -> Response {
    emulator.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn unlock(
    State(emulator): State<Arc<Emulator>>,
    path: Result<Path<UserPath>, PathRejection>,
) -> Response {
    let id = match parse_user_id(path) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    if emulator.store.unlock(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        answers::problem(StatusCode::NOT_FOUND, None)
    }
}
