//! The attack that differential privacy is about, measured: an attacker who knows everything
//! but whether one patient is in the data sees a released count of `n` (without the patient) or
//! `n + s` (with them; `s` the question's declared sensitivity). Over many independent questions
//! through the real gate (ledger, key, noise stream), the empirical distributions of the two
//! released values must differ by at most the promised factor `e^ε` at every output, and by
//! about that factor somewhere (the noise is calibrated to ε, not silently much larger or
//! smaller). Each released weekly count is an independent draw: another cell of the question.

use kakehashi_disclosure::{
    CountTable, Dim, DimKind, Gate, MemoryLedger, Noise, Policy, Question, RepeatKey,
};
use kakehashi_model::ProjectId;
use std::collections::BTreeMap;

const WEEKS: u32 = 52;
const QUESTIONS: u32 = 400;

/// Released values of `QUESTIONS × WEEKS` independent cells whose true count is `n`.
fn released(gate: &Gate, tag: &str, n: u64, sensitivity: u32) -> BTreeMap<u64, u64> {
    let p = ProjectId::new("p").unwrap();
    let mut hist = BTreeMap::new();
    for qn in 0..QUESTIONS {
        let mut t = CountTable::new(vec![Dim::new("week", DimKind::Week)], &["cases"]);
        for w in 1..=WEEKS {
            t.add(&[&format!("2024-W{w:02}")], "cases", n).unwrap();
        }
        let key = RepeatKey::of_data(&format!("{tag}-{qn}"), "s1");
        let out = gate
            .release_series(
                &Question {
                    project: &p,
                    researcher: "attacker",
                    key: &key,
                    sensitivity,
                },
                t,
            )
            .unwrap()
            .into_inner();
        for row in &out.rows {
            let v = row.values[0]
                .value()
                .expect("the series rule withholds nothing");
            *hist.entry(v).or_insert(0) += 1;
        }
    }
    hist
}

fn check(epsilon: f64, sensitivity: u32) {
    // a fresh secret, as a new site makes on first start
    let gate = Gate::new(
        Policy {
            min_count: 0,
            rounding: 1,
            noise: Noise::On,
            epsilon: Some(epsilon),
            project_budget: None,
            researcher_budget: None,
            cells_per_day: u64::MAX,
            projects: vec!["*".into()],
            ..Policy::default()
        },
        rand::random(),
        Box::new(MemoryLedger::new()),
    )
    .unwrap();
    let n = 1_000;
    let without = released(&gate, "without", n, sensitivity);
    let with = released(&gate, "with", n + u64::from(sensitivity), sensitivity);
    let total = f64::from(QUESTIONS * WEEKS);
    // outputs seen often enough on both sides for a ratio to mean something
    let mut worst: f64 = 0.0;
    for (v, &a) in &without {
        let Some(&b) = with.get(v) else { continue };
        if a < 400 || b < 400 {
            continue;
        }
        let ratio = (a as f64 / total) / (b as f64 / total);
        worst = worst.max(ratio.ln().abs());
    }
    // sampling error of a log ratio of two counts ≥ 400 is about sqrt(2/400) ≈ 0.07 (1 sd)
    let tolerance = 0.25;
    assert!(
        worst <= epsilon + tolerance,
        "ε = {epsilon}, s = {sensitivity}: the attacker's likelihood ratio reaches e^{worst:.3}, more than the promised e^{epsilon}"
    );
    assert!(
        worst >= epsilon - tolerance,
        "ε = {epsilon}, s = {sensitivity}: the largest likelihood ratio is only e^{worst:.3}: the noise is not calibrated to the promised ε"
    );
}

#[test]
fn one_patient_moves_the_attackers_odds_by_at_most_e_to_the_epsilon() {
    check(1.0, 1);
    check(0.5, 1);
}

#[test]
fn the_bound_holds_when_one_patient_moves_several_counts() {
    // a patient who changes a count by s = 3 (e.g. three weeks of a series) is as hidden as one
    // who changes it by 1 at the same ε: the noise scale is s / ε
    check(1.0, 3);
}
