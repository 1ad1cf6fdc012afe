//! The repeat key: what makes two questions "the same" for noise and budget.
//!
//! The gate gives a repeated question the stored answer (the same noise) for free and a new
//! one fresh noise for ε. That is sound only if the key is equal exactly when the answer's
//! meaning is equal:
//!
//! - a key that is too coarse (two questions with different true answers share it) hands out
//!   the same noise on different counts, so released differences equal true differences;
//! - a key that is too fine (the same question gets a new key by rephrasing it) draws new
//!   noise for what the researcher already knows, which lets them average it away (each draw
//!   costs ε, but for nothing).
//!
//! [`RepeatKey`] is therefore the hash of everything that can change an answer, and nothing
//! else ([`KeyParts`]): the canonical form of the request (each task type's own: displays,
//! ids, duplicates and the order of order-free lists removed), the evaluation date where the
//! answer depends on it (cohort ages), the data snapshot, the versions of the site's reference
//! data the task reads ([`ReferenceVersions`]) and the software version
//! ([`software_version`]).

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

/// Everything that can change a site's answer to a question.
#[derive(Debug, Clone, Copy)]
pub struct KeyParts<'a> {
    /// The request's canonical form (the same meaning gives the same text).
    pub canonical: &'a str,
    /// The date the answer is computed as of, when the answer depends on it (cohort ages);
    /// `None` for questions whose answer does not (their key is the same on every day).
    pub evaluation_date: Option<NaiveDate>,
    /// The data snapshot answered on (`Snapshot::tag()`).
    pub snapshot: &'a str,
    /// The reference data the task reads, as [`ReferenceVersions`]'s text.
    pub references: &'a str,
    /// The software release computing the answer ([`software_version`]).
    pub software: &'a str,
}

/// The key of a question for noise and budget: a SHA-256 over its [`KeyParts`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepeatKey {
    hex: String,
    snapshot: String,
}

/// The domain separator of version 1 of the key's encoding.
const DOMAIN: &[u8] = b"kakehashi repeat key v1";

impl RepeatKey {
    /// The key of these parts. Each part is length-prefixed, so no two different part lists
    /// hash the same bytes.
    pub fn new(p: &KeyParts<'_>) -> RepeatKey {
        let mut h = Sha256::new();
        let date = p
            .evaluation_date
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        for part in [
            DOMAIN,
            p.canonical.as_bytes(),
            date.as_bytes(),
            p.snapshot.as_bytes(),
            p.references.as_bytes(),
            p.software.as_bytes(),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        RepeatKey {
            hex: hex::encode(h.finalize()),
            snapshot: p.snapshot.to_owned(),
        }
    }

    /// The key of a question whose answer depends only on the data and the software (no
    /// evaluation date, no reference data), e.g. a site's patient count.
    pub fn of_data(canonical: &str, snapshot: &str) -> RepeatKey {
        RepeatKey::new(&KeyParts {
            canonical,
            evaluation_date: None,
            snapshot,
            references: "",
            software: software_version(),
        })
    }

    /// The key as 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.hex
    }

    /// The snapshot part (kept in clear for the ledger and the logs).
    pub fn snapshot(&self) -> &str {
        &self.snapshot
    }
}

impl fmt::Display for RepeatKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex)
    }
}

/// The versions of the reference data one task reads, by file: a stable text (files sorted by
/// name) for [`KeyParts::references`]. A file's version is the SHA-256 of its bytes (first 16
/// hex digits), so any change of a table a site installs (a new breakpoint table, an edited
/// map) gives new keys, whatever its header says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceVersions(BTreeMap<String, String>);

impl ReferenceVersions {
    /// No files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file by its content.
    pub fn add_text(&mut self, name: &str, text: &str) -> &mut Self {
        self.add_version(name, &digest(text.as_bytes()))
    }

    /// Adds a file whose version is already known (e.g. a digest computed when it was loaded).
    pub fn add_version(&mut self, name: &str, version: &str) -> &mut Self {
        self.0.insert(name.to_owned(), version.to_owned());
        self
    }
}

impl fmt::Display for ReferenceVersions {
    /// `name=version` per file, sorted by name, separated by `;`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, version)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{name}={version}")?;
        }
        Ok(())
    }
}

/// The version of a reference file: `sha256:` and the first 16 hex digits of its digest.
pub fn digest(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    format!("sha256:{}", hex::encode(&d[..8]))
}

/// The software release: the crate version, and `git describe` of the source tree when the
/// build could run git (`build.rs`; `KAKEHASHI_GIT_DESCRIBE` set at build time overrides it,
/// for packagers building without git).
pub fn software_version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| match option_env!("KAKEHASHI_GIT_DESCRIBE") {
        Some(d) if !d.is_empty() => format!("{}+{d}", env!("CARGO_PKG_VERSION")),
        _ => env!("CARGO_PKG_VERSION").to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(canonical: &'a str, snapshot: &'a str) -> KeyParts<'a> {
        KeyParts {
            canonical,
            evaluation_date: None,
            snapshot,
            references: "amr=sha256:00",
            software: "0.1.0",
        }
    }

    #[test]
    fn every_part_changes_the_key_and_nothing_else_does() {
        let base = parts("q", "s1");
        let k = RepeatKey::new(&base);
        assert_eq!(k, RepeatKey::new(&parts("q", "s1")));
        let day = NaiveDate::from_ymd_opt(2026, 1, 1);
        for other in [
            KeyParts {
                canonical: "q2",
                ..base
            },
            KeyParts {
                evaluation_date: day,
                ..base
            },
            KeyParts {
                snapshot: "s2",
                ..base
            },
            KeyParts {
                references: "amr=sha256:01",
                ..base
            },
            KeyParts {
                software: "0.1.1",
                ..base
            },
            // moving bytes from one part to the next is another key (length prefixes)
            KeyParts {
                canonical: "qs",
                snapshot: "1",
                ..base
            },
        ] {
            assert_ne!(RepeatKey::new(&other), k, "{other:?}");
        }
        assert_eq!(k.snapshot(), "s1");
        assert_eq!(k.as_str().len(), 64);
    }

    #[test]
    fn reference_versions_are_sorted_by_file() {
        let mut a = ReferenceVersions::new();
        a.add_text("b.tsv", "x").add_text("a.toml", "y");
        let mut b = ReferenceVersions::new();
        b.add_text("a.toml", "y").add_text("b.tsv", "x");
        assert_eq!(a.to_string(), b.to_string());
        assert!(a.to_string().starts_with("a.toml=sha256:"), "{a}");
        let mut c = ReferenceVersions::new();
        c.add_text("a.toml", "y").add_text("b.tsv", "x2");
        assert_ne!(a.to_string(), c.to_string());
    }

    #[test]
    fn the_software_version_starts_with_the_crate_version() {
        assert!(software_version().starts_with(env!("CARGO_PKG_VERSION")));
    }
}
