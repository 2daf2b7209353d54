//! The emulator's users, in organizations (partitions), with lockout
//! counters. Every operation takes the one lock, checks and applies at once,
//! so concurrent calls never lose or double an update.

use std::collections::HashMap;
use std::time::SystemTime;

use parking_lot::Mutex;
use uipath_identity_client::outcome::{CODE_PASSWORD_MISMATCH, CODE_USER_LOCKED_OUT};
use uipath_identity_client::{IdentityError, SecretString, UserId};
use uuid::Uuid;

use super::policy::PasswordPolicy;

/// A user of the tenant, with what `UserDto` shows of it and what only the
/// tenant knows (its password, its lockout counters).
#[derive(Clone, Debug)]
pub struct User {
    /// The `{userId}` of its paths.
    pub id: UserId,
    /// The organization it belongs to (`partitionGlobalId`).
    pub partition: Uuid,
    /// Its user name (unique in the organization, case-insensitive).
    pub user_name: String,
    /// Its email (unique in the organization when set).
    pub email: Option<String>,
    /// `name` (given name) in `UserDto`.
    pub name: Option<String>,
    /// `surname` (family name) in `UserDto`.
    pub surname: Option<String>,
    /// `displayName` in `UserDto`.
    pub display_name: Option<String>,
    /// `type` in `UserDto`: `user` unless created as another `UserType`
    /// (`robot`, `directoryUser`, …).
    pub kind: String,
    /// `bypassBasicAuthRestriction` in `UserDto`.
    pub bypass_basic_auth_restriction: bool,
    /// `invitationAccepted` in `UserDto`.
    pub invitation_accepted: bool,
    /// `legacyId` in `UserDto`: numbered from 1 in order of creation
    /// unless set.
    pub legacy_id: i64,
    /// `groupIDs` in `UserDto`.
    pub group_ids: Vec<Uuid>,
    /// `creationTime` in `UserDto`; the list sorts by it on request.
    pub created: SystemTime,
    /// What `oldPassword` must be for a change to succeed; `None`: no
    /// change can succeed (a user created without one).
    pub password: Option<SecretString>,
    /// Wrong old passwords since the last right one: at
    /// [`EmulatorConfig::lockout_threshold`](crate::EmulatorConfig::lockout_threshold)
    /// the user is locked.
    pub failed_checks: u32,
    /// Every change-password request that carried a wrong old password,
    /// locked out or not; never reset (what a test of lockout risk counts).
    pub wrong_passwords: u32,
    /// Locked out: every change is refused with `UserLockedOut` until
    /// [`Store::unlock`] (or `PUT` with `isActive: true`).
    pub locked: bool,
}

impl User {
    /// A local user of `partition` (`type` `user`), created now, with no
    /// email or names.
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

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ChangeResult {
    Changed,
    UnknownUser,
    /// ASP.NET Identity's errors, in its order.
    Refused(Vec<IdentityError>),
}

/// The fields `PUT api/User/{id}` (`UpdateUserCommand`) changes; `None`
/// and empty leave a field as it is.
#[derive(Debug, Default)]
pub(crate) struct UserUpdate {
    pub name: Option<String>,
    pub surname: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// False locks the user out; true unlocks it.
    pub is_active: Option<bool>,
    /// Set without the current one.
    pub password: Option<String>,
    pub groups_to_add: Vec<Uuid>,
    pub groups_to_remove: Vec<Uuid>,
    pub bypass_basic_auth_restriction: Option<bool>,
    pub invitation_accepted: Option<bool>,
}

#[derive(Debug)]
pub(crate) struct Page {
    /// How many users matched, on every page.
    pub total: usize,
    pub users: Vec<User>,
}

#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    /// Case-insensitive substring of user name, email, names.
    pub search: Option<String>,
    pub top: usize,
    pub skip: usize,
    /// `userName` unless given.
    pub sort_by: Option<String>,
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

/// The tenant's users, across its organizations. Every call takes one lock
/// and checks and applies at once, so concurrent requests never lose or
/// double an update; reads hand out copies.
#[derive(Debug, Default)]
pub struct Store {
    inner: Mutex<Inner>,
}

impl Store {
    /// Adds `user`, or replaces the user with its id, without the checks
    /// `POST api/User` makes (unique names, the password policy): for
    /// setting up a test's world.
    pub fn insert(&self, user: User) {
        self.inner.lock().put(user);
    }

    /// Creates a user as `POST api/User` does: refused with Identity errors
    /// when the user name or email is taken in its organization, the id is
    /// taken, or the password breaks the policy.
    pub(crate) fn create(
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
        let mut inner = self.inner.lock();
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

    /// Removes the user with `id`, as `DELETE api/User/{id}` does; whether
    /// there was one.
    pub fn remove(&self, id: &UserId) -> bool {
        self.inner.lock().users.remove(id).is_some()
    }

    /// Removes the given users of an organization; how many were removed.
    pub(crate) fn remove_many(&self, partition: Uuid, ids: &[Uuid]) -> usize {
        let mut inner = self.inner.lock();
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

    /// A copy of the user with `id` as it is now: later changes do not show
    /// in it.
    pub fn get(&self, id: &UserId) -> Option<User> {
        self.inner.lock().users.get(id).cloned()
    }

    /// Every user, sorted by id (for tests and inspection).
    pub fn all(&self) -> Vec<User> {
        let mut users: Vec<User> = self.inner.lock().users.values().cloned().collect();
        users.sort_by_key(|u| u.id);
        users
    }

    /// A page of an organization's users.
    pub(crate) fn list(&self, partition: Uuid, query: &ListQuery) -> Page {
        let inner = self.inner.lock();
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

    /// How many users there are, in every organization.
    pub fn len(&self) -> usize {
        self.inner.lock().users.len()
    }

    /// Whether there are no users in any organization.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Unlocks the user with `id` and resets its `failed_checks`, as
    /// `POST /_admin/users/{id}/unlock` does; whether there is one.
    pub fn unlock(&self, id: &UserId) -> bool {
        match self.inner.lock().users.get_mut(id) {
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
    pub(crate) fn change_password(
        &self,
        id: &UserId,
        old: Option<&str>,
        new: &str,
        policy: &PasswordPolicy,
        lockout_threshold: u32,
    ) -> ChangeResult {
        let mut inner = self.inner.lock();
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
    pub(crate) fn update(
        &self,
        id: &UserId,
        update: UserUpdate,
        policy: &PasswordPolicy,
    ) -> ChangeResult {
        let mut inner = self.inner.lock();
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
