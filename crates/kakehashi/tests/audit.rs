//! The durable audit (issue 27, point 4), over real processes on loopback (the crash test is
//! in `audit_crash.rs`):
//! - a site that cannot write its audit log releases nothing: the task is refused with a
//!   typed reason and no numbers;
//! - anchoring: a hub history rewritten with every hash recomputed is found against the
//!   signed heads a site kept.

mod common;

use common::net::Net;
use kakehashi_audit as audit;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

fn ccdl() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
        )
        .unwrap(),
    )
    .unwrap()
}

/// The site's audit directory, where the agent of `id` keeps its log in a [`Net`].
fn site_audit_dir(net: &Net, id: &str) -> PathBuf {
    net.dir.path().join("agents").join(id).join("state/audit")
}

fn site<'a>(m: &'a Value, id: &str) -> &'a Value {
    m["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == id)
        .unwrap_or_else(|| panic!("{id} not in {m}"))
}

fn cohort(min_age: u32) -> Value {
    let mut q = ccdl();
    q["inclusionCriteria"][1][0]["valueFilter"]["minValue"] = json!(min_age);
    json!({"type": "cohort", "ccdl": q})
}

/// A site whose audit log cannot be written releases nothing: the answer is a refusal with
/// the typed reason `audit_unavailable` and no table, and the log has no `answer_sent` record
/// claiming a release. Once the log can be written again, the site answers again and its
/// chain verifies.
#[tokio::test(flavor = "multi_thread")]
async fn a_site_that_cannot_write_its_audit_log_releases_nothing() {
    let policy = "projects = [\"*\"]\nmin_count = 0\nrounding = 1\nnoise = \"off\"";
    let net = Net::start(&[("de-berlin", policy)]).await;
    let m = net.ask("alice", cohort(18)).await;
    assert_eq!(site(&m, "de-berlin")["state"], "answered", "{m}");
    // the log's head cannot be replaced (a directory where its temporary file goes; chmod
    // would not stop the root user the tests may run as)
    let dir = site_audit_dir(&net, "de-berlin");
    let blocker = dir.join("audit.head.tmp");
    std::fs::create_dir(&blocker).unwrap();
    let before = std::fs::read(dir.join("audit.log")).unwrap();
    let m = net.ask("alice", cohort(19)).await;
    let berlin = site(&m, "de-berlin");
    assert_eq!(berlin["state"], "refused", "{berlin}");
    assert!(berlin["table"].is_null(), "no numbers: {berlin}");
    assert!(
        berlin["reason"].as_str().unwrap().contains("audit log"),
        "{berlin}"
    );
    // on the wire, the typed reason
    let task = m["task"]["id"].as_str().unwrap();
    let c = rusqlite::Connection::open(net.dir.path().join("hub/hub.sqlite")).unwrap();
    let body: String = c
        .query_row(
            "SELECT body FROM answers WHERE task = ?1 AND site = 'de-berlin'",
            [task],
            |r| r.get(0),
        )
        .unwrap();
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["outcome"]["refusal"]["reason"], "audit_unavailable");
    assert!(body["outcome"].get("table").is_none(), "{body}");
    assert_eq!(
        std::fs::read(dir.join("audit.log")).unwrap(),
        before,
        "nothing was appended"
    );
    // the log works again: the site answers, and its chain verifies
    std::fs::remove_dir(&blocker).unwrap();
    let m = net.ask("alice", cohort(20)).await;
    assert_eq!(site(&m, "de-berlin")["state"], "answered", "{m}");
    let v = audit::verify(&dir).unwrap();
    let log = std::fs::read_to_string(dir.join("audit.log")).unwrap();
    assert!(
        !log.lines().any(|l| l.contains(task)
            && l.contains("\"answer_sent\"")
            && l.contains("\"answered\"")),
        "no record claims the refused task was answered"
    );
    assert!(v.entries > 0);
}

/// Rewrites a log from record `from` on (its detail changed, every later hash recomputed,
/// the head file too): a forgery that verifies on its own.
fn rewrite_history(dir: &Path, from: usize) {
    let mut entries: Vec<audit::Entry> = std::fs::read_to_string(dir.join("audit.log"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    entries[from - 1].detail["forged"] = json!(true);
    let mut prev = entries[from - 2].hash.clone();
    for e in &mut entries[from - 1..] {
        e.prev = prev.clone();
        e.hash = audit::entry_hash(&e.prev, e.seq, &e.at, &e.kind, &e.detail);
        prev = e.hash.clone();
    }
    let text: String = entries
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    std::fs::write(dir.join("audit.log"), text).unwrap();
    let last = entries.last().unwrap();
    std::fs::write(
        dir.join("audit.head"),
        format!("{} {}\n", last.seq, last.hash),
    )
    .unwrap();
}

fn verify_cmd(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = Command::new(EXE)
        .args(["audit", "verify"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Anchoring: the hub signs its head in every poll answer and the site keeps it; the site signs
/// its own and the hub keeps that. A hub whose history is rewritten (hashes and head file
/// recomputed) still verifies alone, but `kakehashi audit verify --against` the site's state
/// directory reports the rewritten record. The site's log verifies against the hub's copy.
#[tokio::test(flavor = "multi_thread")]
async fn a_rewritten_hub_history_is_found_against_the_heads_a_site_kept() {
    let policy = "projects = [\"*\"]\nmin_count = 0\nrounding = 1\nnoise = \"off\"";
    let mut net = Net::start(&[("de-berlin", policy)]).await;
    let m = net.ask("alice", cohort(18)).await;
    assert_eq!(site(&m, "de-berlin")["state"], "answered", "{m}");
    let hub = net.dir.path().join("hub");
    let state = net.dir.path().join("agents/de-berlin/state");
    let heads = state.join("hub-heads.jsonl");
    // the site's next poll brings the head that covers the answer
    let t = Instant::now();
    let records = audit::verify(&hub.join("audit")).unwrap().entries;
    loop {
        let newest = std::fs::read_to_string(&heads)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|h| h["seq"].as_u64())
            .max()
            .unwrap_or(0);
        if newest >= records {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the site kept no head up to {records}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for c in &mut net.children {
        let _ = c.kill();
        let _ = c.wait();
    }
    let (code, out) = verify_cmd(&[
        "--hub-dir".as_ref(),
        hub.as_os_str(),
        "--against".as_ref(),
        state.as_os_str(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("holds every head"), "{out}");
    // the site's log against the heads the hub kept of it
    let site_heads = hub.join("anchors/de-berlin.jsonl");
    let site_dir = common::net::sites_dir().join("sites/de-berlin");
    let (code, out) = verify_cmd(&[
        "--site-dir".as_ref(),
        site_dir.as_os_str(),
        "--state-dir".as_ref(),
        state.as_os_str(),
        "--against".as_ref(),
        site_heads.as_os_str(),
    ]);
    assert_eq!(code, 0, "{out}");
    // whoever controls the hub's disk rewrites its history from record 2
    rewrite_history(&hub.join("audit"), 2);
    let (code, out) = verify_cmd(&["--hub-dir".as_ref(), hub.as_os_str()]);
    assert_eq!(code, 0, "the forgery verifies alone: {out}");
    let (code, out) = verify_cmd(&[
        "--hub-dir".as_ref(),
        hub.as_os_str(),
        "--against".as_ref(),
        state.as_os_str(),
    ]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("BROKEN") && out.contains("rewritten"), "{out}");
}
