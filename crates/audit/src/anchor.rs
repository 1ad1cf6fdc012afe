//! Anchoring: the hub signs its chain head and hands it to every site with each poll; each
//! site keeps the heads it saw (`<state>/hub-heads.jsonl`) and signs its own head for the hub
//! (kept at the hub in `<data>/anchors/<site>.jsonl`). Whoever controls one side's disk cannot
//! rewrite that side's history without the other side's copy of the signed heads showing it:
//! [`verify_against`] checks a log against such a file.

use super::{AuditError, Entry, verify};
pub use kakehashi_federation::audit::SignedHead;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What [`remember`] did with a signed head.
#[derive(Debug, Clone, PartialEq)]
pub enum Remembered {
    /// Stored: a head not seen before.
    New,
    /// The last stored head already says this.
    Same,
    /// Stored, but it contradicts the last one: the signer's log went back or changed.
    Conflict(String),
}

fn heads_err(path: &Path, line: u64, reason: impl Into<String>) -> AuditError {
    AuditError::Heads {
        path: path.to_owned(),
        line,
        reason: reason.into(),
    }
}

/// The first and last lines of a small file of JSON lines, read from its ends.
fn first_and_last(path: &Path) -> Result<Option<(String, String)>, AuditError> {
    let io = |e: std::io::Error| heads_err(path, 0, e.to_string());
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let mut first = String::new();
    BufReader::new(&mut f).read_line(&mut first).map_err(io)?;
    if first.is_empty() {
        return Ok(None);
    }
    let len = f.metadata().map_err(io)?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(4096)))
        .map_err(io)?;
    let mut tail = String::new();
    f.read_to_string(&mut tail).map_err(io)?;
    let last = tail.trim_end().rsplit('\n').next().unwrap_or("").to_owned();
    Ok(Some((first.trim_end().to_owned(), last)))
}

/// Stores a signed head seen from the other side in the file `path` (one JSON line each,
/// synced), unless the last stored one says the same. The signature must verify, and under
/// the key of the file's first head (the signer is pinned on first sight).
pub fn remember(path: &Path, head: &SignedHead) -> Result<Remembered, AuditError> {
    if !head.verifies() {
        return Err(heads_err(
            path,
            0,
            "the signature of the head does not verify",
        ));
    }
    let mut outcome = Remembered::New;
    if let Some((first, last)) = first_and_last(path)? {
        let first: SignedHead = serde_json::from_str(&first)
            .map_err(|e| heads_err(path, 1, format!("not a signed head: {e}")))?;
        if first.key != head.key {
            return Err(heads_err(
                path,
                1,
                format!(
                    "the head is signed by key {}, not by the pinned key {}",
                    head.key, first.key
                ),
            ));
        }
        if let Ok(last) = serde_json::from_str::<SignedHead>(&last) {
            if (last.seq, &last.hash) == (head.seq, &head.hash) {
                return Ok(Remembered::Same);
            }
            if head.seq < last.seq || (head.seq == last.seq && head.hash != last.hash) {
                outcome = Remembered::Conflict(format!(
                    "the signer's log went from record {} ({}) to record {} ({}): it was cut or rewritten",
                    last.seq, last.hash, head.seq, head.hash
                ));
            }
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| heads_err(path, 0, e.to_string()))?;
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| heads_err(path, 0, e.to_string()))?;
    let line = serde_json::to_string(head).expect("a head serialises") + "\n";
    f.write_all(line.as_bytes())
        .and_then(|()| f.sync_data())
        .map_err(|e| heads_err(path, 0, e.to_string()))?;
    Ok(outcome)
}

/// The result of [`verify_against`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anchored {
    /// Records in the log.
    pub entries: u64,
    /// Signed heads checked.
    pub heads: u64,
    /// The newest record a signed head covers.
    pub newest: u64,
    /// The signer's key.
    pub key: String,
}

/// Checks the log in `dir` against the signed heads in `heads` (kept by the other side): the
/// chain must verify, every head must be signed by one key, and the log must hold each signed
/// record with the signed hash. `Err(Rewritten)` names the first record that is not what was
/// signed.
pub fn verify_against(dir: &Path, heads: &Path) -> Result<Anchored, AuditError> {
    let v = verify(dir)?;
    let f = File::open(heads).map_err(|e| heads_err(heads, 0, e.to_string()))?;
    // seq -> (hash, when signed, line of the heads file)
    let mut want: BTreeMap<u64, (String, String, u64)> = BTreeMap::new();
    let mut key: Option<String> = None;
    let mut n = 0u64;
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let no = i as u64 + 1;
        let line = line.map_err(|e| heads_err(heads, no, e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let h: SignedHead = serde_json::from_str(&line)
            .map_err(|e| heads_err(heads, no, format!("not a signed head: {e}")))?;
        if !h.verifies() {
            return Err(heads_err(heads, no, "the signature does not verify"));
        }
        match &key {
            None => key = Some(h.key.clone()),
            Some(k) if *k != h.key => {
                return Err(heads_err(
                    heads,
                    no,
                    "signed by another key than the heads before it",
                ));
            }
            Some(_) => {}
        }
        if let Some((hash, at, l)) = want.get(&h.seq)
            && *hash != h.hash
        {
            return Err(rewritten(
                dir,
                heads,
                no,
                format!(
                    "record {} was signed with two different hashes (line {l}, {at}; line {no}, {})",
                    h.seq, h.at
                ),
            ));
        }
        want.insert(h.seq, (h.hash, h.at, no));
        n += 1;
    }
    let newest = want.keys().next_back().copied().unwrap_or(0);
    if newest > v.entries {
        let (_, at, no) = &want[&newest];
        return Err(rewritten(
            dir,
            heads,
            *no,
            format!(
                "record {newest} was signed at {at}, but the log ends at record {}: records were cut off",
                v.entries
            ),
        ));
    }
    let path = dir.join("audit.log");
    let f = File::open(&path).map_err(super::io_err(&path))?;
    for line in BufReader::new(f).lines() {
        let line = line.map_err(super::io_err(&path))?;
        let Ok(e) = serde_json::from_str::<Entry>(&line) else {
            break; // a torn last record, already reported by verify
        };
        if let Some((hash, at, no)) = want.get(&e.seq)
            && *hash != e.hash
        {
            return Err(rewritten(
                dir,
                heads,
                *no,
                format!(
                    "record {} is not the record that was signed at {at}: the history was rewritten",
                    e.seq
                ),
            ));
        }
        if e.seq >= newest {
            break;
        }
    }
    Ok(Anchored {
        entries: v.entries,
        heads: n,
        newest,
        key: key.unwrap_or_default(),
    })
}

fn rewritten(dir: &Path, heads: &Path, line: u64, reason: String) -> AuditError {
    AuditError::Rewritten {
        path: dir.join("audit.log"),
        heads: heads.to_owned(),
        line,
        reason,
    }
}

/// The file of heads a site keeps of its hub: `<state>/hub-heads.jsonl`.
pub fn hub_heads_file(site_state: &Path) -> PathBuf {
    site_state.join("hub-heads.jsonl")
}

/// The file of heads the hub keeps of a site: `<hub data>/anchors/<site>.jsonl`.
pub fn site_heads_file(hub_data: &Path, site: &str) -> PathBuf {
    hub_data.join("anchors").join(format!("{site}.jsonl"))
}
