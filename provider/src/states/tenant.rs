//! Provider states on a real tenant, with a ledger of what to undo.
//!
//! - Throwaway users (the default): each interaction gets a fresh local user
//!   with generated passwords; teardown deletes it.
//! - An existing user: its id and password are given; the change the success
//!   interaction makes is reverted in teardown.
//!
//! Whatever a teardown could not undo stays in the ledger; the run sweeps it
//! again at the end, also after a failure, a signal or a panic, and prints
//! what is still left (ids only).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use consumer::contract::{
    PARAM_NEW_PASSWORD, PARAM_OLD_PASSWORD, PARAM_PASSWORD, PARAM_USER_ID, check_state_params,
};
use consumer::{NewUser, Password, UserId};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

use crate::emulator::policy::PasswordPolicy;
use crate::emulator::states::{KNOWN_PASSWORD, KNOWN_STATES, POLICY_VIOLATION, WRONG_OLD_PASSWORD};
use crate::tenant::{Tenant, TenantError, USER_PREFIX};
use crate::verify::redact::Redactor;

/// Something to undo on the tenant.
#[derive(Clone, Debug)]
pub enum Undo {
    /// Delete this throwaway user.
    DeleteUser {
        /// Its id.
        id: UserId,
        /// Its name, for the report.
        user_name: String,
    },
    /// Change this user's password back from `current` to `original`.
    RestorePassword {
        /// The user.
        id: UserId,
        /// The password it may have now.
        current: Password,
        /// The password to restore.
        original: Password,
    },
}

impl Undo {
    /// What is left, by id (never a password), for the report.
    pub fn describe(&self) -> String {
        match self {
            Undo::DeleteUser { id, user_name } => {
                format!("throwaway user {id} ({user_name}) was not deleted")
            }
            Undo::RestorePassword { id, .. } => {
                format!(
                    "the password of user {id} may not be restored: reset it in the tenant's admin portal"
                )
            }
        }
    }
}

/// What the run still has to undo, last in first out.
#[derive(Debug, Default)]
pub struct Ledger {
    entries: Mutex<Vec<Undo>>,
}

impl Ledger {
    fn push(&self, undo: Undo) {
        self.lock().push(undo);
    }

    fn pop(&self) -> Option<Undo> {
        self.lock().pop()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Undo>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether nothing is left to undo.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// Undoes one entry; `Ok(())` when it is undone (or nothing needed undoing).
async fn undo(tenant: &Tenant, entry: &Undo) -> Result<(), TenantError> {
    match entry {
        Undo::DeleteUser { id, .. } => tenant.delete_user(id).await,
        Undo::RestorePassword {
            id,
            current,
            original,
        } => {
            // A refusal means the password was never changed (the
            // interaction failed before): nothing to restore.
            tenant
                .restore_password(id, current, original)
                .await
                .map(|_| ())
        }
    }
}

/// Which users the states use.
#[derive(Debug)]
pub enum UserMode {
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
pub struct TenantStates {
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
    pub fn new(
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
    pub fn with_progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }

    /// Testing the harness only: panic after `n` set-ups (each after its
    /// user exists), to prove that a panic still leaves the tenant clean.
    pub fn panicking_after(mut self, n: Option<usize>) -> Self {
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
    pub async fn setup<'a>(
        &self,
        state: &str,
        param: impl Fn(&str) -> Option<&'a Value>,
    ) -> Result<HashMap<String, Value>, TenantError> {
        if !KNOWN_STATES.contains(&state) {
            return Err(TenantError::Unusable {
                what: format!("setting up the provider state `{state}`"),
                problem: format!(
                    "unknown state; the harness knows {}",
                    KNOWN_STATES.map(|s| format!("`{s}`")).join(", ")
                ),
            });
        }
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
                self.ledger.push(Undo::DeleteUser {
                    id: user.id,
                    user_name: user.user_name.clone(),
                });
                if let Err(e) = self.tenant.create_user(&user).await {
                    // Try to take it back at once; the sweep retries if not.
                    if let Some(undo_entry) = self.ledger.pop()
                        && undo(&self.tenant, &undo_entry).await.is_err()
                    {
                        self.ledger.push(undo_entry);
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
        let (old, new) = match state {
            KNOWN_PASSWORD => (current.clone(), self.password()),
            WRONG_OLD_PASSWORD => (self.wrong(), self.password()),
            POLICY_VIOLATION => (current.clone(), self.too_short()),
            _ => unreachable!("checked above"),
        };
        if let UserMode::Existing { .. } = self.mode
            && state == KNOWN_PASSWORD
        {
            self.ledger.push(Undo::RestorePassword {
                id,
                current: new.clone(),
                original: current.clone(),
            });
        }
        // `password` is the user's current one: in existing-user mode the
        // real user's, registered with the redactor when it was read, like
        // every password generated here.
        Ok(HashMap::from([
            (PARAM_USER_ID.to_owned(), json!(id.to_string())),
            (PARAM_PASSWORD.to_owned(), json!(current.expose())),
            (PARAM_OLD_PASSWORD.to_owned(), json!(old.expose())),
            (PARAM_NEW_PASSWORD.to_owned(), json!(new.expose())),
        ]))
    }

    /// Tears down the latest set-up: deletes its user, or restores the
    /// existing user's password. A failure is kept for the final sweep and
    /// not reported to the verifier, which would otherwise replace the
    /// interaction's verdict with the teardown's error.
    pub async fn teardown(&self) {
        let Some(entry) = self.ledger.pop() else {
            return;
        };
        match undo(&self.tenant, &entry).await {
            Ok(()) => {
                if self.progress
                    && let Undo::DeleteUser { user_name, .. } = &entry
                {
                    eprintln!("  torn down: deleted {user_name}");
                }
            }
            Err(e) => {
                tracing::warn!("teardown failed, retried at the end of the run: {e}");
                if self.progress {
                    eprintln!(
                        "  teardown failed ({}); retried at the end of the run",
                        self.redactor.scrub(&e.to_string())
                    );
                }
                self.ledger.push(entry);
            }
        }
    }
}

/// Undoes everything left in `ledger`; gives what could not be undone.
pub async fn sweep(tenant: &Tenant, ledger: &Ledger) -> Vec<(Undo, String)> {
    let mut left = Vec::new();
    while let Some(entry) = ledger.pop() {
        if let Err(e) = undo(tenant, &entry).await {
            left.push((entry, e.to_string()));
        }
    }
    left
}
