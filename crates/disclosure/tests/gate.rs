//! The gate's promises, as properties over random counts, policies and question sequences.

use kakehashi_disclosure::{
    Admission, CountTable, Dim, DimKind, Gate, GatedCount, MemoryLedger, Noise, Policy, Question,
    Refusal, RepeatKey,
};
use kakehashi_model::ProjectId;
use proptest::prelude::*;
use std::sync::Arc;

const SECRET: [u8; 32] = [7; 32];

fn gate(policy: Policy) -> (Arc<MemoryLedger>, Gate) {
    let ledger = Arc::new(MemoryLedger::new());
    let g = Gate::new(policy, SECRET, Box::new(ledger.clone())).unwrap();
    (ledger, g)
}

/// A policy; `eps` none means `noise = "off"`. No researcher budget (tested in the unit tests).
fn policy(min: u64, rounding: u64, eps: Option<f64>, budget: Option<f64>) -> Policy {
    Policy {
        min_count: min,
        rounding,
        noise: if eps.is_some() { Noise::On } else { Noise::Off },
        epsilon: eps,
        project_budget: budget,
        researcher_budget: None,
        projects: vec!["*".into()],
        ..Policy::default()
    }
}

fn weekly(counts: &[u64]) -> CountTable {
    let mut t = CountTable::new(vec![Dim::new("week", DimKind::Week)], &["cases"]);
    for (i, n) in counts.iter().enumerate() {
        t.add(&[&format!("2024-W{:02}", i + 1)], "cases", *n)
            .unwrap();
    }
    t
}

fn q<'a>(p: &'a ProjectId, key: &'a RepeatKey) -> Question<'a> {
    Question {
        project: p,
        researcher: "researcher",
        key,
        sensitivity: 1,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// No released value is below the site's minimum, whatever the noise; without noise a true
    /// count below the minimum is always withheld (with noise the threshold is decided on the
    /// noisy value, so it may leave: see the unit test of the noisy threshold).
    #[test]
    fn no_count_below_the_minimum_leaves(counts in prop::collection::vec(0u64..60, 1..40), min in 0u64..25,
                                         rounding in 1u64..12, noise in any::<bool>(), seed in 0u32..1000) {
        let (_d, g) = gate(policy(min, rounding, noise.then_some(0.5), None));
        let p = ProjectId::new("p").unwrap();
        let canonical = format!("q{seed}");
        let out = g.release(&q(&p, &RepeatKey::of_data(&canonical, "s1")), weekly(&counts)).unwrap();
        for (row, n) in out.get().rows.iter().zip(&counts) {
            match row.values[0] {
                GatedCount::Value(v) => { prop_assert!(v >= min); prop_assert!(noise || *n >= min); prop_assert_eq!(v % rounding, 0); }
                GatedCount::Suppressed { below } => prop_assert_eq!(below, min),
            }
        }
    }

    /// The ε spent by a project never exceeds its budget, whatever the sequence of questions
    /// (new, repeated, on new snapshots); refusals say so.
    #[test]
    fn the_budget_is_never_exceeded(seq in prop::collection::vec((0u8..6, 0u8..3), 1..60), eps_milli in 100u64..2000, budget in 1u64..8) {
        let eps = eps_milli as f64 / 1000.0;
        let (_d, g) = gate(policy(0, 1, Some(eps), Some(budget as f64)));
        let p = ProjectId::new("p").unwrap();
        for (question, snap) in seq {
            let canonical = format!("question {question}");
            let snap = format!("snap{snap}");
            match g.release(&q(&p, &RepeatKey::of_data(&canonical, &snap)), CountTable::scalar("count", 100)) {
                Ok(r) => prop_assert!(r.get().disclosure.budget_spent <= budget as f64 + 1e-9),
                Err(Refusal::BudgetExhausted { spent, needed, budget: b, .. }) => prop_assert!(spent + needed > b),
                Err(e) => prop_assert!(false, "unexpected refusal {e}"),
            }
            prop_assert!(g.spent(&p).unwrap() <= budget as f64 + 1e-9);
        }
    }
}

/// Asking the same question again returns the same noisy value, so averaging repeats does not
/// converge on the true count; only the first asking spends budget.
#[test]
fn repeats_return_the_same_noisy_value_and_cost_nothing() {
    let (ledger, g) = gate(policy(0, 1, Some(0.5), Some(10.0)));
    let p = ProjectId::new("p").unwrap();
    let truth = 1000u64;
    let first = g
        .release(
            &q(&p, &RepeatKey::of_data("same", "s1")),
            CountTable::scalar("count", truth),
        )
        .unwrap();
    let v0 = first.get().rows[0].values[0].value().unwrap();
    assert!(!first.get().disclosure.repeated);
    let mut sum = 0u64;
    for _ in 0..200 {
        let r = g
            .release(
                &q(&p, &RepeatKey::of_data("same", "s1")),
                CountTable::scalar("count", truth),
            )
            .unwrap();
        assert!(r.get().disclosure.repeated);
        let v = r.get().rows[0].values[0].value().unwrap();
        assert_eq!(v, v0);
        sum += v;
    }
    assert_eq!(
        sum / 200,
        v0,
        "the mean of the repeats is the first noisy answer, not the truth"
    );
    assert!((g.spent(&p).unwrap() - 0.5).abs() < 1e-9);
    // The noise is derived, not stored: a gate reopened on the same secret (ledger intact)
    // answers the same.
    drop(g);
    let g2 = Gate::new(policy(0, 1, Some(0.5), None), SECRET, Box::new(ledger)).unwrap();
    let again = g2
        .release(
            &q(&p, &RepeatKey::of_data("same", "s1")),
            CountTable::scalar("count", truth),
        )
        .unwrap();
    assert_eq!(again.get().rows[0].values[0].value().unwrap(), v0);
    // Different questions do get different noise (over many, at least some differ from truth).
    let differing = (0..50)
        .filter(|i| {
            let c = format!("other {i}");
            g2.release(
                &q(&p, &RepeatKey::of_data(&c, "s1")),
                CountTable::scalar("count", truth),
            )
            .unwrap()
            .get()
            .rows[0]
                .values[0]
                .value()
                .unwrap()
                != truth
        })
        .count();
    assert!(
        differing > 25,
        "noise with ε = 0.5 changes most counts, got {differing}/50"
    );
}

/// A project the policy does not list is refused, before anything is computed or spent.
#[test]
fn a_project_outside_the_policy_is_refused() {
    let (_d, g) = gate(Policy {
        projects: vec!["sfts-2026".into()],
        ..Policy::default()
    });
    let other = ProjectId::new("marketing").unwrap();
    assert_eq!(
        g.admit(&Admission {
            project: &other,
            researcher: "r",
            rows_scanned: 1,
            cells: Some(1)
        }),
        Err(Refusal::ProjectNotAllowed {
            project: "marketing".into()
        })
    );
    assert!(matches!(
        g.release(
            &q(&other, &RepeatKey::of_data("x", "s")),
            CountTable::scalar("count", 50)
        ),
        Err(Refusal::ProjectNotAllowed { .. })
    ));
    assert_eq!(g.spent(&other).unwrap(), 0.0);
}

/// Without noise the gate only rounds and suppresses, so exact totals can be checked.
#[test]
fn without_noise_values_are_rounded_and_small_ones_withheld() {
    let (_d, g) = gate(policy(5, 10, None, None));
    let p = ProjectId::new("p").unwrap();
    let r = g
        .release(
            &q(&p, &RepeatKey::of_data("w", "s")),
            weekly(&[0, 3, 5, 14, 15, 1234]),
        )
        .unwrap();
    let vals: Vec<GatedCount> = r.get().rows.iter().map(|r| r.values[0]).collect();
    use GatedCount::*;
    assert_eq!(
        vals,
        vec![
            Suppressed { below: 5 },
            Suppressed { below: 5 },
            Value(10),
            Value(10),
            Value(20),
            Value(1230)
        ]
    );
    assert_eq!(r.get().disclosure.epsilon, None);
}

/// The series rule: with noise on, weekly counts leave with their noise only (no rounding, no
/// count withheld) and the disclosure says so; the noise stays centred on the truth; without
/// noise a series is rounded and thresholded like every other count.
#[test]
fn a_series_under_noise_is_neither_rounded_nor_thresholded() {
    let (_d, g) = gate(policy(10, 10, Some(1.0), None));
    let p = ProjectId::new("p").unwrap();
    let truth: Vec<u64> = (0..200).map(|i| 40 + (i % 7) * 3).collect();
    let r = g
        .release_series(
            &q(&p, &RepeatKey::of_data("series", "s1")),
            weekly(&truth[..52]),
        )
        .unwrap();
    assert_eq!(
        (
            r.get().disclosure.min_count,
            r.get().disclosure.rounding,
            r.get().disclosure.epsilon
        ),
        (0, 1, Some(1.0))
    );
    let vals: Vec<u64> = r
        .get()
        .rows
        .iter()
        .map(|r| r.values[0].value().expect("nothing withheld"))
        .collect();
    assert!(vals.iter().any(|v| v % 10 != 0), "not rounded: {vals:?}");
    // small true counts are released too (noisy), not withheld
    let small = g
        .release_series(
            &q(&p, &RepeatKey::of_data("small", "s1")),
            weekly(&[0, 1, 2, 3, 4, 0, 1]),
        )
        .unwrap();
    assert!(
        small
            .get()
            .rows
            .iter()
            .all(|r| r.values[0].value().is_some())
    );
    // centred: over many weeks the mean error is small against the noise scale (b = 1/ε = 1)
    let mut err = 0i64;
    for i in 0..40 {
        let c = format!("centred {i}");
        let out = g
            .release_series(&q(&p, &RepeatKey::of_data(&c, "s1")), weekly(&truth[..50]))
            .unwrap();
        for (row, n) in out.get().rows.iter().zip(&truth) {
            err += row.values[0].value().unwrap() as i64 - *n as i64;
        }
    }
    assert!(
        (err as f64 / 2000.0).abs() < 0.2,
        "mean error {}",
        err as f64 / 2000.0
    );
    // without noise the usual rule applies
    let (_d2, exact) = gate(policy(5, 10, None, None));
    let r = exact
        .release_series(&q(&p, &RepeatKey::of_data("w", "s")), weekly(&[3, 14]))
        .unwrap();
    let vals: Vec<GatedCount> = r.get().rows.iter().map(|r| r.values[0]).collect();
    assert_eq!(
        vals,
        vec![GatedCount::Suppressed { below: 5 }, GatedCount::Value(10)]
    );
}
