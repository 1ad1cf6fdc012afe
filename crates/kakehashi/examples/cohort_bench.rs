//! Cohort count latency at one site: reads the snapshot's saved cohort index (built at ingest;
//! built and saved here first if the snapshot has none, timed apart), then runs each benchmark
//! query (`bench/cohort/{one,three,ten}.json`): the first run in this process is the cold start
//! (index read + first count, timed together), then `reps` warm runs; prints p50/p95 as JSON.
//! Run by `bench/cohort.sh`, which runs DuckDB on the same Parquet files beside it.

use kakehashi_cohort::Query;
use kakehashi_engine::cohort::CohortIndex;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (site, reps) = (
        &args[1],
        args.get(2).and_then(|r| r.parse().ok()).unwrap_or(50usize),
    );
    let snap = kakehashi_store::Store::open(site)
        .current()
        .expect("a site with data");
    let mut build_ms = 0.0;
    if CohortIndex::load(&snap).is_err() {
        let t = Instant::now();
        CohortIndex::build_and_save(&snap).expect("index");
        build_ms = t.elapsed().as_secs_f64() * 1000.0;
    }
    // the cold start: a fresh process reads the saved index, then answers
    let t = Instant::now();
    let ix = CohortIndex::load(&snap).expect("saved index");
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/cohort");
    let mut out = serde_json::Map::new();
    for name in ["one", "three", "ten"] {
        let q = Query::parse(
            &std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("query file"),
        )
        .expect("valid query");
        // runs: the first one (cold for the first query: it pays the index read), then `reps`
        let mut times = Vec::new();
        let mut n = 0;
        for i in 0..=reps {
            let t = Instant::now();
            n = ix.count(&q).expect("count").count;
            let mut ms = t.elapsed().as_secs_f64() * 1000.0;
            if i == 0 && name == "one" {
                ms += load_ms;
            }
            times.push(ms);
        }
        let first_ms = times[0];
        times.sort_by(f64::total_cmp);
        let p = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        out.insert(
            name.into(),
            serde_json::json!({"count": n, "first_ms": first_ms, "p50_ms": p(0.5), "p95_ms": p(0.95)}),
        );
    }
    out.insert("index_build_ms".into(), build_ms.into());
    out.insert("index_load_ms".into(), load_ms.into());
    out.insert("patients".into(), ix.patients().into());
    println!("{}", serde_json::Value::Object(out));
}
