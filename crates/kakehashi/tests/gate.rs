//! The disclosure gate over real HTTP: a hub and four site agents (real processes from the
//! `kakehashi` binary, synthetic sites from `kakehashi demo --prepare-only`), each site with its
//! own `[disclosure]` policy. What a researcher sees in the answers: the noise-off flag, the
//! per-researcher ledger and remaining budget, rate-limit and work-bound refusals, and the
//! noisy threshold.

mod common;

use common::net::{Net, sites_dir};

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

fn site<'a>(m: &'a Value, id: &str) -> &'a Value {
    m["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == id)
        .unwrap_or_else(|| panic!("{id} not in {m}"))
}

/// A cohort question: adults from `min_age` with pneumonia or influenza.
fn cohort(min_age: u32) -> Value {
    let mut q: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
        )
        .unwrap(),
    )
    .unwrap();
    q["inclusionCriteria"][1][0]["valueFilter"]["minValue"] = json!(min_age);
    json!({"type": "cohort", "ccdl": q})
}

fn antibiogram_spec() -> Value {
    json!({"guideline": "EUCAST 2025", "organisms": ["Escherichia coli", "Klebsiella pneumoniae", "Staphylococcus aureus"], "antimicrobials": ["Ciprofloxacin", "Meropenem", "Cefotaxime", "Oxacillin", "Gentamicin"]})
}

/// Exact local antibiogram cells of a site, `(organism, drug, category) → n`, through the
/// command a steward would run.
fn local_antibiogram(id: &str) -> BTreeMap<(String, String, String), u64> {
    let spec = sites_dir().join(format!("antibiogram-spec-{id}.json"));
    std::fs::write(&spec, antibiogram_spec().to_string()).unwrap();
    let out = Command::new(EXE)
        .args(["amr", "antibiogram", "--format", "json", "--spec"])
        .arg(&spec)
        .arg("--site-dir")
        .arg(sites_dir().join("sites").join(id))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut cells = BTreeMap::new();
    for c in v["counts"][0]["counts"]["cells"].as_array().unwrap() {
        for k in ["s", "i", "r", "sdd", "ni"] {
            cells.insert(
                (
                    c["organism"].as_str().unwrap().to_owned(),
                    c["antimicrobial"].as_str().unwrap().to_owned(),
                    k.to_owned(),
                ),
                c[k].as_u64().unwrap(),
            );
        }
    }
    cells
}

/// ε = 0 is not a policy: the agent refuses to start and says to use `noise = "off"`.
#[test]
fn a_site_with_epsilon_zero_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("site.toml");
    std::fs::write(
        &cfg,
        format!(
            "site_id = \"de-berlin\"\nhub = \"http://127.0.0.1:9\"\ntoken = \"x\"\nsite_dir = {:?}\n\n[disclosure]\nprojects = [\"*\"]\nepsilon = 0\n",
            dir.path().join("site").display().to_string()
        ),
    )
    .unwrap();
    let mut child = Command::new(EXE)
        .args(["site", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("an agent with ε = 0 kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.success());
    assert!(
        err.contains("epsilon") && err.contains("noise = \"off\""),
        "{err}"
    );
}

/// Four sites, four policies, two researchers of one project:
/// - de-berlin publishes exact aggregates (`noise = "off"`): every answer says so, and the
///   hub's page flags the row in red;
/// - jp-tokyo adds noise with ε = 1, a researcher budget of 2.5 and at most 20 cells per task:
///   each answer carries the researcher's and the project's spend and the remainder; the
///   third new question of alice is refused (her budget), bob can still ask; an antibiogram
///   (more than 20 cells) is refused and spends nothing;
/// - de-frankfurt accepts 3 tasks per minute: a burst of 4 gets at least one rate-limit refusal;
/// - jp-osaka scans at most 1 stored row per task: every task is refused before computing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_show_in_every_answer_and_limits_refuse_with_their_reason() {
    let net = Net::start(&[
        ("de-berlin", "projects = [\"*\"]\nmin_count = 0\nrounding = 1\nnoise = \"off\""),
        (
            "jp-tokyo",
            "projects = [\"*\"]\nepsilon = 1.0\nproject_budget = 100.0\nresearcher_budget = 2.5\nmax_cells = 20",
        ),
        ("de-frankfurt", "projects = [\"*\"]\ntasks_per_minute = 3"),
        ("jp-osaka", "projects = [\"*\"]\nmax_rows_scanned = 1"),
    ])
    .await;
    let m = net.ask("alice", cohort(18)).await;
    let berlin = site(&m, "de-berlin");
    assert_eq!(berlin["state"], "answered", "{berlin}");
    let d = &berlin["table"]["disclosure"];
    assert_eq!(
        (d["noise"].as_str(), d["epsilon"].as_f64()),
        (Some("off"), None),
        "{d}"
    );
    let tokyo = &site(&m, "jp-tokyo")["table"]["disclosure"];
    assert_eq!(tokyo["noise"], "on");
    let ledger = |d: &Value| {
        (
            d["budget_spent"].as_f64().unwrap(),
            d["researcher_spent"].as_f64().unwrap(),
            d["remaining"].as_f64(),
        )
    };
    assert_eq!(ledger(tokyo), (1.0, 1.0, Some(1.5)), "{tokyo}");
    let osaka = site(&m, "jp-osaka");
    assert_eq!(osaka["state"], "refused");
    assert!(
        osaka["reason"].as_str().unwrap().contains("stored rows"),
        "{osaka}"
    );
    // the hub's page marks the noise-off site in red, on its row
    let html = net
        .http
        .get(format!(
            "{}/feasibility/{}",
            net.url,
            m["task"]["id"].as_str().unwrap()
        ))
        .bearer_auth(&net.tokens["alice"])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let flag = "<strong class=\"noise-off\">";
    assert_eq!(html.matches(flag).count(), 1, "{html}");
    let row = &html[html
        .find("<th scope=\"row\">de-berlin")
        .expect("berlin row")..];
    assert!(row[..row.find("</tr>").unwrap()].contains(flag));
    // bob's question: the project's ledger moves, alice's does not
    let m = net.ask("bob", cohort(19)).await;
    let tokyo = &site(&m, "jp-tokyo")["table"]["disclosure"];
    assert_eq!(ledger(tokyo), (2.0, 1.0, Some(1.5)), "{tokyo}");
    // an antibiogram is over Tokyo's cell bound: refused, nothing spent
    let m = net
        .ask(
            "alice",
            json!({"type": "antibiogram", "spec": antibiogram_spec()}),
        )
        .await;
    let t = site(&m, "jp-tokyo");
    assert_eq!(t["state"], "refused", "{t}");
    assert!(
        t["reason"]
            .as_str()
            .unwrap()
            .contains("at most 20 per task"),
        "{t}"
    );
    let m = net.ask("alice", cohort(20)).await;
    let tokyo = &site(&m, "jp-tokyo")["table"]["disclosure"];
    assert_eq!(ledger(tokyo), (3.0, 2.0, Some(0.5)), "{tokyo}");
    // alice's budget is used up; bob's is not
    let m = net.ask("alice", cohort(21)).await;
    let t = site(&m, "jp-tokyo");
    assert_eq!(t["state"], "refused", "{t}");
    assert!(
        t["reason"].as_str().unwrap().contains("researcher alice"),
        "{t}"
    );
    let m = net.ask("bob", cohort(21)).await;
    let tokyo = &site(&m, "jp-tokyo")["table"]["disclosure"];
    assert_eq!(ledger(tokyo), (4.0, 2.0, Some(0.5)), "{tokyo}");
    // Frankfurt: a burst of 4 tasks within a minute; at most 3 are admitted
    let ids = [
        net.create("alice", cohort(30)).await,
        net.create("alice", cohort(31)).await,
        net.create("bob", cohort(32)).await,
        net.create("bob", cohort(33)).await,
    ];
    let mut limited = 0;
    for (i, id) in ids.iter().enumerate() {
        let m = net.result(if i < 2 { "alice" } else { "bob" }, id).await;
        let f = site(&m, "de-frankfurt");
        if f["state"] == "refused" {
            assert!(
                f["reason"]
                    .as_str()
                    .unwrap()
                    .contains("3 tasks to this site in the last minute"),
                "{f}"
            );
            limited += 1;
        }
    }
    assert!(limited >= 1, "a burst of 4 against 3 per minute");
    // the site's ledger, as the steward's console reads it: per (project, researcher)
    let gate = kakehashi_site::ledger::open_gate(
        &net.dir.path().join("agents/jp-tokyo/state"),
        kakehashi_disclosure::Policy {
            projects: vec!["*".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let rows: Vec<(String, String, u64)> = gate
        .ledger()
        .unwrap()
        .into_iter()
        .map(|e| (e.project, e.researcher, e.questions))
        .collect();
    assert_eq!(
        rows,
        [
            ("p1".into(), "alice".into(), 2),
            ("p1".into(), "bob".into(), 2)
        ]
    );
}

/// The noisy threshold over the network: de-frankfurt adds noise (ε = 1, minimum 5, no
/// rounding) and decides on the noisy value. For each antibiogram category cell whose true
/// count `n` (the site's own local answer) is below 5, `P[released] = P[X ≥ 5 − n] =
/// q^(5−n) / (1 + q)` with `q = e^(−ε / sensitivity)` (sensitivity from the released table:
/// drugs + 5 = 10, so between about 0.32 for n = 0 and 0.48 for n = 4). The number released
/// lies within 4.5 standard deviations of `Σ p` (sd `√Σ p(1−p)`) and is not 0, which the
/// deterministic rule on the true count would give. A cell of true count ≥ 5 may be withheld
/// too. de-berlin (noise off, minimum 5) withholds exactly the cells below 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cell_below_the_minimum_is_released_at_the_promised_rate() {
    let net = Net::start(&[
        (
            "de-frankfurt",
            "projects = [\"*\"]\nmin_count = 5\nrounding = 1\nepsilon = 1.0",
        ),
        (
            "de-berlin",
            "projects = [\"*\"]\nmin_count = 5\nrounding = 1\nnoise = \"off\"",
        ),
    ])
    .await;
    let id = net
        .create(
            "alice",
            json!({"type": "antibiogram", "spec": antibiogram_spec()}),
        )
        .await;
    let m = net.result("alice", &id).await;
    for (sid, noisy) in [("de-frankfurt", true), ("de-berlin", false)] {
        let s = site(&m, sid);
        assert_eq!(s["state"], "answered", "{s}");
        let table = &s["table"];
        let d = &table["disclosure"];
        let truth = local_antibiogram(sid);
        let (mut expected, mut var, mut released, mut small) = (0.0, 0.0, 0u64, 0u64);
        for row in table["rows"].as_array().unwrap() {
            let k: Vec<&str> = row["key"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let [org, drug, cat] = k[..] else {
                panic!("{row}")
            };
            if drug == "-" {
                continue;
            }
            let n = truth
                .get(&(org.to_owned(), drug.to_owned(), cat.to_owned()))
                .copied()
                .unwrap_or(0);
            let out = row["values"][0].as_u64();
            if n >= 5 {
                if !noisy {
                    assert_eq!(out, Some(n), "{sid} {k:?}");
                }
                continue;
            }
            small += 1;
            released += u64::from(out.is_some());
            if noisy {
                let q =
                    (-d["epsilon"].as_f64().unwrap() / d["sensitivity"].as_f64().unwrap()).exp();
                let p = q.powi(5 - n as i32) / (1.0 + q);
                expected += p;
                var += p * (1.0 - p);
            }
        }
        assert!(small >= 20, "{sid}: {small} cells below the minimum");
        if noisy {
            let sd = var.sqrt();
            assert!(
                released > 0 && (released as f64 - expected).abs() < 4.5 * sd,
                "{sid}: {released} of {small} cells below 5 released, expected {expected:.1} ± {sd:.1}"
            );
        } else {
            assert_eq!(
                released, 0,
                "{sid}: without noise the rule is the true count"
            );
        }
    }
}
