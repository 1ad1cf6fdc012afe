//! The background population: many diagnoses at the profile's prevalences, correlated as the
//! data file says, births and deaths during the span. Checked on the generated FHIR itself,
//! against figures read from the shipped data file (not restated here).

use chrono::{Datelike, NaiveDate};
use kakehashi_synth::{Profile, generate};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;

fn read(dir: &Path, t: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(format!("{t}.ndjson")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn age_at(birth: NaiveDate, d: NaiveDate) -> i32 {
    let mut a = d.year() - birth.year();
    if (d.month(), d.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    a
}

/// The shipped table's row for a German code: (p60_79 in percent, male_rr).
fn table_row(code: &str) -> (f64, f64) {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/morbidity.tsv"))
            .unwrap();
    let f: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with(&format!("{code}\t")))
        .unwrap()
        .split('\t')
        .collect();
    (f[6].parse().unwrap(), f[8].parse().unwrap())
}

#[test]
fn a_german_site_has_a_realistic_background_population() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("de");
    // the generated patients only: catchment admissions have no outpatient history to compare
    let mut p = Profile::load("de-berlin").unwrap();
    p.respiratory.catchment = 0.0;
    generate(&p, 20_000, 11, &dir, &|_| {}).unwrap();
    let start = p.site.start;

    let patients = read(&dir, "Patient");
    let birth: HashMap<String, (NaiveDate, bool)> = patients
        .iter()
        .map(|x| {
            let b =
                NaiveDate::parse_from_str(x["birthDate"].as_str().unwrap(), "%Y-%m-%d").unwrap();
            (
                format!("Patient/{}", x["id"].as_str().unwrap()),
                (b, x["gender"] == "female"),
            )
        })
        .collect();
    let mut codes: HashSet<String> = HashSet::new();
    let mut by_patient: HashMap<String, HashSet<String>> = HashMap::new();
    for c in read(&dir, "Condition") {
        let code = c["code"]["coding"][0]["code"].as_str().unwrap().to_owned();
        codes.insert(code.clone());
        by_patient
            .entry(c["subject"]["reference"].as_str().unwrap().to_owned())
            .or_default()
            .insert(code);
    }
    assert!(
        codes.len() >= 300,
        "{} distinct diagnosis codes at a 20,000-patient site",
        codes.len()
    );

    // hypertension (I10.90) in 60-79-year-olds at the span's start: the table's figure, mixed
    // over the sexes by the table's male:female ratio and the site's share of women
    let (p60, rr) = table_row("I10.90");
    let fem = p.demographics.female_share;
    let expected = p60 / 100.0 * (fem * 2.0 / (1.0 + rr) + (1.0 - fem) * 2.0 * rr / (1.0 + rr));
    let old: Vec<&String> = birth
        .iter()
        .filter(|(_, (b, _))| (60..=79).contains(&age_at(*b, start)))
        .map(|(id, _)| id)
        .collect();
    let with = old
        .iter()
        .filter(|id| by_patient.get(**id).is_some_and(|s| s.contains("I10.90")))
        .count();
    let share = with as f64 / old.len() as f64;
    assert!(old.len() > 2000, "{} patients aged 60-79", old.len());
    assert!(
        (share - expected).abs() < 0.04,
        "hypertension in 60-79: {share:.3} against the table's {expected:.3}"
    );

    // correlation: among 60-79-year-olds, CKD stage 3 is more common with type 2 diabetes
    let has = |id: &str, c: &str| by_patient.get(id).is_some_and(|s| s.contains(c));
    let (dm, no_dm): (Vec<&&String>, Vec<&&String>) = old.iter().partition(|id| has(id, "E11.90"));
    let ckd = |g: &[&&String]| {
        g.iter().filter(|id| has(id, "N18.3")).count() as f64 / g.len().max(1) as f64
    };
    assert!(
        ckd(&dm) > 1.5 * ckd(&no_dm),
        "CKD with diabetes {:.3} vs without {:.3}",
        ckd(&dm),
        ckd(&no_dm)
    );
    // smoking-related: COPD more common with lung cancer codes' smokers (tobacco use F17.1)
    let (sm, no_sm): (Vec<&&String>, Vec<&&String>) = old.iter().partition(|id| has(id, "F17.1"));
    let copd = |g: &[&&String]| {
        g.iter().filter(|id| has(id, "J44.99")).count() as f64 / g.len().max(1) as f64
    };
    assert!(
        copd(&sm) > 1.5 * copd(&no_sm),
        "COPD with smoking {:.3} vs without {:.3}",
        copd(&sm),
        copd(&no_sm)
    );

    // births during the span, each with a birth stay coded Z38.0; deaths during the span
    let born: Vec<&String> = birth
        .iter()
        .filter(|(_, (b, _))| *b >= start)
        .map(|(id, _)| id)
        .collect();
    assert!(born.len() > 200, "{} births during the span", born.len());
    assert!(
        born.iter().all(|id| has(id, "Z38.0")),
        "every newborn has Z38.0"
    );
    let deaths = patients
        .iter()
        .filter(|x| {
            x["deceasedDateTime"]
                .as_str()
                .is_some_and(|d| d[..10] >= *start.to_string())
        })
        .count();
    assert!(deaths > 200, "{deaths} deaths during the span");
    // pregnancy codes only for women
    let preg: Vec<&String> = by_patient
        .iter()
        .filter(|(_, s)| s.contains("O80"))
        .map(|(id, _)| id)
        .collect();
    assert!(
        !preg.is_empty() && preg.iter().all(|id| birth[*id].1),
        "deliveries only for women"
    );
    // no event before birth: every condition's recorded date is on or after the birth date
    for c in read(&dir, "Condition") {
        let (b, _) = birth[c["subject"]["reference"].as_str().unwrap()];
        let rec = NaiveDate::parse_from_str(&c["recordedDate"].as_str().unwrap()[..10], "%Y-%m-%d")
            .unwrap();
        assert!(rec >= b, "{} recorded {rec} before birth {b}", c["id"]);
    }
}

/// A built-in profile without its SARI catchment (the checks here are on the generated patients).
fn no_catchment(name: &str) -> Profile {
    let mut p = Profile::load(name).unwrap();
    p.respiratory.catchment = 0.0;
    p
}

#[test]
fn procedures_and_medications_are_written_the_mii_way() {
    let tmp = tempfile::tempdir().unwrap();
    let (de, jp) = (tmp.path().join("de"), tmp.path().join("jp"));
    generate(&no_catchment("de-frankfurt"), 8000, 3, &de, &|_| {}).unwrap();
    generate(&no_catchment("jp-osaka"), 8000, 3, &jp, &|_| {}).unwrap();
    for (dir, ops, atc_system) in [
        (
            &de,
            "http://fhir.de/CodeSystem/bfarm/ops",
            "http://fhir.de/CodeSystem/bfarm/atc",
        ),
        (
            &jp,
            "https://kakehashi.example/fhir/CodeSystem/mhlw-shinryo-kubun",
            "http://www.whocc.no/atc",
        ),
    ] {
        let procs = read(dir, "Procedure");
        assert!(
            procs
                .iter()
                .all(|x| x["code"]["coding"][0]["system"] == ops),
            "{}",
            dir.display()
        );
        let proc_codes: HashSet<&str> = procs
            .iter()
            .map(|x| x["code"]["coding"][0]["code"].as_str().unwrap())
            .collect();
        for want in if dir == &de {
            ["8-701", "8-854.2"]
        } else {
            ["J045", "J038"]
        } {
            assert!(
                proc_codes.contains(want),
                "{}: no {want} in {proc_codes:?}",
                dir.display()
            );
        }
        // every medication record references a Medication of the site that carries an ATC code
        let meds: HashMap<String, String> = read(dir, "Medication")
            .iter()
            .map(|m| {
                assert_eq!(m["code"]["coding"][0]["system"], atc_system);
                (
                    format!("Medication/{}", m["id"].as_str().unwrap()),
                    m["code"]["coding"][0]["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let mut atcs = HashSet::new();
        for t in [
            "MedicationAdministration",
            "MedicationRequest",
            "MedicationStatement",
        ] {
            let rows = read(dir, t);
            assert!(!rows.is_empty(), "{}: no {t}", dir.display());
            for m in rows {
                let r = m["medicationReference"]["reference"].as_str().unwrap();
                atcs.insert(
                    meds.get(r)
                        .unwrap_or_else(|| panic!("{r} is not a Medication of the site"))
                        .clone(),
                );
            }
        }
        for want in ["J05AH02", "J01CR05", "J01DD04", "J01DH02", "J01XA01"] {
            assert!(atcs.contains(want), "{}: {want} never given", dir.display());
        }
    }
    // German stays carry the MII contact levels, nested: Abteilungskontakt part of an Einrichtungskontakt
    let enc = read(&de, "Encounter");
    let level = |e: &Value| {
        e["type"]
            .as_array()
            .and_then(|t| {
                t.iter()
                    .find(|c| c["coding"][0]["system"] == "http://fhir.de/CodeSystem/Kontaktebene")
            })
            .map(|c| c["coding"][0]["code"].as_str().unwrap().to_owned())
    };
    let levels: HashMap<String, String> = enc
        .iter()
        .filter_map(|e| Some((e["id"].as_str().unwrap().to_owned(), level(e)?)))
        .collect();
    assert_eq!(
        levels.len(),
        enc.len(),
        "every German encounter has a contact level"
    );
    for e in &enc {
        let l = &levels[e["id"].as_str().unwrap()];
        let parent = e["partOf"]["reference"]
            .as_str()
            .map(|p| levels[p.trim_start_matches("Encounter/")].as_str());
        match l.as_str() {
            "einrichtungskontakt" => assert!(parent.is_none()),
            "abteilungskontakt" => assert_eq!(parent, Some("einrichtungskontakt")),
            "versorgungsstellenkontakt" => assert_eq!(parent, Some("abteilungskontakt")),
            x => panic!("contact level {x}"),
        }
    }
    assert!(levels.values().any(|l| l == "versorgungsstellenkontakt"));
    // favipiravir for SFTS in Japan only
    let jp_meds = std::fs::read_to_string(jp.join("Medication.ndjson")).unwrap();
    assert!(jp_meds.contains("J05AX27"));
}
