//! Study enrolment through real agents and a real hub on loopback: the steward enrols local
//! patients with `kakehashi site enrol`; the pseudonym is stable (the same patient again is
//! the same subject), differs between sites (each has its own secret, made 0600 on first
//! use); each agent sends the pseudonyms after its next poll and the hub lists the subjects
//! at their sites; the patient ids appear in no file of the hub (database, WAL, audit log);
//! a study the site is not part of is refused, and the refusal is kept at the site. Then data
//! entry over HTTP on such a subject: a save, a stale version (409), an identifying field
//! (400), another site's user (404), the grid, a lock, a wrong password to sign (403), the
//! signature, the history.

mod common;

use common::net::Net;
use kakehashi_edc::StudyStatus;
use kakehashi_edc::arc::registry;
use kakehashi_edc::study::{EthicsApproval, Site};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

/// `kakehashi site enrol`: the pseudonym printed.
fn enrol(site_dir: &Path, study: &str, patient: &str) -> String {
    let out = Command::new(EXE)
        .args(["site", "enrol", "--site-dir"])
        .arg(site_dir)
        .args(["--study", study, "--patient", patient])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn subjects(net: &Net, who: &str) -> Vec<(String, String)> {
    let r = net
        .http
        .get(format!("{}/api/studies/vhf-registry/subjects", net.url))
        .bearer_auth(&net.tokens[who])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Vec<Value> = r.json().await.unwrap();
    v.iter()
        .map(|s| {
            (
                s["record"].as_str().unwrap().to_owned(),
                s["site"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Every file under `dir`, as bytes.
fn all_bytes(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            all_bytes(&p, out);
        } else if let Ok(b) = std::fs::read(&p) {
            out.push((p.display().to_string(), b));
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patients_enrolled_at_the_site_reach_the_hub_as_pseudonyms_only() {
    let mut net = Net::start(&[]).await;
    let mut s = registry::vhf_study().unwrap();
    s.status = StudyStatus::Active;
    s.ethics = ["DE", "JP"]
        .map(|c| EthicsApproval {
            country: c.into(),
            committee: format!("Committee {c}"),
            reference: format!("EC-{c}"),
            approved_on: "2026-01-15".into(),
        })
        .to_vec();
    s.sites = [("de_a", "DE"), ("jp_b", "JP")]
        .map(|(d, c)| Site {
            dag: d.into(),
            name: d.into(),
            country: c.into(),
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
    for (who, role, dag) in [
        ("alice", "data_manager", None),
        ("bob", "data_entry", Some("jp_b")),
    ] {
        net.admin_post(
            "/api/studies/vhf-registry/members",
            json!({"user": who, "role": role, "dag": dag}),
        )
        .await;
    }

    let de = net.dir.path().join("site-de");
    let jp = net.dir.path().join("site-jp");
    std::fs::create_dir_all(&de).unwrap();
    std::fs::create_dir_all(&jp).unwrap();
    // enrolled before the agents run: sent after their first poll
    let p1 = enrol(&de, "vhf-registry", "DE-PATIENT-0001");
    assert_eq!(p1.len(), 64);
    assert_eq!(
        enrol(&de, "vhf-registry", "DE-PATIENT-0001"),
        p1,
        "the same patient again is the same subject"
    );
    let p2 = enrol(&de, "vhf-registry", "DE-PATIENT-0002");
    let j1 = enrol(&jp, "vhf-registry", "DE-PATIENT-0001");
    assert_ne!(j1, p1, "another site's secret, another pseudonym");
    let refused = enrol(&de, "sfts-registry", "DE-PATIENT-0003");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(de.join("pseudonym.secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    net.start_site_at("de-a", &de, "min_count = 5").await;
    net.start_site_at("jp-b", &jp, "min_count = 5").await;
    net.wait_online(2).await;
    let mut want = vec![
        (p1.clone(), "de_a".to_owned()),
        (p2.clone(), "de_a".to_owned()),
        (j1.clone(), "jp_b".to_owned()),
    ];
    want.sort();
    let t = Instant::now();
    loop {
        let got = subjects(&net, "alice").await;
        if got == want {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the hub lists {got:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // the site's own data entry user sees their site only
    assert_eq!(
        subjects(&net, "bob").await,
        [(j1.clone(), "jp_b".to_owned())]
    );
    // enrolled while the agent runs: within a poll
    let p4 = enrol(&de, "vhf-registry", "DE-PATIENT-0004");
    let t = Instant::now();
    while !subjects(&net, "alice").await.iter().any(|(r, _)| r == &p4) {
        assert!(t.elapsed() < Duration::from_secs(30), "{p4} never arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // the refusal (no such study at the hub) is kept at the site
    let map = kakehashi_site::enrolment::Enrolments::open(&de).unwrap();
    let t = Instant::now();
    loop {
        let list = map.list().unwrap();
        let r = list.iter().find(|e| e.record == refused).unwrap();
        if let Some(h) = &r.hub {
            assert!(h.starts_with("refused: no study"), "{h}");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "never answered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        map.patient_of("vhf-registry", &p1).unwrap().as_deref(),
        Some("DE-PATIENT-0001"),
        "the site can re-identify"
    );
    let site_audit =
        std::fs::read_to_string(net.dir.path().join("agents/de-a/state/audit/audit.log"))
            .unwrap_or_default();
    assert!(site_audit.contains("enrolments_sent"), "{site_audit}");

    // data entry over HTTP on a subject the agent brought
    let form = format!(
        "{}/api/studies/vhf-registry/subjects/{p1}/forms/initial_assessment_arm_1/presentation/1",
        net.url
    );
    let send = |method: reqwest::Method, url: String, who: &str, body: Value| {
        net.http
            .request(method, url)
            .bearer_auth(&net.tokens[who])
            .json(&body)
            .send()
    };
    let r = send(
        reqwest::Method::PUT,
        form.clone(),
        "alice",
        json!({"version": "new", "values": {"demog_age": "41", "demog_sex": "2"}, "status": "unverified"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let v1: Value = r.json().await.unwrap();
    assert_eq!(v1["data"]["values"]["demog_age"], "41");
    let version = v1["version"].as_str().unwrap().to_owned();
    let stale = send(
        reqwest::Method::PUT,
        form.clone(),
        "alice",
        json!({"version": "new", "values": {"demog_age": "42"}, "status": "unverified"}),
    )
    .await
    .unwrap();
    assert_eq!(stale.status(), 409);
    let ident = send(
        reqwest::Method::PUT,
        form.clone(),
        "alice",
        json!({"values": {"demog_birthdate": "1970-01-01"}, "status": "unverified"}),
    )
    .await
    .unwrap();
    assert_eq!(ident.status(), 400);
    assert!(ident.text().await.unwrap().contains("demog_birthdate"));
    let other_site = net
        .http
        .get(&form)
        .bearer_auth(&net.tokens["bob"])
        .send()
        .await
        .unwrap();
    assert_eq!(other_site.status(), 404, "bob enters data for jp_b only");
    let grid: Value = net
        .http
        .get(format!(
            "{}/api/studies/vhf-registry/subjects/{p1}",
            net.url
        ))
        .bearer_auth(&net.tokens["alice"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        grid["grid"][0]["cells"][0]["instances"][0]["status"],
        "unverified"
    );
    let r = send(
        reqwest::Method::POST,
        format!("{form}/lock"),
        "alice",
        json!({"version": version}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let wrong = send(
        reqwest::Method::POST,
        format!("{form}/sign"),
        "alice",
        json!({"password": "not-hers", "meaning": "approval"}),
    )
    .await
    .unwrap();
    assert_eq!(wrong.status(), 403);
    let signed: Value = send(
        reqwest::Method::POST,
        format!("{form}/sign"),
        "alice",
        json!({"password": "password-1", "meaning": "approval"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(signed["data"]["signatures"][0]["user"], "alice");
    let history: Vec<Value> = net
        .http
        .get(format!("{form}/history"))
        .bearer_auth(&net.tokens["alice"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history.len(), 2, "{history:?}");

    // the hub's files hold the pseudonyms, never a patient id
    let mut files = Vec::new();
    all_bytes(&net.dir.path().join("hub"), &mut files);
    assert!(
        files.iter().any(|(_, b)| contains(b, &p1)),
        "the pseudonym is stored at the hub"
    );
    for (path, b) in &files {
        assert!(
            !contains(b, "DE-PATIENT"),
            "{path} holds a local patient id"
        );
    }
}
