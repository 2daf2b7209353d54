//! The calls a verifier makes on a real tenant besides the contract's
//! own: creating, reading, listing, updating (setting a password as an
//! administrator) and deleting users, over the client crate's
//! [`IdentityClient`] (its base URL, token and body cap). They give the raw
//! answer ([`Answer`]): what to retry and what to make of a refusal is the
//! caller's policy ([`super::Tenant`], [`super::RetryPolicy`]).
//!
//! They live here, not in the client crate, because only the verifier needs
//! them: the client crate is the change-password call and the contract.

use std::time::Duration;

use crate::retry::retry_after;
use reqwest::header::ACCEPT;
use serde::Deserialize;
use serde_json::json;
use uipath_identity_client::client::read_reply;
use uipath_identity_client::{ClientError, IdentityClient, Password, UserId};
use url::Url;
use uuid::Uuid;

/// An answer of the API: status, `Retry-After`, body.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After`, in seconds or as an HTTP date, if sent.
    pub retry_after: Option<Duration>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text, cut to `max` characters, for messages.
    pub(crate) fn body_text(&self, max: usize) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(max)
            .collect()
    }

    /// The body as JSON of type `T`.
    pub(crate) fn json<T: for<'de> Deserialize<'de>>(&self) -> Option<T> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The answer to a sent request (its body at most `max_body` bytes), with
/// its `Retry-After`, or the error that kept it (a redirect among them:
/// see [`read_reply`]).
pub(crate) async fn read(
    url: &Url,
    response: Result<reqwest::Response, reqwest::Error>,
    max_body: usize,
) -> Result<Answer, ClientError> {
    let reply = read_reply(url, response, max_body).await?;
    Ok(Answer {
        status: reply.status,
        retry_after: retry_after(&reply.headers, std::time::SystemTime::now()),
        body: reply.body,
    })
}

/// A user to create: the fields of `CreateUserCommand` a verifier sets.
#[derive(Clone, Debug)]
pub(crate) struct NewUser {
    /// The id to give it (the API answers without one, so the caller
    /// chooses it).
    pub id: UserId,
    /// Its user name.
    pub user_name: String,
    /// Its password.
    pub password: Password,
    /// The organization (partition) it belongs to.
    pub partition: Uuid,
}

/// One user of a listing.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListedUser {
    /// Its id.
    pub id: Uuid,
    /// Its user name.
    #[serde(default)]
    pub user_name: Option<String>,
}

/// A page of users.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserPage {
    /// How many matched in all.
    #[serde(default)]
    pub total_count: u64,
    /// This page.
    #[serde(default)]
    pub results: Option<Vec<ListedUser>>,
}

/// `{identity}/api/User{rest}`.
fn user_api(client: &IdentityClient, rest: &str) -> Url {
    client
        .base()
        .identity_root()
        .join(&format!("api/User{rest}"))
        .expect("a fixed path joins")
}

/// Sends `request` to `url` with the client's bearer token, and reads the
/// answer within the client's body cap.
async fn send(
    client: &IdentityClient,
    url: &Url,
    request: reqwest::RequestBuilder,
) -> Result<Answer, ClientError> {
    read(
        url,
        client.authorized(request).send().await,
        client.max_body(),
    )
    .await
}

/// `POST {identity}/api/User`.
pub(crate) async fn create_user(
    client: &IdentityClient,
    user: &NewUser,
) -> Result<Answer, ClientError> {
    let url = user_api(client, "");
    let body = json!({
        "id": user.id.to_string(),
        "userName": user.user_name,
        "name": "orchestrator-pact",
        "surname": "throwaway",
        "displayName": user.user_name,
        "type": "user",
        "password": user.password.expose(),
        "validatePassword": true,
        "partitionGlobalId": user.partition,
    });
    let request = client.post_json(url.clone(), body.to_string().into_bytes());
    read(&url, request.send().await, client.max_body()).await
}

/// `GET {identity}/api/User/{userId}`: the user, or 404.
pub(crate) async fn get_user(client: &IdentityClient, id: &UserId) -> Result<Answer, ClientError> {
    let url = user_api(client, &format!("/{id}"));
    let request = client
        .http()
        .get(url.clone())
        .header(ACCEPT, "application/json");
    send(client, &url, request).await
}

/// `PUT {identity}/api/User/{userId}` with an `UpdateUserCommand` that
/// sets only `password`: an administrator sets the password without the
/// current one, so no wrong password can count toward lockout.
pub(crate) async fn set_password(
    client: &IdentityClient,
    id: &UserId,
    password: &Password,
) -> Result<Answer, ClientError> {
    let url = user_api(client, &format!("/{id}"));
    let body = json!({ "password": password.expose() });
    let request = client
        .http()
        .put(url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .body(body.to_string().into_bytes());
    send(client, &url, request).await
}

/// `DELETE {identity}/api/User/{userId}`.
pub(crate) async fn delete_user(
    client: &IdentityClient,
    id: &UserId,
) -> Result<Answer, ClientError> {
    let url = user_api(client, &format!("/{id}"));
    send(client, &url, client.http().delete(url.clone())).await
}

/// `GET {identity}/api/User/users/{partition}?searchTerm&top&skip`.
pub(crate) async fn list_users(
    client: &IdentityClient,
    partition: &Uuid,
    search: &str,
    top: u32,
    skip: u32,
) -> Result<Answer, ClientError> {
    let mut url = user_api(client, &format!("/users/{partition}"));
    url.query_pairs_mut()
        .append_pair("searchTerm", search)
        .append_pair("top", &top.to_string())
        .append_pair("skip", &skip.to_string());
    let request = client
        .http()
        .get(url.clone())
        .header(ACCEPT, "application/json");
    send(client, &url, request).await
}
