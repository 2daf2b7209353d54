//! A deployment and how to reach it, shared by `verify` and `cleanup`:
//! its URL, credentials and connection settings, checked one by one into
//! a [`CheckedTenant`]. Variables are the ones UiPath's own CLI reads.

use anyhow::bail;
use clap::Args;
use std::time::Duration;
use uipath_identity_client::{BaseUrl, BearerToken, IdentityPrefix, SecretString};
use url::Url;

use super::{BodyCapArgs, parse_millis, parse_url};
use crate::tenant::{Credentials, RetryPolicy};
use crate::verify::Connection;

/// Where a deployment is and how to authenticate to it: shared by `verify`
/// and `cleanup`. Variables are the ones UiPath's own CLI reads.
#[derive(Debug, Args)]
pub struct TenantArgs {
    /// A running deployment to verify instead of the embedded emulator:
    /// the tenant's URL, such as `https://cloud.uipath.com/myorg/mytenant/`,
    /// or an emulator's, such as `http://127.0.0.1:8080/`. Without it,
    /// `UIPATH_URI`, `UIPATH_ORGANIZATION` and `UIPATH_TENANT` make one.
    #[arg(
        long = "base-url",
        value_name = "URL",
        env = "ORCHESTRATOR_PACT_BASE_URL"
    )]
    pub base_url: Option<String>,
    /// The host part of the base URL, such as `https://cloud.uipath.com`.
    #[arg(long = "uri", value_name = "URL", env = "UIPATH_URI", hide = true)]
    pub uri: Option<String>,
    /// The organization (logical name) part of the base URL.
    #[arg(
        long = "organization",
        value_name = "NAME",
        env = "UIPATH_ORGANIZATION",
        hide = true
    )]
    pub organization: Option<String>,
    /// The tenant (logical name) part of the base URL.
    #[arg(
        long = "tenant",
        value_name = "NAME",
        env = "UIPATH_TENANT",
        hide = true
    )]
    pub tenant: Option<String>,
    /// Whether the Identity API lives under `identity_` (Automation Cloud,
    /// Automation Suite) or `identity` (standalone). The pacts record
    /// `identity_`; requests are mapped to the prefix given.
    #[arg(
        long = "identity-prefix",
        value_name = "PREFIX",
        default_value = "identity_"
    )]
    pub identity_prefix: String,
    /// The organization's id (the partition UUID) throwaway users are
    /// created in.
    #[arg(
        long = "organization-id",
        value_name = "UUID",
        env = "UIPATH_ORGANIZATION_ID"
    )]
    pub organization_id: Option<uuid::Uuid>,
    /// Bearer token (or Personal Access Token) sent as
    /// `Authorization: Bearer …` in every request whose pact has that
    /// header; the request without one stays anonymous. On a tenant without
    /// `--state-change-url`, also what sets up its users. Never printed.
    // Checked in `apply`, not by a clap value parser, whose errors would
    // quote the value.
    #[arg(
        long = "token",
        value_name = "TOKEN",
        env = "UIPATH_PAT",
        hide_env_values = true
    )]
    pub token: Option<BearerToken>,
    /// An External Application's App ID: a token is requested at
    /// `{identity}/connect/token` with `--client-secret` and renewed before
    /// it expires.
    #[arg(long = "client-id", value_name = "ID", env = "UIPATH_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The External Application's App secret. Never printed.
    #[arg(
        long = "client-secret",
        value_name = "SECRET",
        env = "UIPATH_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<SecretString>,
    /// The scopes to ask for with client credentials.
    #[arg(
        long = "scopes",
        value_name = "SCOPES",
        env = "UIPATH_AUTH_SCOPES",
        default_value = "PM.User PM.User.Write"
    )]
    pub scopes: String,
    /// Where the token endpoint lives (its identity root, such as
    /// `https://cloud.uipath.com/identity_`); default: the base URL's host
    /// with the identity prefix.
    #[arg(long = "identity-url", value_name = "URL", env = "UIPATH_IDENTITY_URI", value_parser = parse_url)]
    pub identity_url: Option<Url>,
    /// Time-out of each request to the deployment and to the state URL, in
    /// milliseconds; set-up and teardown calls retry within ten of these.
    #[arg(long = "request-timeout", value_name = "MS", env = "PACT_PROVIDER_REQUEST_TIMEOUT", default_value = "30000", value_parser = parse_millis)]
    pub request_timeout: Duration,
    /// The largest answer body read from the deployment, its token endpoint
    /// and the state URL: bytes, or with KiB, MiB, GiB. A larger answer
    /// stops the run (exit 2) unread.
    #[command(flatten)]
    pub max_body: BodyCapArgs,
    /// Retries of each set-up, teardown and token call on 429 (honouring
    /// Retry-After), 502, 503, 504 and dropped connections. The interaction
    /// under verification is never retried.
    #[arg(long = "setup-retries", value_name = "N", default_value_t = 5)]
    pub setup_retries: u32,
    /// Accept any TLS certificate (self-signed test deployments only).
    #[arg(
        long = "insecure",
        alias = "disable-ssl-verification",
        env = "UIPATH_INSECURE"
    )]
    pub insecure: bool,
}

impl TenantArgs {
    /// The deployment's URL, from `--base-url` or the UiPath variables.
    pub fn base_url(&self) -> anyhow::Result<Option<Url>> {
        let prefix: IdentityPrefix = self.identity_prefix.parse()?;
        let text = match (&self.base_url, &self.uri) {
            (Some(url), _) => url.clone(),
            (None, Some(uri)) => {
                let mut url = uri.trim_end_matches('/').to_owned();
                for part in [&self.organization, &self.tenant].into_iter().flatten() {
                    url.push('/');
                    url.push_str(part.trim_matches('/'));
                }
                url.push('/');
                url
            }
            (None, None) => return Ok(None),
        };
        Ok(Some(BaseUrl::parse(&text, prefix)?.url().clone()))
    }

    /// The flags checked: the deployment (if any), its credentials and how
    /// it is reached.
    pub(crate) fn checked(&self) -> anyhow::Result<CheckedTenant> {
        let identity_prefix = self.identity_prefix.parse()?;
        let url = self.base_url()?;
        let token = match &self.token {
            Some(token) => Some(BearerToken::given(token.expose()).map_err(|problem| {
                anyhow::anyhow!(
                    "the token (`--token` or UIPATH_PAT) {problem}: pass the token alone, without `Bearer`"
                )
            })?),
            None => None,
        };
        let client = match (&self.client_id, &self.client_secret) {
            (Some(id), Some(secret)) => Some(ClientCredentials {
                id: id.clone(),
                secret: secret.clone(),
                scopes: crate::emulator::config::split_scopes(&self.scopes).join(" "),
            }),
            (Some(_), None) => {
                bail!("`--client-id` needs `--client-secret` (UIPATH_CLIENT_SECRET)")
            }
            (None, Some(_)) => bail!("`--client-secret` needs `--client-id` (UIPATH_CLIENT_ID)"),
            (None, None) => None,
        };
        Ok(CheckedTenant {
            url,
            token,
            client,
            identity_url: self.identity_url.clone(),
            organization_id: self.organization_id,
            connection: Connection {
                identity_prefix,
                retry: RetryPolicy {
                    retries: self.setup_retries,
                    budget: self.request_timeout.saturating_mul(10),
                    ..RetryPolicy::default()
                },
                request_timeout: self.request_timeout,
                max_body: self.max_body.max_body_size,
                disable_ssl_verification: self.insecure,
            },
        })
    }
}

/// An External Application's client credentials, as given.
#[derive(Clone, Debug)]
pub(crate) struct ClientCredentials {
    pub(super) id: String,
    pub(super) secret: SecretString,
    pub(super) scopes: String,
}

/// [`TenantArgs`], checked one by one; [`CheckedTenant::credentials`]
/// checks them together.
#[derive(Debug)]
pub(crate) struct CheckedTenant {
    pub(super) url: Option<Url>,
    pub(super) token: Option<BearerToken>,
    pub(super) client: Option<ClientCredentials>,
    pub(super) identity_url: Option<Url>,
    pub(super) organization_id: Option<uuid::Uuid>,
    pub(super) connection: Connection,
}

impl CheckedTenant {
    /// The credentials for the deployment at `url`: a token, client
    /// credentials (with the token endpoint they go to), or none.
    pub(super) fn credentials(&self, url: &Url) -> anyhow::Result<Credentials> {
        match (&self.token, &self.client) {
            (Some(_), Some(_)) => bail!(
                "give either `--token` (UIPATH_PAT) or `--client-id`/`--client-secret`, not both"
            ),
            (Some(token), None) => Ok(Credentials::Token(token.clone())),
            (None, Some(client)) => {
                let mut root = match &self.identity_url {
                    Some(u) => u.clone(),
                    None => {
                        // Automation Cloud and Suite serve the token endpoint
                        // at the host's root, not below the organization.
                        let mut root = url.clone();
                        root.set_path(&format!("/{}/", self.connection.identity_prefix));
                        root
                    }
                };
                if !root.path().ends_with('/') {
                    let p = format!("{}/", root.path());
                    root.set_path(&p);
                }
                Ok(Credentials::Client {
                    id: client.id.clone(),
                    secret: client.secret.clone(),
                    scopes: client.scopes.clone(),
                    token_url: root.join("connect/token").expect("a fixed path joins"),
                })
            }
            (None, None) => Ok(Credentials::None),
        }
    }
}
