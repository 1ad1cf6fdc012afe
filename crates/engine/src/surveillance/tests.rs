//! Series over Arrow batches held in memory.

use super::*;
use arrow::array::ArrayRef;
use arrow::array::{
    Date32Array, Float64Array, ListBuilder, StringArray, StringBuilder, TimestampMicrosecondArray,
};
use chrono::{DateTime, NaiveDate};
use kakehashi_surveillance::series::Stratum;
use std::sync::Arc;

fn ts(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
}

fn strs(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn times(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(
        TimestampMicrosecondArray::from(v.iter().map(|s| s.map(ts)).collect::<Vec<_>>())
            .with_timezone("UTC"),
    )
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(cols).unwrap()
}

/// A tiny German site as Arrow batches in the site schema's types: two SARI stays (one with
/// an ICU ward stay inside it, one in another week), one stay without J09–J22, and three
/// PCR results, one of them a second coding row of the same observation.
fn site() -> HashMap<View, Vec<RecordBatch>> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let days = |y, m, d| (NaiveDate::from_ymd_opt(y, m, d).unwrap() - epoch).num_days() as i32;
    let patient = batch(vec![
        ("id", strs(&[Some("p1"), Some("p2"), Some("p3")])),
        (
            "birth_date",
            Arc::new(Date32Array::from(vec![
                Some(days(1941, 3, 2)),
                Some(days(2022, 7, 1)),
                None,
            ])) as ArrayRef,
        ),
        (
            "deceased_date_time",
            times(&[Some("2024-01-15T08:00:00Z"), None, None]),
        ),
        (
            "address_country",
            strs(&[Some("DE"), Some("DE"), Some("DE")]),
        ),
    ]);
    let mut types = ListBuilder::new(StringBuilder::new());
    for t in [
        vec!["normalstationaer"],
        vec!["intensivstationaer"],
        vec![],
        vec![],
    ] {
        for v in t {
            types.values().append_value(v);
        }
        types.append(true);
    }
    let encounter = batch(vec![
        (
            "id",
            strs(&[Some("e1"), Some("e1-icu"), Some("e2"), Some("e3")]),
        ),
        (
            "patient_id",
            strs(&[Some("p1"), Some("p1"), Some("p2"), Some("p3")]),
        ),
        (
            "class_code",
            strs(&[Some("IMP"), Some("IMP"), Some("IMP"), Some("IMP")]),
        ),
        ("type_codes", Arc::new(types.finish()) as ArrayRef),
        (
            "period_start",
            times(&[
                Some("2024-01-08T10:00:00Z"),
                Some("2024-01-09T10:00:00Z"),
                Some("2024-01-29T10:00:00Z"),
                Some("2024-01-10T10:00:00Z"),
            ]),
        ),
        (
            "period_end",
            times(&[
                Some("2024-01-15T08:00:00Z"),
                Some("2024-01-12T10:00:00Z"),
                Some("2024-02-02T10:00:00Z"),
                Some("2024-01-12T10:00:00Z"),
            ]),
        ),
        (
            "discharge_disposition_code",
            strs(&[Some("07"), None, Some("01"), Some("01")]),
        ),
        ("part_of_id", strs(&[None, Some("e1"), None, None])),
    ]);
    let gm = Some(systems::ICD10_GM);
    let condition = batch(vec![
        (
            "patient_id",
            strs(&[Some("p1"), Some("p2"), Some("p3"), Some("p3")]),
        ),
        (
            "encounter_id",
            strs(&[Some("e1"), Some("e2"), Some("e3"), Some("e3")]),
        ),
        ("code_system", strs(&[gm, gm, gm, gm])),
        (
            "code",
            strs(&[Some("J18.9"), Some("J21.0"), Some("J06.9"), Some("I10.00")]),
        ),
        ("onset_date_time", times(&[None, None, None, None])),
        ("recorded_date", times(&[None, None, None, None])),
    ]);
    let ln = Some(systems::LOINC);
    let observation = batch(vec![
        (
            "id",
            strs(&[Some("o1"), Some("o2"), Some("o3"), Some("o3"), Some("o4")]),
        ),
        (
            "patient_id",
            strs(&[Some("p1"), Some("p2"), Some("p3"), Some("p3"), Some("p3")]),
        ),
        (
            "encounter_id",
            strs(&[Some("e1"), Some("e2"), Some("e3"), Some("e3"), Some("e3")]),
        ),
        (
            "code_system",
            strs(&[ln, ln, ln, Some(systems::JLAC10), ln]),
        ),
        (
            "code",
            strs(&[
                Some("92142-9"),
                Some("92131-2"),
                Some("94500-6"),
                Some("5F??"),
                Some("718-7"),
            ]),
        ),
        (
            "effective_date_time",
            times(&[
                Some("2024-01-08T11:00:00Z"),
                Some("2024-01-29T11:00:00Z"),
                Some("2024-01-10T11:00:00Z"),
                Some("2024-01-10T11:00:00Z"),
                Some("2024-01-10T11:00:00Z"),
            ]),
        ),
        (
            "value_quantity",
            Arc::new(Float64Array::from(vec![None, None, None, None, Some(13.5)])) as ArrayRef,
        ),
        ("value_ucum", strs(&[None, None, None, None, Some("g/dL")])),
        (
            "value_code",
            strs(&[
                Some("260373001"),
                Some("260373001"),
                Some("260415000"),
                Some("260415000"),
                None,
            ]),
        ),
        ("interpretation_code", strs(&[None, None, None, None, None])),
        ("value_string", strs(&[None, None, None, None, None])),
    ]);
    HashMap::from([
        (View::Patient, vec![patient]),
        (View::Encounter, vec![encounter]),
        (View::Condition, vec![condition]),
        (View::Observation, vec![observation]),
    ])
}

#[test]
fn series_over_arrow_batches() {
    let src = site();
    let def = CaseDefinition::shipped("sari-icosari").unwrap();
    let panel = PathogenPanel::shipped();
    let spec = SeriesSpec {
        by: vec![Stratum::Site, Stratum::Age],
        ..SeriesSpec::default()
    };
    let out = site_series(&src, "de-a", None, &def, &panel, &spec).unwrap();
    assert_eq!(out.country, Country::Germany);
    assert_eq!((out.patients, out.cases, out.tests), (3, 2, 3));
    let row = |band: &str, w: u32| {
        out.series
            .rows
            .iter()
            .find(|r| r.age_group.as_deref() == Some(band) && r.week.week() == w)
            .unwrap()
    };
    // p1, 82 years old, admitted in 2024-W02, ICU via the ward stay, died in hospital.
    let r = row("80+", 2);
    assert_eq!((r.cases, r.icu, r.deaths), (1, 1, 1));
    assert_eq!(r.positivity[0].positives, 1);
    // p2, 1 year old, admitted in 2024-W05 with bronchiolitis, RSV positive.
    let r = row("0-4", 5);
    assert_eq!((r.cases, r.icu, r.deaths), (1, 0, 0));
    assert_eq!((r.positivity[1].tests, r.positivity[1].positives), (1, 1));
    // p3 has no birth date: its SARS-CoV-2 test (two coding rows) counts once, under "unknown".
    let r = row("unknown", 2);
    assert_eq!(
        (r.cases, r.positivity[2].tests, r.positivity[2].positives),
        (0, 1, 0)
    );
    assert_eq!(out.series.rows.iter().map(|r| r.cases).sum::<u64>(), 2);
}

#[test]
fn jlac10_only_results_are_counted_and_unknown_codes_reported_as_unmapped() {
    let mut src = site();
    // p2's and p3's patients get more tests coded only in JLAC10: under JP Core's MEDIS URI
    // (a listed code), an unlisted SARS-CoV-2 nucleic-acid code (analyte 5F625, identification
    // 1450) and an antibody code of the same analyte (identification 1430, not a test for
    // infection, so not counted).
    let medis = Some("http://medis.or.jp/CodeSystem/master-JLAC10-17digits");
    src.get_mut(&View::Observation).unwrap().push(batch(vec![
        ("id", strs(&[Some("j1"), Some("j2"), Some("j3")])),
        ("patient_id", strs(&[Some("p2"), Some("p3"), Some("p3")])),
        ("encounter_id", strs(&[Some("e2"), Some("e3"), Some("e3")])),
        (
            "code_system",
            strs(&[medis, Some(systems::JLAC10), Some(systems::JLAC10)]),
        ),
        (
            "code",
            strs(&[
                Some("5F625141006319011"),
                Some("5F625145001987511"),
                Some("5F625143002314101"),
            ]),
        ),
        (
            "effective_date_time",
            times(&[
                Some("2024-01-29T11:00:00Z"),
                Some("2024-01-10T12:00:00Z"),
                Some("2024-01-10T12:00:00Z"),
            ]),
        ),
        (
            "value_quantity",
            Arc::new(Float64Array::from(vec![None, None, None])) as ArrayRef,
        ),
        ("value_ucum", strs(&[None, None, None])),
        (
            "value_code",
            strs(&[Some("260373001"), Some("260373001"), Some("260373001")]),
        ),
        ("interpretation_code", strs(&[None, None, None])),
        ("value_string", strs(&[None, None, None])),
    ]));
    let def = CaseDefinition::shipped("sari-icosari").unwrap();
    let panel = PathogenPanel::shipped();
    let out = site_series(&src, "de-a", None, &def, &panel, &SeriesSpec::default()).unwrap();
    assert_eq!(
        out.tests, 5,
        "3 LOINC tests + the MEDIS-coded antigen + the unmapped PCR"
    );
    let sars: (u64, u64) = out.series.rows.iter().fold((0, 0), |a, r| {
        (a.0 + r.positivity[2].tests, a.1 + r.positivity[2].positives)
    });
    assert_eq!(sars, (3, 2));
    let note = out
        .series
        .notes
        .iter()
        .find(|n| n.starts_with("unmapped:"))
        .expect("the unmapped result is reported");
    assert!(note.contains("unmapped: 1 test results"), "{note}");
}

#[test]
fn only_rows_evidence_reaches_are_kept_but_every_patient_counts() {
    let mut src = site();
    // p4: an inpatient stay and a diagnosis outside the definition (hypertension), in batches
    // of their own (the tables stream batch by batch)
    let mut types = ListBuilder::new(StringBuilder::new());
    types.append(true);
    src.get_mut(&View::Patient).unwrap().push(batch(vec![
        ("id", strs(&[Some("p4")])),
        (
            "birth_date",
            Arc::new(Date32Array::from(vec![Some(7000)])) as ArrayRef,
        ),
        ("deceased_date_time", times(&[None])),
        ("address_country", strs(&[Some("DE")])),
    ]));
    src.get_mut(&View::Encounter).unwrap().push(batch(vec![
        ("id", strs(&[Some("e4")])),
        ("patient_id", strs(&[Some("p4")])),
        ("class_code", strs(&[Some("IMP")])),
        ("type_codes", Arc::new(types.finish()) as ArrayRef),
        ("period_start", times(&[Some("2024-01-09T10:00:00Z")])),
        ("period_end", times(&[Some("2024-01-19T10:00:00Z")])),
        ("discharge_disposition_code", strs(&[Some("01")])),
        ("part_of_id", strs(&[None])),
    ]));
    src.get_mut(&View::Condition).unwrap().push(batch(vec![
        ("patient_id", strs(&[Some("p4")])),
        ("encounter_id", strs(&[Some("e4")])),
        ("code_system", strs(&[Some(systems::ICD10_GM)])),
        ("code", strs(&[Some("I10.00")])),
        ("onset_date_time", times(&[None])),
        ("recorded_date", times(&[None])),
    ]));
    let def = CaseDefinition::shipped("sari-icosari").unwrap();
    let panel = PathogenPanel::shipped();
    let rows = site_rows(&src, "de-a", None, &def, &panel).unwrap();
    assert_eq!(rows.population, 4);
    let mut patients: Vec<&str> = rows.patients.iter().map(|p| p.id.as_str()).collect();
    patients.sort();
    assert_eq!(patients, ["p1", "p2", "p3"]);
    let mut stays: Vec<&str> = rows.encounters.iter().map(|e| e.id.as_str()).collect();
    stays.sort();
    assert_eq!(stays, ["e1", "e1-icu", "e2", "e3"]);
    // the series is that of the site without the filter, over four patients
    let out = site_series(&src, "de-a", None, &def, &panel, &SeriesSpec::default()).unwrap();
    assert_eq!((out.patients, out.cases, out.tests), (4, 2, 3));
    assert_eq!(out.series.population, Some(4));
}

#[test]
fn a_column_of_the_wrong_type_is_named() {
    let mut src = site();
    let bad = batch(vec![
        ("id", strs(&[Some("p1")])),
        (
            "birth_date",
            Arc::new(Float64Array::from(vec![Some(1.5)])) as ArrayRef,
        ),
    ]);
    src.insert(View::Patient, vec![bad]);
    let def = CaseDefinition::shipped("sari-icosari").unwrap();
    let e = site_series(
        &src,
        "x",
        None,
        &def,
        &PathogenPanel::shipped(),
        &SeriesSpec::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("patient") && e.contains("birth_date"), "{e}");
}
