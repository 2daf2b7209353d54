//! The one HTTP client builder of the command: time-outs, TLS, redirects
//! and body caps, decided once for every call the harness makes.
//!
//! Every server is untrusted: the tenant, the broker and the state URL may
//! redirect, announce a gigabyte or never finish. So a client built here
//! follows no redirect to another origin (the tenant's own calls follow
//! none at all), and every body is read through
//! [`uipath_identity_client::wire::read_body`] with the run's cap.

use std::time::Duration;

pub(crate) use uipath_identity_client::wire::{
    BodyError, DEFAULT_MAX_BODY, read_body, redirect_target, same_origin_redirects,
};

/// Which redirects a client follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Redirects {
    /// None: a 3xx is the answer (the tenant's calls, whose requests carry
    /// passwords and secrets, and the verified interaction, whose answer
    /// the contract judges).
    Never,
    /// A few within the origin of the request; one to another origin is an
    /// error naming it (the broker, which may move a path).
    SameOrigin,
}

/// How one client behaves.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientSettings {
    /// Time-out of each request, the body included.
    pub timeout: Duration,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// Which redirects are followed.
    pub redirects: Redirects,
}

/// The user agent every call sends.
pub(crate) const USER_AGENT: &str = concat!("orchestrator-pact/", env!("CARGO_PKG_VERSION"));

/// A client with `settings` (and the TLS provider reqwest needs installed).
pub(crate) fn client(settings: ClientSettings) -> Result<reqwest::Client, reqwest::Error> {
    uipath_identity_client::tls::install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(settings.timeout)
        .danger_accept_invalid_certs(settings.insecure)
        .redirect(match settings.redirects {
            Redirects::Never => reqwest::redirect::Policy::none(),
            Redirects::SameOrigin => same_origin_redirects(),
        })
        .build()
}

/// Whether `media_type` is JSON: `application/json`, `text/json`, or any
/// type with the `+json` structured-syntax suffix (RFC 6839, such as
/// `application/problem+json`), compared without parameters and case. The
/// one rule of the command; a caller with more to say (a pact with no
/// content type, an OpenAPI `*/*` range) says it where it calls this.
pub(crate) fn is_json(media_type: &str) -> bool {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// Parses a size for `--max-body-size`: bytes, or a number with `KiB`,
/// `MiB`, `GiB` (or `K`, `M`, `G`, `KB`, `MB`, `GB`, all powers of 1024).
pub(crate) fn parse_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "`{text}` is not a size: give bytes or a number with KiB, MiB or GiB, such as `16MiB`"
            ));
        }
    };
    let bytes = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "`{text}` is not a size: give bytes or a number with KiB, MiB or GiB, such as `16MiB`"
            )
        })?;
    if bytes < 1024 {
        return Err(format!(
            "`{text}` is too small a cap: answers need at least 1KiB"
        ));
    }
    Ok(bytes)
}

/// The next step when an answer was larger than the cap.
pub(crate) const TOO_LARGE_HINT: &str = ". If the server is right to send that much, raise the cap with `--max-body-size` (ORCHESTRATOR_PACT_MAX_BODY_SIZE)";

#[cfg(test)]
mod tests {
    use super::{is_json, parse_size};

    #[test]
    fn json_is_application_json_text_json_and_the_json_suffix() {
        for json in [
            "application/json",
            "text/json",
            "application/problem+json",
            "application/hal+json; charset=utf-8",
            "Application/JSON",
        ] {
            assert!(is_json(json), "{json}");
        }
        for other in [
            "text/plain",
            "application/jsonx",
            "*/*",
            "application/x-json-stream",
            "",
        ] {
            assert!(!is_json(other), "{other}");
        }
    }

    #[test]
    fn reads_sizes_in_bytes_and_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size(" 2 k "), Ok(2048));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("12").unwrap_err().contains("too small"));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(
            parse_size("99999999999999999999GiB")
                .unwrap_err()
                .contains("not a size")
        );
    }
}
