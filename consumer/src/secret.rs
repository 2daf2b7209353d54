//! Secrets that cannot be printed by accident.
//!
//! Tokens and passwords are wrapped from the moment they are read. Their
//! `Debug` and `Display` print `***`; the only way to the value is
//! [`SecretString::expose`], whose name makes every use easy to audit.

use std::fmt;

/// A string whose value is never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a value read from a flag, a variable, a file or a generator.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself: only for putting it on the wire or comparing it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<'de> serde::Deserialize<'de> for SecretString {
    /// Read from configuration files: the value is wrapped at once.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

macro_rules! secret_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps the value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::new(value))
            }

            /// The value itself: only for putting it on the wire or comparing it.
            pub fn expose(&self) -> &str {
                self.0.expose()
            }

            /// The wrapped secret.
            pub fn secret(&self) -> &SecretString {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "(***)"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("***")
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                SecretString::deserialize(deserializer).map(Self)
            }
        }
    };
}

secret_newtype!(
    /// A bearer token: an OAuth access token or a Personal Access Token.
    BearerToken
);

impl BearerToken {
    /// The token a person gave in a flag or variable: trimmed, without a
    /// leading `Bearer `. The error says what is wrong with it (never what it
    /// is): empty, or whitespace or control characters inside, which an
    /// `Authorization` header cannot carry.
    pub fn given(value: &str) -> Result<Self, &'static str> {
        let value = value.trim();
        let value = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value);
        if value.is_empty() {
            Err("is empty")
        } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Err("contains whitespace or control characters")
        } else {
            Ok(Self::new(value))
        }
    }
}

secret_newtype!(
    /// A user's password, old or new.
    Password
);
