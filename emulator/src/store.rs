//! The emulator's users, in organizations (partitions), with lockout
//! counters. Every operation takes the one lock, checks and applies at once,
//! so concurrent calls never lose or double an update.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use uipath_identity_client::outcome::{CODE_PASSWORD_MISMATCH, CODE_USER_LOCKED_OUT};
use uipath_identity_client::{IdentityError, SecretString, UserId};
use uuid::Uuid;

use super::policy::PasswordPolicy;

/// A user of the emulated tenant.
#[derive(Clone, Debug)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Its organization.
    pub partition: Uuid,
    /// Its user name (unique in the organization, case-insensitive).
    pub user_name: String,
    /// Its email (unique in the organization when set).
    pub email: Option<String>,
    /// First name.
    pub name: Option<String>,
    /// Last name.
    pub surname: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// `UserType`, such as `user`.
    pub kind: String,
    /// Whether it bypasses the basic-auth restriction.
    pub bypass_basic_auth_restriction: bool,
    /// Whether it accepted its invitation.
    pub invitation_accepted: bool,
    /// The legacy numeric id.
    pub legacy_id: i64,
    /// Group ids.
    pub group_ids: Vec<Uuid>,
    /// When it was created.
    pub created: SystemTime,
    /// Its current password, if it has one.
    pub password: Option<SecretString>,
    /// Consecutive failed password checks.
    pub failed_checks: u32,
    /// Every change-password request that carried a wrong old password,
    /// locked out or not; never reset (what a test of lockout risk counts).
    pub wrong_passwords: u32,
    /// Whether it is locked out.
    pub locked: bool,
}

impl User {
    /// A plain local user with a password.
    pub fn new(
        id: UserId,
        partition: Uuid,
        user_name: impl Into<String>,
        password: Option<SecretString>,
    ) -> Self {
        Self {
            id,
            partition,
            user_name: user_name.into(),
            email: None,
            name: None,
            surname: None,
            display_name: None,
            kind: "user".into(),
            bypass_basic_auth_restriction: false,
            invitation_accepted: false,
            legacy_id: 0,
            group_ids: Vec::new(),
            created: SystemTime::now(),
            password,
            failed_checks: 0,
            wrong_passwords: 0,
            locked: false,
        }
    }
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

/// The fields `PUT api/User/{id}` (`UpdateUserCommand`) changes; `None`
/// and empty leave a field as it is.
#[derive(Debug, Default)]
pub struct UserUpdate {
    /// First name.
    pub name: Option<String>,
    /// Last name.
    pub surname: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Active (false locks the user out).
    pub is_active: Option<bool>,
    /// A new password, set without the current one.
    pub password: Option<String>,
    /// Groups to add.
    pub groups_to_add: Vec<Uuid>,
    /// Groups to remove.
    pub groups_to_remove: Vec<Uuid>,
    /// Whether it bypasses the basic-auth restriction.
    pub bypass_basic_auth_restriction: Option<bool>,
    /// Whether it accepted its invitation.
    pub invitation_accepted: Option<bool>,
}

/// A page of users.
#[derive(Debug)]
pub struct Page {
    /// How many users matched in all.
    pub total: usize,
    /// This page of them.
    pub users: Vec<User>,
}

/// How to list users.
#[derive(Debug, Default)]
pub struct ListQuery {
    /// Case-insensitive substring of user name, email, names.
    pub search: Option<String>,
    /// Page size.
    pub top: usize,
    /// Users to skip.
    pub skip: usize,
    /// Field to sort by (`userName` by default).
    pub sort_by: Option<String>,
    /// Descending instead of ascending.
    pub descending: bool,
}

#[derive(Debug, Default)]
struct Inner {
    users: HashMap<UserId, User>,
    next_legacy_id: i64,
}

impl Inner {
    /// Stores `user`, giving it the next legacy id unless it has one.
    fn put(&mut self, mut user: User) -> UserId {
        self.next_legacy_id += 1;
        if user.legacy_id == 0 {
            user.legacy_id = self.next_legacy_id;
        }
        let id = user.id;
        self.users.insert(id, user);
        id
    }
}

/// All users, behind one lock.
#[derive(Debug, Default)]
pub struct Store {
    inner: Mutex<Inner>,
}

impl Store {
    /// Adds or replaces a user (seeding and provider states).
    pub fn insert(&self, user: User) {
        self.lock().put(user);
    }

    /// Creates a user as `POST api/User` does: refused with Identity errors
    /// when the user name or email is taken in its organization, the id is
    /// taken, or the password breaks the policy.
    pub fn create(
        &self,
        user: User,
        validate_password: bool,
        policy: &PasswordPolicy,
    ) -> Result<UserId, Vec<IdentityError>> {
        let mut errors = Vec::new();
        if user.user_name.trim().is_empty() {
            errors.push(IdentityError::new(
                "InvalidUserName",
                format!(
                    "Username '{}' is invalid, can only contain letters or digits.",
                    user.user_name
                ),
            ));
        }
        if let Some(email) = &user.email
            && !email.contains('@')
        {
            errors.push(IdentityError::new(
                "InvalidEmail",
                format!("Email '{email}' is invalid."),
            ));
        }
        if validate_password && let Some(password) = &user.password {
            errors.extend(policy.violations(password.expose()));
        }
        let mut inner = self.lock();
        if inner.users.contains_key(&user.id) {
            errors.push(IdentityError::new(
                "DuplicateUserId",
                format!("A user with id '{}' already exists.", user.id),
            ));
        }
        let same_org = || {
            inner
                .users
                .values()
                .filter(|u| u.partition == user.partition)
        };
        if same_org().any(|u| u.user_name.eq_ignore_ascii_case(&user.user_name)) {
            errors.push(IdentityError::new(
                "DuplicateUserName",
                format!("Username '{}' is already taken.", user.user_name),
            ));
        }
        if let Some(email) = &user.email
            && same_org().any(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
        {
            errors.push(IdentityError::new(
                "DuplicateEmail",
                format!("Email '{email}' is already taken."),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(inner.put(user))
    }

    /// Removes a user; whether it existed.
    pub fn remove(&self, id: &UserId) -> bool {
        self.lock().users.remove(id).is_some()
    }

    /// Removes the given users of an organization; how many were removed.
    pub fn remove_many(&self, partition: Uuid, ids: &[Uuid]) -> usize {
        let mut inner = self.lock();
        let mut removed = 0;
        for id in ids {
            let id = UserId::from(*id);
            if inner
                .users
                .get(&id)
                .is_some_and(|u| u.partition == partition)
            {
                inner.users.remove(&id);
                removed += 1;
            }
        }
        removed
    }

    /// A copy of a user.
    pub fn get(&self, id: &UserId) -> Option<User> {
        self.lock().users.get(id).cloned()
    }

    /// Every user, sorted by id (for tests and inspection).
    pub fn all(&self) -> Vec<User> {
        let mut users: Vec<User> = self.lock().users.values().cloned().collect();
        users.sort_by_key(|u| u.id);
        users
    }

    /// A page of an organization's users.
    pub fn list(&self, partition: Uuid, query: &ListQuery) -> Page {
        let inner = self.lock();
        let needle = query
            .search
            .as_deref()
            .map(str::to_lowercase)
            .unwrap_or_default();
        let matches = |u: &&User| {
            needle.is_empty()
                || [
                    Some(&u.user_name),
                    u.email.as_ref(),
                    u.name.as_ref(),
                    u.surname.as_ref(),
                    u.display_name.as_ref(),
                ]
                .into_iter()
                .flatten()
                .any(|f| f.to_lowercase().contains(&needle))
        };
        let mut found: Vec<User> = inner
            .users
            .values()
            .filter(|u| u.partition == partition)
            .filter(matches)
            .cloned()
            .collect();
        drop(inner);
        // The sort field is read once; creation times compare as times.
        let field = query.sort_by.as_deref().map(str::to_ascii_lowercase);
        match field.as_deref() {
            Some("creationtime") => {
                found.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
            }
            field => {
                let text = |u: &User| -> String {
                    match field {
                        Some("email") => u.email.clone().unwrap_or_default(),
                        Some("name") => u.name.clone().unwrap_or_default(),
                        Some("surname") => u.surname.clone().unwrap_or_default(),
                        Some("displayname") => u.display_name.clone().unwrap_or_default(),
                        _ => u.user_name.to_lowercase(),
                    }
                };
                found.sort_by_cached_key(|u| (text(u), u.id));
            }
        }
        if query.descending {
            found.reverse();
        }
        let total = found.len();
        let users = found.into_iter().skip(query.skip).take(query.top).collect();
        Page { total, users }
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.lock().users.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Unlocks a user and resets its counter; whether it exists.
    pub fn unlock(&self, id: &UserId) -> bool {
        match self.lock().users.get_mut(id) {
            Some(user) => {
                user.locked = false;
                user.failed_checks = 0;
                true
            }
            None => false,
        }
    }

    /// Changes a password as `UserManager.ChangePasswordAsync` does: a
    /// locked user is refused; then the old password is checked (a failure
    /// counts toward lockout after `lockout_threshold`, 0 never locks); then
    /// the policy on the new one.
    pub fn change_password(
        &self,
        id: &UserId,
        old: Option<&str>,
        new: &str,
        policy: &PasswordPolicy,
        lockout_threshold: u32,
    ) -> ChangeResult {
        let mut inner = self.lock();
        let Some(user) = inner.users.get_mut(id) else {
            return ChangeResult::UnknownUser;
        };
        let matches = match (&user.password, old) {
            (Some(current), Some(old)) => current.expose() == old,
            _ => false,
        };
        if !matches {
            user.wrong_passwords += 1;
        }
        if user.locked {
            return ChangeResult::Refused(vec![IdentityError::new(
                CODE_USER_LOCKED_OUT,
                "User is locked out.",
            )]);
        }
        if !matches {
            user.failed_checks += 1;
            if lockout_threshold > 0 && user.failed_checks >= lockout_threshold {
                user.locked = true;
            }
            return ChangeResult::Refused(vec![IdentityError::new(
                CODE_PASSWORD_MISMATCH,
                "Incorrect password.",
            )]);
        }
        user.failed_checks = 0;
        let violations = policy.violations(new);
        if !violations.is_empty() {
            return ChangeResult::Refused(violations);
        }
        user.password = Some(SecretString::new(new));
        ChangeResult::Changed
    }

    /// Updates a user as `PUT api/User/{id}` does: every check first
    /// (the email's form and uniqueness in the organization, the password
    /// policy on a new password), then every change at once. Setting the
    /// password needs no old one and leaves the lockout counter alone.
    pub fn update(&self, id: &UserId, update: UserUpdate, policy: &PasswordPolicy) -> ChangeResult {
        let mut inner = self.lock();
        let Some(user) = inner.users.get(id) else {
            return ChangeResult::UnknownUser;
        };
        let mut errors = Vec::new();
        if let Some(email) = &update.email {
            if !email.contains('@') {
                errors.push(IdentityError::new(
                    "InvalidEmail",
                    format!("Email '{email}' is invalid."),
                ));
            } else if inner.users.values().any(|u| {
                u.id != user.id
                    && u.partition == user.partition
                    && u.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
            }) {
                errors.push(IdentityError::new(
                    "DuplicateEmail",
                    format!("Email '{email}' is already taken."),
                ));
            }
        }
        if let Some(password) = &update.password {
            errors.extend(policy.violations(password));
        }
        if !errors.is_empty() {
            return ChangeResult::Refused(errors);
        }
        let user = inner
            .users
            .get_mut(id)
            .expect("found above, under the same lock");
        if let Some(v) = update.name {
            user.name = Some(v);
        }
        if let Some(v) = update.surname {
            user.surname = Some(v);
        }
        if let Some(v) = update.display_name {
            user.display_name = Some(v);
        }
        if let Some(v) = update.email {
            user.email = Some(v);
        }
        if let Some(active) = update.is_active {
            user.locked = !active;
        }
        if let Some(v) = update.bypass_basic_auth_restriction {
            user.bypass_basic_auth_restriction = v;
        }
        if let Some(v) = update.invitation_accepted {
            user.invitation_accepted = v;
        }
        user.group_ids
            .retain(|g| !update.groups_to_remove.contains(g));
        for g in update.groups_to_add {
            if !user.group_ids.contains(&g) {
                user.group_ids.push(g);
            }
        }
        if let Some(password) = update.password {
            user.password = Some(SecretString::new(password));
        }
        ChangeResult::Changed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied change
        // (each change is a few assignments after all checks), so a poisoned
        // lock is still sound.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn sorting_by_creation_time_compares_times() {
        let store = Store::default();
        let partition = Uuid::new_v4();
        // In the same second, 5 ns before 10 ns: as text ("tv_nsec: 5" and
        // "tv_nsec: 10") the order would be the other way round.
        let second = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for (name, nanos) in [("later", 10), ("earlier", 5)] {
            let mut user = User::new(UserId::random(), partition, name, None);
            user.created = second + Duration::from_nanos(nanos);
            store.insert(user);
        }
        let query = ListQuery {
            top: 10,
            sort_by: Some("creationTime".into()),
            ..ListQuery::default()
        };
        let names: Vec<String> = store
            .list(partition, &query)
            .users
            .into_iter()
            .map(|u| u.user_name)
            .collect();
        assert_eq!(names, ["earlier", "later"]);
    }
}
