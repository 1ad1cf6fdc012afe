//! Privacy per person (`docs/privacy.md`), on a synthetic site made and loaded by the binary:
//! removing one patient, however many isolates, admissions or tests they have, changes the true
//! table a site would release by at most the sensitivity the table declares (the noise scale),
//! for the antibiogram and the surveillance series. The patients tried are the site's heaviest
//! and a made-up heavy one (the rows of many patients given to one), the attacker's case of
//! issue 26: "one patient with 40 isolates".

use kakehashi_amr::per_patient::{
    DEFAULT_MAX_ISOLATES_PER_PATIENT, MAX_ISOLATES_PER_PATIENT_LIMIT,
};
use kakehashi_amr::{AntibiogramSpec, Interpreter, Isolate, Options, Reference};
use kakehashi_disclosure::CountTable;
use kakehashi_federation::antibiogram::{CATEGORIES, ORGANISM_ROW};
use kakehashi_surveillance::per_patient::{
    DEFAULT_MAX_WEEKS_PER_PATIENT, MAX_WEEKS_PER_PATIENT_LIMIT,
};
use kakehashi_surveillance::series::{self, SeriesSpec, SiteRows, Stratum};
use kakehashi_surveillance::{CaseDefinition, PathogenPanel};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

mod common;

/// One synthetic German site for the whole test process.
fn site() -> &'static kakehashi_store::Snapshot {
    static SITE: OnceLock<kakehashi_store::Snapshot> = OnceLock::new();
    SITE.get_or_init(|| {
        let dir = common::process_dir("kh-privacy-per-person");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fhir = dir.join("fhir");
        let site = dir.join("site");
        run(&[
            "synth",
            "--profile",
            "de-berlin",
            "--patients",
            "6000",
            "--seed",
            "26",
            "--out",
            fhir.to_str().unwrap(),
        ]);
        run(&[
            "ingest",
            "--site-dir",
            site.to_str().unwrap(),
            fhir.to_str().unwrap(),
        ]);
        kakehashi_store::Store::open(Path::new(&site))
            .current()
            .unwrap()
    })
}

fn run(args: &[&str]) {
    let out = std::process::Command::new(EXE).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "kakehashi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The L1 distance of two true tables over the given row keys; each table must hold exactly
/// those rows (so no released count escapes the sum).
fn l1(a: &CountTable, b: &CountTable, keys: &BTreeSet<Vec<String>>) -> u64 {
    assert_eq!(a.measures(), b.measures());
    for t in [a, b] {
        let present = keys
            .iter()
            .filter(|k| {
                let k: Vec<&str> = k.iter().map(String::as_str).collect();
                t.get(&k, &t.measures()[0]).is_some()
            })
            .count();
        assert_eq!(present, t.len(), "the keys cover every row of the table");
    }
    let mut sum = 0;
    for k in keys {
        let k: Vec<&str> = k.iter().map(String::as_str).collect();
        for m in a.measures() {
            let x = a.get(&k, m).unwrap_or(0);
            let y = b.get(&k, m).unwrap_or(0);
            sum += x.abs_diff(y);
        }
    }
    sum
}

// ---------------------------------------------------------------- antibiogram

fn r() -> &'static Reference {
    Reference::shared().unwrap()
}

/// The released table (true counts) of `spec` over `isolates`, with its declared sensitivity
/// and the keys of its rows.
fn antibiogram_table(
    spec: &AntibiogramSpec,
    isolates: &[Isolate],
) -> (CountTable, u32, BTreeSet<Vec<String>>) {
    let interp = Interpreter::new(r(), spec.guideline, Options::default()).unwrap();
    let counts = kakehashi_amr::antibiogram::antibiogram(isolates, spec, &interp).unwrap();
    let (t, sens) = kakehashi_federation::antibiogram::count_table(spec, &counts).unwrap();
    let rs = spec.resolve(r()).unwrap();
    let years: BTreeSet<String> = counts
        .organisms
        .iter()
        .filter_map(|o| o.year)
        .chain(counts.cells.iter().filter_map(|c| c.year))
        .map(|y| format!("{y:04}"))
        .collect();
    let mut keys = BTreeSet::new();
    for y in &years {
        for o in &rs.organisms {
            let o = r().organism(*o).code.clone();
            for d in &rs.antimicrobials {
                for c in CATEGORIES {
                    let d = r().antimicrobial(*d).code.clone();
                    keys.insert(vec![y.clone(), o.clone(), d, c.to_string()]);
                }
            }
            for m in kakehashi_amr::pool::MDRO_MEASURES {
                keys.insert(vec![
                    y.clone(),
                    o.clone(),
                    ORGANISM_ROW.to_string(),
                    m.to_string(),
                ]);
            }
        }
    }
    (t, sens, keys)
}

/// Removing a patient changes the antibiogram by at most its declared sensitivity.
fn check_antibiogram_patient(spec: &AntibiogramSpec, isolates: &[Isolate], patient: &str) -> u64 {
    let without: Vec<Isolate> = isolates
        .iter()
        .filter(|i| i.patient != patient)
        .cloned()
        .collect();
    let (a, sens, ka) = antibiogram_table(spec, isolates);
    let (b, sens_b, kb) = antibiogram_table(spec, &without);
    assert_eq!(sens, sens_b, "the sensitivity does not depend on the data");
    let keys: BTreeSet<Vec<String>> = ka.union(&kb).cloned().collect();
    let d = l1(&a, &b, &keys);
    assert!(
        d <= u64::from(sens),
        "removing {patient} changes the antibiogram by {d} > sensitivity {sens}"
    );
    d
}

#[test]
fn one_patient_moves_the_antibiogram_by_at_most_its_sensitivity() {
    let mut isolates = kakehashi_engine::amr::read_isolates(site())
        .unwrap()
        .isolates;
    assert!(isolates.len() > 200, "{} isolates", isolates.len());
    // nested organisms (an isolate of E. coli belongs to both) and the synthetic panel
    let spec: AntibiogramSpec = serde_json::from_value(serde_json::json!({
        "guideline": "EUCAST 2025",
        "organisms": ["Enterobacterales", "Escherichia coli", "Klebsiella pneumoniae",
                      "Staphylococcus aureus", "Pseudomonas aeruginosa"],
        "antimicrobials": ["AMP", "TZP", "CTX", "CAZ", "MEM", "CIP", "GEN", "TOB", "OXA", "VAN"],
        "by_year": true,
    }))
    .unwrap();
    assert_eq!(
        spec.max_isolates_per_patient,
        DEFAULT_MAX_ISOLATES_PER_PATIENT
    );
    // the site's heaviest patients
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for i in &isolates {
        *per.entry(i.patient.as_str()).or_default() += 1;
    }
    let mut heaviest: Vec<(usize, String)> =
        per.iter().map(|(p, n)| (*n, (*p).to_string())).collect();
    heaviest.sort_by(|a, b| b.cmp(a));
    for (_, p) in heaviest.iter().take(5) {
        check_antibiogram_patient(&spec, &isolates, p);
    }
    // a patient with 40 isolates: other patients' isolates given to the heaviest one
    let heavy = heaviest[0].1.clone();
    let donors: BTreeSet<&str> = heaviest[5..45].iter().map(|(_, p)| p.as_str()).collect();
    for i in isolates.iter_mut() {
        if donors.contains(i.patient.as_str()) {
            i.patient = heavy.clone();
        }
    }
    let n = isolates.iter().filter(|i| i.patient == heavy).count();
    assert!(n >= 40, "{n}");
    let d = check_antibiogram_patient(&spec, &isolates, &heavy);
    // clipping is what bounds it: counting (almost) all of the patient's isolates moves the
    // table by more than the default's bound
    let loose = AntibiogramSpec {
        max_isolates_per_patient: MAX_ISOLATES_PER_PATIENT_LIMIT,
        ..spec.clone()
    };
    let d_loose = check_antibiogram_patient(&loose, &isolates, &heavy);
    let (_, sens, _) = antibiogram_table(&spec, &isolates);
    assert!(
        d_loose > u64::from(sens) && d <= u64::from(sens),
        "unclipped {d_loose}, clipped {d}, sensitivity at the default {sens}"
    );
}

// ---------------------------------------------------------------- surveillance

fn sari() -> (CaseDefinition, PathogenPanel) {
    (
        CaseDefinition::shipped("sari-icosari").unwrap(),
        PathogenPanel::shipped(),
    )
}

/// The released series table (true counts), its sensitivity and its row keys.
fn series_table(rows: &SiteRows, k: Option<u32>) -> (CountTable, u32, BTreeSet<Vec<String>>) {
    let (def, panel) = sari();
    let spec = SeriesSpec {
        by: vec![Stratum::Age],
        max_weeks_per_patient: k,
        ..SeriesSpec::default()
    };
    let cases = series::find_cases(&def, rows);
    let tests = series::find_tests(&panel, rows);
    let s = series::weekly_series(&def, &panel, "de", rows.country, &cases, &tests, &spec);
    // the released grid: every week of the series × every band found, and "unknown" always
    let weeks: BTreeSet<String> = s.rows.iter().map(|r| r.week.to_string()).collect();
    let mut bands: BTreeSet<String> = s.rows.iter().filter_map(|r| r.age_group.clone()).collect();
    bands.insert("unknown".into());
    let keys = weeks
        .iter()
        .flat_map(|w| bands.iter().map(move |b| vec![w.clone(), b.clone()]))
        .collect();
    let (t, sens) = kakehashi_federation::surveillance::count_table(&s, true).unwrap();
    (t, sens, keys)
}

fn without(rows: &SiteRows, patient: &str) -> SiteRows {
    SiteRows {
        site: rows.site.clone(),
        country: rows.country,
        population: rows.population - 1,
        patients: rows
            .patients
            .iter()
            .filter(|p| p.id != patient)
            .cloned()
            .collect(),
        encounters: rows
            .encounters
            .iter()
            .filter(|e| e.patient_id != patient)
            .cloned()
            .collect(),
        diagnoses: rows
            .diagnoses
            .iter()
            .filter(|d| d.patient_id != patient)
            .cloned()
            .collect(),
        observations: rows
            .observations
            .iter()
            .filter(|o| o.patient_id != patient)
            .cloned()
            .collect(),
    }
}

fn check_series_patient(rows: &SiteRows, patient: &str, k: u32) -> (u64, u32) {
    let (a, sens, ka) = series_table(rows, Some(k));
    let (b, sens_b, kb) = series_table(&without(rows, patient), Some(k));
    assert_eq!(sens, sens_b);
    let keys: BTreeSet<Vec<String>> = ka.union(&kb).cloned().collect();
    let d = l1(&a, &b, &keys);
    assert!(
        d <= u64::from(sens),
        "removing {patient} changes the series by {d} > sensitivity {sens}"
    );
    (d, sens)
}

#[test]
fn one_patient_moves_the_series_by_at_most_its_sensitivity() {
    let (def, panel) = sari();
    let mut rows =
        kakehashi_engine::surveillance::site_rows(site(), "de", None, &def, &panel).unwrap();
    // the patients with the most admissions meeting the definition and tests
    let cases = series::find_cases(&def, &rows);
    let tests = series::find_tests(&panel, &rows);
    assert!(
        cases.len() > 20 && tests.len() > 200,
        "{} cases, {} tests",
        cases.len(),
        tests.len()
    );
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for p in cases
        .iter()
        .map(|c| c.patient_id.as_str())
        .chain(tests.iter().map(|t| t.patient_id.as_str()))
    {
        *per.entry(p).or_default() += 1;
    }
    let mut heaviest: Vec<(usize, String)> =
        per.iter().map(|(p, n)| (*n, (*p).to_string())).collect();
    heaviest.sort_by(|a, b| b.cmp(a));
    for (_, p) in heaviest.iter().take(5) {
        check_series_patient(&rows, p, DEFAULT_MAX_WEEKS_PER_PATIENT);
    }
    // a made-up patient with the admissions and tests of 40 patients
    let heavy = heaviest[0].1.clone();
    let donors: BTreeSet<String> = heaviest[5..45].iter().map(|(_, p)| p.clone()).collect();
    rows.patients.retain(|p| !donors.contains(&p.id));
    for e in &mut rows.encounters {
        if donors.contains(&e.patient_id) {
            e.patient_id = heavy.clone();
        }
    }
    for d in &mut rows.diagnoses {
        if donors.contains(&d.patient_id) {
            d.patient_id = heavy.clone();
        }
    }
    for o in &mut rows.observations {
        if donors.contains(&o.patient_id) {
            o.patient_id = heavy.clone();
        }
    }
    let (d, sens) = check_series_patient(&rows, &heavy, DEFAULT_MAX_WEEKS_PER_PATIENT);
    // clipping is what bounds it: with (nearly) no bound on weeks the patient moves the
    // series by more than the default's sensitivity
    let (d_loose, _) = check_series_patient(&rows, &heavy, MAX_WEEKS_PER_PATIENT_LIMIT);
    assert!(
        d_loose > u64::from(sens),
        "unclipped {d_loose}, clipped {d}, sensitivity at the default {sens}"
    );
}
