//! The EDC benchmark (ignored; `bench/edc.sh` runs it with `--ignored --nocapture`): a
//! generated 600-item form saved through the hub's API over HTTP on loopback (SQLite), and
//! the export of many subjects to CSV, Parquet and ODM, timed as a client sees it.
//!
//! Saves: SAVES first saves of the whole form (each a new subject: 600 values validated,
//! branching, calcs, history, audit), then SAVES edits of ten values of one form; p50/p95.
//! Exports: SUBJECTS subjects with the whole form saved (written straight into the store with
//! one history entry per value, as the first save leaves them; not timed as a save), each
//! format downloaded RUNS times; median, min, max and size. The last download of each is
//! kept in OUT (for the DuckDB peer in the script). Environment: EDC_BENCH_ITEMS (600),
//! EDC_BENCH_SAVES (50), EDC_BENCH_SUBJECTS (10000), EDC_BENCH_RUNS (5), EDC_BENCH_OUT, EDC_BENCH_FORMATS
//! (csv,parquet,odm).

use super::{enrol, export, put_form, setup, study_gen};
use kakehashi_edc::entry::{FormData, FormStatus, HistoryEntry, Subject};
use kakehashi_hub::db::{FormWrite, SubjectWrite, Written};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(what: &str, mut t: Vec<f64>) {
    t.sort_by(f64::total_cmp);
    println!(
        "edc-bench {what}: n={} p50={:.1} ms p95={:.1} ms min={:.1} ms max={:.1} ms",
        t.len(),
        pct(&t, 0.5),
        pct(&t, 0.95),
        t[0],
        t[t.len() - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: bench/edc.sh"]
async fn edc_bench() {
    let items = env("EDC_BENCH_ITEMS", 600);
    let saves = env("EDC_BENCH_SAVES", 50);
    let subjects = env("EDC_BENCH_SUBJECTS", 10_000);
    let runs = env("EDC_BENCH_RUNS", 5);
    let out = std::env::var("EDC_BENCH_OUT").ok();
    let id = "bench";
    let (hub, session, study) = setup(id, items).await;
    let fields_n = study.fields.len() - 1;
    println!("edc-bench study: {fields_n} items on one form");

    // saves through the API
    let records = enrol(&hub, id, 0..saves).await;
    let mut first = Vec::new();
    let mut values_n = 0;
    for (n, r) in records.iter().enumerate() {
        let v = study_gen::values(&study.fields, n, 0);
        values_n += v.len();
        let t = Instant::now();
        let (status, body) = put_form(&hub, &session, id, r, &v).await;
        first.push(ms(t.elapsed()));
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    println!(
        "edc-bench saved values per first save: {:.0}",
        values_n as f64 / saves as f64
    );
    report("first save of the whole form", first);
    let mut edits = Vec::new();
    let base = study_gen::values(&study.fields, 0, 0);
    for round in 1..=saves {
        let mut v = study_gen::values(&study.fields, 0, round);
        let keys: Vec<String> = base
            .keys()
            .filter(|k| k.starts_with('v') && !k.contains("___"))
            .skip(round % 7)
            .step_by(37)
            .take(10)
            .cloned()
            .collect();
        v.retain(|k, _| keys.contains(k));
        let t = Instant::now();
        let (status, body) = put_form(&hub, &session, id, &records[0], &v).await;
        edits.push(ms(t.elapsed()));
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    report("edit of ten values", edits);

    // many subjects, straight into the store
    let t = Instant::now();
    let h = hub.hub.clone();
    let s = study.clone();
    let from = saves;
    tokio::task::spawn_blocking(move || {
        let now = chrono::Utc::now();
        for chunk in (from..from + subjects).collect::<Vec<_>>().chunks(250) {
            let mut subj = Vec::new();
            let mut forms = Vec::new();
            for &n in chunk {
                let record = study_gen::pseudonym(n);
                let sub = Subject::enrol(&s, &record, study_gen::DAG, "alice", now).unwrap();
                let mut d = FormData::new(
                    &record,
                    study_gen::DAG,
                    study_gen::EVENT,
                    study_gen::FORM,
                    1,
                );
                d.values = study_gen::values(&s.fields, n, 0);
                d.history = d
                    .values
                    .iter()
                    .map(|(k, v)| HistoryEntry {
                        user: "alice".into(),
                        at: now,
                        field: k.clone(),
                        old: String::new(),
                        new: v.clone(),
                        reason: None,
                    })
                    .collect();
                d.status = FormStatus::Unverified;
                subj.push((
                    serde_json::to_string(&sub).unwrap(),
                    sub.enrolled_at.to_rfc3339(),
                    record,
                ));
                forms.push(serde_json::to_string(&d).unwrap());
            }
            let sw: Vec<SubjectWrite<'_>> = subj
                .iter()
                .map(|(doc, enrolled, record)| SubjectWrite {
                    record,
                    dag: study_gen::DAG,
                    status: "enrolled",
                    enrolled,
                    doc,
                    old: None,
                })
                .collect();
            let fw: Vec<FormWrite<'_>> = subj
                .iter()
                .zip(&forms)
                .map(|((_, _, record), doc)| FormWrite {
                    record,
                    event: study_gen::EVENT,
                    form: study_gen::FORM,
                    instance: 1,
                    doc,
                    old: None,
                })
                .collect();
            assert_eq!(h.db.records_write(&s.id, &sw, &fw).unwrap(), Written::All);
        }
    })
    .await
    .unwrap();
    println!(
        "edc-bench stored {subjects} subjects x {fields_n} items in {:.1} s (setup, not a save path)",
        t.elapsed().as_secs_f64()
    );

    let formats = std::env::var("EDC_BENCH_FORMATS").unwrap_or_else(|_| "csv,parquet,odm".into());
    for (format, ext) in [("csv", "csv"), ("parquet", "parquet"), ("odm", "xml")] {
        if !formats.split(',').any(|f| f == format) {
            continue;
        }
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let body = export(&hub, &session, id, format).await;
            times.push(t.elapsed().as_secs_f64());
            size = body.len();
            if let Some(dir) = &out {
                std::fs::write(format!("{dir}/records.{ext}"), &body).unwrap();
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "edc-bench export {format}: subjects={} runs={runs} median={:.2} s min={:.2} s max={:.2} s size={:.1} MB",
            subjects + saves,
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            size as f64 / 1e6
        );
    }
}
