//! The study data export as typed Parquet, over real HTTP on loopback and SQLite: forms of a
//! generated study (every field type, branching, calculations, missing-data codes in number
//! fields and on checkboxes) saved through `PUT .../forms/...`, then
//! `GET /api/studies/{id}/records/export?format=parquet` read back with the parquet crate and
//! compared with `format=csv` cell for cell (each typed value printed back as REDCap prints
//! it), the column types and the label metadata checked; and the same file read by DuckDB
//! when `python3 -c 'import duckdb'` works (else it says SKIPPED). `bench.rs`: the EDC
//! benchmark (ignored; `bench/edc.sh` runs it).

#[path = "../common/mod.rs"]
mod common;

mod bench;
mod check;
mod study_gen;

use common::Running;
use kakehashi_edc::entry::Subject;
use kakehashi_hub::db::{StudyMember, User};
use kakehashi_hub::service::studies::{self, records};
use reqwest::StatusCode;
use serde_json::json;

/// A running hub with the generated study of `items` items, `alice` its data manager; her
/// API session.
pub async fn setup(id: &str, items: usize) -> (Running, String, kakehashi_edc::Study) {
    let hub = common::start_with(|_| {}).await;
    let study = study_gen::study(id, items);
    let h = hub.hub.clone();
    let s = study.clone();
    let id2 = id.to_owned();
    tokio::task::spawn_blocking(move || {
        let admin: User = h.db.user_with_hash("admin").unwrap().unwrap().0;
        studies::create(&h, &admin, s).unwrap();
        let m = StudyMember {
            user: "alice".into(),
            role: "data_manager".into(),
            dag: None,
        };
        studies::assign(&h, &admin, &id2, m).unwrap();
    })
    .await
    .unwrap();
    let session = hub.api_session("alice", common::PASSWORD).await;
    (hub, session, study)
}

/// Enrols subjects `range` at the site (through the service, as the site agent's push does).
pub async fn enrol(hub: &Running, id: &str, range: std::ops::Range<usize>) -> Vec<String> {
    let h = hub.hub.clone();
    let id = id.to_owned();
    tokio::task::spawn_blocking(move || {
        range
            .map(|n| {
                let (s, _): (Subject, bool) =
                    records::enrol_from_site(&h, study_gen::DAG, &id, &study_gen::pseudonym(n))
                        .unwrap();
                s.record
            })
            .collect()
    })
    .await
    .unwrap()
}

/// Saves the form of `record` over HTTP; the status and the answer's values.
pub async fn put_form(
    hub: &Running,
    session: &str,
    id: &str,
    record: &str,
    values: &std::collections::BTreeMap<String, String>,
) -> (StatusCode, serde_json::Value) {
    let url = format!(
        "{}/api/studies/{id}/subjects/{record}/forms/{}/{}/1",
        hub.url,
        study_gen::EVENT,
        study_gen::FORM
    );
    let r = hub
        .http
        .put(url)
        .bearer_auth(session)
        .json(&json!({"values": values, "status": "unverified"}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or_default())
}

/// Downloads the export in `format`.
pub async fn export(hub: &Running, session: &str, id: &str, format: &str) -> Vec<u8> {
    let r = hub
        .get_bearer(
            &format!("/api/studies/{id}/records/export?format={format}"),
            session,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "export as {format}");
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_export_equals_the_csv_cell_for_cell() {
    let id = "gen-small";
    let (hub, session, study) = setup(id, 66).await;
    let records = enrol(&hub, id, 0..12).await;
    for (n, r) in records.iter().enumerate() {
        let (status, body) = put_form(
            &hub,
            &session,
            id,
            r,
            &study_gen::values(&study.fields, n, 0),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // the calc is computed on save: v010 = round(v000 * 2 + v001, 1)
        let v = &body["data"]["values"];
        if let (Some(a), Some(b)) = (
            v["v000"].as_str().and_then(|s| s.parse::<f64>().ok()),
            v["v001"].as_str().and_then(|s| s.parse::<f64>().ok()),
        ) {
            let want = ((a * 2.0 + b) * 10.0).round() / 10.0;
            assert_eq!(
                v["v010"].as_str().and_then(|s| s.parse::<f64>().ok()),
                Some(want)
            );
        }
    }
    // a bad checkbox missing-data option is refused by name
    let mut bad = study_gen::values(&study.fields, 0, 0);
    bad.insert("v007___xyz".into(), "1".into());
    let (status, body) = put_form(&hub, &session, id, &records[0], &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("v007___xyz"), "{body}");

    let csv = export(&hub, &session, id, "csv").await;
    let pq = export(&hub, &session, id, "parquet").await;
    let dir = tempfile::tempdir().unwrap();
    let (csv_path, pq_path) = (
        dir.path().join("records.csv"),
        dir.path().join("records.parquet"),
    );
    std::fs::write(&csv_path, &csv).unwrap();
    std::fs::write(&pq_path, &pq).unwrap();
    let csv_text = String::from_utf8(csv).unwrap();
    // the used missing-data option of a checkbox is a column of its own, as in REDCap
    let header = csv_text.lines().next().unwrap();
    assert!(header.contains("v007___1,v007___2,v007___3"), "{header}");
    let cells = check::parquet_equals_csv(&pq_path, &csv_text);
    assert!(cells > 12 * 60, "compared {cells} cells");
    check::types_and_labels(&pq_path);
    check::duckdb_reads_the_same(&pq_path, &csv_path);

    // the download page's link and its audit record
    let audit = hub.audit("study_records_exported");
    assert!(
        audit
            .iter()
            .any(|a| a["detail"]["format"] == "parquet" || a.to_string().contains("parquet")),
        "the export is audited"
    );
}
