//! The row sets this site has released statistics over, for the differencing rule
//! (`kakehashi_stats::analysis::overlap`): each distinct set of patients an answered analysis
//! used, as fingerprints (the first 8 bytes of SHA-256 of the patient key), kept in
//! `<state>/statistics_rows.bin` so the rule holds across restarts. The file never leaves the
//! site; it holds no patient key.

use kakehashi_stats::analysis::Rule;
use kakehashi_stats::analysis::overlap::{RowSet, check_differencing};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A patient key's fingerprint.
pub fn fingerprint(key: &str) -> u64 {
    let d = Sha256::digest(key.as_bytes());
    u64::from_le_bytes(d[..8].try_into().unwrap_or_default())
}

/// The released row sets, loaded on first use.
pub struct RowSets {
    path: PathBuf,
    sets: Mutex<Option<Vec<RowSet>>>,
}

impl RowSets {
    /// The memory kept in the state directory `state`.
    pub fn open(state: &Path) -> RowSets {
        RowSets {
            path: state.join("statistics_rows.bin"),
            sets: Mutex::new(None),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Vec<RowSet>) -> T) -> std::io::Result<T> {
        let mut slot = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(load(&self.path)?);
        }
        Ok(f(slot.get_or_insert_with(Vec::new)))
    }

    /// Refuses `current` if it differs from a released set by 1 to `min − 1` patients.
    pub fn check(&self, current: &RowSet, min: u64) -> std::io::Result<Result<(), Rule>> {
        self.with(|sets| check_differencing(sets.iter(), current, min))
    }

    /// Records a released set (once: the rounds of a GLM use the same rows).
    pub fn record(&self, current: RowSet) -> std::io::Result<()> {
        let path = self.path.clone();
        self.with(move |sets| {
            if sets.contains(&current) {
                return Ok(());
            }
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            let mut buf = Vec::with_capacity(8 * (current.ids().len() + 1));
            buf.extend((current.ids().len() as u64).to_le_bytes());
            for id in current.ids() {
                buf.extend(id.to_le_bytes());
            }
            f.write_all(&buf)?;
            f.sync_data()?;
            sets.push(current);
            Ok(())
        })?
    }
}

/// Reads the sets written by [`RowSets::record`] (a torn last record, from a crash, is left out).
fn load(path: &Path) -> std::io::Result<Vec<RowSet>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let word = |i: usize| -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(i..i + 8)?.try_into().ok()?))
    };
    let mut sets = Vec::new();
    let mut at = 0;
    while let Some(n) = word(at) {
        let n = n as usize;
        let ids: Option<Vec<u64>> = (0..n).map(|k| word(at + 8 + 8 * k)).collect();
        let Some(ids) = ids else { break };
        sets.push(RowSet::new(ids));
        at += 8 * (n + 1);
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_sets_are_kept_across_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let a = RowSet::new((0..50).map(|i| fingerprint(&format!("p{i}"))).collect());
        let m = RowSets::open(dir.path());
        m.record(a.clone()).unwrap();
        m.record(a.clone()).unwrap();
        let b = RowSet::new((1..50).map(|i| fingerprint(&format!("p{i}"))).collect());
        let again = RowSets::open(dir.path());
        assert_eq!(again.check(&a, 3).unwrap(), Ok(()));
        assert_eq!(
            again.check(&b, 3).unwrap().unwrap_err().rule,
            "differencing"
        );
        let len = std::fs::metadata(dir.path().join("statistics_rows.bin"))
            .unwrap()
            .len();
        assert_eq!(len, 8 * 51, "recorded once");
    }
}
