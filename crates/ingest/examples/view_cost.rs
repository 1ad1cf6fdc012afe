//! Per-view evaluation cost over the first 200,000 resources of one NDJSON file of one type,
//! single thread, each resource five times, through the compiled plans ingest runs:
//! `view_cost FILE.ndjson [VIEW]`. For profiling.
use kakehashi_fhir::resource::Parser;
use kakehashi_fhir::plan::{Plan, Staging};
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("view_cost: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let path = std::env::args().nth(1).ok_or("usage: view_cost FILE.ndjson [VIEW]")?;
    let text = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
    let lines: Vec<Vec<u8>> = text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).take(200_000).map(<[u8]>::to_vec).collect();
    let views = kakehashi_fhir::standard::compiled();
    let mut parser = Parser::new();
    let Some(first) = lines.first() else { return Err(format!("{path}: no records")) };
    let rt = parser
        .parse(&mut first.clone(), true, |r| r.map(|(_, rt)| rt.to_owned()))
        .map_err(|(el, m)| format!("{path}:1: {}{m}", el.map(|e| format!("{e}: ")).unwrap_or_default()))?;
    let t = Instant::now();
    for (i, l) in lines.iter().enumerate() {
        let mut b = l.clone();
        parser.parse(&mut b, true, |r| r.map(|_| ())).map_err(|(_, m)| format!("{path}:{}: {m}", i + 1))?;
    }
    println!("parse only: {:.2} µs/resource", t.elapsed().as_secs_f64() * 1e6 / lines.len() as f64);
    let only = std::env::args().nth(2);
    for (view, vd) in views {
        if vd.resource != rt || only.as_deref().is_some_and(|o| o != view.name()) {
            continue;
        }
        let plan = Plan::new(vd);
        let mut builder = plan.builder();
        let mut n = 0usize;
        let t = Instant::now();
        let mut b = Vec::new();
        for l in lines.iter().cycle().take(lines.len() * 5) {
            b.clear();
            b.extend_from_slice(l);
            parser.parse(&mut b, true, |r| -> Result<(), String> {
                let (v, _) = r.map_err(|(_, m)| m)?;
                let mut st = Staging::new();
                let staged = plan.eval(v, true, &mut st).map_err(|e| e.to_string())?;
                plan.append(&st, &staged, &mut builder);
                if builder.len() >= 8192 {
                    // as ingest does per chunk: the builders stay small
                    builder.finish();
                }
                n += staged.rows();
                Ok(())
            })?;
        }
        println!("{:<28} {:.2} µs/resource incl. parse ({n} rows)", view.name(), t.elapsed().as_secs_f64() * 1e6 / (5 * lines.len()) as f64);
    }
    Ok(())
}
