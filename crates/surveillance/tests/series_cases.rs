//! Case finding and weekly counting on small hand-made sites.

use chrono::{DateTime, NaiveDate, Utc};
use kakehashi_model::{Country, systems};
use kakehashi_surveillance::series::*;
use kakehashi_surveillance::{CaseDefinition, IsoWeek, PathogenPanel};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn patient(id: &str, birth: (i32, u32, u32)) -> PatientRow {
    PatientRow {
        id: id.into(),
        birth_date: NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2),
        deceased_at: None,
        country: Some(Country::Germany),
    }
}

fn stay(id: &str, pid: &str, class: &str, start: &str, end: &str) -> EncounterRow {
    EncounterRow {
        id: id.into(),
        patient_id: pid.into(),
        class_code: Some(class.into()),
        start: Some(t(start)),
        end: Some(t(end)),
        ..Default::default()
    }
}

fn dx(pid: &str, enc: Option<&str>, code: &str, date: Option<&str>) -> DiagnosisRow {
    DiagnosisRow {
        patient_id: pid.into(),
        encounter_id: enc.map(Into::into),
        system: systems::ICD10_GM.into(),
        code: code.into(),
        date: date.map(t),
    }
}

fn site(
    patients: Vec<PatientRow>,
    encounters: Vec<EncounterRow>,
    diagnoses: Vec<DiagnosisRow>,
    observations: Vec<ObservationRow>,
) -> SiteRows {
    SiteRows {
        site: "de-test".into(),
        country: Country::Germany,
        population: patients.len() as u64,
        patients,
        encounters,
        diagnoses,
        observations,
    }
}

/// ICOSARI: inpatient stays with J09–J22. e1 (J18.9, ICU ward stay inside it, died) counts;
/// e2 (J06.9, upper respiratory) does not; e3 is outpatient with J12.8 and does not; e4 has J10.1
/// coded without an encounter reference but dated inside the stay, so it counts.
#[test]
fn icosari_counts_inpatient_lower_respiratory_stays() {
    let def = CaseDefinition::shipped("sari-icosari").unwrap();
    let mut icu = stay(
        "e1-icu",
        "p1",
        "IMP",
        "2024-01-10T10:00:00Z",
        "2024-01-12T10:00:00Z",
    );
    icu.type_codes = vec!["intensivstationaer".into()];
    icu.part_of = Some("e1".into());
    let mut e1 = stay(
        "e1",
        "p1",
        "IMP",
        "2024-01-08T09:00:00Z",
        "2024-01-20T09:00:00Z",
    );
    e1.discharge_disposition = Some("07".into());
    let rows = site(
        vec![
            patient("p1", (1940, 5, 1)),
            patient("p2", (2020, 1, 1)),
            patient("p3", (1990, 1, 1)),
            patient("p4", (1960, 6, 1)),
        ],
        vec![
            e1,
            icu,
            stay(
                "e2",
                "p2",
                "IMP",
                "2024-01-09T09:00:00Z",
                "2024-01-11T09:00:00Z",
            ),
            stay(
                "e3",
                "p3",
                "AMB",
                "2024-01-09T09:00:00Z",
                "2024-01-09T10:00:00Z",
            ),
            stay(
                "e4",
                "p4",
                "IMP",
                "2024-01-15T09:00:00Z",
                "2024-01-25T09:00:00Z",
            ),
        ],
        vec![
            dx("p1", Some("e1-icu"), "J18.9", None),
            dx("p2", Some("e2"), "J06.9", None),
            dx("p3", Some("e3"), "J12.8", None),
            dx("p4", None, "J10.1", Some("2024-01-16T00:00:00Z")),
        ],
        vec![],
    );
    let cases = find_cases(&def, &rows);
    let ids: Vec<&str> = cases.iter().map(|c| c.encounter_id.as_str()).collect();
    assert_eq!(ids, vec!["e1", "e4"]);
    let c1 = &cases[0];
    assert!(c1.icu && c1.died);
    assert_eq!(c1.age, Some(83));
    assert_eq!(c1.week, IsoWeek::new(2024, 2).unwrap());
    assert!(!cases[1].icu && !cases[1].died);
    assert_eq!(cases[1].week, IsoWeek::new(2024, 3).unwrap());
}

/// WHO SARI: fever (R50 or ≥ 38 °C) and cough, onset within 10 days before admission. p1 has a
/// measured 38.4 °C and cough 3 days before: a case. p2's cough began 12 days before admission:
/// not a case. p3 has cough and 37.9 °C only: not a case. p4 has 101.3 °F (38.5 °C) and R05.
#[test]
fn who_sari_applies_the_onset_window_and_the_fever_bound() {
    let def = CaseDefinition::shipped("sari-who").unwrap();
    let temp = |id: &str, pid: &str, enc: &str, v: f64, unit: &str| ObservationRow {
        id: id.into(),
        patient_id: pid.into(),
        encounter_id: Some(enc.into()),
        system: systems::LOINC.into(),
        code: "8310-5".into(),
        effective: Some(t("2024-02-01T12:00:00Z")),
        value: Some(v),
        unit: Some(unit.into()),
        ..Default::default()
    };
    let adm = "2024-02-01T10:00:00Z";
    let rows = site(
        (1..=4)
            .map(|i| patient(&format!("p{i}"), (1980, 1, 1)))
            .collect(),
        (1..=4)
            .map(|i| {
                stay(
                    &format!("e{i}"),
                    &format!("p{i}"),
                    "IMP",
                    adm,
                    "2024-02-05T10:00:00Z",
                )
            })
            .collect(),
        vec![
            dx("p1", Some("e1"), "R05", Some("2024-01-29T00:00:00Z")),
            dx("p2", Some("e2"), "R05", Some("2024-01-20T00:00:00Z")),
            dx("p2", Some("e2"), "R50.9", Some("2024-01-30T00:00:00Z")),
            dx("p3", Some("e3"), "R05", Some("2024-01-31T00:00:00Z")),
            dx("p4", Some("e4"), "R05", None),
        ],
        vec![
            temp("o1", "p1", "e1", 38.4, "Cel"),
            temp("o3", "p3", "e3", 37.9, "Cel"),
            temp("o4", "p4", "e4", 101.3, "[degF]"),
        ],
    );
    let ids: Vec<String> = find_cases(&def, &rows)
        .into_iter()
        .map(|c| c.encounter_id)
        .collect();
    assert_eq!(ids, vec!["e1", "e4"]);
}

/// COVID-SARI needs both J09–J22 and U07.1; U07.1! with its ICD-10-GM mark matches.
#[test]
fn covid_sari_needs_both_codes() {
    let def = CaseDefinition::shipped("sari-icosari-covid").unwrap();
    let rows = site(
        vec![patient("p1", (1950, 1, 1)), patient("p2", (1950, 1, 1))],
        vec![
            stay(
                "e1",
                "p1",
                "IMP",
                "2024-03-01T10:00:00Z",
                "2024-03-05T10:00:00Z",
            ),
            stay(
                "e2",
                "p2",
                "IMP",
                "2024-03-01T10:00:00Z",
                "2024-03-05T10:00:00Z",
            ),
        ],
        vec![
            dx("p1", Some("e1"), "J12.8", None),
            dx("p1", Some("e1"), "U07.1!", None),
            dx("p2", Some("e2"), "J12.8", None),
        ],
        vec![],
    );
    let ids: Vec<String> = find_cases(&def, &rows)
        .into_iter()
        .map(|c| c.encounter_id)
        .collect();
    assert_eq!(ids, vec!["e1"]);
}

/// Weekly counting: a Japanese admission at 2024-12-29T16:00Z is 30 December 01:00 JST, ISO
/// week 2025-W01; on the UTC calendar it would be 2024-W52. Age bands split 4 and 85 year olds.
/// Weeks without data between the first and the last are present with zeros.
#[test]
fn weekly_series_uses_the_local_week_and_fills_gaps() {
    let def = CaseDefinition::shipped("sari-icosari").unwrap();
    let panel = PathogenPanel::shipped();
    let mut rows = site(
        vec![patient("p1", (2020, 6, 1)), patient("p2", (1939, 1, 1))],
        vec![
            stay(
                "e1",
                "p1",
                "IMP",
                "2024-12-29T16:00:00Z",
                "2025-01-03T10:00:00Z",
            ),
            stay(
                "e2",
                "p2",
                "IMP",
                "2025-01-20T01:00:00Z",
                "2025-01-23T10:00:00Z",
            ),
        ],
        vec![],
        vec![],
    );
    rows.country = Country::Japan;
    rows.diagnoses = vec![
        DiagnosisRow {
            system: systems::ICD10_JP.into(),
            ..dx("p1", Some("e1"), "J189", None)
        },
        DiagnosisRow {
            system: systems::ICD10_JP.into(),
            ..dx("p2", Some("e2"), "J100", None)
        },
    ];
    let pcr = |id: &str, pid: &str, code: &str, when: &str, detected: bool| ObservationRow {
        id: id.into(),
        patient_id: pid.into(),
        system: systems::LOINC.into(),
        code: code.into(),
        effective: Some(t(when)),
        value_code: Some(if detected { "260373001" } else { "260415000" }.into()),
        ..Default::default()
    };
    rows.observations = vec![
        pcr("t1", "p2", "92142-9", "2025-01-20T02:00:00Z", true),
        pcr("t2", "p2", "92131-2", "2025-01-20T02:00:00Z", false),
        pcr("t3", "p1", "92142-9", "2025-01-21T02:00:00Z", false),
        // The same observation with a second (JLAC10) coding row: counted once.
        ObservationRow {
            system: systems::JLAC10.into(),
            code: "5F??".into(),
            ..pcr("t1", "p2", "92142-9", "2025-01-20T02:00:00Z", true)
        },
    ];
    let cases = find_cases(&def, &rows);
    assert_eq!(cases[0].week, IsoWeek::new(2025, 1).unwrap());
    let tests = find_tests(&panel, &rows);
    assert_eq!(tests.len(), 3);
    let spec = SeriesSpec {
        by: vec![Stratum::Age],
        ..SeriesSpec::default()
    };
    let s = weekly_series(
        &def,
        &panel,
        "jp-test",
        Country::Japan,
        &cases,
        &tests,
        &spec,
    );
    // 6 bands × weeks 2025-W01..W04.
    assert_eq!(s.rows.len(), 6 * 4);
    let get = |band: &str, w: u32| {
        s.rows
            .iter()
            .find(|r| r.age_group.as_deref() == Some(band) && r.week.week() == w)
            .unwrap()
    };
    assert_eq!(get("0-4", 1).cases, 1);
    assert_eq!(get("80+", 4).cases, 1);
    assert_eq!(
        get("80+", 4).positivity[0],
        Positivity {
            tests: 1,
            positives: 1
        }
    );
    assert_eq!(
        get("80+", 4).positivity[1],
        Positivity {
            tests: 1,
            positives: 0
        }
    );
    assert_eq!(
        get("0-4", 4).positivity[0],
        Positivity {
            tests: 1,
            positives: 0
        }
    );
    assert_eq!(get("35-59", 2).cases, 0);
    assert_eq!(s.rows.iter().map(|r| r.cases).sum::<u64>(), 2);
    assert!(s.notes[0].contains("main-diagnosis"));
    // Pooling two copies doubles every count.
    let both = Series::merge(&[s.clone(), s.clone()]).unwrap();
    assert_eq!(both.rows.len(), s.rows.len());
    assert_eq!(both.rows.iter().map(|r| r.cases).sum::<u64>(), 4);
}

/// Seasons for MEM: German weeks 40..20 (33 rows), week 53 folded into 52 as the mean.
#[test]
fn series_to_mem_seasons() {
    let conv = kakehashi_surveillance::ReportingConvention::of(Country::Germany);
    let first = IsoWeek::new(2020, 40).unwrap();
    let last = IsoWeek::new(2022, 20).unwrap();
    let rows: Vec<SeriesRow> = first
        .range_inclusive(last)
        .map(|w| SeriesRow {
            site: None,
            country: None,
            age_group: None,
            week: w,
            cases: u64::from(w.week()),
            icu: 0,
            deaths: 0,
            positivity: vec![],
        })
        .collect();
    let refs: Vec<&SeriesRow> = rows.iter().collect();
    let m = Series::mem_input(&refs, &conv, |r| r.cases as f64, false);
    assert_eq!(m.weeks.len(), 33);
    assert_eq!(m.weeks[0], "40");
    assert_eq!(m.weeks[12], "52");
    assert_eq!(m.weeks[13], "1");
    let names: Vec<&str> = m.seasons.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["2020/2021", "2021/2022"]);
    // 2020 has a week 53: week 52's slot holds (52 + 53) / 2.
    assert_eq!(m.seasons[0].values[12], Some(52.5));
    assert_eq!(m.seasons[1].values[12], Some(52.0));
    assert_eq!(m.seasons[1].values[32], Some(20.0));
}
