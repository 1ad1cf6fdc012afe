//! Synthetic German and Japanese sites answer MII CCDL on procedures, medications, contact
//! levels and background diagnoses, through the binary: `synth` → `ingest` → `cohort count`, each count checked
//! against the same question asked of the site's tables in SQL (`kakehashi sql`).

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");
const ICD: &str = "('http://fhir.de/CodeSystem/bfarm/icd-10-gm','http://fhir.de/CodeSystem/dimdi/icd-10-gm','http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10','http://hl7.org/fhir/sid/icd-10')";
const OPS: &str = "http://fhir.de/CodeSystem/bfarm/ops";
const ATC: &str = "http://fhir.de/CodeSystem/bfarm/atc";

fn run(args: &[&str]) -> String {
    let out = Command::new(EXE).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "kakehashi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn count(site: &str, ccdl: &Path) -> u64 {
    let v: Value = serde_json::from_str(&run(&[
        "cohort",
        "count",
        "--site-dir",
        site,
        "--ccdl",
        ccdl.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    v["count"].as_u64().unwrap_or_else(|| panic!("{v}"))
}

fn sql_n(site: &str, sql: &str) -> u64 {
    let v: Value =
        serde_json::from_str(&run(&["sql", "--site-dir", site, "--format", "json", sql])).unwrap();
    v[0]["n"].as_u64().unwrap_or_else(|| panic!("{sql}: {v}"))
}

fn criterion(context: &str, system: &str, code: &str) -> Value {
    json!({"version": "http://to_be_decided.com/draft-1/schema#", "display": "synth",
           "inclusionCriteria": [[{"context": {"code": context, "display": context, "system": "fdpg.mii.cds", "version": "1.0.0"},
                                   "termCodes": [{"code": code, "display": code, "system": system}]}]]})
}

fn shared_ccdl(name: &str) -> PathBuf {
    // the shared reference data sit beside the repository (`../shared`)
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ccdl/cctb-examples")
        .join(name)
}

#[test]
fn procedures_medications_contact_levels_and_background_diagnoses_count_as_in_sql() {
    let tmp = tempfile::tempdir().unwrap();
    let fhir = tmp.path().join("fhir");
    let site = tmp.path().join("site");
    let site_s = site.to_str().unwrap();
    run(&[
        "synth",
        "--profile",
        "de-berlin",
        "--patients",
        "5000",
        "--catchment",
        "0",
        "--seed",
        "9",
        "--out",
        fhir.to_str().unwrap(),
    ]);
    let summary: Value = serde_json::from_str(&run(&[
        "ingest",
        "--json",
        "--site-dir",
        site_s,
        fhir.to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(summary["rejected"], 0, "{summary}");

    // the standard views carry procedures, medications and contact levels
    for (what, sql) in [
        ("ventilation procedures", format!("SELECT COUNT(*) AS n FROM procedure WHERE code_system = '{OPS}' AND code = '8-701'")),
        ("medications with an ATC code", "SELECT COUNT(*) AS n FROM medication WHERE code_system = 'http://fhir.de/CodeSystem/bfarm/atc'".to_string()),
        ("administrations resolved to an ATC code", "SELECT COUNT(*) AS n FROM medication_administration a JOIN medication m ON a.medication_id = m.id WHERE m.code = 'J01CR05'".to_string()),
        ("prescriptions", "SELECT COUNT(*) AS n FROM medication_request WHERE medication_id IS NOT NULL".to_string()),
        ("long-term medication", "SELECT COUNT(*) AS n FROM medication_statement WHERE medication_id IS NOT NULL".to_string()),
        ("department contacts", "SELECT COUNT(*) AS n FROM encounter WHERE array_has(type_codes, 'abteilungskontakt')".to_string()),
    ] {
        assert!(sql_n(site_s, &sql) > 0, "no {what} after ingest");
    }

    // a procedure: intubation for ventilation (OPS 8-701)
    let q = tmp.path().join("ventilation.json");
    std::fs::write(&q, criterion("Prozedur", OPS, "8-701").to_string()).unwrap();
    let n = count(site_s, &q);
    let expected = sql_n(
        site_s,
        &format!(
            "SELECT COUNT(DISTINCT patient_id) AS n FROM procedure WHERE code_system = '{OPS}' AND (code = '8-701' OR code LIKE '8-701.%')"
        ),
    );
    assert!(n > 0, "ventilated patients");
    assert_eq!(n, expected, "ventilation (OPS 8-701)");

    // a contact level: the MII example query, inpatient department contacts
    let n = count(site_s, &shared_ccdl("EncounterInpatientAbteilung.json"));
    let expected = sql_n(
        site_s,
        "SELECT COUNT(DISTINCT patient_id) AS n FROM encounter WHERE class_code = 'IMP' AND array_has(type_codes, 'abteilungskontakt')",
    );
    assert!(n > 0, "inpatient department contacts");
    assert_eq!(n, expected, "EncounterInpatientAbteilung.json");

    // medications, the MII way: the ATC code sits on the Medication resource each
    // administration, request and statement references; per context the site's most frequent
    // drug, counted by CCDL and by the same join in SQL
    for (context, view) in [
        ("Medikamentenverabreichung", "medication_administration"),
        ("Medikamentenanordnung", "medication_request"),
        ("Medikamentenverordnung", "medication_statement"),
    ] {
        let top: Value = serde_json::from_str(&run(&[
            "sql",
            "--site-dir",
            site_s,
            "--format",
            "json",
            &format!(
                "SELECT m.code AS code, COUNT(DISTINCT x.patient_id) AS n FROM {view} x JOIN medication m ON x.medication_id = m.id WHERE m.code_system = '{ATC}' GROUP BY m.code ORDER BY n DESC, m.code LIMIT 1"
            ),
        ]))
        .unwrap();
        let atc = top[0]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("{view}: {top}"));
        let q = tmp.path().join(format!("{view}.json"));
        std::fs::write(&q, criterion(context, ATC, atc).to_string()).unwrap();
        let n = count(site_s, &q);
        println!("{context} {atc}: {n} patients by CCDL");
        assert!(n > 0, "{context} {atc}");
        assert_eq!(n, top[0]["n"].as_u64().unwrap(), "{context} {atc}");
    }
    let q = tmp.path().join("oseltamivir.json");
    std::fs::write(
        &q,
        criterion("Medikamentenverabreichung", ATC, "J05AH02").to_string(),
    )
    .unwrap();
    let expected = sql_n(
        site_s,
        &format!(
            "SELECT COUNT(DISTINCT a.patient_id) AS n FROM medication_administration a JOIN medication m ON a.medication_id = m.id WHERE m.code_system = '{ATC}' AND m.code = 'J05AH02'"
        ),
    );
    assert!(expected > 0, "oseltamivir given");
    assert_eq!(count(site_s, &q), expected, "oseltamivir (J05AH02)");

    // background diagnoses: chronic kidney disease stage 3, atrial fibrillation (paroxysmal)
    for code in ["N18.3", "I48.0", "C61"] {
        let q = tmp.path().join(format!("{code}.json"));
        std::fs::write(
            &q,
            criterion(
                "Diagnose",
                "http://fhir.de/CodeSystem/bfarm/icd-10-gm",
                code,
            )
            .to_string(),
        )
        .unwrap();
        let n = count(site_s, &q);
        let expected = sql_n(
            site_s,
            &format!(
                "SELECT COUNT(DISTINCT patient_id) AS n FROM condition WHERE code_system IN {ICD} AND (code = '{code}' OR code LIKE '{code}%')"
            ),
        );
        assert!(n > 0, "patients with {code}");
        assert_eq!(n, expected, "diagnosis {code}");
    }
}

/// The system of the Japanese fee schedule's section numbers (区分番号) the synthetic Japanese
/// sites write, as `crates/synth/data/care.toml` declares it.
fn jp_procedure_system() -> String {
    let care = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../synth/data/care.toml"),
    )
    .unwrap();
    care.lines()
        .find_map(|l| l.strip_prefix("jp_procedure_system = "))
        .map(|v| v.trim_matches('"').to_owned())
        .expect("care.toml names the Japanese procedure system")
}

/// A synthetic Japanese site answers CCDL on its procedures by their 区分番号 (J045 人工呼吸,
/// J038 人工腎臓, J044 救命のための気管内挿管), each count equal to the same question in SQL, and
/// the German OPS code of the same procedure finds no one there.
#[test]
fn japanese_procedure_codes_count_as_in_sql() {
    let tmp = tempfile::tempdir().unwrap();
    let fhir = tmp.path().join("fhir");
    let site = tmp.path().join("site");
    let site_s = site.to_str().unwrap();
    run(&[
        "synth",
        "--profile",
        "jp-osaka",
        "--patients",
        "3000",
        "--catchment",
        "1",
        "--seed",
        "5",
        "--out",
        fhir.to_str().unwrap(),
    ]);
    run(&["ingest", "--site-dir", site_s, fhir.to_str().unwrap()]);
    let jp = jp_procedure_system();
    for code in ["J045", "J038", "J044"] {
        let q = tmp.path().join(format!("{code}.json"));
        std::fs::write(&q, criterion("Procedure", &jp, code).to_string()).unwrap();
        let n = count(site_s, &q);
        let expected = sql_n(
            site_s,
            &format!(
                "SELECT COUNT(DISTINCT patient_id) AS n FROM procedure WHERE code_system = '{jp}' AND code = '{code}'"
            ),
        );
        assert!(n > 0, "patients with {code}");
        assert_eq!(n, expected, "procedure {code}");
    }
    let q = tmp.path().join("ops.json");
    std::fs::write(&q, criterion("Prozedur", OPS, "8-701").to_string()).unwrap();
    assert_eq!(count(site_s, &q), 0, "OPS codes at a Japanese site");
}
