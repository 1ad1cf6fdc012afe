//! Per-view cost over the first 50,000 resources of one NDJSON file of one type, single thread,
//! through the compiled plans ingest runs: `view_cost FILE.ndjson [VIEW | VIEW.json]`.
//!
//! Each resource is parsed, then evaluated twenty times while its tape is in cache (as in ingest),
//! so the cost of evaluation stands well above the noise of parsing; each stage is the fastest of
//! five passes over all resources.
//! For profiling and comparing views, not for reporting throughput.
use kakehashi_fhir::ingest::{Members, Parser, Plans, Staging, ViewDefinition};
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("view_cost: {e}");
        std::process::exit(1);
    }
}

/// The fastest of five runs of `f`, in µs per resource: the machine's noise only ever adds time.
fn best(n: usize, mut f: impl FnMut() -> Result<usize, String>) -> Result<(f64, usize), String> {
    let mut out = (f64::MAX, 0);
    for _ in 0..5 {
        let t = Instant::now();
        let rows = f()?;
        out = (out.0.min(t.elapsed().as_secs_f64() * 1e6 / n as f64), rows);
    }
    Ok(out)
}

fn run() -> Result<(), String> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: view_cost FILE.ndjson [VIEW | VIEW.json]")?;
    let text = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
    let lines: Vec<Vec<u8>> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .take(50_000)
        .map(<[u8]>::to_vec)
        .collect();
    if lines.is_empty() {
        return Err(format!("{path}: no records"));
    }
    // parsing, as ingest does it: each line where it lies, parsed and checked
    let mut parser = Parser::new();
    let (parse, _) = best(lines.len(), || {
        for l in &lines {
            parser.parse(l, true, |r| r.map(|_| ()).map_err(|(_, m)| m))?;
        }
        Ok(0)
    })?;
    let rt = parser
        .parse(&lines[0], true, |r| r.map(|(_, rt, _)| rt.to_owned()))
        .map_err(|(el, m)| {
            format!(
                "{path}:1: {}{m}",
                el.map(|e| format!("{e}: ")).unwrap_or_default()
            )
        })?;
    println!(
        "{path}: {} resources of type {rt}, parse {parse:.2} µs/resource",
        lines.len()
    );

    let only = std::env::args().nth(2);
    // a ViewDefinition file instead of a standard view's name
    let custom = match only.as_deref().filter(|o| o.ends_with(".json")) {
        Some(f) => {
            let text = std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?;
            vec![(
                f.to_owned(),
                ViewDefinition::parse(&text).map_err(|e| format!("{f}: {e}"))?,
            )]
        }
        None => Vec::new(),
    };
    let views = kakehashi_fhir::ingest::standard_views();
    let named = views
        .iter()
        .filter(|(v, vd)| vd.resource == rt && only.as_deref().is_none_or(|o| o == v.name()))
        .map(|(v, vd)| (v.name().to_owned(), vd.clone()));
    for (name, vd) in custom.into_iter().chain(named) {
        let plans = Plans::new([&vd]);
        let plan = &plans.plans()[0];
        let mut spare: Staging<'static> = Staging::new();
        let mut spare_members: Members<'static> = Members::default();
        let mut builder = plan.builder(8192);
        // parse every resource, then evaluate it `k` times (and append its rows each time, when
        // `append`): the tape is in cache, as in ingest, and the cost of `k` evaluations stands
        // well above the noise of the parse
        let mut pass = |k: usize, append: bool| {
            let mut rows = 0;
            for l in &lines {
                parser.parse(l, true, |r| -> Result<(), String> {
                    let (v, _, _) = r.map_err(|(_, m)| m)?;
                    for i in 0..k {
                        let members = plans.members(v, std::mem::take(&mut spare_members));
                        let mut st = std::mem::take(&mut spare).recycle();
                        let staged = plan
                            .eval(v, &members, true, &mut st)
                            .map_err(|e| e.to_string())?;
                        if i + 1 == k {
                            rows += staged.rows();
                        }
                        if append {
                            plan.append(&st, &staged, &mut builder);
                            if builder.len() >= 8192 {
                                // as ingest does per chunk: the builders stay small
                                builder.finish();
                            }
                        }
                        spare = st.recycle();
                        spare_members = members.recycle();
                    }
                    Ok(())
                })?;
            }
            Ok(rows)
        };
        const K: usize = 20;
        let (base, _) = best(lines.len(), || pass(0, false))?;
        let (eval, rows) = best(lines.len(), || pass(K, false))?;
        let (all, _) = best(lines.len(), || pass(K, true))?;
        let (eval, append) = ((eval - base) / K as f64, (all - eval) / K as f64);
        println!("{name:<28} evaluate {eval:.3}, append {append:.3} µs/resource ({rows} rows)");
    }
    Ok(())
}
