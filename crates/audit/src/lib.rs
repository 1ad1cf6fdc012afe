//! The files a hub or a site keeps of its own history: the append-only, hash-chained audit
//! log ([`AuditLog`]), the heads the other side signed ([`anchor`]) and the keeper's signing
//! key ([`key`]). The records, their chain and the signatures are
//! `kakehashi_federation::audit`'s (pure); this crate writes, syncs, recovers and reads them.
//!
//! The log is a JSON Lines file (`audit.log`): one [`Entry`] per line, chained by
//! [`entry_hash`].
//!
//! Durability: [`AuditLog::append`] writes the line and `fdatasync`s it before it returns, so
//! an acknowledged record survives a crash of the process or of the machine. After that it
//! writes the head (last sequence number and hash) to `audit.head` (a synced temporary file
//! renamed over the old one). The head may lag the log (a crash between the two writes), never
//! lead it: it vouches for the records up to it, so cutting acknowledged records off the end,
//! or changing the last one, is detected.
//!
//! Recovery: a crash while a line is written leaves a torn last record (a partial line, or a
//! last line whose hash does not match). [`AuditLog::open`] truncates it, when the head does not
//! vouch for it (so it was never acknowledged), warns and appends an `audit_recovered` record
//! naming the bytes cut; any other break is refused with the record number ([`verify`] reports
//! the same without changing anything).
//!
//! Reading: [`AuditLog`] keeps the offset of every record and, per site, the records that name
//! it, so the pages that show the newest records read those records only.

pub mod anchor;
#[cfg(test)]
mod anchor_tests;
pub mod key;
mod read;
mod scan;
#[cfg(test)]
mod tests;

pub use kakehashi_federation::audit::{
    ChainError, Entry, GENESIS, RECOVERED, SignedHead, entry_hash, entry_time,
};
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

pub(crate) use read::Index;
pub use scan::Torn;

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
    /// The log does not hold what its keeper signed (see [`anchor`]).
    #[error("the audit log {path} was rewritten: {reason} (signed head at line {line} of {heads})")]
    Rewritten {
        /// The log.
        path: PathBuf,
        /// The file of signed heads it was checked against.
        heads: PathBuf,
        /// The line of that file.
        line: u64,
        /// What does not match.
        reason: String,
    },
    /// A file of signed heads cannot be used (malformed, a bad signature, another key).
    #[error("{path}, line {line}: {reason}")]
    Heads {
        /// The file.
        path: PathBuf,
        /// Its line (0: the file as a whole).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The existing log is broken; nothing is appended to a broken chain.
    #[error("the audit log {path} is broken at record {line} (line {line}): {reason}")]
    Broken {
        /// The file.
        path: PathBuf,
        /// Line number (1-based), which is the record's number in an intact log.
        line: u64,
        /// What is wrong.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> AuditError + '_ {
    move |e| AuditError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// The result of a successful verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verified {
    /// Records checked.
    pub entries: u64,
    /// The head hash.
    pub head: String,
    /// A torn last record after the verified ones (a write cut short by a crash), which the
    /// next [`AuditLog::open`] truncates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub torn: Option<Torn>,
}

/// Checks the whole chain in `dir` without changing it; `Err(Broken)` names the first broken
/// link. A torn last record that the head does not vouch for is reported in
/// [`Verified::torn`], not as a break.
pub fn verify(dir: &Path) -> Result<Verified, AuditError> {
    let s = scan::scan(dir, false)?;
    Ok(Verified {
        entries: s.entries,
        head: s.head,
        torn: s.torn,
    })
}

struct State {
    file: File,
    seq: u64,
    head: String,
    /// Bytes of the log that hold acknowledged records.
    bytes: u64,
    index: Index,
    /// Set when a failed append could not be undone: nothing more is appended until the log
    /// is opened again (and recovered).
    poisoned: Option<String>,
}

/// An open audit log, safe to share between threads.
pub struct AuditLog {
    dir: PathBuf,
    state: Mutex<State>,
    recovered: Option<Torn>,
    bytes_read: AtomicU64,
}

impl AuditLog {
    /// Opens (or starts) the log in `dir`: verifies the existing chain, truncates a torn last
    /// record (and records that it did, see the module documentation), refuses a broken one.
    pub fn open(dir: &Path) -> Result<AuditLog, AuditError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        // a head being written when the process stopped; the head itself is intact
        let _ = std::fs::remove_file(dir.join("audit.head.tmp"));
        let s = scan::scan(dir, true)?;
        let path = dir.join("audit.log");
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        if let Some(t) = &s.torn {
            file.set_len(t.offset).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
            tracing::warn!(
                log = %path.display(),
                offset = t.offset,
                bytes = t.bytes,
                reason = %t.reason,
                "audit log recovered: truncated a torn last record"
            );
        }
        let log = AuditLog {
            dir: dir.to_owned(),
            state: Mutex::new(State {
                file,
                seq: s.entries,
                head: s.head,
                bytes: s.len,
                index: s.index,
                poisoned: None,
            }),
            recovered: s.torn.clone(),
            bytes_read: AtomicU64::new(0),
        };
        if let Some(t) = &s.torn {
            log.append(
                RECOVERED,
                serde_json::json!({
                    "message": format!("recovered: truncated {} bytes at offset {}", t.bytes, t.offset),
                    "truncated_bytes": t.bytes,
                    "offset": t.offset,
                    "record": t.line,
                    "reason": t.reason,
                }),
            )?;
        }
        Ok(log)
    }

    /// The torn last record this open truncated, if any.
    pub fn recovered(&self) -> Option<&Torn> {
        self.recovered.as_ref()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The head hash (last record's hash).
    pub fn head(&self) -> String {
        self.lock().head.clone()
    }

    /// The last record's number and hash, read together.
    pub fn head_seq(&self) -> (u64, String) {
        let st = self.lock();
        (st.seq, st.head.clone())
    }

    /// Records in the log.
    pub fn len(&self) -> u64 {
        self.lock().seq
    }

    /// Whether the log has no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a record and makes it durable before returning. On `Err` the record is not in
    /// the log: a half-written line is cut off again (if even that fails, the log refuses
    /// every further append until it is opened again, which recovers it).
    pub fn append(&self, kind: &str, detail: serde_json::Value) -> Result<Entry, AuditError> {
        let mut st = self.lock();
        let log = self.dir.join("audit.log");
        if let Some(why) = &st.poisoned {
            return Err(AuditError::Io {
                path: log,
                message: format!(
                    "an earlier append failed and could not be undone ({why}); restart to recover the log"
                ),
            });
        }
        let e = Entry::next(st.seq, &st.head, kind, detail);
        let seq = e.seq;
        let mut line = serde_json::to_string(&e).expect("an entry serialises");
        line.push('\n');
        let start = st.bytes;
        let written = write_durably(&mut st.file, &log, line.as_bytes())
            .and_then(|()| write_head(&self.dir, seq, &e.hash));
        if let Err(err) = written {
            // not acknowledged, so not in the log: cut the line off again
            if let Err(u) = st.file.set_len(start).and_then(|()| st.file.sync_data()) {
                st.poisoned = Some(u.to_string());
            }
            return Err(err);
        }
        st.seq = seq;
        st.head = e.hash.clone();
        st.bytes = start + line.len() as u64;
        st.index.add(seq, start, line.len() as u32, &e.detail);
        Ok(e)
    }
}

/// Appends `bytes` and syncs them to disk.
fn write_durably(file: &mut File, path: &Path, bytes: &[u8]) -> Result<(), AuditError> {
    file.write_all(bytes).map_err(io_err(path))?;
    file.sync_data().map_err(io_err(path))
}

/// Replaces the head file by a synced temporary file, so that it is old or new, never torn.
fn write_head(dir: &Path, seq: u64, hash: &str) -> Result<(), AuditError> {
    let tmp = dir.join("audit.head.tmp");
    let head = dir.join("audit.head");
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(format!("{seq} {hash}\n").as_bytes())
        .map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, &head).map_err(io_err(&head))
}
