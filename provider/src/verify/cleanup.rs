//! `orchestrator-pact cleanup`: what runs left on a tenant, undone by
//! hand: an existing user's password set back, throwaway users removed.
//! Beside `verify`, as it undoes what a verify run can leave, over the same
//! tenant connection.

use url::Url;
use uuid::Uuid;

use super::{Connection, TenantCredentials, TestUser};
use crate::exit::{EXIT_OK, EXIT_UNCHECKED};
use crate::redact::Redactor;
use crate::tenant::Tenant;

/// What `cleanup` needs, checked: the tenant, its credentials, and what
/// to undo.
#[derive(Clone, Debug)]
pub struct CleanupSettings {
    /// The tenant.
    pub url: Url,
    /// Its credentials.
    pub credentials: TenantCredentials,
    /// The organization throwaway users were created in; none when only an
    /// existing user's password is set back.
    pub organization_id: Option<Uuid>,
    /// How the tenant is reached.
    pub connection: Connection,
    /// An existing user whose password is set back.
    pub test_user: Option<TestUser>,
    /// Users whose name starts with this are removed.
    pub prefix: String,
    /// List, remove nothing.
    pub dry_run: bool,
    /// Every secret of the run.
    pub redactor: Redactor,
}

/// `orchestrator-pact cleanup`: sets an existing user's password back,
/// then removes the throwaway users whose name starts with the prefix.
/// Exit 0 when nothing is left, 2 when something could not be done.
pub(crate) async fn run(settings: CleanupSettings) -> anyhow::Result<u8> {
    let CleanupSettings {
        url,
        credentials,
        organization_id,
        connection,
        test_user,
        prefix,
        dry_run,
        redactor,
    } = settings;
    let tenant =
        super::connect_tenant(&connection, &url, &credentials, organization_id, &redactor).await?;
    let failed =
        usize::from(set_password_back(&tenant, test_user.as_ref(), dry_run, &redactor).await);
    if test_user.is_some() && organization_id.is_none() {
        return Ok(if failed == 0 { EXIT_OK } else { EXIT_UNCHECKED });
    }
    remove_throwaway_users(&tenant, &prefix, dry_run, failed, &redactor).await
}

/// Sets `user`'s password back (or says it would); true when that failed.
async fn set_password_back(
    tenant: &Tenant,
    user: Option<&TestUser>,
    dry_run: bool,
    redactor: &Redactor,
) -> bool {
    let mut failed = 0usize;
    if let Some(user) = user {
        if dry_run {
            println!("would set the password of {} back", user.id);
        } else {
            match tenant.set_password(&user.id, &user.password).await {
                Ok(()) => println!("set the password of {} back", user.id),
                Err(e) => {
                    failed += 1;
                    eprintln!(
                        "error: could not set the password of {} back: {}",
                        user.id,
                        redactor.scrub(&e.to_string())
                    );
                }
            }
        }
    }
    failed > 0
}

/// Removes the users whose name starts with `prefix` (or lists them, on a
/// dry run); exit 2 when some could not be removed, counting the `failed`
/// before, or the listing stopped early.
async fn remove_throwaway_users(
    tenant: &Tenant,
    prefix: &str,
    dry_run: bool,
    failed: usize,
    redactor: &Redactor,
) -> anyhow::Result<u8> {
    let mut failed = failed;
    let listing = tenant
        .users_with_prefix(prefix, &mut |p| {
            eprintln!(
                "listing users: page {}, {} listed of {} the tenant counts, {} to remove",
                p.pages, p.listed, p.total, p.matching
            );
        })
        .await?;
    if let Some(why) = &listing.incomplete {
        eprintln!(
            "warning: the listing stopped early: {why}. The users found are handled; run `cleanup` again for the rest"
        );
    }
    let found = listing.users;
    let incomplete = listing.incomplete.is_some();
    if found.is_empty() {
        println!(
            "no users whose name starts with `{}`: nothing to remove",
            prefix
        );
        return Ok(if failed == 0 && !incomplete {
            EXIT_OK
        } else {
            EXIT_UNCHECKED
        });
    }
    let mut removed = 0usize;
    for user in &found {
        let id = uipath_identity_client::UserId::from(user.id);
        let name = user.user_name.clone().unwrap_or_default();
        if dry_run {
            println!("would remove {id} ({name})");
            continue;
        }
        match tenant.delete_user(&id).await {
            Ok(_) => {
                removed += 1;
                println!("removed {id} ({name})");
            }
            Err(e) => {
                failed += 1;
                eprintln!(
                    "could not remove {id} ({name}): {}",
                    redactor.scrub(&e.to_string())
                );
            }
        }
    }
    if dry_run {
        println!(
            "{} user(s) would be removed (dry run: nothing was)",
            found.len()
        );
        return Ok(if incomplete { EXIT_UNCHECKED } else { EXIT_OK });
    }
    println!(
        "{removed} user(s) removed, {} could not be",
        found.len() - removed
    );
    Ok(if failed == 0 && !incomplete {
        EXIT_OK
    } else {
        EXIT_UNCHECKED
    })
}
