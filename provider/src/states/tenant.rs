//! Provider states on a real tenant, with a ledger of what to undo.
//!
//! - Throwaway users (the default): each interaction gets a fresh local user
//!   with generated passwords; teardown deletes it.
//! - An existing user: its id and password are given; after each interaction
//!   its password is set back as an administrator (`PUT api/User/{id}`),
//!   which sends no old password: nothing the harness does on its own can
//!   be a wrong guess that counts toward lockout.
//!
//! Whatever a teardown could not undo stays in the ledger, and so does an
//! undo whose call was cut short (a signal drops the future mid-request: a
//! guard puts the entry back). The run sweeps the ledger again at the end,
//! also after a failure, a signal or a panic, and prints what is still left
//! (ids only). Only an answered call takes an entry off.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::Value;
use uipath_identity_client::contract::{ProviderState, StateValues, check_state_params};
use uipath_identity_client::{Password, UserId};

use crate::emulator::policy::PasswordPolicy;
use crate::redact::Redactor;
use crate::tenant::admin::NewUser;
use crate::tenant::{Tenant, TenantError, USER_PREFIX};

/// Something to undo on the tenant.
#[derive(Clone, Debug)]
pub(crate) enum Undo {
    /// Delete this throwaway user.
    DeleteUser {
        /// Its id.
        id: UserId,
        /// Its name, for the report.
        user_name: String,
    },
    /// Set this existing user's password back to `original`.
    RestorePassword {
        /// The user.
        id: UserId,
        /// The password to restore.
        original: Password,
    },
}

impl Undo {
    /// What is left, by id (never a password), for the report.
    pub(crate) fn describe(&self) -> String {
        match self {
            Undo::DeleteUser { id, user_name } => {
                format!("throwaway user {id} ({user_name}) was not deleted")
            }
            Undo::RestorePassword { id, .. } => {
                format!(
                    "the password of user {id} may not be restored: run `orchestrator-pact cleanup --test-user-id {id} --test-user-password …` with its old password (and the same --base-url and credentials), or reset it in the tenant's admin portal"
                )
            }
        }
    }
}

/// Which interaction of a run a set-up or teardown is for: its position
/// in the run, in pact order. Interactions may run concurrently, so the
/// ledger keeps each entry under the interaction that made it, and a
/// teardown undoes only its own interaction's entries.
pub(crate) type Slot = usize;

/// What the run still has to undo: each interaction's entries, last in
/// first out within the interaction.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    entries: Mutex<Vec<(Slot, Undo)>>,
}

impl Ledger {
    fn push(&self, slot: Slot, undo: Undo) {
        self.lock().push((slot, undo));
    }

    /// Takes `slot`'s latest entry off while it is undone: dropping the
    /// guard before [`InFlight::done`] (a failure, or a signal cancelling
    /// the call) puts it back.
    fn take(&self, slot: Slot) -> Option<InFlight<'_>> {
        let mut entries = self.lock();
        let at = entries.iter().rposition(|(s, _)| *s == slot)?;
        let (slot, entry) = entries.remove(at);
        Some(InFlight {
            ledger: self,
            slot,
            entry: Some(entry),
        })
    }

    /// Takes the latest entry of any interaction off (the final sweep).
    fn take_any(&self) -> Option<InFlight<'_>> {
        let (slot, entry) = self.lock().pop()?;
        Some(InFlight {
            ledger: self,
            slot,
            entry: Some(entry),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Slot, Undo)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether nothing is left to undo.
    pub(crate) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// An entry being undone, put back in its ledger unless [`InFlight::done`].
struct InFlight<'a> {
    ledger: &'a Ledger,
    slot: Slot,
    entry: Option<Undo>,
}

impl InFlight<'_> {
    fn entry(&self) -> &Undo {
        self.entry.as_ref().expect("taken until done")
    }

    /// The tenant answered: the entry is off the ledger for good.
    fn done(mut self) -> Undo {
        self.entry.take().expect("taken until done")
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            self.ledger.push(self.slot, entry);
        }
    }
}

/// Undoes one entry; `Ok(())` when the tenant answered that it is undone.
async fn undo(tenant: &Tenant, entry: &Undo) -> Result<(), TenantError> {
    match entry {
        Undo::DeleteUser { id, .. } => tenant.delete_user(id).await,
        Undo::RestorePassword { id, original } => tenant.set_password(id, original).await,
    }
}

/// Which users the states use.
#[derive(Debug)]
pub(crate) enum UserMode {
    /// A fresh user per interaction, in the tenant's organization.
    Throwaway {
        /// The run's id, in every user name.
        run_id: String,
        /// How many users this run created.
        created: AtomicUsize,
    },
    /// One existing user.
    Existing {
        /// Its id.
        id: UserId,
        /// Its password before the run.
        password: Password,
    },
}

/// The provider-state executor for a tenant.
#[derive(Debug)]
pub(crate) struct TenantStates {
    tenant: Arc<Tenant>,
    mode: UserMode,
    policy: PasswordPolicy,
    redactor: Redactor,
    ledger: Arc<Ledger>,
    panic_after: Option<usize>,
    setups: AtomicUsize,
    progress: bool,
}

fn random_chars(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

impl TenantStates {
    /// An executor over `tenant`.
    pub(crate) fn new(
        tenant: Arc<Tenant>,
        mode: UserMode,
        policy: PasswordPolicy,
        redactor: Redactor,
        ledger: Arc<Ledger>,
    ) -> Self {
        Self {
            tenant,
            mode,
            policy,
            redactor,
            ledger,
            panic_after: None,
            setups: AtomicUsize::new(0),
            progress: false,
        }
    }

    /// Prints a line on stderr for each user set up and removed: a live run
    /// waits on the tenant, and the reader should see that it moves.
    pub(crate) fn with_progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }

    /// Testing the harness only: panic after `n` set-ups (each after its
    /// user exists), to prove that a panic still leaves the tenant clean.
    pub(crate) fn panicking_after(mut self, n: Option<usize>) -> Self {
        self.panic_after = n;
        self
    }

    fn password(&self) -> Password {
        let p = Password::new(self.policy.generate());
        self.redactor.add(p.secret());
        p
    }

    /// A password too short for any sane policy, and for nothing else: a
    /// lowercase letter, a digit, and random letters, below the minimum.
    fn too_short(&self) -> Password {
        let len = self.policy.min_length.saturating_sub(1).clamp(1, 5);
        let p = Password::new(
            format!("a1{}", random_chars(3))
                .chars()
                .take(len)
                .collect::<String>(),
        );
        self.redactor.add(p.secret());
        p
    }

    /// A wrong old password, shaped like a real one.
    fn wrong(&self) -> Password {
        let p = Password::new(format!("{}-Wr0ng", self.policy.generate()));
        self.redactor.add(p.secret());
        p
    }

    /// Sets up `state` and gives what it set up and what the interaction
    /// sends (`userId`, `password`, `oldPassword`, `newPassword`). `param`
    /// reads the state's parameters, which are checked against the state
    /// before anything is created; the values are the run's own.
    pub(crate) async fn setup<'a>(
        &self,
        slot: Slot,
        state: &str,
        param: impl Fn(&str) -> Option<&'a Value>,
    ) -> Result<HashMap<String, Value>, TenantError> {
        let Some(known) = ProviderState::from_name(state) else {
            return Err(TenantError::Unusable {
                what: format!("setting up the provider state `{state}`"),
                problem: format!(
                    "unknown state; the harness knows {}",
                    ProviderState::known_names()
                ),
            });
        };
        check_state_params(state, param).map_err(|e| TenantError::Unusable {
            what: format!("setting up the provider state `{state}`"),
            problem: e.to_string(),
        })?;
        let (id, current) = match &self.mode {
            UserMode::Throwaway { run_id, created } => {
                let organization = self.tenant.require_organization()?;
                let n = created.fetch_add(1, Ordering::SeqCst) + 1;
                let user = NewUser {
                    id: UserId::random(),
                    user_name: format!("{USER_PREFIX}{run_id}-{n}"),
                    password: self.password(),
                    partition: organization,
                };
                // Recorded before the call: a create whose answer is lost may
                // still have happened, and deleting an absent user is harmless.
                self.ledger.push(
                    slot,
                    Undo::DeleteUser {
                        id: user.id,
                        user_name: user.user_name.clone(),
                    },
                );
                if let Err(e) = self.tenant.create_user(&user).await {
                    if let Some(taken) = self.ledger.take(slot) {
                        if e.is_refusal() {
                            // The tenant answered that it did not create the
                            // user: there is nothing to remove.
                            taken.done();
                        } else if undo(&self.tenant, taken.entry()).await.is_ok() {
                            // The answer was lost or a server error: it may
                            // exist; taken back at once, or swept later.
                            taken.done();
                        }
                    }
                    return Err(e);
                }
                tracing::info!(user = %user.id, name = %user.user_name, "created a throwaway user");
                if self.progress {
                    eprintln!(
                        "  set up `{state}`: throwaway user {} ({})",
                        user.user_name, user.id
                    );
                }
                (user.id, user.password)
            }
            UserMode::Existing { id, password } => (*id, password.clone()),
        };
        let done = self.setups.fetch_add(1, Ordering::SeqCst) + 1;
        if self.panic_after.is_some_and(|n| done > n) {
            panic!("test panic after {done} set-ups (--test-panic-after-setups)");
        }
        let (old, new) = match known {
            ProviderState::KnownPassword => (current.clone(), self.password()),
            ProviderState::WrongOldPassword => (self.wrong(), self.password()),
            ProviderState::PolicyViolation => (current.clone(), self.too_short()),
        };
        if let UserMode::Existing { .. } = self.mode {
            // Every interaction may change the password on a tenant that
            // breaks the contract (a wrong old password accepted, a too
            // short new one taken): set it back after each.
            self.ledger.push(
                slot,
                Undo::RestorePassword {
                    id,
                    original: current.clone(),
                },
            );
        }
        // `password` is the user's current one: in existing-user mode the
        // real user's, registered with the redactor when it was read, like
        // every password generated here.
        Ok(StateValues {
            user_id: id,
            password: current.expose(),
            old_password: old.expose(),
            new_password: new.expose(),
        }
        .into_params())
    }

    /// Tears down `slot`'s latest set-up: deletes its user, or restores the
    /// existing user's password. A failure is kept for the final sweep and
    /// not reported to the verifier, which would otherwise replace the
    /// interaction's verdict with the teardown's error.
    pub(crate) async fn teardown(&self, slot: Slot) {
        let Some(taken) = self.ledger.take(slot) else {
            return;
        };
        match undo(&self.tenant, taken.entry()).await {
            Ok(()) => {
                if self.progress {
                    match taken.entry() {
                        Undo::DeleteUser { user_name, .. } => {
                            eprintln!("  torn down: deleted {user_name}");
                        }
                        Undo::RestorePassword { id, .. } => {
                            eprintln!("  torn down: set the password of {id} back");
                        }
                    }
                }
                taken.done();
            }
            Err(e) => {
                tracing::warn!("teardown failed, retried at the end of the run: {e}");
                if self.progress {
                    eprintln!(
                        "  teardown failed ({}); retried at the end of the run",
                        self.redactor.scrub(&e.to_string())
                    );
                }
                // Dropping `taken` puts the entry back for the sweep.
            }
        }
    }
}

/// When the clean-up after a signal must end: the run must end, and one
/// bound covers both the interactions under way and the sweep.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    /// The moment.
    pub at: tokio::time::Instant,
    /// The bound after the signal it came from, for the report.
    pub bound: std::time::Duration,
}

/// Undoes everything left in `ledger`, by `deadline` if given (after a
/// signal); gives what could not be undone. An entry is only off the
/// ledger when the tenant answered that it is undone: one cut short by the
/// deadline is reported as left.
pub(crate) async fn sweep(
    tenant: &Tenant,
    ledger: &Ledger,
    deadline: Option<Deadline>,
) -> Vec<(Undo, String)> {
    let mut left = Vec::new();
    let work = async {
        while let Some(taken) = ledger.take_any() {
            if let Err(e) = undo(tenant, taken.entry()).await {
                left.push((taken.done(), e.to_string()));
            } else {
                taken.done();
            }
        }
    };
    let finished = match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline.at, work).await.is_ok(),
        None => {
            work.await;
            true
        }
    };
    if !finished {
        let bound = deadline.map_or(0, |d| d.bound.as_secs());
        while let Some(taken) = ledger.take_any() {
            left.push((
                taken.done(),
                format!("the tenant did not answer within {bound} s of the signal"),
            ));
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delete(n: u8) -> Undo {
        Undo::DeleteUser {
            id: UserId::random(),
            user_name: format!("user-{n}"),
        }
    }

    fn name(undo: &Undo) -> &str {
        match undo {
            Undo::DeleteUser { user_name, .. } => user_name,
            Undo::RestorePassword { .. } => "restore",
        }
    }

    /// Interactions set up concurrently: a teardown takes its own
    /// interaction's entry, not the latest of the run; one that is not done
    /// goes back under its own slot.
    #[test]
    fn a_teardown_takes_its_own_slots_entry_not_the_latest() {
        let ledger = Ledger::default();
        ledger.push(0, delete(0));
        ledger.push(1, delete(1));
        ledger.push(2, delete(2));
        let taken = ledger.take(0).unwrap();
        assert_eq!(name(taken.entry()), "user-0");
        drop(taken);
        assert!(ledger.take(7).is_none());
        assert_eq!(name(&ledger.take(1).unwrap().done()), "user-1");
        assert_eq!(name(&ledger.take(0).unwrap().done()), "user-0");
        assert_eq!(name(&ledger.take_any().unwrap().done()), "user-2");
        assert!(ledger.is_empty());
    }
}
