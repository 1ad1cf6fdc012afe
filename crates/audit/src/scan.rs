//! Reading a log from its start: every link checked, the head file compared, a torn last
//! record told apart from a break in the chain.

use super::{AuditError, GENESIS, Index, io_err};
use kakehashi_federation::audit::check_record;
use serde::Serialize;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// A torn last record: the bytes a crash left half-written at the end of the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Torn {
    /// Where the torn record starts (the log's intact length).
    pub offset: u64,
    /// How many bytes it has.
    pub bytes: u64,
    /// Its line number, which is the number the record would have had.
    pub line: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// What a scan found.
pub(super) struct Scan {
    pub entries: u64,
    pub head: String,
    /// Bytes of intact records.
    pub len: u64,
    pub torn: Option<Torn>,
    pub index: Index,
}

/// Reads `dir/audit.log` from the start. `index`: keep every record's place for reading.
pub(super) fn scan(dir: &Path, index: bool) -> Result<Scan, AuditError> {
    let path = dir.join("audit.log");
    let broken = |line: u64, reason: String| AuditError::Broken {
        path: path.clone(),
        line,
        reason,
    };
    let witness = read_head(dir)?;
    let mut s = Scan {
        entries: 0,
        head: GENESIS.to_owned(),
        len: 0,
        torn: None,
        index: Index::default(),
    };
    let f = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match witness {
                Some((seq, _)) if seq > 0 => Err(broken(
                    1,
                    format!("the log is missing but its head records {seq} records"),
                )),
                _ => Ok(s),
            };
        }
        Err(e) => return Err(io_err(&path)(e)),
    };
    let mut r = BufReader::with_capacity(1 << 16, f);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).map_err(io_err(&path))? as u64;
        if n == 0 {
            break;
        }
        let line_no = s.entries + 1;
        let complete = buf.ends_with(b"\n");
        let checked = check_record(&buf, &s.head, s.entries)
            .map_err(|e| e.to_string())
            .and_then(|e| {
                if complete {
                    Ok(e)
                } else {
                    Err("the last record has no line end (its write was cut short)".into())
                }
            });
        let e = match checked {
            Ok(e) => e,
            Err(reason) => {
                let last = r.fill_buf().map_err(io_err(&path))?.is_empty();
                let vouched = witness.as_ref().is_some_and(|(hs, _)| *hs >= line_no);
                if !last {
                    return Err(broken(line_no, reason));
                }
                if vouched {
                    return Err(broken(
                        line_no,
                        format!(
                            "{reason}; the head vouches for this record, so it was acknowledged and this is no torn write"
                        ),
                    ));
                }
                s.torn = Some(Torn {
                    offset: s.len,
                    bytes: n,
                    line: line_no,
                    reason,
                });
                break;
            }
        };
        if let Some((hs, hh)) = &witness
            && *hs == e.seq
            && *hh != e.hash
        {
            return Err(broken(
                line_no,
                format!(
                    "record {} does not carry the hash the head file records for it: it or the head was changed",
                    e.seq
                ),
            ));
        }
        if index {
            s.index.add(e.seq, s.len, n as u32, &e.detail);
        }
        s.entries = e.seq;
        s.head = e.hash;
        s.len += n;
    }
    match witness {
        Some((hs, _)) if hs > s.entries => Err(broken(
            s.entries + 1,
            format!(
                "the log ends at record {} but its head records record {hs}: records were cut off the end",
                s.entries
            ),
        )),
        _ => Ok(s),
    }
}

/// The head file's `(seq, hash)`, if there is one.
fn read_head(dir: &Path) -> Result<Option<(u64, String)>, AuditError> {
    let path = dir.join("audit.head");
    let malformed = || AuditError::Broken {
        path: path.clone(),
        line: 1,
        reason: "malformed head".into(),
    };
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            let (seq, hash) = s.trim().split_once(' ').ok_or_else(malformed)?;
            let seq = seq.parse().map_err(|_| malformed())?;
            Ok(Some((seq, hash.to_owned())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}
