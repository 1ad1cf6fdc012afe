//! A site's catalogue file against the MIABIS Core 3 attribute rules, and its MIABIS JSON.

use kakehashi_biobank::catalogue::{Problem, ProblemKind};
use kakehashi_biobank::vocab::{MaterialType, StorageTemperature};
use kakehashi_biobank::{CatalogueError, export, parse_catalogue};

const GOOD: &str = r#"
[[biobank]]
id = "jp-jihs-bb"
acronym = "REBIND"
name = "JIHS Repository of Data and Biospecimens of Infectious Disease"
url = "https://example.invalid/rebind"
juristic_person = "Japan Institute for Health Security"
country = "JP"
description = "Infectious-disease biospecimens and data."
infrastructural_capabilities = ["SampleStorage", "Biosafety"]
quality_standards = ["ISO 20387"]
[biobank.contact]
first_name = "Hanako"
last_name = "Sato"
email = "rebind@example.invalid"
country = "JP"

[[collection]]
id = "jp-jihs-sfts"
biobank = "jp-jihs-bb"
name = "SFTS patient sera"
description = "Acute and convalescent sera of SFTS patients."
sex = ["Male", "Female"]
age_low = 18
age_high = 95
age_unit = "Years"
dataset_types = ["Clinical", "Biochemical"]
material_types = ["Serum", "Plasma"]
storage_temperatures = ["-60to-85"]
diseases = ["A93.8", "A90-A99"]
designs = ["DiseaseCohort"]
access_conditions = ["Collaboration"]
number_of_subjects = 120
number_of_samples = 640
[collection.contact]
email = "sfts@example.invalid"
"#;

fn problems(text: &str) -> Vec<Problem> {
    match parse_catalogue("catalogue.toml", text) {
        Err(CatalogueError::Invalid { problems, .. }) => problems,
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn a_good_catalogue_reads_with_its_values() {
    let c = parse_catalogue("catalogue.toml", GOOD).unwrap();
    assert_eq!(c.biobanks.len(), 1);
    let col = &c.collections[0];
    assert_eq!(
        col.material_types,
        vec![MaterialType::Serum, MaterialType::Plasma]
    );
    assert_eq!(
        col.storage_temperatures,
        vec![StorageTemperature::DeepFreezer]
    );
    assert_eq!(col.diseases[1].as_str(), "A90-A99");
    assert_eq!(c.search("sfts serum").len(), 1);
    assert_eq!(c.search("a93.8").len(), 1);
    assert_eq!(c.search("urine").len(), 0);
}

#[test]
fn json_reads_the_same() {
    let toml_cat = parse_catalogue("c.toml", GOOD).unwrap();
    let value: toml::Value = toml::from_str(GOOD).unwrap();
    let json = serde_json::to_string(&value).unwrap();
    assert_eq!(parse_catalogue("c.json", &json).unwrap(), toml_cat);
}

#[test]
fn unknown_material_type_names_entry_line_and_field() {
    let text = GOOD.replace(r#"["Serum", "Plasma"]"#, r#"["Serum", "Blut"]"#);
    let p = problems(&text);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].entry, r#"collection "jp-jihs-sfts""#);
    assert_eq!(p[0].field, "material_types[1]");
    assert_eq!(p[0].attribute, "MIABIS-COLLECTION-14");
    let line = GOOD
        .lines()
        .position(|l| l.contains(r#"id = "jp-jihs-sfts""#))
        .unwrap()
        + 1;
    assert_eq!(p[0].line, Some(line));
    assert!(matches!(&p[0].kind, ProblemKind::UnknownValue { value, .. } if value == "Blut"));
    let msg = p[0].to_string();
    assert!(
        msg.contains("unknown material type \"Blut\"") && msg.contains("Serum"),
        "{msg}"
    );
}

#[test]
fn invalid_icd10_is_refused() {
    let p = problems(&GOOD.replace(r#""A93.8""#, r#""SFTS""#));
    assert_eq!(
        (p[0].field.as_str(), p[0].attribute),
        ("diseases[0]", "MIABIS-COLLECTION-16")
    );
    assert!(p[0].to_string().contains("\"SFTS\" is not an ICD-10 code"));
}

#[test]
fn missing_contact_is_refused() {
    let text = GOOD.replace(
        "[collection.contact]\nemail = \"sfts@example.invalid\"\n",
        "",
    );
    let p = problems(&text);
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].field.as_str(), p[0].attribute),
        ("contact", "MIABIS-COLLECTION-05")
    );
    assert_eq!(p[0].kind, ProblemKind::Missing);
    let p = problems(&GOOD.replace("email = \"rebind@example.invalid\"", "email = \"rebind\""));
    assert_eq!(p[0].field, "contact.email");
    assert_eq!(p[0].entry, r#"biobank "jp-jihs-bb""#);
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = GOOD
        .replace(
            "country = \"JP\"\ndescription",
            "country = \"Japan\"\ndescription",
        )
        .replace("age_low = 18", "age_low = 99")
        .replace("biobank = \"jp-jihs-bb\"", "biobank = \"nope\"")
        .replace(
            "storage_temperatures = [\"-60to-85\"]",
            "storage_temperatures = [\"-80\"]",
        )
        .replace("sex = [\"Male\", \"Female\"]\n", "");
    let p = problems(&text);
    let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "country",
            "biobank",
            "sex",
            "age_low",
            "storage_temperatures[0]"
        ],
        "{p:#?}"
    );
    let e = parse_catalogue("site/catalogue.toml", &text)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("site/catalogue.toml: 5 problem(s):"), "{e}");
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    let e = parse_catalogue("x.toml", "[[collection]]\nid = \n").unwrap_err();
    assert!(
        matches!(&e, CatalogueError::Syntax { file, message } if file == "x.toml" && message.contains("line 2")),
        "{e}"
    );
    let e = parse_catalogue("x.toml", "[[collection]]\ncolour = \"red\"\n").unwrap_err();
    assert!(e.to_string().contains("colour"), "{e}");
}

#[test]
fn miabis_json_uses_attribute_names_and_labels() {
    let c = parse_catalogue("c.toml", GOOD).unwrap();
    let j: serde_json::Value = serde_json::from_str(&export::miabis_json(&c)).unwrap();
    assert_eq!(j["standard"], "MIABIS Core 3.0");
    assert_eq!(
        j["biobanks"][0]["juristicPerson"],
        "Japan Institute for Health Security"
    );
    assert_eq!(
        j["biobanks"][0]["qualityManagementStandards"][0],
        "ISO 20387"
    );
    let col = &j["collections"][0];
    assert_eq!(col["sampleType"], serde_json::json!(["Serum", "Plasma"]));
    assert_eq!(col["storageTemperature"][0], "-60 °C to -85 °C");
    assert_eq!(
        col["disease"][0],
        serde_json::json!({"ontology": "ICD", "version": "ICD-10", "code": "A93.8"})
    );
    assert_eq!(col["ageLow"], 18);
    assert_eq!(col["totalNumberOfSubjects"], 120);
}
