//! The synthetic sites behave like their countries: checked on the generated FHIR itself.

use chrono::{Datelike, NaiveDate};
use kakehashi_synth::{Profile, generate};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// Generates a site; `catchment: None` keeps the profile's SARI catchment, `Some(0.0)` has only
/// the generated patients' own episodes (keeps the large sites of the AMR checks quick).
fn site(profile: &str, patients: u64, seed: u64, dir: &Path, catchment: Option<f64>) {
    let mut p = Profile::load(profile).unwrap();
    if let Some(c) = catchment {
        p.respiratory.catchment = c;
    }
    generate(&p, patients, seed, dir, &|_| {}).unwrap();
}

fn read(dir: &Path, t: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(format!("{t}.ndjson")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn is_sari(code: &str) -> bool {
    code == "U07.1"
        || (code.starts_with('J')
            && code[1..3]
                .parse::<u32>()
                .is_ok_and(|n| (9..=22).contains(&n)))
}

/// SARI admissions per week in winter (ISO weeks 40–13) against summer (14–39).
fn winter_summer(dir: &Path) -> (f64, f64) {
    let inpatient: std::collections::HashSet<String> = read(dir, "Encounter")
        .iter()
        .filter(|e| e["class"]["code"] == "IMP")
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    let (mut winter, mut summer) = (0.0, 0.0);
    for c in read(dir, "Condition") {
        let code = c["code"]["coding"][0]["code"].as_str().unwrap();
        let enc = c["encounter"]["reference"]
            .as_str()
            .unwrap_or("")
            .trim_start_matches("Encounter/");
        if is_sari(code) && inpatient.contains(enc) {
            let d = NaiveDate::parse_from_str(c["onsetDateTime"].as_str().unwrap(), "%Y-%m-%d")
                .unwrap();
            let w = d.iso_week().week();
            if !(14..40).contains(&w) {
                winter += 1.0
            } else {
                summer += 1.0
            }
        }
    }
    (winter / 26.0, summer / 26.0)
}

fn mrsa_share(dir: &Path) -> f64 {
    let obs = read(dir, "Observation");
    let sau: std::collections::HashSet<&str> = obs
        .iter()
        .filter(|o| o["valueCodeableConcept"]["coding"][0]["code"] == "3092008")
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let (mut r, mut n) = (0.0, 0.0);
    for o in &obs {
        let iso = o["derivedFrom"][0]["reference"]
            .as_str()
            .unwrap_or("")
            .trim_start_matches("Observation/");
        if sau.contains(iso) && o["code"]["coding"][1]["code"] == "J01CF04" {
            n += 1.0;
            if o["interpretation"][0]["coding"][0]["code"] == "R" {
                r += 1.0;
            }
        }
    }
    assert!(n > 30.0, "enough S. aureus isolates to compare ({n})");
    r / n
}

#[test]
fn german_and_japanese_sites_have_their_seasons_pathogens_and_resistance() {
    let tmp = tempfile::tempdir().unwrap();
    let de = tmp.path().join("de");
    let jp = tmp.path().join("jp");
    site("de-berlin", 20_000, 7, &de, Some(0.0));
    site("jp-osaka", 30_000, 7, &jp, Some(0.0));

    // SARI peaks in winter in both countries
    for dir in [&de, &jp] {
        let (w, s) = winter_summer(dir);
        assert!(
            w > 1.5 * s,
            "{}: winter {w:.1}/week vs summer {s:.1}/week",
            dir.display()
        );
    }
    // SFTS only at the Japanese site, only April–October
    let sfts = |dir: &Path| -> Vec<u32> {
        read(dir, "Condition")
            .iter()
            .filter(|c| c["code"]["coding"][0]["code"] == "A93.8")
            .map(|c| {
                NaiveDate::parse_from_str(c["onsetDateTime"].as_str().unwrap(), "%Y-%m-%d")
                    .unwrap()
                    .month()
            })
            .collect()
    };
    assert!(sfts(&de).is_empty(), "no SFTS in Germany");
    let months = sfts(&jp);
    assert!(!months.is_empty(), "SFTS cases in western Japan");
    assert!(
        months.iter().all(|m| (4..=10).contains(m)),
        "SFTS months {months:?}"
    );
    // Japanese codes: JLAC10 labs, JP Core ICD-10; German: LOINC, ICD-10-GM
    let jp_obs = std::fs::read_to_string(jp.join("Observation.ndjson")).unwrap();
    assert!(jp_obs.contains("urn:oid:1.2.392.200119.4.504"));
    let de_cond = std::fs::read_to_string(de.join("Condition.ndjson")).unwrap();
    assert!(de_cond.contains("http://fhir.de/CodeSystem/bfarm/icd-10-gm"));
    // MRSA far more common in Japan (profiles: 7 % vs 48 %)
    let (m_de, m_jp) = (mrsa_share(&de), mrsa_share(&jp));
    assert!(
        m_jp > m_de + 0.25,
        "MRSA share DE {m_de:.2} vs JP {m_jp:.2}"
    );
    assert!(
        (0.02..0.15).contains(&m_de),
        "DE MRSA {m_de:.2} near the configured 7 %"
    );
    // repeat isolates of the same organism in the same patient
    let mut per_patient: HashMap<(String, String), u32> = HashMap::new();
    for o in read(&de, "Observation") {
        if let Some(org) = o["valueCodeableConcept"]["coding"][0]["code"].as_str()
            && o["category"][0]["coding"]
                .as_array()
                .is_some_and(|c| c.iter().any(|x| x["code"] == "18725-2"))
        {
            *per_patient
                .entry((
                    o["subject"]["reference"].as_str().unwrap().to_owned(),
                    org.to_owned(),
                ))
                .or_default() += 1;
        }
    }
    assert!(
        per_patient.values().filter(|n| **n >= 2).count() > 10,
        "repeat isolates present"
    );
}

#[test]
fn the_same_seed_gives_identical_bytes() {
    // with the profile's SARI catchment: its admissions are drawn from the seed too
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    site("jp-tokyo", 1500, 42, &a, None);
    site("jp-tokyo", 1500, 42, &b, None);
    site("jp-tokyo", 1500, 43, &c, None);
    for f in [
        "Patient",
        "Encounter",
        "Condition",
        "Observation",
        "Specimen",
    ] {
        let x = std::fs::read(a.join(format!("{f}.ndjson"))).unwrap();
        assert_eq!(
            x,
            std::fs::read(b.join(format!("{f}.ndjson"))).unwrap(),
            "{f} differs for the same seed"
        );
        assert_ne!(
            x,
            std::fs::read(c.join(format!("{f}.ndjson"))).unwrap(),
            "{f} equal for another seed"
        );
    }
    assert_eq!(
        std::fs::read(a.join("whonet.csv")).unwrap(),
        std::fs::read(b.join("whonet.csv")).unwrap()
    );
}

#[test]
fn the_parts_of_a_site_are_exactly_the_whole_site() {
    // a site too large for one folder of NDJSON is made part by part (`--shard K/N`): the parts
    // together must be the same resources, each once, with the catchment's admissions too
    let tmp = tempfile::tempdir().unwrap();
    let p = Profile::load("de-berlin").unwrap();
    let whole = tmp.path().join("whole");
    let all = kakehashi_synth::generate(&p, 1200, 9, &whole, &|_| {}).unwrap();
    let mut parts_patients = 0;
    let mut parts: HashMap<String, Vec<String>> = HashMap::new();
    for k in 0..3 {
        let dir = tmp.path().join(format!("part{k}"));
        let shard = kakehashi_synth::Shard { index: k, of: 3 };
        let s = kakehashi_synth::generate_shard(&p, 1200, 9, shard, &dir, &|_| {}).unwrap();
        parts_patients += s.patients;
        for f in kakehashi_synth::FILES {
            let text = std::fs::read_to_string(dir.join(format!("{f}.ndjson"))).unwrap();
            parts
                .entry(f.to_string())
                .or_default()
                .extend(text.lines().map(str::to_owned));
        }
    }
    assert_eq!(parts_patients, all.patients);
    for f in kakehashi_synth::FILES {
        let mut w: Vec<String> = std::fs::read_to_string(whole.join(format!("{f}.ndjson")))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let mut got = parts.remove(f).unwrap_or_default();
        w.sort();
        got.sort();
        assert_eq!(got.len(), w.len(), "{f}: line counts");
        assert!(got == w, "{f}: the parts differ from the whole");
    }
    assert!(kakehashi_synth::Shard::parse("3/3").is_none());
    assert_eq!(
        kakehashi_synth::Shard::parse("2/10"),
        Some(kakehashi_synth::Shard { index: 2, of: 10 })
    );
}
