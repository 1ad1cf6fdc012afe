//! The attack suite (issue 26, point 8): budget exhaustion and work bombs, over real HTTP
//! against a real hub and site agents. The attacker spends a project's ε until refused and
//! tries to get more; or sends tasks that would make a site scan too much, release too many
//! cells, compute too long, or answer too often.

mod common;

use common::net::{Net, site, sites_dir};
use kakehashi_amr::pool::MDRO_MEASURES;
use kakehashi_federation::antibiogram::CATEGORIES;
use serde_json::{Value, json};
use std::path::Path;

/// A cohort question: adults from `min_age` with pneumonia or influenza (each age another
/// question).
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

/// What the researcher obtains from one site: the released rows and the ledger on the answer
/// (project spent, researcher spent, remaining), and whether it was the stored answer.
#[derive(Debug, PartialEq)]
struct Got {
    rows: String,
    repeated: bool,
    ledger: (f64, f64, f64),
}

fn got(m: &Value, id: &str) -> Got {
    let s = site(m, id);
    assert_eq!(s["state"], "answered", "{s}");
    let t = &s["table"];
    let d = &t["disclosure"];
    let f = |k: &str| d[k].as_f64().unwrap_or_else(|| panic!("{k} in {d}"));
    Got {
        rows: t["rows"].to_string(),
        repeated: d["repeated"].as_bool().unwrap(),
        ledger: (f("budget_spent"), f("researcher_spent"), f("remaining")),
    }
}

/// A refusal: its reason, after checking that nothing but the reason came back (no table, no
/// count anywhere in the site's part of the answer).
fn refused(m: &Value, id: &str) -> String {
    let s = site(m, id);
    assert_eq!(s["state"], "refused", "{s}");
    assert!(s["table"].is_null(), "{s}");
    assert!(!s.to_string().contains("\"rows\""), "{s}");
    s["reason"].as_str().unwrap().to_owned()
}

/// Budget exhaustion as one scenario, two sites, two projects, two researchers:
/// de-berlin gives project p1 a budget of ε = 3 (researchers 100), jp-tokyo gives each
/// researcher ε = 2 (projects 100), ε = 1 a question. alice spends p1's budget at de-berlin
/// with new questions (remaining 2, 1, 0 on the answers) and her own at jp-tokyo; the next new
/// question is refused with the budget named and carries no numbers, also for bob in p1 at
/// de-berlin. A repeated question is still served, free, with the same table. Project p2 at
/// de-berlin and bob's ledger at jp-tokyo are unaffected; alice's researcher budget at jp-tokyo
/// spans her projects, so p2 does not refill it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spending_a_budget_until_refused_releases_nothing_more() {
    let net = Net::start(&[
        (
            "de-berlin",
            "projects = [\"*\"]\nepsilon = 1.0\nproject_budget = 3.0\nresearcher_budget = 100.0",
        ),
        (
            "jp-tokyo",
            "projects = [\"*\"]\nepsilon = 1.0\nproject_budget = 100.0\nresearcher_budget = 2.0",
        ),
    ])
    .await;
    net.add_project("p2", &["alice", "bob"]).await;
    let project_p1 = "the privacy budget of project p1 at this site is exhausted";
    let researcher_alice = "the privacy budget of researcher alice at this site is exhausted";

    let m = net.ask("alice", cohort(18)).await;
    assert_eq!(got(&m, "de-berlin").ledger, (1.0, 1.0, 2.0));
    assert_eq!(got(&m, "jp-tokyo").ledger, (1.0, 1.0, 1.0));
    let second = net.ask("alice", cohort(19)).await;
    let (berlin19, tokyo19) = (got(&second, "de-berlin"), got(&second, "jp-tokyo"));
    assert_eq!(berlin19.ledger, (2.0, 2.0, 1.0));
    assert_eq!(
        tokyo19.ledger,
        (2.0, 2.0, 0.0),
        "alice's budget at jp-tokyo is spent"
    );
    let m = net.ask("alice", cohort(20)).await;
    assert_eq!(
        got(&m, "de-berlin").ledger,
        (3.0, 3.0, 0.0),
        "p1's budget at de-berlin is spent"
    );
    assert!(refused(&m, "jp-tokyo").contains(researcher_alice));

    // More new questions get no numbers, whoever asks in p1.
    let m = net.ask("alice", cohort(21)).await;
    assert!(refused(&m, "de-berlin").contains(project_p1));
    assert!(refused(&m, "jp-tokyo").contains(researcher_alice));
    let m = net.ask("bob", cohort(22)).await;
    let reason = refused(&m, "de-berlin");
    assert!(reason.contains(project_p1), "{reason}");
    assert_eq!(
        got(&m, "jp-tokyo").ledger,
        (3.0, 1.0, 1.0),
        "bob's own budget at jp-tokyo is untouched by alice's"
    );

    // A question already answered is still served, free, with the same table.
    let m = net.ask("alice", cohort(19)).await;
    for (id, before) in [("de-berlin", &berlin19), ("jp-tokyo", &tokyo19)] {
        let again = got(&m, id);
        assert!(again.repeated, "{id}: the stored answer");
        assert_eq!(again.rows, before.rows, "{id}: the same table");
    }
    assert_eq!(got(&m, "de-berlin").ledger, (3.0, 3.0, 0.0));
    assert_eq!(got(&m, "jp-tokyo").ledger, (3.0, 2.0, 0.0));

    // Project p2 has its own budget at de-berlin; researcher budgets span projects.
    let m = net.ask_in("p2", "bob", cohort(18)).await;
    assert_eq!(got(&m, "de-berlin").ledger, (1.0, 1.0, 2.0));
    assert_eq!(got(&m, "jp-tokyo").ledger, (1.0, 2.0, 0.0));
    let m = net.ask_in("p2", "alice", cohort(23)).await;
    assert_eq!(got(&m, "de-berlin").ledger, (2.0, 4.0, 1.0));
    assert!(refused(&m, "jp-tokyo").contains(researcher_alice));
}

/// An antibiogram of E. coli against `drugs`, by year over `from`..`to` when given.
fn antibiogram(drugs: &[&str], years: Option<(&str, &str)>) -> Value {
    let mut spec = json!({"guideline": "EUCAST 2025", "organisms": ["Escherichia coli"],
        "antimicrobials": drugs});
    if let Some((from, to)) = years {
        spec["by_year"] = json!(true);
        spec["period"] = json!({"from": from, "to": to});
    }
    json!({"type": "antibiogram", "spec": spec})
}

/// Work bombs that make a site compute: a one-organism antibiogram by year from year 1 to 9999,
/// a question of a few hundred bytes whose grid has 599,940 counts. de-berlin (at most 1,000
/// counts per task) refuses it before computing (in well under a second, while computing the
/// grid takes seconds), naming the counts; de-frankfurt (10 million counts, 3 seconds per task)
/// computes and refuses once the time is over. Each refusal carries the reason and no numbers,
/// spends nothing (the next answer's ledger counts only the questions answered), and both sites
/// answer the next normal question.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cell_and_time_bombs_are_refused_and_the_site_keeps_answering() {
    let net = Net::start(&[
        (
            "de-berlin",
            "projects = [\"*\"]\nepsilon = 1.0\nmax_cells = 1000",
        ),
        (
            "de-frankfurt",
            "projects = [\"*\"]\nepsilon = 1.0\nmax_cells = 10000000\nmax_seconds = 3",
        ),
    ])
    .await;
    let m = net.ask("alice", antibiogram(&["CIP"], None)).await;
    for id in ["de-berlin", "de-frankfurt"] {
        assert_eq!(got(&m, id).ledger.0, 1.0, "{id}");
    }

    let drugs = [
        "AMP", "TZP", "CTX", "CAZ", "MEM", "CIP", "GEN", "OXA", "VAN", "TOB",
    ];
    let cells = 9999 * (drugs.len() * CATEGORIES.len() + MDRO_MEASURES.len());
    let m = net
        .ask(
            "alice",
            antibiogram(&drugs, Some(("0001-01-01", "9999-12-31"))),
        )
        .await;
    let reason = refused(&m, "de-berlin");
    assert!(
        reason.contains(&format!(
            "this task would release {cells} counts; this site releases at most 1000 per task"
        )),
        "{reason}"
    );
    let ms = site(&m, "de-berlin")["elapsed_ms"].as_u64().unwrap();
    assert!(ms < 1000, "refused before computing, not after {ms} ms");
    let reason = refused(&m, "de-frankfurt");
    assert!(
        reason.contains("took longer than the 3 seconds this site allows one task"),
        "{reason}"
    );

    let m = net.ask("alice", antibiogram(&["MEM"], None)).await;
    for id in ["de-berlin", "de-frankfurt"] {
        let g = got(&m, id);
        assert_eq!((g.repeated, g.ledger.0), (false, 2.0), "{id}");
    }
}

/// A scan bomb: jp-tokyo scans at most the stored rows an antibiogram reads; a cohort question
/// reads every table and is refused before computing, naming the rows, with no numbers. The
/// next antibiogram is answered and pays the first ε of the project.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_bomb_is_refused_and_the_site_keeps_answering() {
    let tokyo = kakehashi_store::Store::open(sites_dir().join("sites/jp-tokyo"))
        .current()
        .unwrap();
    let amr_rows = kakehashi_site::admission::rows_scanned(&tokyo, "antibiogram");
    let all_rows = kakehashi_site::admission::rows_scanned(&tokyo, "cohort");
    assert!(amr_rows < all_rows);
    let net = Net::start(&[(
        "jp-tokyo",
        &format!("projects = [\"*\"]\nepsilon = 1.0\nmax_rows_scanned = {amr_rows}"),
    )])
    .await;
    let m = net.ask("alice", cohort(18)).await;
    let reason = refused(&m, "jp-tokyo");
    assert!(
        reason.contains(&format!(
            "this task would scan about {all_rows} stored rows; this site scans at most {amr_rows} per task"
        )),
        "{reason}"
    );
    let m = net.ask("alice", antibiogram(&["CIP"], None)).await;
    assert_eq!(got(&m, "jp-tokyo").ledger, (1.0, 1.0, 9.0));
}

/// A burst beyond the rate limit: de-berlin accepts 4 tasks per project and minute; alice
/// sends 7 new questions at once. Exactly 4 are answered (each paying ε once, so the project
/// has spent 4); the other 3 are refused with the limit named and carry no numbers. The site
/// goes on answering: a question of project p2 is answered, and alice's researcher ledger
/// counts only the 4 answered questions and this one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_rate_limit_is_refused_and_spends_nothing() {
    let net = Net::start(&[(
        "de-berlin",
        "projects = [\"*\"]\nepsilon = 1.0\ntasks_per_minute = 4",
    )])
    .await;
    net.add_project("p2", &["alice"]).await;
    let mut ids = Vec::new();
    for age in 30..37 {
        ids.push(net.create("alice", cohort(age)).await);
    }
    let mut spent = Vec::new();
    let mut limited = 0;
    for id in &ids {
        let m = net.result("alice", id).await;
        if site(&m, "de-berlin")["state"] == "answered" {
            spent.push(got(&m, "de-berlin").ledger.0);
        } else {
            let reason = refused(&m, "de-berlin");
            assert!(
                reason
                    .contains("project p1 sent more than 4 tasks to this site in the last minute"),
                "{reason}"
            );
            limited += 1;
        }
    }
    spent.sort_by(f64::total_cmp);
    assert_eq!(spent, [1.0, 2.0, 3.0, 4.0], "4 answered, ε paid once each");
    assert_eq!(limited, 3);
    let m = net.ask_in("p2", "alice", cohort(18)).await;
    assert_eq!(got(&m, "de-berlin").ledger, (1.0, 5.0, 5.0));
}
