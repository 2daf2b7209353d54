//! The other Identity calls a verifier needs on a real tenant: a token by
//! client credentials, and creating, listing and deleting users. They give
//! the raw answer ([`Answer`]): what to retry and what to make of a refusal
//! is the caller's policy.

use std::time::Duration;

use reqwest::header::{ACCEPT, RETRY_AFTER};
use serde::Deserialize;
use serde_json::json;
use url::Url;
use uuid::Uuid;

use crate::client::{ClientError, IdentityClient};
use crate::secret::{BearerToken, Password, SecretString};
use crate::user_id::UserId;
use crate::wire;

/// An answer of the API: status, `Retry-After`, body.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After`, in seconds or as an HTTP date, if sent.
    pub retry_after: Option<Duration>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text, cut to `max` characters, for messages.
    pub fn body_text(&self, max: usize) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(max)
            .collect()
    }

    /// The body as JSON of type `T`.
    pub fn json<T: for<'de> Deserialize<'de>>(&self) -> Option<T> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// How long `Retry-After` asks to wait, from `now`: delta-seconds or an
/// HTTP date (a date in the past means at once).
pub fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: std::time::SystemTime,
) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The answer to a sent request (its body at most `max_body` bytes), or
/// the error that kept it. A redirect is an error naming its target: the
/// clients of this crate follow none to another origin, and a redirect
/// that reaches here was not followed.
pub(crate) async fn read(
    url: &Url,
    response: Result<reqwest::Response, reqwest::Error>,
    max_body: usize,
) -> Result<Answer, ClientError> {
    let response = response.map_err(|e| ClientError::transport(url, e))?;
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        return Err(ClientError::Redirected {
            url: url.to_string(),
            target: wire::redirect_target(url, response.headers())
                .unwrap_or_else(|| "nowhere (no usable Location header)".into()),
        });
    }
    let retry_after = retry_after(response.headers(), std::time::SystemTime::now());
    let body = wire::read_body(response, max_body)
        .await
        .map_err(|e| ClientError::body(url, e))?;
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// A token issued by `connect/token`.
#[derive(Clone, Debug, Deserialize)]
pub struct IssuedToken {
    /// The access token.
    pub access_token: BearerToken,
    /// Seconds until it expires.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// The scopes granted, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
}

/// Asks `token_url` for a token by client credentials; the answer's body
/// is read up to `max_body` bytes. Build `http` without redirects: the form
/// carries the secret.
pub async fn request_token(
    http: &reqwest::Client,
    token_url: &Url,
    client_id: &str,
    client_secret: &SecretString,
    scopes: &str,
    max_body: usize,
) -> Result<Answer, ClientError> {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", client_secret.expose()),
        ("scope", scopes),
    ];
    let response = http
        .post(token_url.clone())
        .header(ACCEPT, "application/json")
        .form(&form)
        .send()
        .await;
    read(token_url, response, max_body).await
}

/// A user to create: the fields of `CreateUserCommand` a verifier sets.
#[derive(Clone, Debug)]
pub struct NewUser {
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
pub struct ListedUser {
    /// Its id.
    pub id: Uuid,
    /// Its user name.
    #[serde(default)]
    pub user_name: Option<String>,
}

/// A page of users.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    /// How many matched in all.
    #[serde(default)]
    pub total_count: u64,
    /// This page.
    #[serde(default)]
    pub results: Option<Vec<ListedUser>>,
}

impl IdentityClient {
    /// `POST {identity}/api/User`.
    pub async fn create_user(&self, user: &NewUser) -> Result<Answer, ClientError> {
        let url = self
            .base()
            .identity_root()
            .join("api/User")
            .expect("a fixed path joins");
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
        let request = self.post_json(url.clone(), body.to_string().into_bytes());
        read(&url, request.send().await, self.max_body()).await
    }

    /// `POST {identity}/api/User/{userId}/changepassword` with any JSON body,
    /// as a raw answer (for teardown, which retries on its own terms).
    pub async fn send_change_password_raw(
        &self,
        user: &UserId,
        body: &serde_json::Value,
    ) -> Result<Answer, ClientError> {
        let url = self.base().change_password(user);
        let request = self.post_json(url.clone(), body.to_string().into_bytes());
        read(&url, request.send().await, self.max_body()).await
    }

    /// `DELETE {identity}/api/User/{userId}`.
    pub async fn delete_user(&self, id: &UserId) -> Result<Answer, ClientError> {
        let url = self
            .base()
            .identity_root()
            .join(&format!("api/User/{id}"))
            .expect("a fixed path joins");
        let request = self.http().delete(url.clone());
        read(&url, self.authorized(request).send().await, self.max_body()).await
    }

    /// `GET {identity}/api/User/users/{partition}?searchTerm&top&skip`.
    pub async fn list_users(
        &self,
        partition: &Uuid,
        search: &str,
        top: u32,
        skip: u32,
    ) -> Result<Answer, ClientError> {
        let mut url = self
            .base()
            .identity_root()
            .join(&format!("api/User/users/{partition}"))
            .expect("a fixed path joins");
        url.query_pairs_mut()
            .append_pair("searchTerm", search)
            .append_pair("top", &top.to_string())
            .append_pair("skip", &skip.to_string());
        let request = self
            .http()
            .get(url.clone())
            .header(ACCEPT, "application/json");
        read(&url, self.authorized(request).send().await, self.max_body()).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    use super::retry_after;

    #[test]
    fn reads_retry_after_as_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(12)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(12));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }
}
