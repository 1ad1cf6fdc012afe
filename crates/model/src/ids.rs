//! Validated identifiers. An id is checked once, when it is made, so code that holds one can
//! rely on its shape (ASCII letters, digits, `-`, `_`, `.`; 1 to 64 characters).

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// An identifier failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: use 1 to 64 ASCII letters, digits, '-', '_' or '.'")]
pub struct IdError {
    /// What kind of id it was meant to be.
    pub kind: &'static str,
    /// The rejected text.
    pub value: String,
}

fn valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps an id.
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                if valid(&s) { Ok(Self(s)) } else { Err(IdError { kind: $kind, value: s }) }
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A site of the network, e.g. `de-berlin`.
    SiteId, "site id"
);
id_type!(
    /// A research project; every task runs under one.
    ProjectId, "project id"
);
id_type!(
    /// A task sent from the hub to sites.
    TaskId, "task id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated_on_construction_and_deserialization() {
        assert!(SiteId::new("de-berlin").is_ok());
        assert!(SiteId::new("").is_err());
        assert!(SiteId::new("a b").is_err());
        assert!(SiteId::new("x".repeat(65)).is_err());
        let err = serde_json::from_str::<ProjectId>("\"../etc\"").unwrap_err();
        assert!(err.to_string().contains("invalid project id"), "{err}");
        let ok: TaskId = serde_json::from_str("\"t-1\"").unwrap();
        assert_eq!(ok.as_str(), "t-1");
    }
}
