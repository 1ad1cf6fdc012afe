//! The EDC at the hub, from the outside: `kakehashi demo` creates the VHF and SFTS
//! registries with the four demo sites as data access groups and writes the demo data
//! manager's REDCap API token per study; PyCap 2.x (`pip install pycap`), pointed at the
//! demo hub's `/redcap/api/` with that token, reads the project, metadata, export field
//! names, instruments, events, arms, form–event mapping, repeating forms and data access
//! groups, each equal to the study's own definition (read back through `/api/studies`);
//! REDCap's errors come back as REDCap gives them; the study API exports, lists members,
//! takes a new definition and takes a role away (with its token) over HTTP; `kakehashi study
//! list` and `study push` work against the same hub. Without PyCap the test says SKIPPED, unless
//! `KAKEHASHI_REQUIRE_PYCAP=1` (set by `.ci/run`).

#[allow(dead_code)]
mod common;

use kakehashi_edc::dictionary::FieldType;
use kakehashi_edc::{Study, dictionary};
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

const PYCAP: &str = r#"
import json, sys
from redcap import Project, RedcapError
url, token = sys.argv[1], sys.argv[2]
p = Project(url, token)
out = {
    "project": p.export_project_info(),
    "metadata": p.export_metadata(),
    "field_names": p.export_field_names(),
    "instruments": p.export_instruments(),
    "events": p.export_events(),
    "arms": p.export_arms(),
    "mappings": p.export_instrument_event_mappings(),
    "repeating": p.export_repeating_instruments_events(),
    "dags": p.export_dags(),
    "metadata_csv": p.export_metadata(format_type="csv"),
    "version": str(p.export_version()),
}
try:
    Project(url, "0123456789ABCDEF0123456789ABCDEF").export_metadata()
    out["bad_token"] = "no error"
except RedcapError as e:
    out["bad_token"] = str(e)
print(json.dumps(out))
"#;

fn have_pycap() -> bool {
    Command::new("python3")
        .args(["-c", "import redcap"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn kh(args: &[&str]) -> String {
    let out = Command::new(EXE).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "kakehashi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn strs(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} in {r}"))
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pycap_reads_the_demo_studies_metadata_as_the_study_defines_it() {
    if !have_pycap() {
        assert!(
            std::env::var("KAKEHASHI_REQUIRE_PYCAP").as_deref() != Ok("1"),
            "KAKEHASHI_REQUIRE_PYCAP=1 but PyCap is not installed (pip install pycap)"
        );
        println!("SKIPPED: PyCap is not installed (pip install pycap)");
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let (_demo, url) = common::spawn_demo(dir.path(), 60, Stdio::null());
    let hub_dir = dir.path().join("hub");
    let t = Instant::now();
    let (token, admin) = loop {
        let err = std::fs::read_to_string(dir.path().join("demo.err")).unwrap_or_default();
        assert!(!err.contains("\nerror: "), "the demo failed: {err}");
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "the demo did not write its REDCap tokens: {}",
            std::fs::read_to_string(dir.path().join("demo.err")).unwrap_or_default()
        );
        if let (Ok(_), Ok(t), Ok(a)) = (
            std::fs::read_to_string(hub_dir.join("redcap-sfts-registry.token")),
            std::fs::read_to_string(hub_dir.join("redcap-vhf-registry.token")),
            std::fs::read_to_string(hub_dir.join("admin.token")),
        ) {
            break (t.trim().to_owned(), a.trim().to_owned());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(token.len(), 32);

    // the study's own definition, through the study API
    let http = reqwest::Client::new();
    let study: Study = http
        .get(format!("{url}/api/studies/vhf-registry"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(study.title, "VHF registry");
    assert_eq!(
        study
            .sites
            .iter()
            .map(|s| s.dag.as_str())
            .collect::<Vec<_>>(),
        ["de_berlin", "de_frankfurt", "jp_tokyo", "jp_osaka"]
    );

    let script = dir.path().join("pycap.py");
    std::fs::write(&script, PYCAP).unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .arg(format!("{url}/redcap/api/"))
        .arg(&token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "PyCap: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();

    // the demo's subjects: enrolled at de-berlin and jp-tokyo, sent by their agents as
    // pseudonyms, two in three admission forms filled (age, sex) through this API
    let t = Instant::now();
    let rows = loop {
        let r = http
            .post(format!("{url}/redcap/api/"))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(format!(
                "token={token}&content=record&format=json&fields%5B0%5D=demog_age&exportDataAccessGroups=true"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let rows: Vec<Value> = r.json().await.unwrap();
        if rows.len() >= 30 {
            break rows;
        }
        assert!(
            t.elapsed() < Duration::from_secs(180),
            "the demo's subjects never got their forms: {} rows",
            rows.len()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    for r in &rows {
        assert!(
            kakehashi_edc::entry::subject::is_pseudonym(r["subjid"].as_str().unwrap()),
            "{r}"
        );
        assert!(
            r["demog_age"].as_str().unwrap().parse::<u32>().is_ok(),
            "{r}"
        );
    }
    for dag in ["de_berlin", "jp_tokyo"] {
        assert!(
            rows.iter().any(|r| r["redcap_data_access_group"] == dag),
            "no subject of {dag}"
        );
    }
    let mut hub_files = vec![hub_dir.join("hub.sqlite")];
    hub_files.extend(["hub.sqlite-wal"].map(|f| hub_dir.join(f)));
    for f in hub_files {
        let b = std::fs::read(&f).unwrap_or_default();
        assert!(
            !b.windows(9).any(|w| w == b"-p0000000"),
            "{}: a synthetic patient id at the hub",
            f.display()
        );
    }

    let p = &got["project"];
    assert_eq!(p["project_title"], "VHF registry");
    assert_eq!(p["is_longitudinal"], 1);
    assert_eq!(p["in_production"], 1);
    assert_eq!(p["has_repeating_instruments_or_events"], 1);

    // metadata: every field, in order, with its form, type, label, choices, logic
    let md = got["metadata"].as_array().unwrap();
    assert_eq!(md.len(), study.fields.len());
    for (row, f) in md.iter().zip(&study.fields) {
        assert_eq!(row["field_name"], f.variable.as_str());
        assert_eq!(row["form_name"], f.form.as_str());
        assert_eq!(row["field_type"], f.field_type.as_str());
        assert_eq!(row["field_label"], f.label.as_str());
        assert_eq!(
            row["select_choices_or_calculations"],
            f.choices_column().as_str()
        );
        assert_eq!(row["branching_logic"], f.branching.as_str());
        assert_eq!(row["required_field"], if f.required { "y" } else { "" });
        assert_eq!(row.as_object().unwrap().len(), 18, "REDCap's 18 columns");
    }
    // as CSV, the same dictionary REDCap would read (its API column names)
    let csv = got["metadata_csv"].as_str().unwrap();
    assert!(csv.starts_with("field_name,form_name,section_header,field_type,field_label,"));
    let as_dictionary = format!(
        "{}\n{}",
        dictionary::COLUMNS
            .iter()
            .map(|c| if c.contains(',') || c.contains('"') {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                (*c).to_owned()
            })
            .collect::<Vec<_>>()
            .join(","),
        csv.split_once('\n').unwrap().1
    );
    assert_eq!(
        dictionary::read_csv("api", &as_dictionary).unwrap(),
        study.fields
    );

    // export field names: checkbox options as var___code, no calc/file/descriptive, each
    // form's _complete
    let names = strs(&got["field_names"], "export_field_name");
    for f in &study.fields {
        match f.field_type {
            FieldType::Checkbox => {
                for c in &f.choices {
                    let col = format!("{}___{}", f.variable, c.code.to_lowercase());
                    assert!(names.contains(&col), "{col}");
                }
                assert!(!names.contains(&f.variable));
            }
            FieldType::Calc | FieldType::File | FieldType::Descriptive => {
                assert!(!names.contains(&f.variable), "{}", f.variable)
            }
            _ => assert!(names.contains(&f.variable), "{}", f.variable),
        }
    }
    for form in study.forms() {
        assert!(names.contains(&format!("{form}_complete")));
    }

    // instruments, events, arms, mappings, repeating forms, DAGs
    assert_eq!(strs(&got["instruments"], "instrument_name"), study.forms());
    assert_eq!(
        strs(&got["instruments"], "instrument_label"),
        study
            .forms()
            .iter()
            .map(|f| study.form_label(f))
            .collect::<Vec<_>>()
    );
    let events: Vec<&kakehashi_edc::study::Event> = study.events().collect();
    assert_eq!(
        strs(&got["events"], "unique_event_name"),
        events
            .iter()
            .map(|e| e.unique_name.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        strs(&got["events"], "event_name"),
        events.iter().map(|e| e.label.clone()).collect::<Vec<_>>()
    );
    assert_eq!(
        got["arms"],
        serde_json::json!([{"arm_num": 1, "name": "Arm 1"}])
    );
    let pairs: Vec<(String, String)> = got["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["unique_event_name"].as_str().unwrap().to_owned(),
                m["form"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = events
        .iter()
        .flat_map(|e| e.forms.iter().map(|f| (e.unique_name.clone(), f.clone())))
        .collect();
    assert_eq!(pairs, want);
    let rep: Vec<(String, String)> = got["repeating"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["form_name"] != "")
        .map(|r| {
            (
                r["event_name"].as_str().unwrap().to_owned(),
                r["form_name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rep,
        study
            .repeating_forms
            .iter()
            .map(|r| (r.event.clone(), r.form.clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        strs(&got["dags"], "unique_group_name"),
        ["de_berlin", "de_frankfurt", "jp_tokyo", "jp_osaka"]
    );
    assert!(got["version"].as_str().unwrap().starts_with("14."));
    assert!(
        got["bad_token"]
            .as_str()
            .unwrap()
            .contains("You do not have permissions to use the API"),
        "{}",
        got["bad_token"]
    );

    // REDCap's errors, raw: 403 for a bad token, 400 for an unknown content
    let r = http
        .post(format!("{url}/redcap/api/"))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(format!("token={token}&content=nonsense&format=json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"].as_str().unwrap().contains("content"), "{e}");
    let r = http
        .post(format!("{url}/redcap/api/"))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body("token=nope&content=metadata&format=csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().starts_with("ERROR: "));

    // the study API over HTTP: export, members, a new definition, taking a role away
    let get = |path: &str| http.get(format!("{url}{path}")).bearer_auth(&admin).send();
    let dict_http = get("/api/studies/vhf-registry/export?format=redcap")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(dict_http, dictionary::write_csv(&study.fields));
    let members: Value = get("/api/studies/vhf-registry/members")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        members,
        serde_json::json!([{"user": "datamanager", "role": "data_manager", "dag": null}])
    );
    let mut v2 = study.clone();
    v2.protocol_version = "1.1".into();
    let r = http
        .put(format!("{url}/api/studies/vhf-registry"))
        .bearer_auth(&admin)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(v2.to_json())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let back: Study = get("/api/studies/vhf-registry")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(back, v2);
    let sfts_token = std::fs::read_to_string(hub_dir.join("redcap-sfts-registry.token")).unwrap();
    let ask_sfts = || {
        http.post(format!("{url}/redcap/api/"))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(format!(
                "token={}&content=arm&format=json",
                sfts_token.trim()
            ))
            .send()
    };
    assert_eq!(ask_sfts().await.unwrap().status().as_u16(), 200);
    let r = http
        .post(format!("{url}/api/studies/sfts-registry/members/remove"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"user": "datamanager"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(
        ask_sfts().await.unwrap().status().as_u16(),
        403,
        "a removed member's token opens nothing"
    );

    // the CLI: list as the office; push a dictionary on the VHF base; a bad one is refused
    let list = kh(&["study", "list", "--hub", &url, "--token", &admin]);
    assert!(list.contains("vhf-registry\tVHF-REG\tactive"), "{list}");
    assert!(list.contains("sfts-registry"), "{list}");
    let dict = dir.path().join("small.csv");
    std::fs::write(&dict, dictionary::write_csv(&study.fields)).unwrap();
    let pushed = kh(&[
        "study",
        "push",
        dict.to_str().unwrap(),
        "--id",
        "vhf-copy",
        "--like",
        "vhf-registry",
        "--hub",
        &url,
        "--token",
        &admin,
    ]);
    assert!(pushed.contains("study vhf-copy"), "{pushed}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        dictionary::write_csv(&study.fields).replacen("\ndemog_sex,", "\nDemog Sex,", 1),
    )
    .unwrap();
    let out = Command::new(EXE)
        .args([
            "study",
            "push",
            bad.to_str().unwrap(),
            "--hub",
            &url,
            "--token",
            &admin,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("field 'Demog Sex', column 'Variable / Field Name'"),
        "{err}"
    );
    let researcher = std::fs::read_to_string(hub_dir.join("researcher.token")).unwrap();
    let list = kh(&["study", "list", "--hub", &url, "--token", researcher.trim()]);
    assert_eq!(
        list.trim(),
        "no studies",
        "the researcher holds no study role"
    );
}

const PYCAP_RECORDS: &str = r#"
import json, sys
from redcap import Project, RedcapError
url, token, rows_file, bad_file = sys.argv[1:5]
p = Project(url, token)
rows = json.load(open(rows_file))
out = {"count": p.import_records(rows, overwrite="normal", return_content="count")}
try:
    p.import_records(json.load(open(bad_file)))
    out["bad"] = "no error"
except RedcapError as e:
    out["bad"] = str(e)
out["json"] = p.export_records(export_data_access_groups=True)
out["csv"] = p.export_records(format_type="csv")
out["one"] = p.export_records(records=[rows[0]["subjid"]], fields=["demog_age"], events=["initial_assessment_arm_1"])
out["filtered"] = p.export_records(filter_logic="[demog_age] >= 60")
out["log"] = p.export_logging()
print(json.dumps(out))
"#;

/// 50 generated records as REDCap flat rows: the admission event (age, sex, onset date,
/// every option of a checkbox, the form status) and 0–2 medication instances each.
fn generated_rows(s: &Study) -> (Vec<Value>, String, Vec<String>) {
    let cb = s
        .fields
        .iter()
        .find(|f| f.form == "presentation" && f.field_type == FieldType::Checkbox)
        .unwrap();
    let med = s
        .fields
        .iter()
        .find(|f| {
            f.form == "medication" && f.field_type == FieldType::Text && f.validation.is_none()
        })
        .unwrap()
        .variable
        .clone();
    let boxes: Vec<String> = cb
        .choices
        .iter()
        .map(|c| format!("{}___{}", cb.variable, c.code))
        .collect();
    let mut rows = Vec::new();
    for i in 0..50u32 {
        let record = format!("{:064x}", 0xabc000 + i);
        let mut r = serde_json::Map::new();
        r.insert("subjid".into(), record.clone().into());
        r.insert(
            "redcap_event_name".into(),
            "initial_assessment_arm_1".into(),
        );
        r.insert("redcap_repeat_instrument".into(), "".into());
        r.insert("redcap_repeat_instance".into(), "".into());
        r.insert(
            "redcap_data_access_group".into(),
            (if i % 2 == 0 { "de_a" } else { "jp_b" }).into(),
        );
        r.insert("demog_age".into(), (20 + (i * 7) % 70).to_string().into());
        r.insert("demog_sex".into(), (1 + i % 2).to_string().into());
        r.insert(
            "pres_onsetdate".into(),
            format!("2026-0{}-{:02}", 1 + i % 9, 1 + i % 28).into(),
        );
        for (k, b) in boxes.iter().enumerate() {
            let on = (i as usize + k).is_multiple_of(3);
            r.insert(b.clone(), (if on { "1" } else { "0" }).into());
        }
        r.insert("presentation_complete".into(), (i % 2).to_string().into());
        rows.push(Value::Object(r));
        for n in 1..=(i % 3) {
            rows.push(json!({
                "subjid": record,
                "redcap_event_name": "summary_medication_arm_1",
                "redcap_repeat_instrument": "medication",
                "redcap_repeat_instance": n.to_string(),
                med.clone(): format!("drug {i}-{n}"),
                "medication_complete": "0",
            }));
        }
    }
    (rows, med, boxes)
}

/// Where an exported row belongs.
fn row_key(r: &Value) -> (String, String, String, String) {
    let s = |k: &str| r[k].as_str().unwrap_or("").to_owned();
    (
        s("subjid"),
        s("redcap_event_name"),
        s("redcap_repeat_instrument"),
        s("redcap_repeat_instance"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pycap_imports_50_records_and_exports_them_equal() {
    if !have_pycap() {
        assert!(
            std::env::var("KAKEHASHI_REQUIRE_PYCAP").as_deref() != Ok("1"),
            "KAKEHASHI_REQUIRE_PYCAP=1 but PyCap is not installed (pip install pycap)"
        );
        println!("SKIPPED: PyCap is not installed (pip install pycap)");
        return;
    }
    let net = common::net::Net::start(&[]).await;
    let mut s = kakehashi_edc::arc::registry::vhf_study().unwrap();
    s.sites = [("de_a", "DE"), ("jp_b", "JP")]
        .map(|(d, c)| kakehashi_edc::study::Site {
            dag: d.into(),
            name: d.into(),
            country: c.into(),
        })
        .to_vec();
    s.ethics = ["DE", "JP"]
        .map(|c| kakehashi_edc::study::EthicsApproval {
            country: c.into(),
            committee: format!("Committee {c}"),
            reference: format!("EC-{c}"),
            approved_on: "2026-01-15".into(),
        })
        .to_vec();
    let r = net
        .http
        .post(format!("{}/api/studies", net.url))
        .bearer_auth(&net.admin)
        .header("content-type", "application/json")
        .body(s.to_json())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    net.admin_post(
        "/api/studies/vhf-registry/members",
        json!({"user": "alice", "role": "data_manager", "dag": null}),
    )
    .await;
    let t = net
        .admin_post("/api/studies/vhf-registry/tokens", json!({"user": "alice"}))
        .await;
    let token = t["token"].as_str().unwrap().to_owned();

    let (rows, med, boxes) = generated_rows(&s);
    let mut bad = rows[0].clone();
    bad["subjid"] = json!(format!("{:064x}", 0xdead));
    bad["demog_sex"] = json!("7");
    let dir = net.dir.path();
    std::fs::write(dir.join("rows.json"), serde_json::to_string(&rows).unwrap()).unwrap();
    std::fs::write(dir.join("bad.json"), serde_json::to_string(&[bad]).unwrap()).unwrap();
    std::fs::write(dir.join("records.py"), PYCAP_RECORDS).unwrap();
    let out = Command::new("python3")
        .arg(dir.join("records.py"))
        .arg(format!("{}/redcap/api/", net.url))
        .arg(&token)
        .arg(dir.join("rows.json"))
        .arg(dir.join("bad.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["count"], json!({"count": 50}));
    // the refusal names record, field and value; nothing of it was stored
    let bad = got["bad"].as_str().unwrap();
    assert!(
        bad.contains(&format!("\"{:064x}\",\"demog_sex\",\"7\"", 0xdead)),
        "{bad}"
    );

    // exported equal: every row, every imported value, checkbox columns, events, instances
    let exported = got["json"].as_array().unwrap();
    assert_eq!(exported.len(), rows.len());
    let by_key: std::collections::BTreeMap<_, _> =
        exported.iter().map(|r| (row_key(r), r)).collect();
    for r in &rows {
        let e = by_key
            .get(&row_key(r))
            .unwrap_or_else(|| panic!("not exported: {:?}", row_key(r)));
        for (k, v) in r.as_object().unwrap() {
            assert_eq!(&e[k], v, "{k} of {:?}", row_key(r));
        }
    }
    assert!(boxes.iter().all(|b| exported[0].get(b).is_some()));
    assert!(exported.iter().any(|r| r[&med] == "drug 2-2"));
    // `kakehashi study records`: the same rows as typed Parquet, ages as whole numbers
    let alice = net.login("alice", "password-1").await;
    let pq = dir.join("records.parquet");
    let said = kh(&[
        "study",
        "records",
        "vhf-registry",
        "--format",
        "parquet",
        "--out",
        pq.to_str().unwrap(),
        "--hub",
        &net.url,
        "--token",
        &alice,
    ]);
    assert!(
        said.contains("parquet export of study vhf-registry"),
        "{said}"
    );
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&pq).unwrap(),
    )
    .unwrap();
    assert_eq!(
        reader
            .schema()
            .field_with_name("demog_age")
            .unwrap()
            .data_type(),
        &arrow::datatypes::DataType::Float64
    );
    let n: usize = reader.build().unwrap().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(n, rows.len());
    // CSV: the same rows, REDCap's columns first
    let csv = got["csv"].as_str().unwrap();
    assert!(
        csv.starts_with(
            "subjid,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,"
        ),
        "{}",
        &csv[..200.min(csv.len())]
    );
    assert_eq!(csv.lines().count(), rows.len() + 1);
    // records[], fields[], events[]: one row, the record id and the field
    let one = got["one"].as_array().unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["demog_age"], rows[0]["demog_age"]);
    assert!(one[0].get("demog_sex").is_none());
    // filterLogic with the edc evaluator
    let want = rows
        .iter()
        .filter(|r| {
            r["demog_age"]
                .as_str()
                .is_some_and(|a| a.parse::<u32>().unwrap() >= 60)
        })
        .count();
    assert_eq!(got["filtered"].as_array().unwrap().len(), want);
    assert!(want > 0);
    // the log: a create per record and the field changes
    let log = got["log"].as_array().unwrap();
    assert_eq!(
        log.iter()
            .filter(|l| l["action"].as_str().unwrap().starts_with("Create record"))
            .count(),
        50
    );
    assert!(
        log.iter()
            .any(|l| l["details"].as_str().unwrap().starts_with("demog_age = "))
    );

    // the issue's path answers the same, form-encoded
    let r = net
        .http
        .post(format!("{}/api/redcap/", net.url))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(format!(
            "token={token}&content=record&format=json&records%5B0%5D={}",
            rows[0]["subjid"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Vec<Value> = r.json().await.unwrap();
    assert_eq!(v[0]["demog_age"], rows[0]["demog_age"]);
}
