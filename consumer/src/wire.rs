//! What every call of this crate does on the wire, whatever the server
//! answers: it follows no redirect to another origin (a password or a
//! client secret in the request would go with it) and reads no body past
//! a cap (a server announcing a gigabyte must not make the caller hold it).

use std::fmt;

use reqwest::redirect::{Attempt, Policy};
use url::Url;

/// The largest answer body read by default: 4 MiB, a thousand times what
/// any answer of the Identity API or a Pact Broker's index needs.
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// Redirects followed in a row, at most, within one origin.
const MAX_SAME_ORIGIN_REDIRECTS: usize = 5;

/// `scheme://host:port` of `url`: what a message names when it says where a
/// redirect pointed (never the path or query, which may carry anything).
pub fn origin_text(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        _ => url.scheme().to_owned(),
    }
}

/// A redirect that was not followed, because it leads to another origin.
#[derive(Debug)]
pub struct CrossOriginRedirect {
    /// Where the redirect pointed (`scheme://host:port`).
    pub target: String,
}

impl fmt::Display for CrossOriginRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "redirected to another origin, {}: not followed",
            self.target
        )
    }
}

impl std::error::Error for CrossOriginRedirect {}

/// A redirect policy that follows a few redirects within the origin of the
/// first request and refuses (as an error naming the target) any to another
/// origin: scheme, host and port must all stay the same.
pub fn same_origin_redirects() -> Policy {
    Policy::custom(|attempt: Attempt<'_>| {
        let from = attempt.previous().first().map(Url::origin);
        if from.as_ref() != Some(&attempt.url().origin()) {
            let target = origin_text(attempt.url());
            attempt.error(CrossOriginRedirect { target })
        } else if attempt.previous().len() > MAX_SAME_ORIGIN_REDIRECTS {
            attempt.error(format!(
                "more than {MAX_SAME_ORIGIN_REDIRECTS} redirects in a row"
            ))
        } else {
            attempt.follow()
        }
    })
}

/// Where a 3xx answer to a request for `url` points, as `scheme://host:port`
/// (`Location` may be relative); `None` if it has no usable `Location`.
pub fn redirect_target(url: &Url, headers: &reqwest::header::HeaderMap) -> Option<String> {
    let location = headers.get(reqwest::header::LOCATION)?.to_str().ok()?;
    url.join(location.trim()).ok().map(|u| origin_text(&u))
}

/// Why a body was not read whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// It is (or announced itself as) larger than the cap.
    #[error("the answer's body is larger than the cap of {limit} bytes{}; it was not read", announced_text(*.announced))]
    TooLarge {
        /// The cap.
        limit: usize,
        /// The `Content-Length` the server announced, if it did.
        announced: Option<u64>,
    },
    /// The transfer failed (connection dropped, time-out).
    #[error(transparent)]
    Transport(#[from] reqwest::Error),
}

fn announced_text(announced: Option<u64>) -> String {
    announced
        .map(|n| format!(" (it announced {n})"))
        .unwrap_or_default()
}

/// Reads `response`'s body, at most `limit` bytes: an announced
/// `Content-Length` over the cap is refused before reading anything, and a
/// body without one stops being read at the cap.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if let Some(announced) = response.content_length()
        && announced > limit as u64
    {
        return Err(BodyError::TooLarge {
            limit,
            announced: Some(announced),
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge {
                limit,
                announced: None,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_an_origin_without_its_path_or_query() {
        let url = Url::parse("https://evil.example/steal?secret=1").unwrap();
        assert_eq!(origin_text(&url), "https://evil.example:443");
        let url = Url::parse("http://127.0.0.1:4567/x").unwrap();
        assert_eq!(origin_text(&url), "http://127.0.0.1:4567");
    }

    #[test]
    fn resolves_a_relative_location_against_the_request() {
        let url = Url::parse("http://127.0.0.1:80/a/b").unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::LOCATION,
            reqwest::header::HeaderValue::from_static("/c"),
        );
        assert_eq!(
            redirect_target(&url, &headers).as_deref(),
            Some("http://127.0.0.1:80")
        );
    }
}
