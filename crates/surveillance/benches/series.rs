//! Case finding and weekly counting for a 1,000,000-patient site over 6 seasons, in memory.
//!
//! `cargo bench -p kakehashi-surveillance --bench series` builds a deterministic synthetic site
//! (1,000,000 patients; 6 seasons 2019/20–2024/25 of weekly SARI admissions with a winter peak;
//! 4 ICD-10 codings and a PCR result per SARI stay, plus unrelated stays), then times
//! `find_cases` + `find_tests` + `weekly_series` by age band, and the same counts done by a plain
//! hash-map pass written directly over the rows (the peer: what a hand-written script would do),
//! checking that both agree. Reading the store is measured separately (BENCHMARKS.md).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kakehashi_model::{Country, systems};
use kakehashi_surveillance::series::*;
use kakehashi_surveillance::{CaseDefinition, IsoWeek, PathogenPanel};
use std::collections::HashMap;
use std::time::Instant;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn main() {
    let n_patients = 1_000_000usize;
    let mut rng = Rng(0x5eed);
    let start = NaiveDate::from_ymd_opt(2019, 9, 30)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let weeks = 6 * 52;
    let t0 = Instant::now();
    let mut rows = SiteRows {
        site: "de-bench".into(),
        country: Country::Germany,
        population: n_patients as u64,
        patients: Vec::with_capacity(n_patients),
        encounters: Vec::new(),
        diagnoses: Vec::new(),
        observations: Vec::new(),
    };
    for i in 0..n_patients {
        let age_days = (rng.unit() * 90.0 * 365.0) as i64;
        rows.patients.push(PatientRow {
            id: format!("p{i}"),
            birth_date: Some((start - Duration::days(age_days)).date_naive()),
            deceased_at: None,
            country: Some(Country::Germany),
        });
    }
    // Weekly SARI admissions: a baseline of 60 and a winter wave peaking in week 3 of each year.
    let codes = [
        "J18.9", "J12.8", "J10.1", "J20.9", "J21.0", "J44.0", "I10.00", "E11.9",
    ];
    let mut enc = 0usize;
    for w in 0..weeks {
        let week_of_season = w % 52; // 0 = ISO week 40
        let d = (week_of_season as f64 - 16.0) / 4.0;
        let n = (60.0 + 900.0 * (-0.5 * d * d).exp()) as usize;
        for _ in 0..n + 3000 {
            let pid = (rng.next() % n_patients as u64) as usize;
            let admitted: DateTime<Utc> = start
                + Duration::weeks(w as i64)
                + Duration::minutes((rng.unit() * 7.0 * 1440.0) as i64);
            let id = format!("e{enc}");
            enc += 1;
            let sari = rows.encounters.len() % (n + 3000) < n;
            let mut e = EncounterRow {
                id: id.clone(),
                patient_id: format!("p{pid}"),
                class_code: Some("IMP".into()),
                start: Some(admitted),
                end: Some(admitted + Duration::days(6)),
                ..Default::default()
            };
            if rng.unit() < 0.08 {
                e.type_codes = vec!["intensivstationaer".into()];
            }
            if rng.unit() < 0.05 {
                e.discharge_disposition = Some("07".into());
            }
            rows.encounters.push(e);
            let first = if sari {
                (rng.next() % 5) as usize
            } else {
                5 + (rng.next() % 3) as usize
            };
            for k in 0..4 {
                let c = if k == 0 {
                    codes[first]
                } else {
                    codes[5 + (rng.next() % 3) as usize]
                };
                rows.diagnoses.push(DiagnosisRow {
                    patient_id: format!("p{pid}"),
                    encounter_id: Some(id.clone()),
                    system: systems::ICD10_GM.into(),
                    code: c.into(),
                    date: None,
                });
            }
            let pos = rng.unit() < if sari { 0.3 } else { 0.05 };
            rows.observations.push(ObservationRow {
                id: format!("o{enc}"),
                patient_id: format!("p{pid}"),
                encounter_id: Some(id),
                system: systems::LOINC.into(),
                code: ["92142-9", "92131-2", "94500-6"][(rng.next() % 3) as usize].into(),
                effective: Some(admitted + Duration::hours(2)),
                value_code: Some(if pos { "260373001" } else { "260415000" }.into()),
                ..Default::default()
            });
        }
    }
    println!(
        "site: {} patients, {} stays, {} diagnosis rows, {} PCR results, built in {:.1} s",
        rows.patients.len(),
        rows.encounters.len(),
        rows.diagnoses.len(),
        rows.observations.len(),
        t0.elapsed().as_secs_f64()
    );

    let def = CaseDefinition::shipped("sari-icosari").unwrap();
    let panel = PathogenPanel::shipped();
    let spec = SeriesSpec {
        by: vec![Stratum::Age],
        ..SeriesSpec::default()
    };
    let t = Instant::now();
    let cases = find_cases(&def, &rows);
    let t_cases = t.elapsed().as_secs_f64();
    let tests = find_tests(&panel, &rows);
    let t_tests = t.elapsed().as_secs_f64() - t_cases;
    let series = weekly_series(
        &def,
        &panel,
        "de-bench",
        Country::Germany,
        &cases,
        &tests,
        &spec,
    );
    let ours = t.elapsed().as_secs_f64();
    println!(
        "  find_cases {:.3} s, find_tests {:.3} s, weekly_series {:.3} s",
        t_cases,
        t_tests,
        ours - t_cases - t_tests
    );
    let total: u64 = series.rows.iter().map(|r| r.cases).sum();
    println!(
        "kakehashi find_cases + find_tests + weekly_series (by age): {:.3} s, {} cases, {} tests, {} rows",
        ours,
        total,
        tests.len(),
        series.rows.len()
    );

    // Peer: the same weekly case counts by a direct hash-map pass (no definition engine).
    let t = Instant::now();
    let mut sari_stays: HashMap<&str, ()> = HashMap::new();
    for d in &rows.diagnoses {
        let c = d.code.replace('.', "");
        if c.len() >= 3 && &c[..3] >= "J09" && &c[..3] <= "J22" {
            sari_stays.insert(d.encounter_id.as_deref().unwrap_or(""), ());
        }
    }
    let mut per_week: HashMap<IsoWeek, u64> = HashMap::new();
    for e in &rows.encounters {
        if sari_stays.contains_key(e.id.as_str()) {
            let local =
                kakehashi_surveillance::week::local_date(Country::Germany, e.start.unwrap());
            *per_week.entry(IsoWeek::of(local)).or_default() += 1;
        }
    }
    let peer = t.elapsed().as_secs_f64();
    let peer_total: u64 = per_week.values().sum();
    println!(
        "peer hand-written hash-map pass (cases per week only): {:.3} s, {} cases",
        peer, peer_total
    );
    assert_eq!(total, peer_total, "both count the same cases");
    println!("ratio peer / kakehashi: {:.2}", peer / ours);
}
