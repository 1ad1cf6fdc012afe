use super::tests::{lines, write};
use super::*;
use crate::anchor::{Remembered, SignedHead, remember, verify_against};
use serde_json::json;

/// Rewrites the log from record `from` on (a new detail for it, every later hash
/// recomputed) and its head file: a forgery that passes [`verify`].
fn rewrite(dir: &Path, from: usize) {
    let mut entries: Vec<Entry> = lines(dir)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    entries[from - 1].detail = json!({"task": "forged"});
    let mut prev = if from == 1 {
        GENESIS.to_owned()
    } else {
        entries[from - 2].hash.clone()
    };
    for e in &mut entries[from - 1..] {
        e.prev = prev.clone();
        e.hash = entry_hash(&e.prev, e.seq, &e.at, &e.kind, &e.detail);
        prev = e.hash.clone();
    }
    let last = entries.last().unwrap();
    std::fs::write(
        dir.join("audit.head"),
        format!("{} {}\n", last.seq, last.hash),
    )
    .unwrap();
    write(
        dir,
        &entries
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect::<Vec<_>>(),
    );
}

#[test]
fn signed_heads_kept_by_the_other_side_expose_a_rewritten_history() {
    let dir = tempfile::tempdir().unwrap();
    let keeper = crate::key::load_or_create(&dir.path().join("hub.key")).unwrap();
    let logdir = dir.path().join("audit");
    let heads = dir.path().join("site/hub-heads.jsonl");
    let log = AuditLog::open(&logdir).unwrap();
    for i in 0..6 {
        log.append("task_created", json!({"task": format!("t{i}")}))
            .unwrap();
        if i % 2 == 1 {
            let (seq, hash) = log.head_seq();
            let h = SignedHead::sign(&keeper, seq, &hash);
            assert_eq!(remember(&heads, &h).unwrap(), Remembered::New);
            assert_eq!(remember(&heads, &h).unwrap(), Remembered::Same);
        }
    }
    drop(log);
    let a = verify_against(&logdir, &heads).unwrap();
    assert_eq!((a.entries, a.heads, a.newest), (6, 3, 6));
    // the keeper rewrites record 3 and everything after it, head file included
    rewrite(&logdir, 3);
    assert_eq!(
        verify(&logdir).unwrap().entries,
        6,
        "the forgery verifies alone"
    );
    let e = verify_against(&logdir, &heads).unwrap_err().to_string();
    assert!(e.contains("record 4") && e.contains("rewritten"), "{e}");
}

#[test]
fn a_history_cut_back_is_exposed_and_the_keeper_seen_going_back() {
    let dir = tempfile::tempdir().unwrap();
    let keeper = crate::key::load_or_create(&dir.path().join("hub.key")).unwrap();
    let logdir = dir.path().join("audit");
    let heads = dir.path().join("hub-heads.jsonl");
    let log = AuditLog::open(&logdir).unwrap();
    for i in 0..4 {
        log.append("task_created", json!({"task": format!("t{i}")}))
            .unwrap();
    }
    let (seq, hash) = log.head_seq();
    remember(&heads, &SignedHead::sign(&keeper, seq, &hash)).unwrap();
    drop(log);
    // a fresh log of two records in its place
    std::fs::remove_dir_all(&logdir).unwrap();
    let log = AuditLog::open(&logdir).unwrap();
    for _ in 0..2 {
        log.append("task_created", json!({"task": "x"})).unwrap();
    }
    let e = verify_against(&logdir, &heads).unwrap_err().to_string();
    assert!(e.contains("cut off"), "{e}");
    // and the other side sees it live, on the next head it is given
    let (seq, hash) = log.head_seq();
    let r = remember(&heads, &SignedHead::sign(&keeper, seq, &hash)).unwrap();
    assert!(matches!(r, Remembered::Conflict(_)), "{r:?}");
}

#[test]
fn a_forged_or_foreign_head_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keeper = crate::key::load_or_create(&dir.path().join("hub.key")).unwrap();
    let other = crate::key::load_or_create(&dir.path().join("other.key")).unwrap();
    let heads = dir.path().join("hub-heads.jsonl");
    let h = SignedHead::sign(&keeper, 1, GENESIS);
    remember(&heads, &h).unwrap();
    let mut forged = SignedHead::sign(&keeper, 2, GENESIS);
    forged.seq = 3;
    assert!(remember(&heads, &forged).is_err(), "a bad signature");
    let foreign = SignedHead::sign(&other, 2, GENESIS);
    let e = remember(&heads, &foreign).unwrap_err().to_string();
    assert!(e.contains("pinned key"), "{e}");
    assert_eq!(lines_of(&heads), 1, "neither was kept");
}

fn lines_of(p: &Path) -> usize {
    std::fs::read_to_string(p).unwrap().lines().count()
}
