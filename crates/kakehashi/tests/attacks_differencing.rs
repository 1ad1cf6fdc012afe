//! The attack suite (issue 26, point 8): differencing by overlapping cohorts, over real HTTP
//! against a real hub and site agents. The attacker knows one patient's age and asks for a
//! cohort A and for A∖{that patient} (the same cohort with an upper age bound that only the
//! patient exceeds); the difference of the answers should tell whether the patient is in A.

mod common;

use common::net::{Net, site};
use kakehashi_cohort::Query;
use kakehashi_engine::cohort::CohortIndex;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Each agent adds noise with ε = 1 per question, releases every value (no minimum, no
/// rounding, so the attacker sees the noisy count itself) and has room for every question.
const POLICY: &str = "projects = [\"*\"]\nepsilon = 1.0\nmin_count = 0\nrounding = 1\nproject_budget = 1000.0\nresearcher_budget = 1000.0\ntasks_per_minute = 1000";
const EPSILON: f64 = 1.0;
/// Agents per world, each with its own noise secret, over the same site data.
const AGENTS: usize = 10;
/// Question pairs (A_k, A_k∖{patient}) asked of every agent.
const PAIRS: u32 = 20;
const ICD: &str = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";

/// Thirty patients aged 40 to 65 with pneumonia (J18.9), and the target patient, born in 1940:
/// with pneumonia when `target_in`, else with hypertension only.
fn site_data(dir: &Path, target_in: bool) -> PathBuf {
    let condition = |id: &str, patient: &str, code: &str| {
        json!({"resourceType": "Condition", "id": id, "subject": {"reference": format!("Patient/{patient}")},
               "code": {"coding": [{"system": ICD, "code": code}]}, "recordedDate": "2024-02-01"})
    };
    let mut lines = Vec::new();
    for i in 0..30 {
        let p = format!("p{i:02}");
        lines.push(json!({"resourceType": "Patient", "id": p, "gender": if i % 2 == 0 { "female" } else { "male" },
                          "birthDate": format!("{}-03-{:02}", 1961 + i % 25, 1 + i % 28)}));
        lines.push(condition(&format!("c{i:02}"), &p, "J18.9"));
    }
    lines.push(json!({"resourceType": "Patient", "id": "target", "gender": "female", "birthDate": "1940-05-20"}));
    lines.push(condition(
        "c-target",
        "target",
        if target_in { "J18.9" } else { "I10" },
    ));
    std::fs::create_dir_all(dir).unwrap();
    common::ingest_lines(dir, "site.ndjson", &lines)
}

/// Pneumonia and an age from `18 + k` to `max_age`: A_k with 120, A_k∖{target} with 75. Each
/// k is another question (its own repeat key), with the same true counts.
fn cohort(k: u32, max_age: u32) -> Value {
    json!({"version": "http://to_be_decided.com/draft-1/schema#",
    "display": "pneumonia by age",
    "inclusionCriteria": [
        [{"context": {"system": "fdpg.mii.cds", "code": "Diagnose", "display": "Diagnose", "version": "1.0.0"},
          "termCodes": [{"system": ICD, "code": "J18", "display": "Pneumonia, organism unspecified"}]}],
        [{"context": {"system": "fdpg.mii.cds", "code": "Patient", "display": "Patient", "version": "1.0.0"},
          "termCodes": [{"system": "http://snomed.info/sct", "code": "424144002", "display": "Current chronological age"}],
          "valueFilter": {"type": "quantity-range", "minValue": 18 + k, "maxValue": max_age, "unit": {"code": "a", "display": "a"}}}]
    ]})
}

fn true_count(site: &Path, ccdl: &Value) -> u64 {
    let ix = CohortIndex::open(&kakehashi_store::Store::open(site).current().unwrap()).unwrap();
    ix.count(&Query::from_value(ccdl).unwrap()).unwrap().count
}

/// What one agent released for one question: the noisy count, whether it was the stored
/// answer, and the project's ε spent and remaining after it.
fn released(m: &Value, id: &str) -> (i64, bool, f64, f64) {
    let s = site(m, id);
    let t = &s["table"];
    assert!(t.is_object(), "{id} answered: {s}");
    let d = &t["disclosure"];
    (
        t["rows"][0]["values"][0]
            .as_i64()
            .expect("a released value"),
        d["repeated"].as_bool().unwrap(),
        d["budget_spent"].as_f64().unwrap(),
        d["remaining"].as_f64().unwrap(),
    )
}

/// Differencing by overlapping cohorts: A_k = "pneumonia, aged 18 + k to 120" and
/// A_k∖{target} = "pneumonia, aged 18 + k to 75", where the attacker knows the target is 86.
/// In the world where the target has pneumonia the true counts differ by exactly 1, in the
/// other they are equal (checked on the sites' own data). Twenty agents (ten per world, each
/// with its own noise secret) answer twenty such pairs, 400 differences in all. The attacker
/// guesses "in A" when the released difference is positive. Differential privacy with ε per
/// question bounds the share of right guesses by e^ε / (1 + e^ε) (0.73 for ε = 1), whatever the
/// test; this sign test gets 0.5 + P[Z = 0] / 2 ≈ 0.64, Z the difference of two discrete
/// Laplace noises. The share observed stays below the bound and matches the sign test's
/// expectation, both within 4.5 standard deviations (0.11 at 400 guesses). The second question
/// of a pair is new: it pays ε and is not served from the first one's stored answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_cohorts_tell_whether_a_patient_is_in_a_no_better_than_epsilon_allows() {
    let dir = tempfile::tempdir().unwrap();
    let with = site_data(&dir.path().join("in"), true);
    let without = site_data(&dir.path().join("out"), false);
    let (a, a_minus) = (cohort(0, 120), cohort(0, 75));
    assert_eq!(
        (true_count(&with, &a), true_count(&with, &a_minus)),
        (31, 30),
        "with the target in A, A∖{{target}} has exactly one patient less"
    );
    assert_eq!(
        (true_count(&without, &a), true_count(&without, &a_minus)),
        (30, 30),
        "without the target in A, both are the same cohort"
    );

    let mut net = Net::start(&[]).await;
    let mut agents = Vec::new();
    for j in 0..AGENTS {
        for (world, data) in [("in", &with), ("out", &without)] {
            let id = format!("de-{world}-{j:02}");
            net.start_site_at(&id, data, POLICY).await;
            agents.push((id, world == "in"));
        }
    }
    net.wait_online(agents.len()).await;

    // The first pair, one question after the other: the second pays ε at every agent.
    let first = net
        .ask("alice", json!({"type": "cohort", "ccdl": cohort(0, 120)}))
        .await;
    let second = net
        .ask("alice", json!({"type": "cohort", "ccdl": cohort(0, 75)}))
        .await;
    let mut answers = vec![(first.clone(), second.clone())];
    for (id, _) in &agents {
        let (_, rep1, spent1, left1) = released(&first, id);
        let (_, rep2, spent2, left2) = released(&second, id);
        assert!(!rep1 && !rep2, "{id}: both questions are new");
        assert_eq!(
            (spent2 - spent1, left1 - left2),
            (EPSILON, EPSILON),
            "{id}: A∖{{target}} pays ε"
        );
    }
    // The other pairs, all at once.
    let mut ids = Vec::new();
    for k in 1..PAIRS {
        let a = net
            .create("alice", json!({"type": "cohort", "ccdl": cohort(k, 120)}))
            .await;
        let b = net
            .create("alice", json!({"type": "cohort", "ccdl": cohort(k, 75)}))
            .await;
        ids.push((a, b));
    }
    for (a, b) in &ids {
        answers.push((net.result("alice", a).await, net.result("alice", b).await));
    }

    let mut right = 0usize;
    let mut guesses = 0usize;
    for (id, target_in) in &agents {
        let mut spent = Vec::new();
        for (ma, mb) in &answers {
            let (na, rep_a, spent_a, _) = released(ma, id);
            let (nb, rep_b, spent_b, _) = released(mb, id);
            assert!(
                !rep_a && !rep_b,
                "{id}: every question of the attack is new"
            );
            spent.extend([spent_a, spent_b]);
            let guess_in = na - nb > 0;
            right += usize::from(guess_in == *target_in);
            guesses += 1;
        }
        spent.sort_by(f64::total_cmp);
        let paid: Vec<f64> = (1..=2 * PAIRS).map(|i| f64::from(i) * EPSILON).collect();
        assert_eq!(spent, paid, "{id}: each of the 40 questions paid ε once");
    }

    let share = right as f64 / guesses as f64;
    let bound = EPSILON.exp() / (1.0 + EPSILON.exp());
    // P[Z = 0] for Z = X − Y, X and Y discrete Laplace with q = e^−ε (sensitivity 1):
    // Σ_k P[X = k]² = ((1 − q) / (1 + q))² · (1 + q²) / (1 − q²).
    let q = (-EPSILON).exp();
    let tie = ((1.0 - q) / (1.0 + q)).powi(2) * (1.0 + q * q) / (1.0 - q * q);
    let expected = 0.5 + tie / 2.0;
    let tolerance = 4.5 * (expected * (1.0 - expected) / guesses as f64).sqrt();
    println!(
        "{right} of {guesses} guesses right ({share:.3}); sign test expects {expected:.3}, ε allows at most {bound:.3}, tolerance {tolerance:.3}"
    );
    assert!(
        share <= bound + tolerance,
        "the attacker guesses better than ε = {EPSILON} allows: {share:.3} > {bound:.3} + {tolerance:.3}"
    );
    assert!(
        (share - expected).abs() <= tolerance,
        "the noise is not the one promised: {share:.3}, expected {expected:.3} ± {tolerance:.3}"
    );
}
