//! `POST …/api/User`, `GET …/api/User/{userId}`,
//! `GET …/api/User/users/{partitionGlobalId}`, `PUT …/api/User/{userId}`,
//! `DELETE …/api/User/{userId}`, `DELETE …/api/User`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use uipath_identity_client::{SecretString, UserId};
use uuid::Uuid;

use super::{UserPath, parse_user_id, read_body};
use crate::auth::{self, Access};
use crate::binding::{self, BULK_DELETE, CREATE_USER, UPDATE_USER};
use crate::store::{ChangeResult, ListQuery, User, UserUpdate};
use crate::{Emulator, answers};

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// A user as `UserDto`.
pub(crate) fn user_dto(user: &User) -> Value {
    json!({
        "id": user.id.to_string(),
        "userName": user.user_name,
        "email": user.email,
        "emailConfirmed": false,
        "name": user.name,
        "surname": user.surname,
        "displayName": user.display_name,
        "creationTime": rfc3339(user.created),
        "lastModificationTime": null,
        "lastLoginTime": null,
        "groupIDs": user.group_ids.iter().map(Uuid::to_string).collect::<Vec<_>>(),
        "legacyId": user.legacy_id,
        "isActive": !user.locked,
        "bypassBasicAuthRestriction": user.bypass_basic_auth_restriction,
        "type": user.kind,
        "invitationAccepted": user.invitation_accepted,
    })
}

/// The steps ASP.NET takes before a write action runs: authorization (a
/// write scope), the content type, the body limit, model binding.
async fn write_command(
    emulator: &Emulator,
    headers: &HeaderMap,
    body: Body,
    shape: &binding::CommandShape,
) -> Result<binding::Bound, Response> {
    auth::authorize(emulator, headers, Access::Write)?;
    binding::require_json(headers)?;
    let bytes = read_body(emulator, headers, body).await?;
    binding::bind_command(&bytes, shape).map_err(answers::validation_problem)
}

/// `POST …/api/User`: creates a user from a `CreateUserCommand`.
pub(crate) async fn create(
    State(emulator): State<Arc<Emulator>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let command = match write_command(&emulator, &headers, body, &CREATE_USER).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    let partition = command
        .uuid("partitionGlobalId")
        .unwrap_or_else(|| emulator.config.first_organization());
    if !emulator.config.organizations.contains(&partition) {
        return answers::identity_result(
            StatusCode::BAD_REQUEST,
            vec![uipath_identity_client::IdentityError::new(
                "PartitionNotFound",
                format!("Organization '{partition}' does not exist."),
            )],
        );
    }
    let id = command
        .uuid("id")
        .map(UserId::from)
        .unwrap_or_else(UserId::random);
    let mut user = User::new(
        id,
        partition,
        command.str("userName").unwrap_or_default(),
        command.str("password").map(SecretString::new),
    );
    user.email = command.str("email");
    user.name = command.str("name");
    user.surname = command.str("surname");
    user.display_name = command.str("displayName");
    user.kind = command.str("type").unwrap_or_else(|| "user".into());
    user.bypass_basic_auth_restriction =
        command.bool("bypassBasicAuthRestriction").unwrap_or(false);
    user.invitation_accepted = command.bool("invitationAccepted").unwrap_or(false);
    user.legacy_id = command.int("legacyId").unwrap_or(0);
    user.group_ids = command.uuids("groupIDs");
    // ASP.NET Identity validates a new user's password; UiPath lets a caller
    // opt out with `validatePassword: false`.
    let validate = command.bool("validatePassword").unwrap_or(true);
    match emulator
        .store
        .create(user, validate, &emulator.config.policy)
    {
        Ok(_) => answers::identity_result(StatusCode::OK, vec![]),
        Err(errors) => answers::identity_result(StatusCode::BAD_REQUEST, errors),
    }
}

/// `GET …/api/User/{userId}`: a `UserDto`, or 404.
pub(crate) async fn get_one(
    State(emulator): State<Arc<Emulator>>,
    path: Result<Path<UserPath>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = auth::authorize(&emulator, &headers, Access::Read) {
        return refusal;
    }
    let id = match parse_user_id(path) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    match emulator.store.get(&id) {
        Some(user) => Json(user_dto(&user)).into_response(),
        None => answers::problem(StatusCode::NOT_FOUND, None),
    }
}

/// `PUT …/api/User/{userId}` with an `UpdateUserCommand`: `IdentityResult`
/// 200, or 400 with the policy's (or the email's) errors; 404 for an
/// unknown user. An administrator sets a password here without the current
/// one.
pub(crate) async fn update(
    State(emulator): State<Arc<Emulator>>,
    path: Result<Path<UserPath>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let command = match write_command(&emulator, &headers, body, &UPDATE_USER).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    let id = match parse_user_id(path) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let password = command.str("password");
    if let Some(p) = &password {
        emulator.saw_secret(p);
    }
    let update = UserUpdate {
        name: command.str("name"),
        surname: command.str("surname"),
        display_name: command.str("displayName"),
        email: command.str("email"),
        is_active: command.bool("isActive"),
        password,
        groups_to_add: command.uuids("groupIDsToAdd"),
        groups_to_remove: command.uuids("groupIDsToRemove"),
        bypass_basic_auth_restriction: command.bool("bypassBasicAuthRestriction"),
        invitation_accepted: command.bool("invitationAccepted"),
    };
    match emulator.store.update(&id, update, &emulator.config.policy) {
        ChangeResult::Changed => answers::identity_result(StatusCode::OK, vec![]),
        ChangeResult::UnknownUser => answers::problem(StatusCode::NOT_FOUND, None),
        ChangeResult::Refused(errors) => answers::identity_result(StatusCode::BAD_REQUEST, errors),
    }
}

/// `DELETE …/api/User/{userId}`: 204, or 404 for an unknown user.
pub(crate) async fn delete_one(
    State(emulator): State<Arc<Emulator>>,
    path: Result<Path<UserPath>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = auth::authorize(&emulator, &headers, Access::Write) {
        return refusal;
    }
    let id = match parse_user_id(path) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    if emulator.store.remove(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        answers::problem(StatusCode::NOT_FOUND, None)
    }
}

/// `DELETE …/api/User` with a `BulkSoftDeleteCommand`: 204.
pub(crate) async fn delete_many(
    State(emulator): State<Arc<Emulator>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let command = match write_command(&emulator, &headers, body, &BULK_DELETE).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    let partition = command
        .uuid("partitionGlobalId")
        .unwrap_or_else(|| emulator.config.first_organization());
    emulator
        .store
        .remove_many(partition, &command.uuids("userIds"));
    StatusCode::NO_CONTENT.into_response()
}

/// The list's route parameters.
#[derive(Deserialize)]
pub(crate) struct PartitionPath {
    partition: String,
}

fn query_int(
    params: &HashMap<String, String>,
    name: &str,
    default: usize,
    max: usize,
) -> Result<usize, Response> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n >= 0 && (n as u64) <= max as u64 => Ok(n as usize),
            Ok(_) => Err(answers::validation_error(
                name,
                format!("The field {name} must be between 0 and {max}."),
            )),
            Err(_) => Err(answers::validation_error(
                name,
                format!(
                    "The value '{}' is not valid.",
                    v.chars().take(60).collect::<String>()
                ),
            )),
        },
    }
}

/// `GET …/api/User/users/{partitionGlobalId}?searchTerm&top&skip&sortBy&sortOrder`.
pub(crate) async fn list(
    State(emulator): State<Arc<Emulator>>,
    path: Result<Path<PartitionPath>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = auth::authorize(&emulator, &headers, Access::Read) {
        return refusal;
    }
    let partition = match path.map(|Path(p)| p.partition.parse::<Uuid>()) {
        Ok(Ok(id)) => id,
        Ok(Err(_)) | Err(_) => {
            return answers::validation_error(
                "partitionGlobalId",
                "The value is not a valid GUID.",
            );
        }
    };
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
            .collect();
    let top = match query_int(&params, "top", 10, 1000) {
        Ok(n) => n,
        Err(refusal) => return refusal,
    };
    let skip = match query_int(&params, "skip", 0, i32::MAX as usize) {
        Ok(n) => n,
        Err(refusal) => return refusal,
    };
    let descending = match params.get("sortorder").map(|s| s.to_ascii_lowercase()) {
        None => false,
        Some(o) if o == "asc" => false,
        Some(o) if o == "desc" => true,
        Some(_) => {
            return answers::validation_error(
                "sortOrder",
                "The value is not valid: use asc or desc.",
            );
        }
    };
    let page = emulator.store.list(
        partition,
        &ListQuery {
            search: params.get("searchterm").cloned().filter(|s| !s.is_empty()),
            top,
            skip,
            sort_by: params.get("sortby").cloned(),
            descending,
        },
    );
    Json(json!({
        "totalCount": page.total,
        "results": page.users.iter().map(user_dto).collect::<Vec<_>>(),
    }))
    .into_response()
}
