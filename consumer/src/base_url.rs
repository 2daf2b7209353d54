//! Where a tenant's Identity API lives.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::user_id::UserId;

/// The first path segment of the Identity API under a tenant's base URL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IdentityPrefix {
    /// `identity_`: Automation Cloud and Automation Suite.
    #[default]
    Cloud,
    /// `identity`: standalone (on-premises) installs.
    Standalone,
}

impl IdentityPrefix {
    /// The path segment, without slashes.
    pub fn as_str(&self) -> &'static str {
        match self {
            IdentityPrefix::Cloud => "identity_",
            IdentityPrefix::Standalone => "identity",
        }
    }
}

impl fmt::Display for IdentityPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IdentityPrefix {
    type Err = BaseUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim_matches('/') {
            "identity_" => Ok(IdentityPrefix::Cloud),
            "identity" => Ok(IdentityPrefix::Standalone),
            other => Err(BaseUrlError::UnknownPrefix(
                other.chars().take(40).collect(),
            )),
        }
    }
}

/// Why a base URL was refused.
#[derive(Debug, thiserror::Error)]
pub enum BaseUrlError {
    /// Not a URL at all.
    #[error(
        "`{input}` is not a URL ({reason}): give the tenant's URL, such as `https://cloud.uipath.com/myorg/mytenant/`"
    )]
    Unparsable {
        /// What was given.
        input: String,
        /// What the URL parser said.
        reason: String,
    },
    /// A scheme other than http or https.
    #[error(
        "`{input}` uses the scheme `{scheme}`: the Identity API is reached over `https://` (or `http://` for a local emulator)"
    )]
    Scheme {
        /// What was given.
        input: String,
        /// The scheme found.
        scheme: String,
    },
    /// A query string or fragment, which would be lost or misplaced.
    #[error(
        "`{input}` has a query or fragment: give the tenant's URL alone, such as `https://cloud.uipath.com/myorg/mytenant/`"
    )]
    QueryOrFragment {
        /// What was given.
        input: String,
    },
    /// The URL already names the identity prefix.
    #[error(
        "`{input}` already ends in `{prefix}/`: give the tenant's URL without it (the prefix is chosen with `--identity-prefix`)"
    )]
    PrefixIncluded {
        /// What was given.
        input: String,
        /// The prefix found at its end.
        prefix: String,
    },
    /// An identity prefix other than `identity_` or `identity`.
    #[error(
        "`{0}` is not an identity prefix: use `identity_` (Automation Cloud, Automation Suite) or `identity` (standalone)"
    )]
    UnknownPrefix(String),
}

/// A tenant's base URL, `https://{host}/{org}/{tenant}/`, with the identity
/// prefix its Identity API lives under.
///
/// The path always ends with `/`, so joining a relative path keeps every
/// segment of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    url: Url,
    prefix: IdentityPrefix,
}

impl BaseUrl {
    /// Parses a tenant's base URL and pairs it with an identity prefix.
    pub fn parse(input: &str, prefix: IdentityPrefix) -> Result<Self, BaseUrlError> {
        let shown: String = input.chars().take(200).collect();
        let mut url = Url::parse(input.trim()).map_err(|e| BaseUrlError::Unparsable {
            input: shown.clone(),
            reason: e.to_string(),
        })?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(BaseUrlError::Scheme {
                input: shown,
                scheme: url.scheme().to_owned(),
            });
        }
        if url.host().is_none() {
            return Err(BaseUrlError::Unparsable {
                input: shown,
                reason: "no host".into(),
            });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(BaseUrlError::QueryOrFragment { input: shown });
        }
        let last = url
            .path_segments()
            .and_then(|mut s| s.rfind(|seg| !seg.is_empty()).map(str::to_owned));
        if let Some(last) = last
            && last.parse::<IdentityPrefix>().is_ok()
        {
            return Err(BaseUrlError::PrefixIncluded {
                input: shown,
                prefix: last,
            });
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(Self { url, prefix })
    }

    /// The tenant's URL, ending with `/`.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The identity prefix.
    pub fn prefix(&self) -> IdentityPrefix {
        self.prefix
    }

    /// The same tenant under another identity prefix.
    pub fn with_prefix(&self, prefix: IdentityPrefix) -> Self {
        Self {
            url: self.url.clone(),
            prefix,
        }
    }

    /// The root of the Identity API: `{base}{prefix}/`.
    pub fn identity_root(&self) -> Url {
        self.join(&format!("{}/", self.prefix))
    }

    /// `{base}{prefix}/api/User/{userId}/changepassword`.
    pub fn change_password(&self, user: &UserId) -> Url {
        self.join(&format!("{}/api/User/{user}/changepassword", self.prefix))
    }

    /// The path of the change-password call relative to the host root with
    /// this base's path, for instance `/org/tenant/identity_/api/User/…`.
    pub fn change_password_path(&self, user: &UserId) -> String {
        self.change_password(user).path().to_owned()
    }

    fn join(&self, relative: &str) -> Url {
        // `relative` never starts with `/` and is built from a UUID and fixed
        // segments, so joining cannot fail.
        self.url
            .join(relative)
            .expect("a relative path built from fixed segments joins")
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserId {
        "0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e".parse().unwrap()
    }

    #[test]
    fn keeps_organization_and_tenant_segments() {
        let base =
            BaseUrl::parse("https://cloud.uipath.com/org/tenant", IdentityPrefix::Cloud).unwrap();
        assert_eq!(
            base.change_password(&user()).as_str(),
            "https://cloud.uipath.com/org/tenant/identity_/api/User/0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e/changepassword"
        );
    }

    #[test]
    fn standalone_uses_identity_without_underscore() {
        let base = BaseUrl::parse("https://orch.local/", IdentityPrefix::Standalone).unwrap();
        assert_eq!(
            base.change_password_path(&user()),
            "/identity/api/User/0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e/changepassword"
        );
    }

    #[test]
    fn refuses_a_url_that_already_names_the_prefix() {
        let err = BaseUrl::parse("https://h/org/identity_/", IdentityPrefix::Cloud).unwrap_err();
        assert!(err.to_string().contains("without it"), "{err}");
    }

    #[test]
    fn refuses_other_schemes_and_garbage() {
        assert!(matches!(
            BaseUrl::parse("ftp://h/", IdentityPrefix::Cloud),
            Err(BaseUrlError::Scheme { .. })
        ));
        assert!(matches!(
            BaseUrl::parse("not a url", IdentityPrefix::Cloud),
            Err(BaseUrlError::Unparsable { .. })
        ));
        assert!(matches!(
            BaseUrl::parse("https://h/org/?x=1", IdentityPrefix::Cloud),
            Err(BaseUrlError::QueryOrFragment { .. })
        ));
    }
}
