//! Reading records back through the index: the offset of every record and, per site, the
//! records that name it, built while the log is verified at open and kept in step on append.

use super::{AuditError, AuditLog, Entry, Verified, io_err};
use kakehashi_federation::audit::subjects;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::Ordering;

/// Where each record lies in the file, and which records name each site.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// `(offset, length)` of record `seq` at position `seq - 1`, line end included.
    pub records: Vec<(u64, u32)>,
    /// Per site, the sequence numbers of the records that name it, oldest first.
    pub by_site: HashMap<String, Vec<u64>>,
}

impl Index {
    pub(crate) fn add(&mut self, seq: u64, offset: u64, len: u32, detail: &serde_json::Value) {
        self.records.push((offset, len));
        for s in subjects(detail) {
            self.by_site.entry(s).or_default().push(seq);
        }
    }
}

impl AuditLog {
    fn read_records(&self, seqs: &[u64]) -> Result<Vec<Entry>, AuditError> {
        let spans: Vec<(u64, u32)> = {
            let st = self.lock();
            seqs.iter()
                .filter_map(|&s| st.index.records.get(s.checked_sub(1)? as usize).copied())
                .collect()
        };
        let path = self.dir.join("audit.log");
        let mut f = File::open(&path).map_err(io_err(&path))?;
        let mut out = Vec::with_capacity(spans.len());
        let mut buf = Vec::new();
        for (offset, len) in spans {
            buf.resize(len as usize, 0);
            f.seek(SeekFrom::Start(offset)).map_err(io_err(&path))?;
            f.read_exact(&mut buf).map_err(io_err(&path))?;
            self.bytes_read.fetch_add(len as u64, Ordering::Relaxed);
            let e: Entry = serde_json::from_slice(&buf).map_err(|e| AuditError::Io {
                path: path.clone(),
                message: format!("the record at offset {offset} cannot be read: {e}"),
            })?;
            out.push(e);
        }
        Ok(out)
    }

    /// The last `n` records, newest first (read through the index).
    pub fn tail(&self, n: usize) -> Result<Vec<Entry>, AuditError> {
        let last = self.lock().seq;
        let seqs: Vec<u64> = (1..=last).rev().take(n).collect();
        self.read_records(&seqs)
    }

    /// The last `n` records that name `site` (as `site` or in `sites`), newest first.
    pub fn tail_for_site(&self, site: &str, n: usize) -> Result<Vec<Entry>, AuditError> {
        let seqs: Vec<u64> = self
            .lock()
            .index
            .by_site
            .get(site)
            .map(|v| v.iter().rev().take(n).copied().collect())
            .unwrap_or_default();
        self.read_records(&seqs)
    }

    /// The newest record naming `site` that `matches` accepts, read newest first through the
    /// index a batch at a time and stopping at the first (the hub asks whether an answer it
    /// stored was logged).
    pub fn find_for_site(
        &self,
        site: &str,
        matches: impl Fn(&Entry) -> bool,
    ) -> Result<Option<Entry>, AuditError> {
        let seqs: Vec<u64> = self
            .lock()
            .index
            .by_site
            .get(site)
            .map(|v| v.iter().rev().copied().collect())
            .unwrap_or_default();
        for batch in seqs.chunks(256) {
            if let Some(e) = self.read_records(batch)?.into_iter().find(&matches) {
                return Ok(Some(e));
            }
        }
        Ok(None)
    }

    /// A cheap check for a page: the file still ends where this process last wrote and its
    /// last record still carries the head hash. (The whole chain is verified at every open and
    /// by `kakehashi audit verify`.)
    pub fn check(&self) -> Result<Verified, AuditError> {
        let (seq, head, len) = {
            let st = self.lock();
            (st.seq, st.head.clone(), st.bytes)
        };
        let path = self.dir.join("audit.log");
        let broken = |reason: String| AuditError::Broken {
            path: path.clone(),
            line: seq,
            reason,
        };
        let actual = match std::fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && seq == 0 => 0,
            Err(e) => return Err(io_err(&path)(e)),
        };
        if actual != len {
            return Err(broken(format!(
                "the log is {actual} bytes long, but this process wrote {len}: it was changed from outside"
            )));
        }
        if seq > 0 {
            let last = self.read_records(&[seq])?;
            if last.first().map(|e| e.hash.as_str()) != Some(head.as_str()) {
                return Err(broken(
                    "the last record does not carry the head hash".into(),
                ));
            }
        }
        Ok(Verified {
            entries: seq,
            head,
            torn: None,
        })
    }

    /// Bytes this handle has read back from the log for [`AuditLog::tail`],
    /// [`AuditLog::tail_for_site`] and [`AuditLog::check`] (what the index saves).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }
}
