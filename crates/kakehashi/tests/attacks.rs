//! The attack suite, first part (issue 26, point 8): a researcher attacks the gate over real
//! HTTP, against a real hub and site agent, and each test asserts what the attacker obtains.
//! Covered here: averaging (the same question many times), differencing by rephrasing (other
//! displays, duplicated codes, reordered and renamed organism and drug lists) and note probing
//! (does a site say whether a code exists in its data). The rest of the suite: overlapping
//! cohorts A and A∖{one patient} over many noise secrets (`attacks_differencing.rs`),
//! complementary cells (`attacks_cells.rs`), budget exhaustion, work bombs and bursts
//! (`attacks_limits.rs`).

mod common;

use common::net::Net;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

/// A site with noise on (ε = 1 per question), exact-threshold minimum 5, no rounding.
const NOISY: &str = "projects = [\"*\"]\nepsilon = 1.0\nmin_count = 5\nrounding = 1\nproject_budget = 100.0\nresearcher_budget = 100.0";

fn site<'a>(m: &'a Value, id: &str) -> &'a Value {
    m["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == id)
        .unwrap_or_else(|| panic!("{id} not in {m}"))
}

fn sari_adults() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
        )
        .unwrap(),
    )
    .unwrap()
}

/// What the attacker reads of one site's answer: the released rows and the ledger.
fn released(m: &Value) -> (String, f64, bool) {
    let t = &site(m, "de-berlin")["table"];
    assert!(t.is_object(), "answered: {m}");
    (
        t["rows"].to_string(),
        t["disclosure"]["budget_spent"].as_f64().unwrap(),
        t["disclosure"]["repeated"].as_bool().unwrap(),
    )
}

/// Averaging: the same question asked 20 times by two researchers of the project gets one
/// released value (the noise is drawn once for the question), and the project pays ε once.
/// The mean of the answers is that one noisy value: the attacker learns nothing new.
#[tokio::test(flavor = "multi_thread")]
async fn averaging_the_same_question_twenty_times_yields_one_noisy_value() {
    let net = Net::start(&[("de-berlin", NOISY)]).await;
    let spec = json!({"type": "cohort", "ccdl": sari_adults()});
    let mut values = BTreeSet::new();
    let mut spent = BTreeSet::new();
    let mut repeats = 0;
    for i in 0..20 {
        let who = if i % 2 == 0 { "alice" } else { "bob" };
        let (rows, s, repeated) = released(&net.ask(who, spec.clone()).await);
        values.insert(rows);
        spent.insert(s.to_bits());
        repeats += usize::from(repeated);
    }
    assert_eq!(values.len(), 1, "one released value: {values:?}");
    assert_eq!(repeats, 19, "every answer after the first is a repeat");
    assert_eq!(
        spent.into_iter().map(f64::from_bits).collect::<Vec<_>>(),
        vec![1.0],
        "the project paid ε once"
    );
}

/// Differencing by rephrasing a cohort: other display texts and a duplicated code are the same
/// question (same key): the same released value, nothing spent. A question whose meaning
/// differs (another minimum age) is a new question: it spends ε and draws its own noise.
#[tokio::test(flavor = "multi_thread")]
async fn rephrased_cohorts_get_the_stored_answer_and_new_meanings_pay() {
    let net = Net::start(&[("de-berlin", NOISY)]).await;
    let q = sari_adults();
    let (rows, spent, _) = released(&net.ask("alice", json!({"type": "cohort", "ccdl": q})).await);

    let mut reworded = q.clone();
    for t in reworded["inclusionCriteria"][0][0]["termCodes"]
        .as_array_mut()
        .unwrap()
    {
        t["display"] = json!("something else entirely");
    }
    let first = reworded["inclusionCriteria"][0][0]["termCodes"][0].clone();
    reworded["inclusionCriteria"][0][0]["termCodes"]
        .as_array_mut()
        .unwrap()
        .push(first);
    reworded["display"] = json!("a new title");
    let (rows2, spent2, repeated) = released(
        &net.ask("bob", json!({"type": "cohort", "ccdl": reworded}))
            .await,
    );
    assert_eq!(rows2, rows, "the same meaning gets the same released value");
    assert!(repeated, "and is a repeat");
    assert_eq!(spent2, spent, "which costs nothing");

    let mut older = q.clone();
    older["inclusionCriteria"][1][0]["valueFilter"]["minValue"] = json!(19);
    let (_, spent3, repeated) = released(
        &net.ask("alice", json!({"type": "cohort", "ccdl": older}))
            .await,
    );
    assert!(!repeated, "another minimum age is another question");
    assert_eq!(spent3, spent + 1.0, "and it pays ε");
}

/// Differencing by rephrasing an antibiogram: the organism list reversed and renamed, the drug
/// list reordered and written as codes. Before the repeat key was the meaning, the reversed
/// list had other true counts under the same key (differences of answers were differences of
/// truths); now it is the same question: the same released table, nothing spent.
#[tokio::test(flavor = "multi_thread")]
async fn a_reordered_renamed_antibiogram_gets_the_same_table_for_free() {
    let net = Net::start(&[("de-berlin", NOISY)]).await;
    let a = json!({"type": "antibiogram", "spec": {"guideline": "EUCAST 2025",
        "organisms": ["Enterobacterales", "Escherichia coli"],
        "antimicrobials": ["Ciprofloxacin", "Meropenem", "Cefotaxime"]}});
    let b = json!({"type": "antibiogram", "spec": {"guideline": "EUCAST 2025",
        "organisms": ["E. coli", "Enterobacterales"],
        "antimicrobials": ["CTX", "MEM", "CIP"]}});
    let (rows, spent, _) = released(&net.ask("alice", a).await);
    let (rows2, spent2, repeated) = released(&net.ask("bob", b).await);
    assert!(repeated, "the rephrased list is the same question");
    assert_eq!(rows2, rows, "with the same released table");
    assert_eq!(spent2, spent, "for free");
}

/// Note probing: a question on a code the site's data do not hold and one on codes it does
/// hold get the same kind of notes (notes follow from the question, never from the data), so
/// the notes do not tell whether a code exists at the site.
#[tokio::test(flavor = "multi_thread")]
async fn notes_do_not_tell_whether_a_code_exists_at_the_site() {
    let net = Net::start(&[("de-berlin", NOISY)]).await;
    let present = sari_adults();
    let mut absent = present.clone();
    absent["inclusionCriteria"][0][0]["termCodes"] = json!([{
        "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "A98.4",
        "display": "Ebola virus disease"}]);
    let m1 = net
        .ask("alice", json!({"type": "cohort", "ccdl": present}))
        .await;
    let m2 = net
        .ask("alice", json!({"type": "cohort", "ccdl": absent}))
        .await;
    for m in [&m1, &m2] {
        assert_eq!(site(m, "de-berlin")["state"], "answered", "{m}");
    }
    let notes = |m: &Value| site(m, "de-berlin")["notes"].to_string();
    assert_eq!(
        notes(&m1),
        notes(&m2),
        "the same notes whether or not the site holds the code"
    );
    assert!(
        !notes(&m2).contains("A98"),
        "no note names the absent code: {}",
        notes(&m2)
    );
}
