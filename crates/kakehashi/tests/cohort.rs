//! Cohort counts checked against an independent computation: for each query, SQL written by
//! hand over the same Parquet tables (DataFusion), over a German and a Japanese synthetic site.

mod common;

use chrono::{Datelike, Utc};
use kakehashi_cohort::Query;
use kakehashi_engine::cohort::CohortIndex;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");
const ICD: &str = "('http://fhir.de/CodeSystem/bfarm/icd-10-gm','http://fhir.de/CodeSystem/dimdi/icd-10-gm','http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10','http://hl7.org/fhir/sid/icd-10')";
const GM: &str = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";
const JP: &str = "http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10";
const LOINC: &str = "http://loinc.org";
const JLAC: &str = "urn:oid:1.2.392.200119.4.504";

fn site(profile: &str) -> &'static Path {
    static SITES: OnceLock<PathBuf> = OnceLock::new();
    let root = SITES.get_or_init(|| {
        let root = common::process_dir("kh-cohort");
        for p in ["de-berlin", "jp-osaka"] {
            let fhir = root.join("fhir").join(p);
            let out = Command::new(EXE)
                .args([
                    "synth",
                    "--profile",
                    p,
                    "--patients",
                    "3000",
                    "--seed",
                    "7",
                    "--out",
                ])
                .arg(&fhir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let out = Command::new(EXE)
                .args(["ingest", "--site-dir"])
                .arg(root.join(p))
                .arg(&fhir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        root
    });
    Box::leak(root.join(profile).into_boxed_path())
}

fn ctx(code: &str) -> Value {
    json!({"code": code, "system": "fdpg.mii.cds", "display": code, "version": "1.0.0"})
}

fn diag(system: &str, codes: &[&str]) -> Value {
    json!({"context": ctx("Diagnose"), "termCodes": codes.iter().map(|c| json!({"system": system, "code": c, "display": c})).collect::<Vec<_>>()})
}

fn lab(system: &str, code: &str, filter: Option<Value>) -> Value {
    let mut c = json!({"context": ctx("Laboruntersuchung"), "termCodes": [{"system": system, "code": code, "display": code}]});
    if let Some(f) = filter {
        c["valueFilter"] = f;
    }
    c
}

fn age(min: f64, max: f64) -> Value {
    json!({"context": ctx("Patient"), "termCodes": [{"system": LOINC, "code": "30525-0", "display": "Alter"}],
           "valueFilter": {"type": "quantity-range", "minValue": min, "maxValue": max, "unit": {"code": "a", "display": "a"}}})
}

fn gender(codes: &[&str]) -> Value {
    json!({"context": ctx("Patient"), "termCodes": [{"system": LOINC, "code": "76689-9", "display": "Geschlecht"}],
           "valueFilter": {"type": "concept", "selectedConcepts": codes.iter().map(|c| json!({"system": "http://hl7.org/fhir/administrative-gender", "code": c, "display": c})).collect::<Vec<_>>()}})
}

/// An encounter of a class (MII context `Fall`; v3 ActCode: IMP inpatient, AMB, EMER).
fn encounter(class: &str) -> Value {
    json!({"context": ctx("Fall"), "termCodes": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": class, "display": class}]})
}

fn timed(mut c: Value, after: &str, before: &str) -> Value {
    c["timeRestriction"] = json!({"afterDate": after, "beforeDate": before});
    c
}

fn query(inc: Vec<Vec<Value>>, exc: Vec<Vec<Value>>) -> Value {
    let mut q = json!({"version": "2", "display": "test", "inclusionCriteria": inc});
    if !exc.is_empty() {
        q["exclusionCriteria"] = json!(exc);
    }
    q
}

// ---- the independent side: SQL written by hand

fn sql_icd(codes: &[&str]) -> String {
    let conds: Vec<String> = codes
        .iter()
        .map(|c| {
            format!(
                "(code = '{c}' OR code LIKE '{}%')",
                if c.contains('.') {
                    c.to_string()
                } else {
                    format!("{c}.")
                }
            )
        })
        .collect();
    format!(
        "SELECT patient_id FROM condition WHERE code_system IN {ICD} AND ({})",
        conds.join(" OR ")
    )
}

fn sql_icd_timed(codes: &[&str], after: &str, before: &str) -> String {
    format!(
        "{} AND COALESCE(onset_date_time, recorded_date) >= TIMESTAMP '{after}T00:00:00Z' AND COALESCE(onset_date_time, recorded_date) <= TIMESTAMP '{before}T23:59:59.999999Z'",
        sql_icd(codes)
    )
}

fn sql_lab(loinc: &str, jlac: &str, value_cond: &str) -> String {
    format!(
        "SELECT patient_id FROM observation WHERE ((code_system = '{LOINC}' AND code = '{loinc}') OR (code_system = '{JLAC}' AND code = '{jlac}')) {value_cond}"
    )
}

fn sql_age(min: i64, max: i64) -> String {
    let t = Utc::now().date_naive();
    format!(
        "SELECT id AS patient_id FROM patient WHERE birth_date IS NOT NULL AND ({y} - date_part('year', birth_date) - CASE WHEN date_part('month', birth_date) > {m} OR (date_part('month', birth_date) = {m} AND date_part('day', birth_date) > {d}) THEN 1 ELSE 0 END) BETWEEN {min} AND {max}",
        y = t.year(),
        m = t.month(),
        d = t.day()
    )
}

fn sql_gender(g: &[&str]) -> String {
    format!(
        "SELECT id AS patient_id FROM patient WHERE gender IN ({})",
        g.iter()
            .map(|x| format!("'{x}'"))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Encounters of a class whose period overlaps the days `after`..=`before` (an open end counts
/// as the start).
fn sql_encounter(class: &str, window: Option<(&str, &str)>) -> String {
    let mut sql = format!("SELECT patient_id FROM encounter WHERE class_code = '{class}'");
    if let Some((after, before)) = window {
        sql.push_str(&format!(
            " AND period_start IS NOT NULL AND period_start <= TIMESTAMP '{before}T23:59:59.999999Z' AND COALESCE(period_end, period_start) >= TIMESTAMP '{after}T00:00:00Z'"
        ));
    }
    sql
}

fn sql_count(set: &str) -> String {
    format!("SELECT COUNT(DISTINCT patient_id) AS n FROM ({set}) s")
}

fn and(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| format!("SELECT patient_id FROM ({p}) x"))
        .collect::<Vec<_>>()
        .join(" INTERSECT ")
}

fn minus(a: &str, b: &str) -> String {
    format!("SELECT patient_id FROM ({a}) x EXCEPT SELECT patient_id FROM ({b}) y")
}

fn sql_n(site: &Path, sql: &str) -> u64 {
    let batches = kakehashi_engine::sql::run(site, sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    let col = batches[0].column(0);
    let v = col
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .unwrap_or_else(|| panic!("count type {:?}", col.data_type()));
    v.value(0) as u64
}

struct Case {
    name: &'static str,
    site: &'static str,
    ccdl: Value,
    sql: String,
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    for (s, sys) in [("de-berlin", GM), ("jp-osaka", JP)] {
        let c = |name: &'static str, ccdl: Value, sql: String| Case {
            name,
            site: s,
            ccdl,
            sql,
        };
        v.push(c(
            "one diagnosis with its subcodes",
            query(vec![vec![diag(sys, &["J18"])]], vec![]),
            sql_count(&sql_icd(&["J18"])),
        ));
        v.push(c(
            "an inpatient stay",
            query(vec![vec![encounter("IMP")]], vec![]),
            sql_count(&sql_encounter("IMP", None)),
        ));
        v.push(c(
            "an inpatient stay overlapping 2024",
            query(
                vec![vec![timed(encounter("IMP"), "2024-01-01", "2024-12-31")]],
                vec![],
            ),
            sql_count(&sql_encounter("IMP", Some(("2024-01-01", "2024-12-31")))),
        ));
        v.push(c(
            "outpatient but never inpatient",
            query(vec![vec![encounter("AMB")]], vec![vec![encounter("IMP")]]),
            sql_count(&minus(
                &sql_encounter("AMB", None),
                &sql_encounter("IMP", None),
            )),
        ));
        v.push(c(
            "a leaf code only",
            query(vec![vec![diag(sys, &["J10.0"])]], vec![]),
            sql_count(&sql_icd(&["J10.0"])),
        ));
        v.push(c(
            "synonyms in one criterion",
            query(vec![vec![diag(sys, &["J10", "J11", "U07.1"])]], vec![]),
            sql_count(&sql_icd(&["J10", "J11", "U07.1"])),
        ));
        v.push(c(
            "OR inside a group",
            query(vec![vec![diag(sys, &["J12"]), diag(sys, &["J21"])]], vec![]),
            sql_count(&format!(
                "{} UNION {}",
                sql_icd(&["J12"]),
                sql_icd(&["J21"])
            )),
        ));
        // The other country's system: the cross-country map must find the same patients.
        let other = if sys == GM { JP } else { GM };
        v.push(c(
            "the other country's ICD-10 system",
            query(vec![vec![diag(other, &["J18"])]], vec![]),
            sql_count(&sql_icd(&["J18"])),
        ));
        v.push(c(
            "diagnosis in a time window (overlap)",
            query(
                vec![vec![timed(
                    diag(sys, &["J09", "J10", "J11", "J12", "J18"]),
                    "2021-10-01",
                    "2022-03-31",
                )]],
                vec![],
            ),
            sql_count(&sql_icd_timed(
                &["J09", "J10", "J11", "J12", "J18"],
                "2021-10-01",
                "2022-03-31",
            )),
        ));
        v.push(c("AND of two groups", query(vec![vec![diag(sys, &["J18", "J12"])], vec![lab(LOINC, "1988-5", Some(json!({"type": "quantity-comparator", "comparator": "gt", "value": 20, "unit": {"code": "mg/L", "display": "mg/L"}})))]], vec![]), sql_count(&and(&[sql_icd(&["J18", "J12"]), sql_lab("1988-5", "5C070000002306201", "AND value_ucum = 'mg/L' AND value_quantity > 20")]))));
        v.push(c(
            "exclusion",
            query(
                vec![vec![diag(sys, &["J18", "J10", "J12"])]],
                vec![vec![diag(sys, &["U07.1"])]],
            ),
            sql_count(&minus(
                &sql_icd(&["J18", "J10", "J12"]),
                &sql_icd(&["U07.1"]),
            )),
        ));
        v.push(c(
            "exclusion group is an AND",
            query(
                vec![vec![diag(sys, &["J18", "J12"])]],
                vec![vec![diag(sys, &["J12"]), age(0.0, 4.0)]],
            ),
            sql_count(&minus(
                &format!("{} UNION {}", sql_icd(&["J18"]), sql_icd(&["J12"])),
                &and(&[sql_icd(&["J12"]), sql_age(0, 4)]),
            )),
        ));
        v.push(c(
            "age range",
            query(vec![vec![age(65.0, 150.0)]], vec![]),
            sql_count(&sql_age(65, 150)),
        ));
        v.push(c("age in months", query(vec![vec![json!({"context": ctx("Patient"), "termCodes": [{"system": "http://snomed.info/sct", "code": "424144002", "display": "age"}], "valueFilter": {"type": "quantity-comparator", "comparator": "lt", "value": 144, "unit": {"code": "mo", "display": "mo"}}})]], vec![]), sql_count(&sql_age(0, 11))));
        v.push(c(
            "gender",
            query(vec![vec![gender(&["female"])]], vec![]),
            sql_count(&sql_gender(&["female"])),
        ));
        v.push(c(
            "gender by LOINC answer code",
            query(vec![vec![gender(&["LA2-8"])]], vec![]),
            sql_count(&sql_gender(&["male"])),
        ));
        v.push(c(
            "diagnosis AND age AND gender",
            query(
                vec![
                    vec![diag(sys, &["J18", "J12", "J10"])],
                    vec![age(18.0, 64.0)],
                    vec![gender(&["male"])],
                ],
                vec![],
            ),
            sql_count(&and(&[
                sql_icd(&["J18", "J12", "J10"]),
                sql_age(18, 64),
                sql_gender(&["male"]),
            ])),
        ));
        v.push(c("platelets below 150 (LOINC; JLAC10 at Japanese sites)", query(vec![vec![lab(LOINC, "777-3", Some(json!({"type": "quantity-comparator", "comparator": "lt", "value": 150, "unit": {"code": "10*3/uL", "display": "10*3/uL"}})))]], vec![]), sql_count(&sql_lab("777-3", "2A050000001930901", "AND value_ucum = '10*3/uL' AND value_quantity < 150"))));
        v.push(c("platelets in another unit (10*9/L)", query(vec![vec![lab(LOINC, "777-3", Some(json!({"type": "quantity-range", "minValue": 50, "maxValue": 100, "unit": {"code": "10*9/L", "display": "10*9/L"}})))]], vec![]), sql_count(&sql_lab("777-3", "2A050000001930901", "AND value_ucum = '10*3/uL' AND value_quantity >= 50 AND value_quantity <= 100"))));
        v.push(c("CRP above 5 mg/dL, recorded in mg/L", query(vec![vec![lab(LOINC, "1988-5", Some(json!({"type": "quantity-comparator", "comparator": "gt", "value": 5, "unit": {"code": "mg/dL", "display": "mg/dL"}})))]], vec![]), sql_count(&sql_lab("1988-5", "5C070000002306201", "AND value_ucum = 'mg/L' AND value_quantity > 50"))));
        v.push(c("a lab by its JLAC10 code", query(vec![vec![lab(JLAC, "2A990000001930952", Some(json!({"type": "quantity-comparator", "comparator": "lt", "value": 4, "unit": {"code": "10*3/uL", "display": "10*3/uL"}})))]], vec![]), sql_count(&sql_lab("6690-2", "2A990000001930952", "AND value_ucum = '10*3/uL' AND value_quantity < 4"))));
        v.push(c(
            "lab value in a time window",
            query(vec![vec![timed(lab(LOINC, "1988-5", Some(json!({"type": "quantity-comparator", "comparator": "ge", "value": 40, "unit": {"code": "mg/L", "display": "mg/L"}}))), "2022-01-01", "2023-12-31")]], vec![]),
            sql_count(&sql_lab("1988-5", "5C070000002306201", "AND value_ucum = 'mg/L' AND value_quantity >= 40 AND COALESCE(effective_date_time, issued) >= TIMESTAMP '2022-01-01T00:00:00Z' AND COALESCE(effective_date_time, issued) <= TIMESTAMP '2023-12-31T23:59:59.999999Z'")),
        ));
        v.push(c("three criteria: diagnosis, lab value, age", query(vec![vec![diag(sys, &["J18", "J10", "J12", "U07.1"])], vec![lab(LOINC, "1988-5", Some(json!({"type": "quantity-comparator", "comparator": "gt", "value": 40, "unit": {"code": "mg/L", "display": "mg/L"}})))], vec![age(60.0, 150.0)]], vec![]), sql_count(&and(&[sql_icd(&["J18", "J10", "J12", "U07.1"]), sql_lab("1988-5", "5C070000002306201", "AND value_ucum = 'mg/L' AND value_quantity > 40"), sql_age(60, 150)]))));
        v.push(c(
            "specimen referencing a diagnosis",
            query(vec![vec![json!({"context": ctx("Specimen"), "termCodes": [{"system": "http://snomed.info/sct", "code": "119364003", "display": "Serum"}, {"system": "http://snomed.info/sct", "code": "119361006", "display": "Plasma"}],
                "attributeFilters": [{"type": "reference", "attributeCode": {"system": "fdpg.mii.cds", "code": "festgestellteDiagnose", "display": "d"}, "criteria": [diag(sys, &["J09", "J10", "J11", "J12", "J18", "U07.1", "J20", "J21", "J22"])]}]})]], vec![]),
            sql_count(&format!("SELECT s.patient_id FROM specimen s JOIN condition c ON s.diagnosis_condition_id = c.id WHERE s.type_system = 'http://snomed.info/sct' AND s.type_code IN ('119364003','119361006') AND c.code_system IN {ICD} AND (c.code LIKE 'J09%' OR c.code LIKE 'J10%' OR c.code LIKE 'J11%' OR c.code LIKE 'J12%' OR c.code LIKE 'J18%' OR c.code = 'U07.1' OR c.code LIKE 'J20%' OR c.code LIKE 'J21%' OR c.code LIKE 'J22%')")),
        ));
        v.push(c(
            "coded lab value: influenza PCR detected",
            query(vec![vec![lab(LOINC, "92142-9", Some(json!({"type": "concept", "selectedConcepts": [{"system": "http://snomed.info/sct", "code": "260373001", "display": "Detected"}]})))]], vec![]),
            sql_count("SELECT patient_id FROM observation WHERE code_system = 'http://loinc.org' AND code = '92142-9' AND value_code_system = 'http://snomed.info/sct' AND value_code = '260373001'"),
        ));
        v.push(c("specimen type alone", query(vec![vec![json!({"context": ctx("Bioprobe"), "termCodes": [{"system": "http://snomed.info/sct", "code": "258529004", "display": "Throat swab"}]})]], vec![]), sql_count("SELECT patient_id FROM specimen WHERE type_system = 'http://snomed.info/sct' AND type_code = '258529004'")));
        v.push(c("diagnosis verification status attribute", query(vec![vec![{ let mut d = diag(sys, &["J18"]); d["attributeFilters"] = json!([{"type": "concept", "attributeCode": {"system": "x", "code": "clinicalStatus", "display": "c"}, "selectedConcepts": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active", "display": "a"}]}]); d }]], vec![]), sql_count(&format!("{} AND clinical_status = 'active'", sql_icd(&["J18"])))));
    }
    // German-only data: consent (MII broad consent) and imported VHF; Japan-only: SFTS.
    let consent_code = "2.16.840.1.113883.3.1937.777.24.5.3.8";
    v.push(Case {
        name: "broad consent provision (permit)",
        site: "de-berlin",
        ccdl: query(vec![vec![json!({"context": ctx("Einwilligung"), "termCodes": [{"system": "urn:oid:2.16.840.1.113883.3.1937.777.24.5.3", "code": consent_code, "display": "c"}]})]], vec![]),
        sql: sql_count(&format!("SELECT patient_id FROM consent WHERE provision_type = 'permit' AND provision_code_system = 'urn:oid:2.16.840.1.113883.3.1937.777.24.5.3' AND provision_code = '{consent_code}'")),
    });
    v.push(Case {
        name: "pneumonia with broad consent",
        site: "de-berlin",
        ccdl: query(vec![vec![diag(GM, &["J18"])], vec![json!({"context": ctx("Einwilligung"), "termCodes": [{"system": "urn:oid:2.16.840.1.113883.3.1937.777.24.5.3", "code": consent_code, "display": "c"}]})]], vec![]),
        sql: sql_count(&and(&[sql_icd(&["J18"]), format!("SELECT patient_id FROM consent WHERE provision_type = 'permit' AND provision_code = '{consent_code}'")])),
    });
    v.push(Case {
        name: "SFTS in Japan",
        site: "jp-osaka",
        ccdl: query(vec![vec![diag(JP, &["A93.8"])]], vec![]),
        sql: sql_count(&sql_icd(&["A93.8"])),
    });
    v.push(Case {
        name: "SFTS with thrombocytopenia (JLAC10 labs, LOINC query)",
        site: "jp-osaka",
        ccdl: query(vec![vec![diag(GM, &["A93.8"])], vec![lab(LOINC, "777-3", Some(json!({"type": "quantity-comparator", "comparator": "lt", "value": 100, "unit": {"code": "10*3/uL", "display": "u"}})))]], vec![]),
        sql: sql_count(&and(&[sql_icd(&["A93.8"]), sql_lab("777-3", "2A050000001930901", "AND value_ucum = '10*3/uL' AND value_quantity < 100")])),
    });
    v.push(Case {
        name: "imported VHF and dengue in Germany",
        site: "de-berlin",
        ccdl: query(
            vec![vec![diag(GM, &["A96.2", "A98.4", "A98.0", "A97.1"])]],
            vec![],
        ),
        sql: sql_count(&sql_icd(&["A96.2", "A98.4", "A98.0", "A97.1"])),
    });
    v.push(Case {
        name: "ten criteria",
        site: "de-berlin",
        ccdl: query(
            vec![
                vec![diag(GM, &["J18"]), diag(GM, &["J10"]), diag(GM, &["J12"])],
                vec![age(18.0, 150.0)],
                vec![lab(LOINC, "1988-5", Some(json!({"type": "quantity-comparator", "comparator": "gt", "value": 10, "unit": {"code": "mg/L", "display": "mg/L"}})))],
                vec![lab(LOINC, "6690-2", Some(json!({"type": "quantity-range", "minValue": 0, "maxValue": 30, "unit": {"code": "10*3/uL", "display": "u"}})))],
                vec![gender(&["female", "male"])],
            ],
            vec![vec![diag(GM, &["U07.1"])], vec![diag(GM, &["J21"]), age(0.0, 2.0)], vec![diag(GM, &["A96.2"])]],
        ),
        sql: sql_count(&minus(
            &and(&[
                format!("{} UNION {} UNION {}", sql_icd(&["J18"]), sql_icd(&["J10"]), sql_icd(&["J12"])),
                sql_age(18, 150),
                sql_lab("1988-5", "5C070000002306201", "AND value_ucum = 'mg/L' AND value_quantity > 10"),
                sql_lab("6690-2", "2A990000001930952", "AND value_ucum = '10*3/uL' AND value_quantity >= 0 AND value_quantity <= 30"),
                sql_gender(&["female", "male"]),
            ]),
            &format!("{} UNION SELECT patient_id FROM ({}) z UNION {}", sql_icd(&["U07.1"]), and(&[sql_icd(&["J21"]), sql_age(0, 2)]), sql_icd(&["A96.2"])),
        )),
    });
    v
}

#[test]
fn thirty_and_more_queries_match_hand_written_sql_at_german_and_japanese_sites() {
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut indexes = std::collections::HashMap::new();
    let mut zero = Vec::new();
    for c in &cases {
        let dir = site(c.site);
        let ix = indexes.entry(c.site).or_insert_with(|| {
            CohortIndex::open(&kakehashi_store::Store::open(dir).current().unwrap()).unwrap()
        });
        let q = Query::from_value(&c.ccdl).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let got = ix
            .count(&q)
            .unwrap_or_else(|e| panic!("{}: {e}", c.name))
            .count;
        let want = sql_n(dir, &c.sql);
        assert_eq!(got, want, "{} at {}", c.name, c.site);
        if got == 0 {
            zero.push(format!("{} at {}", c.name, c.site));
        }
    }
    assert!(
        zero.len() * 4 <= cases.len(),
        "most cases must match someone to test anything; empty: {zero:?}"
    );
    eprintln!(
        "{} cases agree with SQL; empty at this size: {zero:?}",
        cases.len()
    );
}

/// The MII CCDL schema and example queries in the shared reference data.
fn shared_ccdl() -> PathBuf {
    // the shared reference data sit beside the repository (`../shared`), wherever it is checked out
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ccdl")
}

#[test]
fn every_shipped_mii_query_parses_and_what_cannot_run_is_refused_by_name() {
    let root = shared_ccdl();
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    let mut queries = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        if v.get("inclusionCriteria").is_none() {
            continue;
        }
        queries += 1;
        let q = Query::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if let Err(e) = kakehashi_cohort::compile(&q) {
            let msg = e.to_string();
            assert!(
                msg.contains("Criteria[")
                    && (msg.contains("context")
                        || msg.contains("attribute")
                        || msg.contains("valueFilter")
                        || msg.contains("termCodes")),
                "{}: refusal must name the construct: {msg}",
                f.display()
            );
        }
    }
    assert!(queries >= 20, "found {queries} queries");
}

#[test]
fn malformed_and_unmappable_queries_get_clear_errors() {
    let bad = [
        (
            r#"{"inclusionCriteria": [[{"termCodes": [{"code": "J18", "system": "s", "display": "d"}]}]]}"#,
            "inclusionCriteria[0][0].context",
        ),
        (
            r#"{"inclusionCriteria": [[{"context": {"code": "Diagnose", "system": "fdpg.mii.cds", "display": "d"}, "termCodes": []}]]}"#,
            "inclusionCriteria[0][0].termCodes",
        ),
        (
            r#"{"inclusionCriteria": [[{"context": {"code": "Diagnose", "system": "fdpg.mii.cds", "display": "d"}, "termCodes": [{"code": "J18", "system": "s", "display": "d"}], "timeRestriction": {"afterDate": "2024-13-01"}}]]}"#,
            "timeRestriction.afterDate",
        ),
        (
            r#"{"inclusionCriteria": [[{"context": {"code": "Diagnose", "system": "fdpg.mii.cds", "display": "d"}, "termCodes": [{"code": "J18", "system": "s", "display": "d"}], "valueFilter": {"type": "quantity-range", "minValue": 5, "maxValue": 1}}]]}"#,
            "valueFilter.minValue",
        ),
        (r#"{"inclusionCriteria": [[1]]}"#, "inclusionCriteria[0][0]"),
        (r#"{"version": 3, "inclusionCriteria": []}"#, "version"),
    ];
    for (q, path) in bad {
        let e = Query::parse(q).unwrap_err();
        assert!(e.to_string().contains(path), "{q}: {e}");
    }
    let refused = [
        (
            r#"{"inclusionCriteria": [[{"context": {"code": "Versorgungsstellenkontakt", "system": "fdpg.mii.cds", "display": "d"}, "termCodes": [{"code": "IMP", "system": "s", "display": "d"}]}]]}"#,
            "\"Versorgungsstellenkontakt\" is not a context",
        ),
        (
            r#"{"inclusionCriteria": [[{"context": {"code": "Fall", "system": "fdpg.mii.cds", "display": "d"}, "termCodes": [{"code": "IMP", "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "display": "d"}], "attributeFilters": [{"type": "concept", "attributeCode": {"code": "Aufnahmeanlass", "system": "http://hl7.org/fhir/StructureDefinition", "display": "d"}, "selectedConcepts": [{"code": "E", "system": "x", "display": "d"}]}]}]]}"#,
            "attribute \"Aufnahmeanlass\"",
        ),
        (
            r#"{"inclusionCriteria": [[{"context": {"code": "Diagnose", "system": "fdpg.mii.cds", "display": "d"}, "termCodes": [{"code": "J18", "system": "s", "display": "d"}], "valueFilter": {"type": "quantity-comparator", "comparator": "gt", "value": 1}}]]}"#,
            "has no quantity value",
        ),
        (
            r#"{"inclusionCriteria": [[{"context": {"code": "Patient", "system": "fdpg.mii.cds", "display": "d"}, "termCodes": [{"code": "30525-0", "system": "http://loinc.org", "display": "d"}], "valueFilter": {"type": "quantity-comparator", "comparator": "gt", "value": 1, "unit": {"code": "mg", "display": "mg"}}}]]}"#,
            "not a unit of age",
        ),
        (
            r#"{"inclusionCriteria": [[{"context": {"code": "Diagnose", "system": "fdpg.mii.cds", "display": "d"}, "termCodes": [{"code": "J18", "system": "s", "display": "d"}], "attributeFilters": [{"type": "concept", "attributeCode": {"code": "severity", "system": "x", "display": "d"}, "selectedConcepts": [{"code": "a", "system": "b", "display": "c"}]}]}]]}"#,
            "attribute \"severity\"",
        ),
    ];
    for (q, msg) in refused {
        let parsed = Query::parse(q).unwrap();
        let e = kakehashi_cohort::compile(&parsed).unwrap_err().to_string();
        assert!(
            e.contains(msg) && e.contains("inclusionCriteria[0][0]"),
            "{q}: {e}"
        );
    }
    // A code that exists nowhere at the site is reported, not silently zero.
    let ix = CohortIndex::open(
        &kakehashi_store::Store::open(site("de-berlin"))
            .current()
            .unwrap(),
    )
    .unwrap();
    let q = Query::from_value(&query(vec![vec![diag(GM, &["Z99.9"])]], vec![])).unwrap();
    let c = ix.count(&q).unwrap();
    assert_eq!(c.count, 0);
    assert!(
        c.unmapped.iter().any(|u| u.contains("Z99.9")),
        "{:?}",
        c.unmapped
    );
    // Through the binary: a broken file names the file and the element.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("q.json");
    std::fs::write(&f, r#"{"inclusionCriteria": [[{"context": {"code": "Diagnose", "system": "fdpg.mii.cds", "display": "d"}, "termCodes": [{"code": "J18", "display": "d"}]}]]}"#).unwrap();
    let out = Command::new(EXE)
        .args(["cohort", "count", "--site-dir"])
        .arg(site("de-berlin"))
        .arg("--ccdl")
        .arg(&f)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("q.json")
            && err.contains("inclusionCriteria[0][0].termCodes[0].system"),
        "{err}"
    );
    let out = Command::new(EXE)
        .args(["cohort", "count", "--format", "json", "--site-dir"])
        .arg(site("de-berlin"))
        .arg("--ccdl")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["count"].as_u64().unwrap() > 0, "{v}");
}

/// The contact level of an MII encounter (`Kontaktebene`, one of the codes of Encounter.type) as
/// an attribute filter: it matches when any of an encounter's type codes is selected, and the
/// shipped CCTB example that asks for a department contact runs.
#[test]
fn encounters_filter_on_their_contact_level() {
    let dir = tempfile::tempdir().unwrap();
    let level = |code: &str| json!({"coding": [{"system": "http://fhir.de/CodeSystem/Kontaktebene", "code": code}]});
    let kind = json!({"coding": [{"system": "http://fhir.de/CodeSystem/kontaktart-de", "code": "normalstationaer"}]});
    let enc = |id: &str, patient: &str, class: &str, types: Vec<Value>| {
        json!({"resourceType": "Encounter", "id": id, "status": "finished", "subject": {"reference": format!("Patient/{patient}")},
               "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": class}, "type": types,
               "period": {"start": "2024-03-01T08:00:00Z", "end": "2024-03-05T12:00:00Z"}})
    };
    let mut lines: Vec<Value> = ["p1", "p2", "p3", "p4"].iter().map(|p| json!({"resourceType": "Patient", "id": p, "gender": "female", "birthDate": "1970-01-01"})).collect();
    // p1: a hospital stay and, within it, a department contact; p2: a hospital stay only;
    // p3: an inpatient encounter without a contact level; p4: outpatient, at a department
    lines.push(enc("e1", "p1", "IMP", vec![level("einrichtungskontakt")]));
    lines.push(enc(
        "e2",
        "p1",
        "IMP",
        vec![kind.clone(), level("abteilungskontakt")],
    ));
    lines.push(enc(
        "e3",
        "p2",
        "IMP",
        vec![level("einrichtungskontakt"), kind],
    ));
    lines.push(enc("e4", "p3", "IMP", vec![]));
    lines.push(enc("e5", "p4", "AMB", vec![level("abteilungskontakt")]));
    let site = common::ingest_lines(dir.path(), "encounters.ndjson", &lines);
    let ix = CohortIndex::open(&kakehashi_store::Store::open(&site).current().unwrap()).unwrap();
    let counted = |class: &str, levels: &[&str]| {
        let mut c = json!({"context": ctx("Fall"), "termCodes": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": class, "display": class}]});
        if !levels.is_empty() {
            let concepts: Vec<Value> = levels.iter().map(|l| json!({"system": "http://fhir.de/CodeSystem/Kontaktebene", "code": l, "display": l})).collect();
            c["attributeFilters"] = json!([{"type": "concept", "attributeCode": {"code": "Kontaktebene", "system": "http://hl7.org/fhir/StructureDefinition", "display": "Kontaktebene"}, "selectedConcepts": concepts}]);
        }
        ix.count(&Query::from_value(&query(vec![vec![c]], vec![])).unwrap())
            .unwrap()
    };
    let at_level = |class: &str, levels: &[&str]| {
        let c = counted(class, levels);
        assert!(
            c.unmapped.is_empty(),
            "{class} {levels:?} has data here: {:?}",
            c.unmapped
        );
        c.count
    };
    // a level no encounter here records: zero, and said so
    let none = counted("IMP", &["versorgungsstellenkontakt"]);
    assert_eq!(none.count, 0);
    assert!(
        none.unmapped
            .iter()
            .any(|u| u.contains("type_codes = versorgungsstellenkontakt")),
        "{:?}",
        none.unmapped
    );
    assert_eq!(
        at_level("IMP", &[]),
        3,
        "every inpatient, with or without a level"
    );
    assert_eq!(
        at_level("IMP", &["abteilungskontakt"]),
        1,
        "p1's department contact (p4's is outpatient)"
    );
    assert_eq!(
        at_level("IMP", &["einrichtungskontakt"]),
        2,
        "p1 and p2, whatever else the type lists"
    );
    assert_eq!(
        at_level("IMP", &["einrichtungskontakt", "abteilungskontakt"]),
        2
    );
    assert_eq!(at_level("AMB", &["abteilungskontakt"]), 1);
    let q = Query::parse(
        &std::fs::read_to_string(
            shared_ccdl().join("cctb-examples/EncounterInpatientAbteilung.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        ix.count(&q).unwrap().count,
        1,
        "the shipped example: inpatient department contacts"
    );
}
