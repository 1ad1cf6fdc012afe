//! The cohort index saved with each snapshot at ingest: it counts exactly as an index built from
//! the tables does, and a missing or damaged index is a clear error naming the file and the
//! command that rebuilds it, while the previous snapshot still answers.

mod common;

use kakehashi_cohort::Query;
use kakehashi_engine::cohort::CohortIndex;
use std::path::Path;
use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

fn run(args: &[&str], paths: &[&Path]) -> Output {
    let mut c = Command::new(EXE);
    c.args(args);
    for p in paths {
        c.arg(p);
    }
    c.output().unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn bench_query(name: &str) -> (std::path::PathBuf, Query) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../bench/cohort/{name}.json"));
    let q = Query::parse(&std::fs::read_to_string(&p).unwrap()).unwrap();
    (p, q)
}

#[test]
fn the_saved_index_counts_as_the_built_one_and_bad_indexes_are_named() {
    let root = common::process_dir("kh-cohort-index");
    let site = root.join("site");
    for (n, seed) in [("a", "3"), ("b", "4")] {
        ok(run(
            &[
                "synth",
                "--profile",
                "de-berlin",
                "--patients",
                "1500",
                "--seed",
                seed,
                "--out",
            ],
            &[&root.join(n)],
        ));
    }
    let text = ok(run(&["ingest", "--site-dir"], &[&site, &root.join("a")]));
    assert!(text.contains("cohort index built in"), "{text}");
    let store = kakehashi_store::Store::open(&site);
    let first = store.current().unwrap();
    assert!(site.join("snapshots/000001.cohort/manifest.json").exists());

    // the saved index answers as one built from the tables, for every benchmark query
    let saved = CohortIndex::load(&first).unwrap();
    let built = CohortIndex::open(&first).unwrap();
    assert_eq!(saved.patients(), built.patients());
    let mut before = Vec::new();
    for name in ["one", "three", "ten"] {
        let (_, q) = bench_query(name);
        let a = saved.count(&q).unwrap();
        assert_eq!(a, built.count(&q).unwrap(), "{name}");
        assert!(a.count > 0, "{name}: {a:?}");
        before.push(a.count);
    }

    // a second load: its own index; then damage one of its files
    ok(run(&["ingest", "--site-dir"], &[&site, &root.join("b")]));
    let second = store.current().unwrap();
    assert_eq!(second.id, 2);
    let dir = site.join("snapshots/000002.cohort");
    let victim = dir.join("t0.arrow");
    let mut bytes = std::fs::read(&victim).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    std::fs::write(&victim, &bytes).unwrap();
    let (qpath, q) = bench_query("three");
    let out = run(
        &["cohort", "count", "--site-dir"],
        &[&site, Path::new("--ccdl"), &qpath],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("000002.cohort/t0.arrow")
            && err.contains("damaged")
            && err.contains("kakehashi cohort index --site-dir"),
        "{err}"
    );
    // the previous snapshot still answers, with its own index
    let again = CohortIndex::load(&store.snapshot(1).unwrap()).unwrap();
    assert_eq!(again.count(&q).unwrap().count, before[1]);

    // a missing index: named, not rebuilt behind the query's back
    std::fs::remove_dir_all(&dir).unwrap();
    let e = CohortIndex::load(&second).err().unwrap().to_string();
    assert!(
        e.contains("000002.cohort/manifest.json")
            && e.contains("no cohort index")
            && e.contains("kakehashi cohort index --site-dir"),
        "{e}"
    );
    // the command the message names rebuilds it
    let text = ok(run(&["cohort", "index", "--site-dir"], &[&site]));
    assert!(text.contains("snapshot 2"), "{text}");

    // a load in parts leaves the index to the last: no index for the deferred snapshot (and
    // counting on it names the command), then the last load's index counts everything
    let text = ok(run(
        &["ingest", "--defer-index", "--site-dir"],
        &[&site, &root.join("a")],
    ));
    assert!(
        text.contains("cohort index not built (--defer-index)"),
        "{text}"
    );
    assert!(!site.join("snapshots/000003.cohort").exists());
    let out = run(
        &["cohort", "count", "--site-dir"],
        &[&site, Path::new("--ccdl"), &qpath],
    );
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("kakehashi cohort index --site-dir"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok(run(&["ingest", "--site-dir"], &[&site, &root.join("b")]));
    assert!(site.join("snapshots/000004.cohort/manifest.json").exists());
    let fourth = store.current().unwrap();
    assert_eq!(
        CohortIndex::load(&fourth).unwrap().count(&q).unwrap(),
        CohortIndex::open(&fourth).unwrap().count(&q).unwrap()
    );
    let out = ok(run(
        &["cohort", "count", "--format", "json", "--site-dir"],
        &[&site, Path::new("--ccdl"), &qpath],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["count"].as_u64().unwrap() >= before[1], "{v}");
}
