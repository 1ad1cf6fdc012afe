//! The FHIR export: each form a Questionnaire with FHIR item types, choices as codings and
//! branching as the SDC expression; each saved instance a QuestionnaireResponse with typed
//! answers, checkboxes as repeated codings and missing-data codes as NullFlavor.

use chrono::{TimeZone, Utc};
use kakehashi_edc::entry::{Actor, FormData, FormStatus, MissingCode};
use kakehashi_edc::study::{FormRights, Site};
use kakehashi_edc::{Study, dictionary, fhir_qr};
use serde_json::{Value, json};

fn study() -> Study {
    let csv = format!(
        "{}\n{}\n",
        dictionary::COLUMNS.map(|c| format!("\"{c}\"")).join(","),
        [
            "record_id,adm,,text,Record ID,,,,,,,,,,,,,",
            "age,adm,,text,Age,,,integer,0,120,,,,,,,,",
            "onset,adm,,text,Onset,,,date_ymd,,,,,,,,,,",
            "fever,adm,,yesno,Fever,,,,,,,,,,,,,",
            "tmax,adm,,text,Highest temperature,,,number,30,45,,[fever] = '1',,,,,,",
            "sympt,adm,,checkbox,Symptoms,\"1, Headache | 2, Myalgia | 3, Bleeding\",,,,,,,,,,,,",
            "outcome,adm,,radio,Outcome,\"1, Discharged | 2, Died\",,,,,,,,,,,,",
            "notes,adm,,notes,Notes,,,,,,,,,,,,,",
        ]
        .join("\n")
    );
    let mut s = Study::from_dictionary(
        "reg",
        "Registry",
        dictionary::read_csv("d.csv", &csv).unwrap(),
    );
    s.sites = vec![Site {
        dag: "de_berlin".into(),
        name: "Berlin".into(),
        country: "DE".into(),
    }];
    s
}

#[test]
fn forms_and_instances_become_questionnaires_and_responses() {
    let s = study();
    let actor = Actor {
        user: "ana".into(),
        full_name: "Ana".into(),
        site: "de_berlin".into(),
        all_sites: false,
        open_queries: false,
        rights: FormRights {
            view: true,
            edit: true,
            ..FormRights::default()
        },
    };
    let event = s.events().next().unwrap().unique_name.clone();
    let record = "ab".repeat(32);
    let mut d = FormData::new(&record, "de_berlin", &event, "adm", 1);
    let changes: Vec<(String, String)> = [
        ("age", "42"),
        ("onset", "2026-06-01"),
        ("fever", "1"),
        ("tmax", "39.5"),
        ("sympt___1", "1"),
        ("sympt___3", "1"),
        ("outcome", "UNK"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let at = Utc.with_ymd_and_hms(2026, 6, 3, 9, 0, 0).unwrap();
    d.save(
        &actor,
        &s.fields,
        &MissingCode::ALL,
        &changes,
        FormStatus::Complete,
        None,
        at,
    )
    .unwrap();
    let b = fhir_qr::bundle("https://hub.example", &s, &[d], "2026-12-07T12:00:00Z");
    let v: Value = serde_json::to_value(&b).unwrap();
    assert_eq!(
        (v["resourceType"].as_str(), v["type"].as_str()),
        (Some("Bundle"), Some("collection"))
    );
    let q = &v["entry"][0]["resource"];
    assert_eq!(q["resourceType"], "Questionnaire");
    assert_eq!(q["url"], "https://hub.example/fhir/Questionnaire/reg-adm");
    let item = |id: &str| -> Value {
        q["item"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["linkId"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(item("age")["type"], "integer");
    assert_eq!(item("onset")["type"], "date");
    assert_eq!(item("fever")["type"], "boolean");
    assert_eq!(item("notes")["type"], "text");
    assert_eq!(item("sympt")["repeats"], true);
    assert_eq!(
        item("outcome")["answerOption"][1]["valueCoding"]["display"],
        "Died"
    );
    assert_eq!(
        item("tmax")["extension"][0]["valueExpression"],
        json!({"language": "text/x-redcap-logic", "expression": "[fever] = '1'"})
    );
    let r = &v["entry"][1]["resource"];
    assert_eq!(
        (r["resourceType"].as_str(), r["status"].as_str()),
        (Some("QuestionnaireResponse"), Some("completed"))
    );
    assert_eq!(r["subject"]["identifier"]["value"], record.as_str());
    assert!(r["id"].as_str().unwrap().len() <= 64, "a FHIR id");
    assert_eq!(r["authored"], "2026-06-03T09:00:00Z");
    let answers = |id: &str| -> Value {
        r["item"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["linkId"] == id)
            .unwrap()["answer"]
            .clone()
    };
    assert_eq!(answers("age"), json!([{"valueInteger": 42}]));
    assert_eq!(answers("onset"), json!([{"valueDate": "2026-06-01"}]));
    assert_eq!(answers("fever"), json!([{"valueBoolean": true}]));
    assert_eq!(answers("tmax"), json!([{"valueDecimal": 39.5}]));
    let sympt = answers("sympt");
    let codes: Vec<&str> = sympt
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["valueCoding"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["1", "3"]);
    assert_eq!(
        answers("outcome")[0]["valueCoding"]["system"],
        "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
    );
    assert!(
        !r["item"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["linkId"] == "notes"),
        "no empty answers"
    );
}
