//! Privacy per person in the antibiogram (`kakehashi_amr::per_patient`): at most `k` first
//! isolates per patient, the organism chain and the organism-row bound on the shipped reference
//! tables, and the L1 change of the counts when one patient is removed.

use kakehashi_amr::antibiogram::antibiogram;
use kakehashi_amr::per_patient::{
    self, DEFAULT_MAX_ISOLATES_PER_PATIENT, MAX_ISOLATES_PER_PATIENT_LIMIT, ORGANISM_ROW_CELLS,
    organism_chain,
};
use kakehashi_amr::{
    AntibiogramCounts, AntibiogramSpec, Interpreter, Isolate, Measurement, Mic, MoId, Options,
    Reference, Test,
};

fn r() -> &'static Reference {
    Reference::shared().expect("the AMR reference tables in data/amr of the source tree")
}

fn mo(name: &str) -> MoId {
    r().find_organism(name).unwrap()
}

fn iso(id: &str, patient: &str, org: &str, date: &str, tests: &[(&str, &str)]) -> Isolate {
    Isolate {
        id: id.into(),
        patient: patient.into(),
        date: date.parse().unwrap(),
        organism: mo(org),
        specimen_type: Some("blood".into()),
        tests: tests
            .iter()
            .map(|(a, v)| Test {
                ab: r().find_antimicrobial(a).unwrap(),
                value: Some(Measurement::Mic(Mic::parse(v).unwrap())),
                lab_sir: None,
                lab_guideline: None,
            })
            .collect(),
    }
}

fn spec(json: &str) -> AntibiogramSpec {
    serde_json::from_str(json).unwrap()
}

fn count(isolates: &[Isolate], s: &AntibiogramSpec) -> AntibiogramCounts {
    let i = Interpreter::new(r(), s.guideline, Options::default()).unwrap();
    antibiogram(isolates, s, &i).unwrap()
}

/// The L1 distance of two answers over every count the antibiogram task releases (the five
/// categories per drug row, the ten organism counts).
fn l1(a: &AntibiogramCounts, b: &AntibiogramCounts) -> u64 {
    use std::collections::BTreeMap;
    // (year, organism, drug or "-", statistic) → (count in a, count in b)
    type Cell = (Option<i32>, String, String, usize);
    let mut m: BTreeMap<Cell, (u64, u64)> = BTreeMap::new();
    for (side, c) in [(0, a), (1, b)] {
        for x in &c.cells {
            for (j, v) in [x.s, x.i, x.r, x.sdd, x.ni].into_iter().enumerate() {
                let e = m
                    .entry((x.year, x.organism.clone(), x.antimicrobial.clone(), j))
                    .or_default();
                if side == 0 { e.0 += v } else { e.1 += v }
            }
        }
        for o in &c.organisms {
            let v = [
                o.isolates,
                o.mdr,
                o.xdr,
                o.pdr,
                o.mrgn3,
                o.mrgn4,
                o.mrsa,
                o.vre,
                o.g3cr,
                o.carbapenem_r,
            ];
            for (j, v) in v.into_iter().enumerate() {
                let e = m
                    .entry((o.year, o.organism.clone(), "-".into(), j))
                    .or_default();
                if side == 0 { e.0 += v } else { e.1 += v }
            }
        }
    }
    m.values().map(|(x, y)| x.abs_diff(*y)).sum()
}

/// A patient with six first isolates (six species, M39) and a bystander: the default counts
/// the patient's two earliest, a larger `k` more, and removing the patient changes the counts
/// by no more than the per-patient sensitivity, which the unclipped count exceeds.
#[test]
fn one_patient_moves_the_counts_by_at_most_the_sensitivity() {
    let drugs = [("MEM", "16"), ("CIP", "4"), ("GEN", "0.5")];
    let species = [
        "Escherichia coli",
        "Klebsiella pneumoniae",
        "Enterobacter cloacae",
        "Proteus mirabilis",
        "Serratia marcescens",
        "Citrobacter freundii",
    ];
    let mut heavy: Vec<Isolate> = species
        .iter()
        .enumerate()
        .map(|(i, s)| {
            iso(
                &format!("h{i}"),
                "heavy",
                s,
                &format!("2024-0{}-01", i + 1),
                &drugs,
            )
        })
        .collect();
    // a second reading of the same drug (an MIC and then another) counts once per isolate
    let again = heavy[0].tests[0].clone();
    heavy[0].tests.push(again);
    let others = vec![
        iso("o1", "other", "Escherichia coli", "2024-03-01", &drugs),
        iso(
            "o2",
            "other2",
            "Klebsiella pneumoniae",
            "2024-03-01",
            &drugs,
        ),
    ];
    let all: Vec<Isolate> = heavy.iter().chain(&others).cloned().collect();
    let q = spec(
        r#"{"guideline":"EUCAST 2025","antimicrobials":["MEM","CIP","GEN"],"first_isolate":{"method":"m39"}}"#,
    );
    assert_eq!(q.max_isolates_per_patient, DEFAULT_MAX_ISOLATES_PER_PATIENT);
    let with = count(&all, &q);
    let without = count(&others, &q);
    // the default keeps the heavy patient's two earliest first isolates
    let firsts: u64 = with.organisms.iter().map(|o| o.isolates).sum();
    assert_eq!(firsts, 2 + 2);
    let eco = with
        .cells
        .iter()
        .find(|c| c.organism == "B_ESCHR_COLI" && c.antimicrobial == "MEM")
        .unwrap();
    assert_eq!(eco.tested, 2, "the repeated MEM reading counts once");
    let listed = q.resolve(r()).unwrap();
    let chain = organism_chain(r(), &listed.organisms);
    let sens = |k| u64::from(per_patient::sensitivity(k, drugs.len(), chain));
    assert!(
        l1(&with, &without) <= sens(q.max_isolates_per_patient),
        "{} > {}",
        l1(&with, &without),
        sens(q.max_isolates_per_patient)
    );
    // k = 6 counts all six; the change still fits k's sensitivity but not the default's
    let q6 = AntibiogramSpec {
        max_isolates_per_patient: 6,
        ..q.clone()
    };
    let with6 = count(&all, &q6);
    assert_eq!(with6.organisms.iter().map(|o| o.isolates).sum::<u64>(), 8);
    let d6 = l1(&with6, &count(&others, &q6));
    assert!(d6 <= sens(6), "{d6} > {}", sens(6));
    assert!(
        d6 > sens(DEFAULT_MAX_ISOLATES_PER_PATIENT),
        "without clipping one patient moves the counts by {d6}, more than the default bound"
    );
}

/// The organism chain: an isolate counts under every listed organism that contains it, so the
/// bound is the longest chain of listed organisms containing one another, checked here against
/// the reference's lineages.
#[test]
fn organism_chain_is_the_longest_nested_list() {
    let eco = mo("Escherichia coli");
    let kpn = mo("Klebsiella pneumoniae");
    let entero = mo("Enterobacterales");
    let sau = mo("Staphylococcus aureus");
    assert_eq!(organism_chain(r(), &[]), 1);
    assert_eq!(organism_chain(r(), &[eco]), 1);
    assert_eq!(organism_chain(r(), &[eco, kpn, sau]), 1);
    assert_eq!(organism_chain(r(), &[entero, eco]), 2);
    assert_eq!(organism_chain(r(), &[eco, entero, kpn]), 2);
    let gramn = r().mo_by_code("B_GRAMN").unwrap();
    assert_eq!(organism_chain(r(), &[gramn, entero, eco, sau]), 3);
    // brute force: for every organism, the listed organisms that contain it
    let listed = [gramn, entero, eco, kpn, sau];
    let most = (0..r().organisms.len() as u32)
        .map(|i| {
            listed
                .iter()
                .filter(|o| per_patient::contains(r(), **o, MoId(i)))
                .count() as u32
        })
        .max()
        .unwrap();
    assert_eq!(organism_chain(r(), &listed), most);
}

/// No organism of the reference can set more than `ORGANISM_ROW_CELLS` organism counts.
#[test]
fn organism_rows_change_by_at_most_the_stated_cells() {
    let d = r().mdro();
    let mut worst = 0;
    for i in 0..r().organisms.len() as u32 {
        worst = worst.max(1 + d.classes_possible(r(), MoId(i)));
    }
    assert!(worst <= ORGANISM_ROW_CELLS, "{worst}");
    // and the bound is reached (Enterobacterales: both schemes, 3GC-R and carbapenem-R)
    assert_eq!(
        1 + d.classes_possible(r(), mo("Klebsiella pneumoniae")),
        ORGANISM_ROW_CELLS
    );
}

/// Bad values are refused naming the field; nothing is counted.
#[test]
fn max_isolates_per_patient_is_checked() {
    for bad in ["0", "-1", "21", "1.5", "\"2\""] {
        let e = serde_json::from_str::<AntibiogramSpec>(&format!(
            r#"{{"guideline":"EUCAST 2025","max_isolates_per_patient":{bad}}}"#
        ));
        let e = e.unwrap_err().to_string();
        assert!(
            e.contains("max_isolates_per_patient") || e.contains("invalid type"),
            "{bad}: {e}"
        );
    }
    let e = serde_json::from_str::<AntibiogramSpec>(
        r#"{"guideline":"EUCAST 2025","max_isolates_per_patient":-1}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("max_isolates_per_patient: -1"), "{e}");
    let ok = spec(&format!(
        r#"{{"guideline":"EUCAST 2025","max_isolates_per_patient":{MAX_ISOLATES_PER_PATIENT_LIMIT}}}"#
    ));
    assert_eq!(ok.max_isolates_per_patient, MAX_ISOLATES_PER_PATIENT_LIMIT);
    // a spec built in code is checked by resolve
    let zero = AntibiogramSpec {
        max_isolates_per_patient: 0,
        ..ok.clone()
    };
    let e = zero.resolve(r()).err().unwrap().to_string();
    assert!(e.contains("max_isolates_per_patient"), "{e}");
    // k is part of the question's meaning
    let one = AntibiogramSpec {
        max_isolates_per_patient: 1,
        ..ok.clone()
    };
    assert_ne!(one.canonical(r()), ok.canonical(r()));
}
