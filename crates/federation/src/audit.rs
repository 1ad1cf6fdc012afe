//! Append-only, hash-chained audit log, kept by every site and by the hub.
//!
//! The log is a JSON Lines file (`audit.log`): one entry per line with a sequence number, a
//! time, a kind (`task_received`, `answer_sent`, `task_created`, ...), a detail object, the
//! previous entry's hash and its own hash, `SHA-256(prev ‖ seq ‖ at ‖ kind ‖ detail)`. The
//! head (last sequence number and hash) is also written to `audit.head` after each append, so
//! that cutting entries off the end is detected too. [`verify`] reports the first broken link.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit problem.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// File system trouble.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// The existing log is broken; nothing is appended to a broken chain.
    #[error("the audit log {path} is broken at line {line}: {reason}")]
    Broken {
        /// The file.
        path: PathBuf,
        /// Line number (1-based).
        line: u64,
        /// What is wrong.
        reason: String,
    },
}

/// One entry of the log.
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
    /// Hash of the previous entry ([`GENESIS`] for the first).
    pub prev: String,
    /// This entry's hash.
    pub hash: String,
}

fn entry_hash(prev: &str, seq: u64, at: &str, kind: &str, detail: &serde_json::Value) -> String {
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

/// The result of a successful verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verified {
    /// Entries checked.
    pub entries: u64,
    /// The head hash.
    pub head: String,
}

/// Checks the whole chain in `dir`; `Err(Broken)` names the first broken link.
pub fn verify(dir: &Path) -> Result<Verified, AuditError> {
    let path = dir.join("audit.log");
    let broken = |line: u64, reason: String| AuditError::Broken {
        path: path.clone(),
        line,
        reason,
    };
    let f = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match read_head(dir)? {
                Some((seq, _)) => Err(broken(
                    0,
                    format!("the log is missing but its head records {seq} entries"),
                )),
                None => Ok(Verified {
                    entries: 0,
                    head: GENESIS.into(),
                }),
            };
        }
        Err(e) => {
            return Err(AuditError::Io {
                path: path.clone(),
                message: e.to_string(),
            });
        }
    };
    let mut prev = GENESIS.to_owned();
    let mut seq = 0u64;
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let n = i as u64 + 1;
        let line = line.map_err(|e| AuditError::Io {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let e: Entry = serde_json::from_str(&line)
            .map_err(|e| broken(n, format!("not an audit entry: {e}")))?;
        if e.seq != seq + 1 {
            return Err(broken(
                n,
                format!(
                    "sequence number {} follows {seq}: an entry was deleted or moved",
                    e.seq
                ),
            ));
        }
        if e.prev != prev {
            return Err(broken(
                n,
                format!(
                    "entry {} does not link to the entry before it: an entry was deleted, inserted or moved",
                    e.seq
                ),
            ));
        }
        if entry_hash(&e.prev, e.seq, &e.at, &e.kind, &e.detail) != e.hash {
            return Err(broken(
                n,
                format!(
                    "entry {} was changed after it was written (its hash does not match)",
                    e.seq
                ),
            ));
        }
        prev = e.hash;
        seq = e.seq;
    }
    match read_head(dir)? {
        Some((hs, hh)) if hs != seq || hh != prev => Err(broken(
            seq + 1,
            format!(
                "the log ends at entry {seq} but its head records entry {hs}: entries were cut off the end"
            ),
        )),
        _ => Ok(Verified {
            entries: seq,
            head: prev,
        }),
    }
}

fn read_head(dir: &Path) -> Result<Option<(u64, String)>, AuditError> {
    let path = dir.join("audit.head");
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            let (seq, hash) = s.trim().split_once(' ').ok_or_else(|| AuditError::Broken {
                path: path.clone(),
                line: 1,
                reason: "malformed head".into(),
            })?;
            let seq = seq.parse().map_err(|_| AuditError::Broken {
                path: path.clone(),
                line: 1,
                reason: "malformed head".into(),
            })?;
            Ok(Some((seq, hash.to_owned())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AuditError::Io {
            path,
            message: e.to_string(),
        }),
    }
}

struct State {
    file: File,
    seq: u64,
    head: String,
}

/// An open audit log, safe to share between threads.
pub struct AuditLog {
    dir: PathBuf,
    state: Mutex<State>,
}

impl AuditLog {
    /// Opens (or starts) the log in `dir`, verifying the existing chain first.
    pub fn open(dir: &Path) -> Result<AuditLog, AuditError> {
        std::fs::create_dir_all(dir).map_err(|e| AuditError::Io {
            path: dir.to_owned(),
            message: e.to_string(),
        })?;
        let v = verify(dir)?;
        let path = dir.join("audit.log");
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| AuditError::Io {
                path,
                message: e.to_string(),
            })?;
        Ok(AuditLog {
            dir: dir.to_owned(),
            state: Mutex::new(State {
                file,
                seq: v.entries,
                head: v.head,
            }),
        })
    }

    /// The head hash (last entry's hash).
    pub fn head(&self) -> String {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .head
            .clone()
    }

    /// Appends an entry and makes it durable before returning.
    pub fn append(&self, kind: &str, detail: serde_json::Value) -> Result<Entry, AuditError> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let seq = st.seq + 1;
        let hash = entry_hash(&st.head, seq, &at, kind, &detail);
        let e = Entry {
            seq,
            at,
            kind: kind.to_owned(),
            detail,
            prev: st.head.clone(),
            hash,
        };
        let mut line = serde_json::to_string(&e).expect("an entry serialises");
        line.push('\n');
        let io = |p: &Path, e: std::io::Error| AuditError::Io {
            path: p.to_owned(),
            message: e.to_string(),
        };
        let log = self.dir.join("audit.log");
        st.file
            .write_all(line.as_bytes())
            .map_err(|e| io(&log, e))?;
        st.file.sync_data().map_err(|e| io(&log, e))?;
        let head = self.dir.join("audit.head");
        let tmp = self.dir.join("audit.head.tmp");
        std::fs::write(&tmp, format!("{seq} {}\n", e.hash)).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &head).map_err(|e| io(&head, e))?;
        st.seq = seq;
        st.head = e.hash.clone();
        Ok(e)
    }

    /// The last `n` entries, newest first (for the steward's page).
    pub fn tail(&self, n: usize) -> Result<Vec<Entry>, AuditError> {
        let path = self.dir.join("audit.log");
        let f = File::open(&path).map_err(|e| AuditError::Io {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let mut all: Vec<Entry> = BufReader::new(f)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str(&l).ok())
            .collect();
        all.reverse();
        all.truncate(n);
        Ok(all)
    }
}

/// Parses an entry time.
pub fn entry_time(e: &Entry) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&e.at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn log_with(n: u64) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        for i in 0..n {
            log.append(
                "task_received",
                json!({"task": format!("t{i}"), "project": "p"}),
            )
            .unwrap();
        }
        dir
    }

    fn lines(dir: &Path) -> Vec<String> {
        std::fs::read_to_string(dir.join("audit.log"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn write(dir: &Path, lines: &[String]) {
        std::fs::write(dir.join("audit.log"), lines.join("\n") + "\n").unwrap();
    }

    #[test]
    fn an_intact_log_verifies_and_reopens() {
        let dir = log_with(5);
        assert_eq!(verify(dir.path()).unwrap().entries, 5);
        let log = AuditLog::open(dir.path()).unwrap();
        log.append("answer_sent", json!({"task": "t9"})).unwrap();
        assert_eq!(verify(dir.path()).unwrap().entries, 6);
        assert_eq!(log.tail(2).unwrap()[0].kind, "answer_sent");
    }

    #[test]
    fn an_edited_entry_is_found() {
        let dir = log_with(5);
        let mut l = lines(dir.path());
        l[2] = l[2].replace("\"t2\"", "\"t7\"");
        write(dir.path(), &l);
        let e = verify(dir.path()).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("changed"), "{e}");
        assert!(
            AuditLog::open(dir.path()).is_err(),
            "nothing is appended to a broken chain"
        );
    }

    #[test]
    fn a_deleted_entry_is_found() {
        let dir = log_with(5);
        let mut l = lines(dir.path());
        l.remove(1);
        write(dir.path(), &l);
        let e = verify(dir.path()).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("deleted"), "{e}");
    }

    #[test]
    fn reordered_entries_are_found() {
        let dir = log_with(5);
        let mut l = lines(dir.path());
        l.swap(3, 4);
        write(dir.path(), &l);
        let e = verify(dir.path()).unwrap_err().to_string();
        assert!(e.contains("line 4"), "{e}");
    }

    #[test]
    fn entries_cut_off_the_end_are_found() {
        let dir = log_with(5);
        let mut l = lines(dir.path());
        l.pop();
        write(dir.path(), &l);
        let e = verify(dir.path()).unwrap_err().to_string();
        assert!(e.contains("cut off"), "{e}");
    }

    #[test]
    fn a_rehashed_forgery_still_breaks_the_head() {
        // Someone edits an entry and recomputes every hash after it: the head file (or the
        // hub's copy of the site's head) no longer matches.
        let dir = log_with(3);
        let mut entries: Vec<Entry> = lines(dir.path())
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        entries[1].detail = json!({"task": "forged"});
        let mut prev = GENESIS.to_owned();
        for e in &mut entries {
            e.prev = prev.clone();
            e.hash = entry_hash(&e.prev, e.seq, &e.at, &e.kind, &e.detail);
            prev = e.hash.clone();
        }
        write(
            dir.path(),
            &entries
                .iter()
                .map(|e| serde_json::to_string(e).unwrap())
                .collect::<Vec<_>>(),
        );
        assert!(verify(dir.path()).is_err());
    }
}
