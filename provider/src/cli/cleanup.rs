//! `orchestrator-pact cleanup`: the tenant flags it shares with `verify`,
//! in its own words, and what to clean up.

use anyhow::bail;
use clap::{Arg, Args};

use super::TestUserArgs;
use super::tenant::TenantArgs;
use crate::redact::Redactor;
use crate::verify::TenantCredentials;
use crate::verify::cleanup::CleanupSettings;

/// `orchestrator-pact cleanup`.
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The tenant to clean up and its credentials.
    #[command(flatten)]
    pub tenant: TenantArgs,
    /// Remove users whose user name starts with this (the prefix every
    /// throwaway user carries; add a run id to remove one run's).
    #[arg(long = "prefix", value_name = "TEXT", default_value = crate::tenant::USER_PREFIX)]
    pub prefix: String,
    /// List what would be removed, and remove nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// The existing user whose password to set back.
    #[command(flatten)]
    pub test_user: TestUserArgs,
}

/// The help of the flags `cleanup` shares with `verify`, said of what
/// `cleanup` does with them (their definitions, defaults and variables are
/// `verify`'s). Applied to every argument of the command.
pub(super) fn in_cleanup_words(arg: Arg) -> Arg {
    let help = match arg.get_id().as_str() {
        "base_url" => {
            "The tenant to clean up: its URL, such as `https://cloud.uipath.com/myorg/mytenant/` (the one `verify` was given). Without it, `UIPATH_URI`, `UIPATH_ORGANIZATION` and `UIPATH_TENANT` make one"
        }
        "token" => {
            "Bearer token (or Personal Access Token) that may read and write users (`PM.User`, or `PM.User.Read` and `PM.User.Write`), sent as `Authorization: Bearer …` to list the organization's users, remove the throwaway ones and set `--test-user-id`'s password back. Never printed"
        }
        "client_id" => {
            "An External Application's App ID, instead of `--token`: a token for listing and removing users is requested at `{identity}/connect/token` with `--client-secret`"
        }
        "organization_id" => {
            "The organization's id (the partition UUID) whose throwaway users are removed: the one `verify` created them in"
        }
        "identity_prefix" => {
            "Whether the Identity API lives under `identity_` (Automation Cloud, Automation Suite) or `identity` (standalone)"
        }
        "request_timeout" => {
            "Time-out of each request to the tenant and its token endpoint, in milliseconds; each call retries within ten of these"
        }
        "max_body_size" => {
            "The largest answer body read from the tenant and its token endpoint: bytes, or a number with KiB, MiB or GiB. A larger answer is not read and the command exits 2"
        }
        "setup_retries" => {
            "Retries of each call (list, remove, set a password back, token) on 429 (honouring Retry-After), 502, 503, 504 and dropped connections"
        }
        "test_user_id" => {
            "An existing user a run verified with: its password is set back to `--test-user-password` as an administrator (`PUT api/User/{id}`, which sends no old password), for a run that was killed between a change and its restore"
        }
        "test_user_password" => "The password to give `--test-user-id` back. Never printed",
        _ => return arg,
    };
    arg.help(help).long_help(None)
}

impl CleanupArgs {
    /// Checks the flags and turns them into settings: the tenant and its
    /// credentials are required, and what to clean up.
    pub fn into_settings(self, redactor: Redactor) -> anyhow::Result<CleanupSettings> {
        let tenant = self.tenant.checked()?;
        let test_user = self.test_user.user()?;
        if let Some(user) = &test_user {
            redactor.add(user.password.secret());
        }
        let Some(url) = tenant.url.clone() else {
            bail!(
                "`cleanup` needs the tenant: `--base-url` (or UIPATH_URI, UIPATH_ORGANIZATION, UIPATH_TENANT)"
            );
        };
        if tenant.organization_id.is_none() && test_user.is_none() {
            bail!(
                "`cleanup` needs the organization id users were created in: `--organization-id` (UIPATH_ORGANIZATION_ID); or, to set an existing user's password back, `--test-user-id` and `--test-user-password`"
            );
        }
        let Some(credentials) = TenantCredentials::new(tenant.credentials(&url)?) else {
            bail!(
                "credentials are needed: `--token` (UIPATH_PAT) or `--client-id` and `--client-secret` (UIPATH_CLIENT_ID, UIPATH_CLIENT_SECRET)"
            );
        };
        Ok(CleanupSettings {
            url,
            credentials,
            organization_id: tenant.organization_id,
            connection: tenant.connection,
            test_user,
            prefix: self.prefix,
            dry_run: self.dry_run,
            redactor,
        })
    }
}
