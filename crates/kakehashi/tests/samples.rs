//! The sample locator: MII KDS Specimens (nobody here wrote them) read into the site store as
//! the bundles say; specimens shaped as the MII module Biobank's examples (storage processes,
//! aliquot groups) read with their storage range and aliquot counts; and the `samples` task
//! through a real hub and agents on loopback: per catalogue collection and material, exact
//! where a site publishes exact counts, nothing below a site's minimum, and a repeated
//! question answered the same.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::net::{Net, site};
use kakehashi_biobank::vocab::{MaterialType, StorageTemperature};
use kakehashi_engine::samples::{SpecimenRecord, read_specimens};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");
const MII_BB: &str =
    "https://www.medizininformatik-initiative.de/fhir/ext/modul-biobank/StructureDefinition/";
const SCT: &str = "http://snomed.info/sct";
const GM: &str = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";

fn kds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/fhir-samples/mii-kds-testdata/resources")
}

fn specimens_of(site: &Path) -> Vec<SpecimenRecord> {
    let snap = kakehashi_store::Store::open(site).current().unwrap();
    read_specimens(&snap, None).unwrap()
}

/// A Specimen as read from the bundle JSON: (id, patient, type codes, UTC day, managing
/// organisation).
type KdsSpecimen = (
    String,
    String,
    Vec<String>,
    Option<NaiveDate>,
    Option<String>,
);

/// The KDS bundles' available Specimens, read as JSON here.
fn kds_specimens() -> Vec<KdsSpecimen> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(kds_dir()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        if !(name.starts_with("Bundle-") && name.ends_with(".json")) {
            continue;
        }
        let b: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        for entry in b["entry"].as_array().unwrap() {
            let r = &entry["resource"];
            if r["resourceType"] != "Specimen"
                || r["status"].as_str().is_some_and(|s| s != "available")
            {
                continue;
            }
            let codes = r["type"]["coding"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| c["code"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let day = r["collection"]["collectedDateTime"].as_str().map(|t| {
                match DateTime::parse_from_rfc3339(t) {
                    Ok(d) => d.with_timezone(&Utc).date_naive(),
                    // a date alone
                    Err(_) => NaiveDate::parse_from_str(t, "%Y-%m-%d").unwrap(),
                }
            });
            let org = r["extension"].as_array().and_then(|xs| {
                xs.iter()
                    .find(|x| x["url"] == format!("{MII_BB}VerwaltendeOrganisation"))
                    .and_then(|x| x["valueReference"]["reference"].as_str())
                    .map(|s| s.trim_start_matches("Organization/").to_owned())
            });
            let patient = r["subject"]["reference"]
                .as_str()
                .unwrap()
                .trim_start_matches("Patient/")
                .to_owned();
            out.push((
                r["id"].as_str().unwrap().to_owned(),
                patient,
                codes,
                day,
                org,
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn mii_kds_specimens_read_as_the_bundles_say() {
    let dir = common::process_dir("kh-samples-kds");
    let site = dir.join("site");
    let mut bundles: Vec<PathBuf> = std::fs::read_dir(kds_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("Bundle-")
        })
        .collect();
    bundles.sort();
    let out = Command::new(EXE)
        .args(["ingest", "--site-dir"])
        .arg(&site)
        .args(&bundles)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let want = kds_specimens();
    let got = specimens_of(&site);
    assert!(want.len() >= 20, "{} specimens in the bundles", want.len());
    assert_eq!(got.len(), want.len());
    for (id, patient, codes, day, org) in &want {
        let g = got
            .iter()
            .find(|g| &g.id == id)
            .unwrap_or_else(|| panic!("{id} not read"));
        assert_eq!(&g.patient, patient, "{id}");
        assert_eq!(g.collected, *day, "{id}");
        assert_eq!(&g.organisation, org, "{id}");
        let expect = if codes.iter().any(|c| c == "119364003") {
            Some(MaterialType::Serum)
        } else if codes
            .iter()
            .any(|c| ["445295009", "122555007"].contains(&c.as_str()))
        {
            Some(MaterialType::Blood)
        } else {
            None
        };
        if expect.is_some() {
            assert_eq!(g.material, expect, "{id}: {codes:?}");
        }
        assert_eq!(g.aliquots, 1, "{id}");
    }
    let sera = got
        .iter()
        .filter(|g| g.material == Some(MaterialType::Serum))
        .count();
    assert_eq!(
        sera,
        want.iter()
            .filter(|w| w.2.iter().any(|c| c == "119364003"))
            .count()
    );
    assert!(sera >= 8);
}

fn temperature(low: f64, high: f64) -> Value {
    let q = |v: f64| json!({"value": v, "unit": "°C", "system": "http://unitsofmeasure.org", "code": "Cel"});
    json!({"url": format!("{MII_BB}Temperaturbedingungen"), "valueRange": {"low": q(low), "high": q(high)}})
}

fn storage_step(low: f64, high: f64, start: &str) -> Value {
    json!({
        "extension": [temperature(low, high)],
        "procedure": {"coding": [{"system": SCT, "code": "1186936003", "display": "Storage of specimen (procedure)"}]},
        "timePeriod": {"start": start}
    })
}

/// A specimen as the MII module's examples write one.
fn specimen(
    id: &str,
    patient: &str,
    sct: &str,
    day: &str,
    org: &str,
    storage: (f64, f64),
) -> Value {
    json!({
        "resourceType": "Specimen",
        "id": id,
        "meta": {"profile": ["https://www.medizininformatik-initiative.de/fhir/ext/modul-biobank/StructureDefinition/Specimen"]},
        "extension": [{"url": format!("{MII_BB}VerwaltendeOrganisation"), "valueReference": {"reference": format!("Organization/{org}")}}],
        "status": "available",
        "type": {"coding": [{"system": SCT, "code": sct}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "collection": {"collectedDateTime": format!("{day}T08:00:00+02:00")},
        "processing": [
            storage_step(15.0, 25.0, &format!("{day}T09:00:00+02:00")),
            storage_step(storage.0, storage.1, &format!("{day}T10:00:00+02:00")),
        ],
        "container": [{"type": {"coding": [{"system": SCT, "code": "83059008"}]}, "specimenQuantity": {"value": 0.5, "unit": "ml"}}]
    })
}

#[test]
fn mii_module_aliquot_groups_keep_storage_and_counts() {
    let dir = common::process_dir("kh-samples-module");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut primary = specimen(
        "primary",
        "p1",
        "119297000",
        "2025-06-03",
        "de-a-sera",
        (15.0, 25.0),
    );
    primary["processing"] = json!([storage_step(15.0, 25.0, "2025-06-03T09:00:00+02:00")]);
    // no container: the collected quantity is the volume
    primary.as_object_mut().unwrap().remove("container");
    primary["collection"]["quantity"] =
        json!({"value": 9, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"});
    let mut plasma = specimen(
        "plasma-group",
        "p1",
        "119361006",
        "2025-06-03",
        "de-a-sera",
        (-85.0, -75.0),
    );
    plasma["parent"] = json!([{"reference": "Specimen/primary"}]);
    plasma["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({"url": format!("{MII_BB}AnzahlAliqouts"), "valueInteger": 4}));
    let mut buffy = specimen(
        "buffy-group",
        "p1",
        "258587000",
        "2025-06-03",
        "de-a-sera",
        (-196.0, -150.0),
    );
    buffy["parent"] = json!([{"reference": "Specimen/primary"}]);
    buffy["container"][0]["specimenQuantity"] =
        json!({"value": 300, "unit": "µL", "system": "http://unitsofmeasure.org", "code": "uL"});
    let site = common::ingest_lines(
        &dir,
        "module.ndjson",
        &[
            json!({"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-01-01"}),
            primary,
            plasma,
            buffy,
        ],
    );
    let got = specimens_of(&site);
    let by = |id: &str| got.iter().find(|g| g.id == id).unwrap().clone();
    assert_eq!(
        by("primary").storage,
        Some(StorageTemperature::RoomTemperature)
    );
    // volumes per aliquot in µL: the container's specimenQuantity, else the collected quantity
    assert_eq!(by("primary").volume_ul, Some(9000));
    assert_eq!(by("plasma-group").volume_ul, Some(500));
    assert_eq!(by("buffy-group").volume_ul, Some(300));
    let p = by("plasma-group");
    assert_eq!(
        (p.material, p.storage, p.aliquots, p.parent.as_deref()),
        (
            Some(MaterialType::Plasma),
            Some(StorageTemperature::DeepFreezer),
            4,
            Some("primary")
        )
    );
    let b = by("buffy-group");
    assert_eq!(
        (b.material, b.storage, b.aliquots),
        (
            Some(MaterialType::BuffyCoat),
            Some(StorageTemperature::Below135),
            1
        )
    );
    // the primary sample counts as its aliquots: 4 plasma + 1 buffy coat, no blood
    let cells = kakehashi_engine::samples::count(
        &got,
        None,
        &Default::default(),
        &["de-a-sera".to_string()],
        kakehashi_engine::samples::Caps {
            cells: 2,
            samples: 5,
        },
    );
    let found: Vec<(&str, u64)> = cells
        .iter()
        .map(|c| (c.material.as_str(), c.samples))
        .collect();
    assert_eq!(found, [("BuffyCoat", 1), ("Plasma", 4)]);
}

// ---- the locator through a hub and two agents

const SFTS: &str = "A93.8";
const PCR: &str = "94500-6";

/// A SARS-CoV-2 RT-PCR with its result written one of the ways labs write it: coded in LOINC
/// (94500-6) at a German site, in JLAC10 only (5F625145006387511) at a Japanese one.
fn pcr(id: &str, patient: &str, day: &str, result: &str) -> Value {
    let coding = if id.starts_with("jp-") {
        json!({"system": "urn:oid:1.2.392.200119.4.504", "code": "5F625145006387511"})
    } else {
        json!({"system": "http://loinc.org", "code": PCR})
    };
    let mut o = json!({"resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [coding]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": format!("{day}T08:00:00+02:00")});
    match result {
        "detected" => {
            o["valueCodeableConcept"] = json!({"coding": [{"system": SCT, "code": "260373001"}]})
        }
        "not detected" => {
            o["valueCodeableConcept"] = json!({"coding": [{"system": SCT, "code": "260415000"}]})
        }
        "POS" => {
            o["interpretation"] = json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "POS"}]}])
        }
        text => o["valueString"] = json!(text),
    }
    o
}

fn patient(id: &str) -> Value {
    json!({"resourceType": "Patient", "id": id, "gender": "male", "birthDate": "1960-05-05"})
}

fn diagnosis(id: &str, patient: &str, code: &str, day: &str) -> Value {
    json!({"resourceType": "Condition", "id": id, "subject": {"reference": format!("Patient/{patient}")},
        "code": {"coding": [{"system": GM, "code": code}]}, "onsetDateTime": day, "recordedDate": day})
}

const CATALOGUE: &str = r#"
[[biobank]]
id = "BB"
name = "Site biobank"
juristic_person = "University Hospital"
country = "CC"
description = "Samples of the site's patients."
[biobank.contact]
email = "biobank@example.invalid"

[[collection]]
id = "SERA"
biobank = "BB"
name = "Infectious disease sera"
description = "Acute and convalescent sera."
sex = ["Male", "Female"]
dataset_types = ["Clinical"]
material_types = ["Serum", "Plasma"]
storage_temperatures = ["-60to-85"]
diseases = ["A93.8"]
[collection.contact]
email = "sera@example.invalid"
"#;

/// A site with six SFTS patients holding 1, 2, 3, 1, 2, 3 sera in the site's collection (twelve
/// sera in all, one a month after the diagnosis), two of them plasma too, one more SFTS
/// patient with sera in a collection the catalogue does not list, and a patient without SFTS
/// whose serum must not count. RT-PCRs: p0, p1 and p5 positive on the day of the diagnosis
/// (three ways of writing it), p2 too but with sera of 0.25 mL, p3 negative, p4 positive only
/// five weeks after its sera.
fn locator_site(root: &Path, id: &str) -> PathBuf {
    let dir = root.join(id);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let coll = format!("{id}-sera");
    let mut lines = Vec::new();
    for i in 0..8 {
        let p = format!("{id}-p{i}");
        lines.push(patient(&p));
        if i < 7 {
            lines.push(diagnosis(&format!("{p}-sfts"), &p, SFTS, "2025-06-01"));
        }
    }
    for (i, day, result) in [
        (0, "2025-06-01", "detected"),
        (1, "2025-06-01", "POS"),
        (2, "2025-06-01", "detected"),
        (3, "2025-06-01", "not detected"),
        (4, "2025-07-10", "detected"),
        (5, "2025-06-01", "positive"),
    ] {
        let p = format!("{id}-p{i}");
        lines.push(pcr(&format!("{p}-pcr"), &p, day, result));
    }
    for i in 0..6 {
        let p = format!("{id}-p{i}");
        for k in 0..(i % 3) + 1 {
            let mut serum = specimen(
                &format!("{p}-s{k}"),
                &p,
                "119364003",
                &format!("2025-06-0{}", k + 2),
                &coll,
                (-85.0, -75.0),
            );
            if i == 2 {
                serum["container"][0]["specimenQuantity"] = json!({"value": 0.25, "unit": "mL"});
            }
            lines.push(serum);
        }
        if i < 2 {
            lines.push(specimen(
                &format!("{p}-pl"),
                &p,
                "119361006",
                "2025-06-02",
                &coll,
                (-85.0, -75.0),
            ));
        }
    }
    // a serum a month later: outside the window of 30 days
    lines.push(specimen(
        &format!("{id}-p0-late"),
        &format!("{id}-p0"),
        "119364003",
        "2025-07-15",
        &coll,
        (-85.0, -75.0),
    ));
    for k in 0..3 {
        lines.push(specimen(
            &format!("{id}-p6-s{k}"),
            &format!("{id}-p6"),
            "119364003",
            "2025-06-05",
            "elsewhere",
            (-85.0, -75.0),
        ));
    }
    lines.push(specimen(
        &format!("{id}-p7-s"),
        &format!("{id}-p7"),
        "119364003",
        "2025-06-05",
        &coll,
        (-85.0, -75.0),
    ));
    let site = common::ingest_lines(&dir, "fhir.ndjson", &lines);
    let country = if id.starts_with("de-") { "DE" } else { "JP" };
    std::fs::write(
        site.join("catalogue.toml"),
        CATALOGUE
            .replace("\"BB\"", &format!("\"{id}-bb\""))
            .replace("\"SERA\"", &format!("\"{coll}\""))
            .replace("\"CC\"", &format!("\"{country}\"")),
    )
    .unwrap();
    site
}

/// The same locator question finds a test coded in JLAC10 at a Japanese site when asked by its
/// LOINC code, and the other way round.
#[test]
fn a_positive_test_anchor_finds_the_test_in_either_code_system() {
    use kakehashi_biobank::SpecimenCriteria;
    let root = common::process_dir("kh-samples-jlac10");
    let jp = locator_site(&root, "jp-c");
    let snap = kakehashi_store::Store::open(&jp).current().unwrap();
    let cohort: Vec<String> = (0..8).map(|i| format!("jp-c-p{i}")).collect();
    let caps = kakehashi_engine::samples::Caps {
        cells: 2,
        samples: 5,
    };
    for (system, code) in [
        ("http://loinc.org", PCR),
        ("urn:oid:1.2.392.200119.4.504", "5F625145006387511"),
    ] {
        let c: SpecimenCriteria = serde_json::from_value(json!({"material_types": ["Serum"],
            "window": {"positive_test": {"system": system, "code": code}, "days_before": 0, "days_after": 30},
            "min_volume_ul": 400}))
        .unwrap();
        let cells = kakehashi_engine::samples::site_samples(
            &snap,
            &cohort,
            &c.checked().unwrap(),
            &["jp-c-sera".to_string()],
            caps,
        )
        .unwrap();
        let found: Vec<(&str, u64, u64)> = cells
            .iter()
            .map(|c| (c.collection.as_str(), c.donors, c.samples))
            .collect();
        assert_eq!(found, [("jp-c-sera", 3, 6)], "{system}");
    }
}

fn question() -> Value {
    json!({
        "type": "samples",
        "ccdl": {"version": "2", "inclusionCriteria": [[{"context": {"code": "Diagnose", "system": "fdpg.mii.cds", "display": "Diagnose"},
            "termCodes": [{"code": SFTS, "system": GM, "display": "SFTS"}]}]]},
        "specimen": {"material_types": ["Serum", "Plasma"], "storage_temperatures": ["-60to-85"],
            "window": {"icd10": SFTS, "days_before": 0, "days_after": 30}}
    })
}

fn cell<'a>(s: &'a Value, collection: &str, material: &str) -> &'a Value {
    s["table"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == json!([collection, material]))
        .map(|r| &r["values"])
        .unwrap_or_else(|| panic!("no row {collection}/{material} in {s}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_locator_answers_per_collection_through_the_gate() {
    let root = common::process_dir("kh-samples-net");
    let de = locator_site(&root, "de-a");
    let jp = locator_site(&root, "jp-b");
    let mut net = Net::start(&[]).await;
    net.start_site_at(
        "de-a",
        &de,
        "projects = [\"*\"]\nmin_count = 3\nrounding = 1\nnoise = \"off\"",
    )
    .await;
    net.start_site_at(
        "jp-b",
        &jp,
        "projects = [\"*\"]\nmin_count = 3\nrounding = 1\nepsilon = 1.0",
    )
    .await;
    net.wait_online(2).await;

    let m = net.ask("alice", question()).await;
    let exact = site(&m, "de-a");
    assert_eq!(exact["state"], "answered", "{exact}");
    assert_eq!(exact["table"]["disclosure"]["noise"], "off");
    // six donors, 1+2+3+1+2+3 sera within the window (the late one and the non-SFTS patient's
    // left out); plasma: two donors, below the minimum of three
    assert_eq!(cell(exact, "de-a-sera", "Serum"), &json!([6, 12]));
    assert_eq!(
        cell(exact, "de-a-sera", "Plasma"),
        &json!([{"below": 3}, {"below": 3}])
    );
    // one donor in a collection the catalogue does not list: under "-", withheld
    assert_eq!(cell(exact, "-", "Serum"), &json!([{"below": 3}, 3]));
    // only the catalogue's collections and the materials asked become keys
    for r in exact["table"]["rows"].as_array().unwrap() {
        assert!(
            ["de-a-sera", "-"].contains(&r["key"][0].as_str().unwrap()),
            "{r}"
        );
        assert!(
            ["Serum", "Plasma"].contains(&r["key"][1].as_str().unwrap()),
            "{r}"
        );
    }

    let noisy = site(&m, "jp-b");
    assert_eq!(noisy["state"], "answered", "{noisy}");
    assert_eq!(noisy["table"]["disclosure"]["sensitivity"], 12);
    for r in noisy["table"]["rows"].as_array().unwrap() {
        for v in r["values"].as_array().unwrap() {
            // a released value is never below the site's minimum
            assert!(v.get("below").is_some() || v.as_u64().unwrap() >= 3, "{r}");
        }
    }

    // the same question again: the same answer, and nothing spent
    let again = net.ask("alice", question()).await;
    for sid in ["de-a", "jp-b"] {
        let (a, b) = (site(&m, sid), site(&again, sid));
        assert_eq!(a["table"]["rows"], b["table"]["rows"], "{sid}");
        assert_eq!(b["table"]["disclosure"]["repeated"], true, "{sid}");
    }
    // anchored at the first positive RT-PCR instead, sera of at least 0.4 mL: p0 (1), p1 (2)
    // and p5 (3); not p2 (0.25 mL), p3 (negative), p4 (positive after its sera)
    let mut pcr_question = question();
    pcr_question["specimen"] = json!({"material_types": ["Serum"],
        "window": {"positive_test": {"system": "http://loinc.org", "code": PCR}, "days_before": 0, "days_after": 30},
        "min_volume_ul": 400});
    let m2 = net.ask("alice", pcr_question.clone()).await;
    assert_eq!(
        cell(site(&m2, "de-a"), "de-a-sera", "Serum"),
        &json!([3, 6])
    );
    // no volume minimum: p2's three sera count too
    pcr_question["specimen"]["min_volume_ul"] = json!(0);
    let m3 = net.ask("alice", pcr_question).await;
    assert_eq!(
        cell(site(&m3, "de-a"), "de-a-sera", "Serum"),
        &json!([4, 9])
    );

    // the agents logged both answers
    for sid in ["de-a", "jp-b"] {
        let log = std::fs::read_to_string(
            net.dir
                .path()
                .join("agents")
                .join(sid)
                .join("state")
                .join("audit")
                .join("audit.log"),
        )
        .unwrap();
        assert!(log.matches("\"samples\"").count() >= 2, "{sid}: {log}");
    }
}
