//! The emulator's users.

use std::collections::HashMap;
use std::sync::Mutex;

use consumer::{IdentityError, SecretString, UserId};

use super::policy::PasswordPolicy;

/// A local user of the emulated tenant.
#[derive(Clone, Debug)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Its user name.
    pub user_name: String,
    /// Its current password.
    pub password: SecretString,
}

/// How a password change ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ChangeResult {
    /// The password is changed.
    Changed,
    /// No such user.
    UnknownUser,
    /// Refused, with ASP.NET Identity's errors.
    Refused(Vec<IdentityError>),
}

/// All users, behind one lock: each change is checked and applied
/// atomically, so concurrent changes never lose an update.
#[derive(Debug, Default)]
pub struct Store {
    users: Mutex<HashMap<UserId, User>>,
}

impl Store {
    /// Adds or replaces a user.
    pub fn insert(&self, user: User) {
        self.lock().insert(user.id, user);
    }

    /// Removes a user; whether it existed.
    pub fn remove(&self, id: &UserId) -> bool {
        self.lock().remove(id).is_some()
    }

    /// A copy of a user.
    pub fn get(&self, id: &UserId) -> Option<User> {
        self.lock().get(id).cloned()
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Changes a password as `UserManager.ChangePasswordAsync` does: the old
    /// password first, then the policy on the new one.
    pub fn change_password(
        &self,
        id: &UserId,
        old: Option<&str>,
        new: &str,
        policy: &PasswordPolicy,
    ) -> ChangeResult {
        let mut users = self.lock();
        let Some(user) = users.get_mut(id) else {
            return ChangeResult::UnknownUser;
        };
        if old != Some(user.password.expose()) {
            return ChangeResult::Refused(vec![IdentityError {
                code: Some("PasswordMismatch".into()),
                description: Some("Incorrect password.".into()),
            }]);
        }
        let violations = policy.violations(new);
        if !violations.is_empty() {
            return ChangeResult::Refused(violations);
        }
        user.password = SecretString::new(new);
        ChangeResult::Changed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, User>> {
        // A panic while holding the lock cannot leave a half-applied change
        // (each change is one assignment), so a poisoned lock is still sound.
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }
}
