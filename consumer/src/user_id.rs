//! The id of an Identity user.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// The UUID of an Identity user (`userId` in the API, `format: uuid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(Uuid);

/// A string that is not a user id.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{input}` is not a user id: a user id is a UUID such as `2f1d0e2a-7c1b-4d0e-9d64-3a4e9b8f1c2d`"
)]
pub struct UserIdError {
    input: String,
}

impl UserId {
    /// Wraps a UUID.
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    /// A fresh random (v4) id.
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    /// The UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl FromStr for UserId {
    type Err = UserIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim())
            .map(Self)
            .map_err(|_| UserIdError {
                input: s.chars().take(80).collect(),
            })
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hyphenated lower case, the form ASP.NET writes and routes.
        write!(f, "{}", self.0.hyphenated())
    }
}

impl From<Uuid> for UserId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}
