//! Loads, snapshots and replacement by `meta.lastUpdated`, through the public API.

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use kakehashi_model::View;
use kakehashi_store::{ResourceKey, Store};
use std::sync::Arc;

fn patients(ids: &[&str], genders: &[&str]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("gender", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(ids.to_vec())),
            Arc::new(StringArray::from(genders.to_vec())),
        ],
    )
    .unwrap()
}

fn load(store: &Store, rows: &[(&str, &str, i64)]) -> kakehashi_store::Snapshot {
    let mut w = store.begin_load().unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let g: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let ords: Vec<u32> = (0..rows.len() as u32).collect();
    w.write(View::Patient, &patients(&ids, &g), &ords).unwrap();
    w.add_keys(
        rows.iter()
            .enumerate()
            .map(|(i, r)| ResourceKey::named("Patient", r.0, r.2, i as u32).expect("R4 type")),
    )
    .unwrap();
    w.commit().unwrap()
}

fn live(store: &Store) -> Vec<(String, String)> {
    let snap = store.current().unwrap();
    let mut out = Vec::new();
    for b in snap.scan(View::Patient, None) {
        let b = b.unwrap();
        assert_eq!(b.num_columns(), 2, "internal columns are not returned");
        let id = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        let g = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
        for i in 0..id.len() {
            out.push((id.value(i).to_owned(), g.value(i).to_owned()));
        }
    }
    out.sort();
    out
}

#[test]
fn newer_or_equal_last_updated_replaces_older_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path());
    assert!(store.current().is_err(), "empty store says so");
    let s1 = load(&store, &[("a", "female", 10), ("b", "male", 10)]);
    assert_eq!(s1.id, 1);
    assert_eq!(s1.rows[&View::Patient], 2);
    // b newer (replaces), a older (ignored), c new
    let s2 = load(
        &store,
        &[("b", "other", 20), ("a", "unknown", 5), ("c", "female", 1)],
    );
    assert_eq!(s2.id, 2);
    assert_eq!(s2.parent, Some(1));
    assert_eq!(s2.resources["Patient"], 3);
    assert_eq!(s2.rows[&View::Patient], 3);
    assert_eq!(
        live(&store),
        vec![
            ("a".into(), "female".into()),
            ("b".into(), "other".into()),
            ("c".into(), "female".into())
        ]
    );
    // equal lastUpdated: the newer load wins
    load(&store, &[("c", "male", 1)]);
    assert!(live(&store).contains(&("c".into(), "male".into())));
    assert_eq!(store.snapshots().unwrap().len(), 3);
    // an earlier snapshot still reads as it was
    let old = store.snapshot(1).unwrap();
    assert_eq!(
        old.scan(View::Patient, Some(&["id"]))
            .map(|b| b.unwrap().num_rows())
            .sum::<usize>(),
        2
    );
}

#[test]
fn an_uncommitted_load_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path());
    load(&store, &[("a", "female", 1)]);
    {
        let mut w = store.begin_load().unwrap();
        w.write(View::Patient, &patients(&["x"], &["male"]), &[0])
            .unwrap();
        // dropped without commit
    }
    assert_eq!(live(&store), vec![("a".into(), "female".into())]);
    let segs: Vec<_> = std::fs::read_dir(dir.path().join("segments"))
        .unwrap()
        .collect();
    assert_eq!(segs.len(), 1, "the aborted segment is removed");
    // a lock left by a dead process does not block the next load
    std::fs::write(dir.path().join("LOCK"), "999999999").unwrap();
    load(&store, &[("b", "male", 1)]);
    assert_eq!(live(&store).len(), 2);
}

/// Rows without one ordinal each are refused with an error, not a panic, and the load can go on.
#[test]
fn rows_without_an_ordinal_each_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path());
    let mut w = store.begin_load().unwrap();
    let e = w
        .write(
            View::Patient,
            &patients(&["a", "b"], &["female", "male"]),
            &[0],
        )
        .unwrap_err();
    assert!(e.to_string().contains("2 rows but 1 ordinals"), "{e}");
    w.write(View::Patient, &patients(&["a"], &["female"]), &[0])
        .unwrap();
    w.add_keys([ResourceKey::named("Patient", "a", 1, 0).expect("R4 type")])
        .unwrap();
    w.commit().unwrap();
    assert_eq!(live(&store), vec![("a".to_owned(), "female".to_owned())]);
}

/// A snapshot written before keys were kept by key range (one key file, no `key_parts` in its
/// manifest) still loads: the next load reads its one file and replaces what it holds.
#[test]
fn a_snapshot_with_one_key_file_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path());
    let ids: Vec<String> = (0..200).map(|i| format!("p{i}")).collect();
    let rows: Vec<(&str, &str, i64)> = ids.iter().map(|id| (id.as_str(), "female", 10)).collect();
    let s1 = load(&store, &rows);
    // rewrite snapshot 1 as the earlier format had it: its key ranges joined into one file
    let snaps = dir.path().join("snapshots");
    let files = s1.key_files();
    assert_eq!(files.len(), s1.key_parts as usize);
    let mut joined = Vec::new();
    for (p, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        // every file starts with the 8 magic bytes; the joined one keeps the first's
        joined.extend_from_slice(if p == 0 { &bytes[..] } else { &bytes[8..] });
        std::fs::remove_file(path).unwrap();
    }
    std::fs::write(&files[0], &joined).unwrap();
    let manifest = snaps.join("000001.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    json.as_object_mut()
        .unwrap()
        .remove("key_parts")
        .expect("the manifest names its key files");
    std::fs::write(&manifest, serde_json::to_vec(&json).unwrap()).unwrap();
    assert_eq!(store.current().unwrap().key_parts, 1);
    // p7 replaced (newer), p8 not (older), q new
    let s2 = load(
        &store,
        &[("p7", "male", 20), ("p8", "male", 5), ("q", "other", 1)],
    );
    assert_eq!(s2.resources["Patient"], 201);
    assert_eq!(s2.deleted, 2, "the old p7 and the older p8");
    let live = live(&store);
    assert!(
        live.contains(&("p7".into(), "male".into()))
            && live.contains(&("p8".into(), "female".into())),
        "{live:?}"
    );
}

#[test]
fn old_snapshots_keep_their_data_but_not_their_key_files() {
    // only a load reads key files, and it starts from the current snapshot: older snapshots'
    // key files (34 bytes per resource each) go, the parent's stay; every snapshot still reads
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path());
    let s1 = load(&store, &[("a", "female", 10)]);
    let s2 = load(&store, &[("b", "male", 10)]);
    let s3 = load(&store, &[("a", "male", 20)]);
    assert!(
        s1.key_files().iter().all(|f| !f.exists()),
        "snapshot 1's keys removed"
    );
    assert!(
        s2.key_files().iter().all(|f| f.exists()),
        "the parent's keys kept"
    );
    assert!(s3.key_files().iter().all(|f| f.exists()));
    for (snap, want) in [(1, 1), (2, 2), (3, 2)] {
        let s = store.snapshot(snap).unwrap();
        let rows: usize = s
            .scan(View::Patient, None)
            .map(|b| b.unwrap().num_rows())
            .sum();
        assert_eq!(rows, want, "snapshot {snap}");
    }
    assert_eq!(
        live(&store),
        vec![("a".into(), "male".into()), ("b".into(), "male".into())]
    );
    // a fourth load still merges with the current keys
    load(&store, &[("c", "female", 10)]);
    assert_eq!(live(&store).len(), 3);
}
