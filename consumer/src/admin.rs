//! The other Identity calls a verifier needs on a real tenant: a token by
//! client credentials, and creating, reading, listing, updating (setting a
//! password as an administrator) and deleting users. They give
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
    /// Seconds until it expires, as the server wrote it (a number, or
    /// sometimes a string): read it with [`IssuedToken::expires_in_seconds`].
    #[serde(default)]
    pub expires_in: Option<serde_json::Value>,
    /// The scopes granted, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
}

impl IssuedToken {
    /// Reads a token answer: the token, or what is wrong with the answer
    /// (not JSON, no `access_token`, an `access_token` that is no string).
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|_| "the answer is not JSON".to_owned())?;
        match value.get("access_token") {
            None | Some(serde_json::Value::Null) => {
                return Err("the answer has no access_token".into());
            }
            Some(serde_json::Value::String(s)) if !s.is_empty() => {}
            Some(_) => return Err("the answer's access_token is not a non-empty string".into()),
        }
        serde_json::from_value(value).map_err(|e| format!("the answer is not a token: {e}"))
    }

    /// The lifetime `expires_in` gives, in whole seconds: `Ok(None)` when
    /// absent; a whole number, a number with a fraction (rounded down) or
    /// the text of one; saturated at `u64::MAX`. Anything else, zero or
    /// negative is an error naming the value.
    pub fn expires_in_seconds(&self) -> Result<Option<u64>, String> {
        let value = match &self.expires_in {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(v) => v,
        };
        let number = match value {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        let shown: String = value.to_string().chars().take(40).collect();
        match number {
            Some(n) if n.is_finite() && n >= 1.0 => {
                // An exact integer is taken as is; `as` saturates the rest.
                Ok(Some(match value.as_u64() {
                    Some(exact) => exact,
                    None => n as u64,
                }))
            }
            Some(_) => Err(format!(
                "`expires_in` is {shown}, not a positive number of seconds"
            )),
            None => Err(format!("`expires_in` is {shown}, not a number of seconds")),
        }
    }
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

    /// `GET {identity}/api/User/{userId}`: the user, or 404.
    pub async fn get_user(&self, id: &UserId) -> Result<Answer, ClientError> {
        let url = self.user_url(id);
        let request = self
            .http()
            .get(url.clone())
            .header(ACCEPT, "application/json");
        read(&url, self.authorized(request).send().await, self.max_body()).await
    }

    /// `PUT {identity}/api/User/{userId}` with an `UpdateUserCommand` that
    /// sets only `password`: an administrator sets the password without the
    /// current one, so no wrong password can count toward lockout.
    pub async fn set_password(
        &self,
        id: &UserId,
        password: &Password,
    ) -> Result<Answer, ClientError> {
        let url = self.user_url(id);
        let body = json!({ "password": password.expose() });
        let request = self.authorized(
            self.http()
                .put(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(ACCEPT, "application/json")
                .body(body.to_string().into_bytes()),
        );
        read(&url, request.send().await, self.max_body()).await
    }

    fn user_url(&self, id: &UserId) -> Url {
        self.base()
            .identity_root()
            .join(&format!("api/User/{id}"))
            .expect("a fixed path joins")
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

    use super::{IssuedToken, retry_after};

    fn lifetime(body: &str) -> Result<Option<u64>, String> {
        IssuedToken::parse(body.as_bytes())?.expires_in_seconds()
    }

    #[test]
    fn reads_expires_in_in_every_form_servers_write_it() {
        let token = |e: &str| format!(r#"{{"access_token":"t","expires_in":{e}}}"#);
        assert_eq!(lifetime(&token("3600")), Ok(Some(3600)));
        assert_eq!(lifetime(&token("\"3600\"")), Ok(Some(3600)));
        assert_eq!(lifetime(&token("3600.5")), Ok(Some(3600)));
        assert_eq!(lifetime(&token("1e30")), Ok(Some(u64::MAX)));
        assert_eq!(lifetime(&token("18446744073709551615")), Ok(Some(u64::MAX)));
        assert_eq!(lifetime(&token("null")), Ok(None));
        assert_eq!(lifetime(r#"{"access_token":"t"}"#), Ok(None));
        for bad in ["-1", "0", "\"soon\"", "true"] {
            let problem = lifetime(&token(bad)).unwrap_err();
            assert!(problem.contains("`expires_in` is"), "{bad}: {problem}");
        }
    }

    #[test]
    fn names_what_is_wrong_with_a_token_answer() {
        assert_eq!(
            IssuedToken::parse(b"<html>").unwrap_err(),
            "the answer is not JSON"
        );
        assert_eq!(
            IssuedToken::parse(b"{}").unwrap_err(),
            "the answer has no access_token"
        );
        assert!(
            IssuedToken::parse(br#"{"access_token":7}"#)
                .unwrap_err()
                .contains("not a non-empty string")
        );
    }

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
