//! Every branching-logic row and every calculation of ISARIC ARC (the question bank and the
//! derived VHF, ARI and dengue presets in ../shared) parses, and each evaluates on generated
//! records without panicking, to a value whose kind fits (branching: true/false).

use kakehashi_edc::logic::{self, Record};
use std::path::PathBuf;

fn isaric() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/isaric")
}

/// (file, line, variable, column, expression) of every logic cell.
fn corpus() -> Vec<(String, usize, String, &'static str, String)> {
    let mut out = Vec::new();
    for file in [
        "ARC.csv",
        "derived_ARC_VHF_preset.csv",
        "derived_ARC_ARI_preset.csv",
        "derived_ARC_Dengue_preset.csv",
    ] {
        let path = isaric().join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (../shared belongs beside the repository)",
                path.display()
            )
        });
        let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = rdr.headers().expect("header").clone();
        let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
        let (var, ty, opts, skip) = (
            col("Variable"),
            col("Type"),
            col("Answer Options"),
            col("Skip Logic"),
        );
        for rec in rdr.records() {
            let rec = rec.expect("row");
            let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
            if !rec[skip].trim().is_empty() {
                out.push((
                    file.into(),
                    line,
                    rec[var].into(),
                    "Skip Logic",
                    rec[skip].into(),
                ));
            }
            if &rec[ty] == "calc" {
                out.push((
                    file.into(),
                    line,
                    rec[var].into(),
                    "Answer Options",
                    rec[opts].into(),
                ));
            }
        }
    }
    out
}

#[test]
fn every_arc_logic_row_parses() {
    let corpus = corpus();
    let mut failures = Vec::new();
    let (mut branching, mut calcs) = (0, 0);
    for (file, line, var, column, src) in &corpus {
        match logic::parse(src) {
            Ok(_) if *column == "Skip Logic" => branching += 1,
            Ok(_) => calcs += 1,
            Err(e) => failures.push(format!("{file}:{line} {var} ({column}): {e}: {src}")),
        }
    }
    println!(
        "ARC logic corpus: {} expressions parsed ({branching} branching, {calcs} calculations) from 4 files",
        branching + calcs
    );
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        branching > 2000 && calcs >= 8,
        "the corpus was read ({branching}, {calcs})"
    );
}

/// Values a generated record gives each referenced field: blank, the codes ARC uses, numbers,
/// dates; a small linear congruential generator keeps the test deterministic.
#[test]
fn every_arc_logic_row_evaluates_on_generated_records() {
    let pool = [
        "",
        "0",
        "1",
        "2",
        "3",
        "99",
        "88",
        "12.5",
        "2026-03-01",
        "2025-12-24",
        "abc",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    let mut evaluated = 0;
    for (file, line, var, column, src) in corpus() {
        let expr = logic::parse(&src).expect("parsed above");
        for _ in 0..20 {
            let mut r = Record::default();
            for v in expr.vars() {
                let key = match &v.code {
                    Some(c) => format!("{}___{c}", v.field),
                    None => v.field.clone(),
                };
                let val = pool[next() % pool.len()];
                r.values.insert(key, val.into());
            }
            let value = logic::eval(&expr, &r);
            if column == "Skip Logic" {
                let b = logic::eval::eval(&expr, &r);
                assert!(
                    matches!(b, logic::Value::Num(n) if n == 0.0 || n == 1.0),
                    "{file}:{line} {var}: branching gave {b:?} for {r:?}"
                );
            } else {
                assert!(
                    !matches!(value, logic::Value::Num(n) if !n.is_finite()),
                    "{file}:{line} {var}: calculation gave a non-finite number"
                );
            }
            evaluated += 1;
        }
    }
    println!("ARC logic corpus: {evaluated} evaluations on generated records");
}
