//! The audit log's records and their hash chain, kept by every site and by the hub; the files
//! (append with `fdatasync`, recovery, index, anchoring files) are `kakehashi_audit`'s.
//!
//! One record per line with a sequence number, a time, a kind (`task_received`,
//! `answer_sent`, `task_created`, ...), a detail object, the previous record's hash and its own
//! hash, `SHA-256(prev ‖ seq ‖ at ‖ kind ‖ detail)` ([`entry_hash`]). The chain describes
//! itself record by record: reading it needs nothing else ([`check_record`]). A keeper signs
//! its chain's head for the other side ([`SignedHead`]).

use crate::sign::{SiteKey, parse_public_key};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The kind of the record a log appends after truncating a torn last record.
pub const RECOVERED: &str = "audit_recovered";

/// One record of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Sequence number, from 1.
    pub seq: u64,
    /// When it was written (RFC 3339, UTC, microseconds).
    pub at: String,
    /// What happened.
    pub kind: String,
    /// The details.
    pub detail: serde_json::Value,
    /// Hash of the previous record ([`GENESIS`] for the first).
    pub prev: String,
    /// This record's hash.
    pub hash: String,
}

impl Entry {
    /// The next record of a chain whose last record is `(seq, head)`, written now.
    pub fn next(seq: u64, head: &str, kind: &str, detail: serde_json::Value) -> Entry {
        let at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let seq = seq + 1;
        let hash = entry_hash(head, seq, &at, kind, &detail);
        Entry {
            seq,
            at,
            kind: kind.to_owned(),
            detail,
            prev: head.to_owned(),
            hash,
        }
    }
}

/// A record's hash: `SHA-256("kakehashi-audit-v1" ‖ prev ‖ seq ‖ at ‖ kind ‖ detail)`, the
/// parts separated by line ends.
pub fn entry_hash(
    prev: &str,
    seq: u64,
    at: &str,
    kind: &str,
    detail: &serde_json::Value,
) -> String {
    let mut h = Sha256::new();
    h.update(b"kakehashi-audit-v1\n");
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(at.as_bytes());
    h.update(b"\n");
    h.update(kind.as_bytes());
    h.update(b"\n");
    h.update(detail.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// Why a line does not continue the chain.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChainError {
    /// The line is not a record.
    #[error("not an audit record: {message}")]
    NotARecord {
        /// The JSON reader's message.
        message: String,
    },
    /// The record's number does not follow the one before.
    #[error("sequence number {found} follows {after}: a record was deleted or moved")]
    Sequence {
        /// The record's number.
        found: u64,
        /// The number of the record before it.
        after: u64,
    },
    /// The record does not name the hash of the one before.
    #[error(
        "record {seq} does not link to the record before it: a record was deleted, inserted or moved"
    )]
    Link {
        /// The record's number.
        seq: u64,
    },
    /// The record's hash does not match its content.
    #[error("record {seq} was changed after it was written (its hash does not match)")]
    Changed {
        /// The record's number.
        seq: u64,
    },
}

/// Checks one line (a line end allowed) against the chain so far: the record numbered
/// `seq + 1`, linked to `prev`, with its own hash.
pub fn check_record(line: &[u8], prev: &str, seq: u64) -> Result<Entry, ChainError> {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let e: Entry = serde_json::from_slice(text).map_err(|e| ChainError::NotARecord {
        message: e.to_string(),
    })?;
    if e.seq != seq + 1 {
        return Err(ChainError::Sequence {
            found: e.seq,
            after: seq,
        });
    }
    if e.prev != prev {
        return Err(ChainError::Link { seq: e.seq });
    }
    if entry_hash(&e.prev, e.seq, &e.at, &e.kind, &e.detail) != e.hash {
        return Err(ChainError::Changed { seq: e.seq });
    }
    Ok(e)
}

/// The sites a record concerns: its `site` and the members of its `sites` list.
pub fn subjects(detail: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(s) = detail.get("site").and_then(|s| s.as_str()) {
        out.push(s.to_owned());
    }
    if let Some(a) = detail.get("sites").and_then(|s| s.as_array()) {
        for s in a.iter().filter_map(|s| s.as_str()) {
            if !out.iter().any(|o| o == s) {
                out.push(s.to_owned());
            }
        }
    }
    out
}

/// Parses a record's time.
pub fn entry_time(e: &Entry) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&e.at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A chain head signed by the log's keeper (Ed25519). The hub hands its signed head to every
/// site with each poll; each site signs its own for the hub; each side keeps the other's
/// (`kakehashi_audit::anchor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedHead {
    /// The number of the last record.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
    /// When it was signed (RFC 3339, UTC).
    pub at: String,
    /// The signer's public key (base64).
    pub key: String,
    /// The signature (base64) over [`SignedHead::message`].
    pub signature: String,
}

impl SignedHead {
    /// The signed text: domain, number, hash and time, one per line.
    pub fn message(seq: u64, hash: &str, at: &str) -> String {
        format!("kakehashi-audit-head-v1\n{seq}\n{hash}\n{at}")
    }

    /// Signs the head `(seq, hash)` now.
    pub fn sign(key: &SiteKey, seq: u64, hash: &str) -> SignedHead {
        let at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let signature = key.sign_text(&SignedHead::message(seq, hash, &at));
        SignedHead {
            seq,
            hash: hash.to_owned(),
            at,
            key: key.public_key(),
            signature,
        }
    }

    /// Whether the signature verifies under the head's own key.
    pub fn verifies(&self) -> bool {
        let Ok(key) = parse_public_key(&self.key) else {
            return false;
        };
        let Some(sig) = B64
            .decode(&self.signature)
            .ok()
            .and_then(|s| <[u8; 64]>::try_from(s).ok())
        else {
            return false;
        };
        key.verify_strict(
            SignedHead::message(self.seq, &self.hash, &self.at).as_bytes(),
            &Signature::from_bytes(&sig),
        )
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A chain of three records checks; each kind of break is named.
    #[test]
    fn a_chain_checks_and_each_break_is_named() {
        let a = Entry::next(0, GENESIS, "k", json!({"n": 1}));
        let b = Entry::next(1, &a.hash, "k", json!({"n": 2}));
        let line = |e: &Entry| serde_json::to_vec(e).unwrap();
        assert_eq!(check_record(&line(&a), GENESIS, 0).unwrap(), a);
        assert_eq!(check_record(&line(&b), &a.hash, 1).unwrap(), b);
        assert_eq!(
            check_record(&line(&b), GENESIS, 0),
            Err(ChainError::Sequence { found: 2, after: 0 })
        );
        assert_eq!(
            check_record(&line(&b), GENESIS, 1),
            Err(ChainError::Link { seq: 2 })
        );
        let mut c = b.clone();
        c.detail = json!({"n": 3});
        assert_eq!(
            check_record(&line(&c), &a.hash, 1),
            Err(ChainError::Changed { seq: 2 })
        );
        assert!(matches!(
            check_record(b"{", GENESIS, 0),
            Err(ChainError::NotARecord { .. })
        ));
    }

    /// A signed head verifies under its key, and not once changed.
    #[test]
    fn a_signed_head_verifies_and_a_changed_one_does_not() {
        let key = SiteKey::from_bytes(&[3; 32]);
        let mut h = SignedHead::sign(&key, 4, "abc");
        assert!(h.verifies());
        h.seq = 5;
        assert!(!h.verifies());
    }

    /// The sites a record names, each once.
    #[test]
    fn subjects_are_the_site_and_the_sites_each_once() {
        assert_eq!(
            subjects(&json!({"site": "a", "sites": ["b", "a", "c"]})),
            ["a", "b", "c"]
        );
    }
}
