//! Per-view evaluation cost over the first 200,000 resources of one NDJSON file of one type,
//! single thread, each resource five times (best of three runs), through the compiled plans
//! ingest runs:
//! `view_cost FILE.ndjson [VIEW | VIEW.json]`. For profiling.
use kakehashi_fhir::resource::Parser;
use kakehashi_fhir::plan::{Plans, Staging};
use kakehashi_fhir::sof::ViewDefinition;
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
    let only = std::env::args().nth(2);
    // each resource five times; `upto`: 0 parse only, 1 + evaluate, 2 + append to the builder
    let mut pass = |plans: &Plans, upto: u8| -> Result<(f64, usize), String> {
        let plan = &plans.plans()[0];
        let mut builder = plan.builder(1024);
        let (mut n, mut b) = (0usize, Vec::new());
        let mut spare: Staging<'static> = Staging::new();
        let t = Instant::now();
        for l in lines.iter().cycle().take(lines.len() * 5) {
            b.clear();
            b.extend_from_slice(l);
            parser.parse(&mut b, true, |r| -> Result<(), String> {
                let (v, _) = r.map_err(|(_, m)| m)?;
                if upto == 0 {
                    return Ok(());
                }
                let mut st = std::mem::take(&mut spare).recycle();
                let staged = plan.eval(v, &plans.members(v, Default::default()), true, &mut st).map_err(|e| e.to_string())?;
                n += staged.rows();
                if upto == 2 {
                    plan.append(&st, &staged, &mut builder);
                    if builder.len() >= 8192 {
                        // as ingest does per chunk: the builders stay small
                        builder.finish();
                    }
                }
                spare = st.recycle();
                Ok(())
            })?;
        }
        Ok((t.elapsed().as_secs_f64() * 1e6 / (5 * lines.len()) as f64, n))
    };
    // a ViewDefinition file instead of a standard view's name
    let custom = match only.as_deref().filter(|o| o.ends_with(".json")) {
        Some(f) => {
            let text = std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?;
            vec![(f.to_owned(), ViewDefinition::parse(&text).map_err(|e| format!("{f}: {e}"))?)]
        }
        None => Vec::new(),
    };
    let named = views.iter().filter(|(v, vd)| vd.resource == rt && only.as_deref().is_none_or(|o| o == v.name())).map(|(v, vd)| (v.name().to_owned(), vd.clone()));
    for (name, vd) in custom.into_iter().chain(named) {
        let plans = Plans::new([&vd]);
        // the fastest of three runs of each stage: the machine's noise only ever adds time
        let mut best = [f64::MAX; 3];
        let mut n = 0;
        for _ in 0..3 {
            for (upto, b) in best.iter_mut().enumerate() {
                let (t, rows) = pass(&plans, upto as u8)?;
                *b = b.min(t);
                n = rows;
            }
        }
        let [parse, eval, all] = best;
        println!("{name:<28} parse {parse:.2}, evaluate {:.2}, append {:.2} µs/resource ({} rows)", eval - parse, all - eval, n / 5);
    }
    Ok(())
}
