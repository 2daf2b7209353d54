//! What a verification runs against, typed: one variant per kind of
//! target, each with exactly what it needs, built once from the flags
//! (`crate::cli`), so that a combination of flags that makes no sense cannot
//! reach the run.

use pact_verifier::{ProviderInfo, ProviderTransport};
use uipath_identity_client::{BearerToken, Password, UserId};
use url::Url;
use uuid::Uuid;

use crate::emulator::EmulatorConfig;
use crate::emulator::policy::PasswordPolicy;
use crate::redact::Redactor;
use crate::tenant::Credentials;

/// An existing user to verify with, instead of throwaway users.
#[derive(Clone, Debug)]
pub struct TestUser {
    /// Its id.
    pub id: UserId,
    /// Its current password, restored after the run.
    pub password: Password,
}

/// Credentials a tenant's set-up can work with: a token or client
/// credentials, never none (the harness creates and changes users).
#[derive(Clone, Debug)]
pub struct TenantCredentials(Credentials);

impl TenantCredentials {
    /// `credentials`, unless they are [`Credentials::None`].
    pub(crate) fn new(credentials: Credentials) -> Option<Self> {
        (!matches!(credentials, Credentials::None)).then_some(Self(credentials))
    }

    /// The credentials.
    pub(crate) fn get(&self) -> &Credentials {
        &self.0
    }
}

/// The deployment under verification and how its provider states are set
/// up.
#[derive(Clone, Debug)]
pub enum VerifyTarget {
    /// The emulator, started inside this process on `127.0.0.1:0`; it sets
    /// up its own users.
    Embedded {
        /// How it behaves (its tokens are replaced by the run's one).
        emulator: EmulatorConfig,
        /// The token it accepts and the requests carry; a random one when
        /// none is given.
        token: Option<BearerToken>,
    },
    /// A deployment whose provider states are posted to a state URL (Pact's
    /// protocol); credentials are optional.
    StateUrl {
        /// The deployment: `https://host/org/tenant/` or an emulator's URL.
        url: Url,
        /// What the requests carry.
        credentials: Credentials,
        /// Where provider states are posted.
        state_url: Url,
        /// Whether teardowns are posted too.
        teardown: bool,
    },
    /// A tenant where each interaction gets a throwaway user, removed after
    /// it.
    Throwaway {
        /// The tenant.
        url: Url,
        /// Its credentials.
        credentials: TenantCredentials,
        /// The organization the users are created in.
        organization_id: Uuid,
        /// The policy generated passwords meet.
        policy: PasswordPolicy,
    },
    /// A tenant with an existing user, whose password is set back after
    /// each interaction.
    ExistingUser {
        /// The tenant.
        url: Url,
        /// Its credentials.
        credentials: TenantCredentials,
        /// The user.
        user: TestUser,
        /// Also run the interactions that send it a wrong password.
        allow_lockout_risk: bool,
        /// The policy generated passwords meet.
        policy: PasswordPolicy,
    },
}

impl Default for VerifyTarget {
    fn default() -> Self {
        VerifyTarget::Embedded {
            emulator: EmulatorConfig::default(),
            token: None,
        }
    }
}

impl VerifyTarget {
    /// The deployment's URL; `None` for the embedded emulator, whose URL is
    /// known once it listens.
    pub(crate) fn url(&self) -> Option<&Url> {
        match self {
            VerifyTarget::Embedded { .. } => None,
            VerifyTarget::StateUrl { url, .. }
            | VerifyTarget::Throwaway { url, .. }
            | VerifyTarget::ExistingUser { url, .. } => Some(url),
        }
    }

    /// Teaches `redactor` every secret of the target.
    pub(crate) fn register_secrets(&self, redactor: &Redactor) {
        let credentials = match self {
            VerifyTarget::Embedded { token, .. } => {
                if let Some(token) = token {
                    redactor.add(token.secret());
                }
                return;
            }
            VerifyTarget::ExistingUser {
                credentials, user, ..
            } => {
                redactor.add(user.password.secret());
                credentials.get()
            }
            VerifyTarget::Throwaway { credentials, .. } => credentials.get(),
            VerifyTarget::StateUrl { credentials, .. } => credentials,
        };
        match credentials {
            Credentials::None => {}
            Credentials::Token(token) => redactor.add(token.secret()),
            Credentials::Client { secret, .. } => redactor.add(secret),
        }
    }
}

/// The pact library's description of a provider at `url`. The base path
/// (`/org/tenant`) goes into the transport's path; the transport is named
/// `http` even for https, with the scheme set apart (see API-FACTS).
pub(crate) fn provider_info(name: &str, url: &Url) -> ProviderInfo {
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
