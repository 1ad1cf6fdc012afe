use super::*;
use kakehashi_federation::audit::subjects;
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

pub(super) fn lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("audit.log"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

pub(super) fn write(dir: &Path, lines: &[String]) {
    std::fs::write(dir.join("audit.log"), lines.join("\n") + "\n").unwrap();
}

fn append_raw(dir: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .append(true)
        .open(dir.join("audit.log"))
        .unwrap();
    f.write_all(bytes).unwrap();
}

/// The line record 6 would have after five records, with its hash optionally spoiled.
fn sixth_line(dir: &Path, spoil: bool) -> String {
    let v = verify(dir).unwrap();
    let at = "2026-01-01T00:00:00.000000Z";
    let detail = json!({"task": "t5", "project": "p"});
    let mut hash = entry_hash(&v.head, 6, at, "task_received", &detail);
    if spoil {
        hash.replace_range(0..4, "ffff");
    }
    let e = Entry {
        seq: 6,
        at: at.into(),
        kind: "task_received".into(),
        detail,
        prev: v.head,
        hash,
    };
    serde_json::to_string(&e).unwrap() + "\n"
}

#[test]
fn an_intact_log_verifies_and_reopens() {
    let dir = log_with(5);
    assert_eq!(verify(dir.path()).unwrap().entries, 5);
    let log = AuditLog::open(dir.path()).unwrap();
    assert!(log.recovered().is_none());
    log.append("answer_sent", json!({"task": "t9"})).unwrap();
    assert_eq!(verify(dir.path()).unwrap().entries, 6);
    assert_eq!(log.tail(2).unwrap()[0].kind, "answer_sent");
    assert_eq!(log.tail(2).unwrap()[1].seq, 5);
}

#[test]
fn an_edited_record_in_the_middle_is_refused_with_its_number() {
    let dir = log_with(5);
    let mut l = lines(dir.path());
    l[2] = l[2].replace("\"t2\"", "\"t7\"");
    write(dir.path(), &l);
    let e = verify(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("record 3") && e.contains("line 3") && e.contains("changed"),
        "{e}"
    );
    assert!(
        AuditLog::open(dir.path()).is_err(),
        "nothing is appended to a broken chain"
    );
    assert_eq!(lines(dir.path()), l, "a broken log is left as it is");
}

#[test]
fn a_deleted_record_is_found() {
    let dir = log_with(5);
    let mut l = lines(dir.path());
    l.remove(1);
    write(dir.path(), &l);
    let e = verify(dir.path()).unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("deleted"), "{e}");
}

#[test]
fn reordered_records_are_found() {
    let dir = log_with(5);
    let mut l = lines(dir.path());
    l.swap(3, 4);
    write(dir.path(), &l);
    let e = verify(dir.path()).unwrap_err().to_string();
    assert!(e.contains("line 4"), "{e}");
}

#[test]
fn records_cut_off_the_end_are_found() {
    let dir = log_with(5);
    let mut l = lines(dir.path());
    l.pop();
    write(dir.path(), &l);
    let e = verify(dir.path()).unwrap_err().to_string();
    assert!(e.contains("cut off"), "{e}");
    assert!(AuditLog::open(dir.path()).is_err());
}

#[test]
fn a_rehashed_forgery_still_breaks_the_head() {
    // Someone edits a record and recomputes every hash after it: the head file (or the hub's
    // copy of the site's head) no longer matches.
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
    let e = verify(dir.path()).unwrap_err().to_string();
    assert!(e.contains("record 3") && e.contains("head"), "{e}");
}

#[test]
fn a_partial_last_line_is_truncated_and_the_recovery_logged() {
    let dir = log_with(5);
    let intact = std::fs::metadata(dir.path().join("audit.log"))
        .unwrap()
        .len();
    let line = sixth_line(dir.path(), false);
    let half = &line.as_bytes()[..line.len() / 2];
    append_raw(dir.path(), half);
    // verify names the torn record and leaves it
    let v = verify(dir.path()).unwrap();
    assert_eq!(v.entries, 5);
    let t = v.torn.unwrap();
    assert_eq!((t.offset, t.bytes, t.line), (intact, half.len() as u64, 6));
    // open cuts it and says so in the log itself
    let log = AuditLog::open(dir.path()).unwrap();
    assert_eq!(log.recovered().unwrap().bytes, half.len() as u64);
    let last = &log.tail(1).unwrap()[0];
    assert_eq!(last.kind, RECOVERED);
    assert_eq!(last.seq, 6);
    assert_eq!(
        last.detail["message"],
        format!(
            "recovered: truncated {} bytes at offset {intact}",
            half.len()
        )
    );
    let v = verify(dir.path()).unwrap();
    assert_eq!((v.entries, v.torn), (6, None));
    log.append("answer_sent", json!({"task": "t9"})).unwrap();
    assert_eq!(verify(dir.path()).unwrap().entries, 7);
}

#[test]
fn a_complete_last_line_with_a_bad_hash_the_head_does_not_vouch_for_is_truncated() {
    let dir = log_with(5);
    append_raw(dir.path(), sixth_line(dir.path(), true).as_bytes());
    let log = AuditLog::open(dir.path()).unwrap();
    let t = log.recovered().unwrap();
    assert!(t.reason.contains("hash does not match"), "{t:?}");
    assert_eq!(verify(dir.path()).unwrap().entries, 6);
}

#[test]
fn a_changed_last_record_the_head_vouches_for_is_refused() {
    // the head was written after record 5 was durable: a bad record 5 is tampering
    let dir = log_with(5);
    let mut l = lines(dir.path());
    l[4] = l[4].replace("\"t4\"", "\"t8\"");
    write(dir.path(), &l);
    let e = verify(dir.path()).unwrap_err().to_string();
    assert!(e.contains("record 5") && e.contains("vouches"), "{e}");
    assert!(AuditLog::open(dir.path()).is_err());
    assert_eq!(lines(dir.path()), l, "nothing is truncated");
}

#[test]
fn a_head_that_lags_the_log_is_accepted() {
    // a crash after the line was synced and before the head was renamed
    let dir = log_with(5);
    let l = lines(dir.path());
    let fourth: Entry = serde_json::from_str(&l[3]).unwrap();
    std::fs::write(
        dir.path().join("audit.head"),
        format!("4 {}\n", fourth.hash),
    )
    .unwrap();
    std::fs::write(dir.path().join("audit.head.tmp"), "5 half").unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    assert!(log.recovered().is_none());
    assert_eq!(log.len(), 5);
    log.append("answer_sent", json!({"task": "t9"})).unwrap();
    assert_eq!(verify(dir.path()).unwrap().entries, 6);
}

#[test]
fn a_break_before_a_torn_tail_is_still_refused() {
    let dir = log_with(5);
    let mut l = lines(dir.path());
    l[1] = l[1].replace("\"t1\"", "\"t6\"");
    write(dir.path(), &l);
    append_raw(dir.path(), b"{\"seq\":6,\"at\"");
    let e = verify(dir.path()).unwrap_err().to_string();
    assert!(e.contains("record 2"), "{e}");
    assert!(AuditLog::open(dir.path()).is_err());
}

#[test]
fn a_failed_append_leaves_nothing_behind() {
    let dir = log_with(3);
    let log = AuditLog::open(dir.path()).unwrap();
    let before = std::fs::read(dir.path().join("audit.log")).unwrap();
    // the head cannot be written (a directory where its temporary file goes): works as root too
    std::fs::create_dir(dir.path().join("audit.head.tmp")).unwrap();
    assert!(log.append("answer_sent", json!({"task": "x"})).is_err());
    assert_eq!(
        std::fs::read(dir.path().join("audit.log")).unwrap(),
        before,
        "the unacknowledged line is cut off again"
    );
    assert_eq!(log.len(), 3);
    std::fs::remove_dir(dir.path().join("audit.head.tmp")).unwrap();
    log.append("answer_sent", json!({"task": "y"})).unwrap();
    let v = verify(dir.path()).unwrap();
    assert_eq!((v.entries, v.head), (4, log.head()));
    assert_eq!(log.tail(1).unwrap()[0].detail["task"], "y");
}

#[test]
fn the_pages_read_only_the_records_they_show() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    for i in 0..600u64 {
        let detail = if i % 10 == 0 {
            json!({"task": format!("t{i}"), "sites": ["de-a", "jp-b"]})
        } else {
            json!({"task": format!("t{i}"), "site": if i % 2 == 0 { "de-a" } else { "jp-b" }})
        };
        log.append("answer_received", detail).unwrap();
    }
    let size = std::fs::metadata(dir.path().join("audit.log"))
        .unwrap()
        .len();
    // what a reader of the whole file would give
    let all: Vec<Entry> = lines(dir.path())
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want: Vec<Entry> = all
        .iter()
        .rev()
        .filter(|e| subjects(&e.detail).iter().any(|s| s == "jp-b"))
        .take(20)
        .cloned()
        .collect();
    // a reopened log builds the same index from the file
    for log in [log, AuditLog::open(dir.path()).unwrap()] {
        let got = log.tail_for_site("jp-b", 20).unwrap();
        assert_eq!(got, want);
        assert_eq!(log.tail(3).unwrap()[0], all[599]);
        log.check().unwrap();
        assert!(log.tail_for_site("nowhere", 20).unwrap().is_empty());
        let read = log.bytes_read();
        assert!(
            read < size / 10,
            "read {read} bytes of a {size}-byte log for 24 records"
        );
    }
}

#[test]
fn check_sees_a_log_changed_from_outside() {
    let dir = log_with(3);
    let log = AuditLog::open(dir.path()).unwrap();
    log.check().unwrap();
    append_raw(dir.path(), b"{}\n");
    assert!(log.check().is_err());
}

#[test]
fn find_for_site_returns_the_newest_match_of_that_site_only() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    for i in 0..600 {
        let site = if i % 2 == 0 { "de-a" } else { "jp-b" };
        log.append(
            "answer_received",
            json!({"task": format!("t{}", i % 7), "site": site}),
        )
        .unwrap();
    }
    let task = |t: &'static str| move |e: &Entry| e.detail["task"] == t;
    let found = log.find_for_site("de-a", task("t3")).unwrap().unwrap();
    assert_eq!(found.detail["site"], "de-a");
    assert_eq!(found.detail["task"], "t3");
    // the newest of them: i = 598 is t3 at de-a (598 % 7 == 3, 598 even)
    assert_eq!(found.seq, 599);
    // t3 at jp-b only: 591 % 7 == 3, odd
    assert_eq!(
        log.find_for_site("jp-b", task("t3")).unwrap().unwrap().seq,
        592
    );
    assert!(log.find_for_site("de-a", task("t9")).unwrap().is_none());
    assert!(log.find_for_site("fr-c", task("t3")).unwrap().is_none());
}
