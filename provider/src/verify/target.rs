//! Where verification requests go.

use pact_verifier::{ProviderInfo, ProviderTransport};
use url::Url;

/// The deployment under verification.
#[derive(Clone, Debug)]
pub enum Target {
    /// The emulator, started inside this process on `127.0.0.1:0`.
    Embedded,
    /// A running deployment: `https://host/org/tenant/` or an emulator's URL.
    Url(Url),
}

/// The pact library's description of a provider at `url`. The base path
/// (`/org/tenant`) goes into the transport's path; the transport is named
/// `http` even for https, with the scheme set apart (see API-FACTS).
pub fn provider_info(name: &str, url: &Url) -> ProviderInfo {
    let path = url.path().trim_end_matches('/');
    ProviderInfo {
        name: name.to_owned(),
        host: url.host_str().unwrap_or("localhost").to_owned(),
        transports: vec![ProviderTransport {
            transport: "http".into(),
            port: url.port_or_known_default(),
            path: (!path.is_empty()).then(|| path.to_owned()),
            scheme: Some(url.scheme().to_owned()),
        }],
        ..ProviderInfo::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_base_path_and_scheme() {
        let info = provider_info(
            "p",
            &Url::parse("https://cloud.example/org/tenant/").unwrap(),
        );
        let t = &info.transports[0];
        assert_eq!(
            t.base_url(&info.host),
            "https://cloud.example:443/org/tenant"
        );
    }
}
