//! Unit tests of the gate: thresholds, secondary suppression, budgets, ledger, limits.

use super::*;
use crate::policy::Noise;
use crate::table::Dim;

fn gate(policy: Policy) -> Gate {
    Gate::new(
        Policy {
            projects: vec!["*".into()],
            ..policy
        },
        [7; 32],
        Box::new(crate::MemoryLedger::new()),
    )
    .unwrap()
}

fn pid(s: &str) -> ProjectId {
    ProjectId::new(s).unwrap()
}

fn q<'a>(project: &'a ProjectId, researcher: &'a str, canonical: &'a str) -> Question<'a> {
    Question {
        project,
        researcher,
        // a test question lives as long as the test: leaking its key is harmless here
        key: Box::leak(Box::new(crate::RepeatKey::of_data(canonical, "snap-1"))),
        sensitivity: 1,
    }
}

fn exact() -> Policy {
    Policy {
        noise: Noise::Off,
        min_count: 5,
        rounding: 1,
        ..Policy::default()
    }
}

#[test]
fn rounding_goes_to_the_nearest_multiple() {
    assert_eq!(round_to(14, 10), 10);
    assert_eq!(round_to(15, 10), 20);
    assert_eq!(round_to(0, 10), 0);
    assert_eq!(round_to(7, 1), 7);
    assert_eq!(round_to(7, 5), 5);
}

/// The threshold looks at the noisy value only: a true 3 with noise +4 leaves (as 7), a true
/// 30 with noise −27 is withheld; without noise the rule is the deterministic one.
#[test]
fn the_threshold_is_decided_on_the_noisy_value() {
    assert_eq!(noisy_threshold(3, 4, 5, 1), GatedCount::Value(7));
    assert_eq!(
        noisy_threshold(3, 1, 5, 1),
        GatedCount::Suppressed { below: 5 }
    );
    assert_eq!(
        noisy_threshold(30, -27, 5, 1),
        GatedCount::Suppressed { below: 5 }
    );
    assert_eq!(noisy_threshold(4, 2, 5, 10), GatedCount::Value(10));
    assert_eq!(noisy_threshold(2, -9, 0, 1), GatedCount::Value(0));
    assert_eq!(
        exact_threshold(4, 5, 1),
        GatedCount::Suppressed { below: 5 }
    );
    assert_eq!(exact_threshold(5, 5, 1), GatedCount::Value(5));
    assert_eq!(
        exact_threshold(3, 3, 10),
        GatedCount::Suppressed { below: 3 }
    );
}

/// Over many questions and cells, a cell whose true count is below the minimum is released
/// with the probability the noisy threshold promises: with ε = 1, sensitivity 1 (`q = e^−1`),
/// true count 3 and minimum 5, `P[X ≥ 2] = q² / (1 + q) ≈ 0.0989`; a cell of true count 8 is
/// withheld with `P[X ≤ −4] = q⁴ / (1 + q) ≈ 0.0134`. Over 4,000 draws of each (100
/// questions of 40 cells; every cell has its own noise) the observed counts lie within 5
/// standard deviations of `n·p` (sd `√(n·p·(1−p))`: about 396 ± 19 and 54 ± 7) and are never
/// 0, as the deterministic rule on the true count would give.
#[test]
fn a_count_below_the_minimum_is_sometimes_released_at_the_promised_rate() {
    let g = gate(Policy {
        min_count: 5,
        rounding: 1,
        epsilon: Some(1.0),
        project_budget: Some(1e6),
        researcher_budget: Some(1e6),
        ..Policy::default()
    });
    let p = pid("p");
    let cells: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
    let (mut n, mut low_released, mut high_withheld) = (0u64, 0u64, 0u64);
    for i in 0..100 {
        let canonical = format!("question-{i}");
        let mut t = CountTable::new(
            vec![
                Dim::codes("c", cells.clone()),
                Dim::codes("t", ["low", "high"]),
            ],
            &["n"],
        );
        for c in &cells {
            t.add(&[c, "low"], "n", 3).unwrap();
            t.add(&[c, "high"], "n", 8).unwrap();
        }
        let r = g.release(&q(&p, "r", &canonical), t).unwrap().into_inner();
        for c in &cells {
            n += 1;
            low_released += u64::from(r.get(&[c, "low"], "n").unwrap().value().is_some());
            high_withheld += u64::from(r.get(&[c, "high"], "n").unwrap().value().is_none());
        }
    }
    let qq = (-1.0f64).exp();
    for (got, p, what) in [
        (low_released, qq.powi(2) / (1.0 + qq), "true 3 released"),
        (high_withheld, qq.powi(4) / (1.0 + qq), "true 8 withheld"),
    ] {
        let (mean, sd) = (p * n as f64, (n as f64 * p * (1.0 - p)).sqrt());
        assert!(
            (got as f64 - mean).abs() < 5.0 * sd && got > 0,
            "{what}: {got} of {n}, expected {mean:.0} ± {sd:.0}"
        );
    }
}

/// Without noise, a total whose slack over its released parts is below the minimum is
/// withheld too (it would bound the withheld parts below the minimum: exactly, for a single
/// one); with enough slack it stays.
#[test]
fn without_noise_a_total_cannot_give_a_single_withheld_part_away() {
    let g = gate(exact());
    let p = pid("p");
    let table = |parts: [u64; 3]| {
        let mut t = CountTable::new(vec![Dim::codes("c", ["total", "a", "b", "c"])], &["n"]);
        for (k, v) in ["a", "b", "c"].iter().zip(parts) {
            t.add(&[k], "n", v).unwrap();
        }
        t.add(&["total"], "n", parts.iter().sum()).unwrap();
        t.add_margin("n", &["total"], &[vec!["a"], vec!["b"], vec!["c"]])
            .unwrap();
        t
    };
    let r = g.release(&q(&p, "r", "one"), table([20, 30, 2])).unwrap();
    let r = r.get();
    assert_eq!(r.get(&["c"], "n").unwrap().value(), None);
    assert_eq!(
        r.get(&["total"], "n").unwrap().value(),
        None,
        "52 − 20 − 30 would give c = 2 away"
    );
    assert_eq!(r.get(&["a"], "n").unwrap().value(), Some(20));
    let r = g.release(&q(&p, "r", "two"), table([20, 3, 2])).unwrap();
    assert_eq!(r.get().get(&["total"], "n").unwrap().value(), Some(25));
    let r = g.release(&q(&p, "r", "zero"), table([20, 3, 0])).unwrap();
    assert_eq!(
        r.get().get(&["total"], "n").unwrap().value(),
        None,
        "23 − 20 = 3 would say both withheld cells together are 3"
    );
    let r = g.release(&q(&p, "r", "none"), table([20, 30, 40])).unwrap();
    assert_eq!(r.get().get(&["total"], "n").unwrap().value(), Some(90));
    // with noise on, the margin is left alone (every value is noisy)
    let g = gate(Policy {
        epsilon: Some(0.01),
        min_count: 5,
        rounding: 1,
        project_budget: Some(1e3),
        researcher_budget: Some(1e3),
        ..Policy::default()
    });
    let released_totals = (0..50)
        .filter(|i| {
            let r = g
                .release(&q(&p, "r", &format!("q{i}")), table([20, 30, 2]))
                .unwrap();
            let r = r.get();
            r.get(&["total"], "n").unwrap().value().is_some()
                && r.get(&["c"], "n").unwrap().value().is_none()
        })
        .count();
    assert!(released_totals > 0, "noise on: no secondary suppression");
}

/// A new question is charged to the project and to the researcher who asked; every answer
/// carries both and the smaller remainder; the ledger lists (project, researcher) rows; a
/// researcher's budget spans projects; a repeat is free for a colleague too.
#[test]
fn per_researcher_and_per_project_ledgers_and_remaining_budget_on_every_answer() {
    let g = gate(Policy {
        epsilon: Some(1.0),
        project_budget: Some(5.0),
        researcher_budget: Some(3.0),
        ..Policy::default()
    });
    let (p1, p2) = (pid("p1"), pid("p2"));
    let one = |p: &ProjectId, r: &str, c: &str| {
        g.release(&q(p, r, c), CountTable::scalar("n", 40))
            .map(|r| r.into_inner().disclosure)
    };
    let d = one(&p1, "alice", "a").unwrap();
    assert_eq!(
        (
            d.budget_spent,
            d.researcher_spent,
            d.remaining,
            d.noise,
            d.repeated
        ),
        (1.0, 1.0, Some(2.0), Noise::On, false)
    );
    let d = one(&p1, "bob", "a").unwrap();
    assert!(
        d.repeated && d.budget_spent == 1.0 && d.researcher_spent == 0.0,
        "{d:?}"
    );
    assert_eq!(d.remaining, Some(3.0), "bob: min(5 − 1, 3 − 0)");
    one(&p2, "alice", "b").unwrap();
    let d = one(&p1, "alice", "c").unwrap();
    assert_eq!(
        (d.budget_spent, d.researcher_spent, d.remaining),
        (2.0, 3.0, Some(0.0))
    );
    assert_eq!(
        one(&p1, "alice", "d"),
        Err(Refusal::ResearcherBudgetExhausted {
            researcher: "alice".into(),
            spent: 3.0,
            needed: 1.0,
            budget: 3.0
        })
    );
    // bob can still ask in p1 until the project's budget is used up
    for c in ["e", "f", "g"] {
        one(&p1, "bob", c).unwrap();
    }
    assert!(matches!(
        one(&p1, "bob", "h"),
        Err(Refusal::BudgetExhausted { .. })
    ));
    let rem = g.remaining(&p1, "bob").unwrap();
    assert_eq!(
        (rem.project_spent, rem.researcher_spent, rem.remaining),
        (5.0, 3.0, Some(0.0))
    );
    let rows: Vec<(String, String, u64, f64)> = g
        .ledger()
        .unwrap()
        .into_iter()
        .map(|e| (e.project, e.researcher, e.questions, e.spent))
        .collect();
    assert_eq!(
        rows,
        [
            ("p1".into(), "alice".into(), 2, 2.0),
            ("p1".into(), "bob".into(), 3, 3.0),
            ("p2".into(), "alice".into(), 1, 1.0),
        ]
    );
    assert_eq!(g.spent(&p1).unwrap(), 5.0);
}

/// A noise-off site spends nothing, says so on every answer, and has no remaining budget to
/// show; its ledger still lists the questions.
#[test]
fn noise_off_answers_say_so_and_spend_nothing() {
    let g = gate(exact());
    let p = pid("p");
    let r = g
        .release(&q(&p, "alice", "x"), CountTable::scalar("n", 7))
        .unwrap();
    let d = &r.get().disclosure;
    assert!(d.noise_off() && d.epsilon.is_none() && d.remaining.is_none());
    assert_eq!(d.budget_spent, 0.0);
    assert_eq!(r.get().rows[0].values[0], GatedCount::Value(7));
    let json = serde_json::to_value(r.get()).unwrap();
    assert_eq!(json["disclosure"]["noise"], "off");
    // an answer stored before the flag existed reads as off when it had no ε
    let mut old = json["disclosure"].clone();
    old.as_object_mut().unwrap().remove("noise");
    let back: Disclosure = serde_json::from_value(old).unwrap();
    assert_eq!(back.noise, Noise::Off);
    assert_eq!(g.ledger().unwrap()[0].questions, 1);
}

/// Rate limit, cells per day and the per-task bounds refuse with their own reason, before
/// anything is computed where the estimate allows, and a refusal spends nothing.
#[test]
fn limits_refuse_with_a_clear_reason_and_spend_nothing() {
    let g = gate(Policy {
        tasks_per_minute: 2,
        cells_per_day: 10,
        max_cells: 6,
        max_rows_scanned: 1000,
        ..Policy::default()
    });
    let p = pid("p");
    let adm = |rows: u64, cells: Option<u64>| Admission {
        project: &p,
        researcher: "alice",
        rows_scanned: rows,
        cells,
    };
    assert_eq!(
        g.admit(&adm(1001, Some(1))),
        Err(Refusal::TooManyRows {
            rows: 1001,
            limit: 1000
        })
    );
    assert_eq!(
        g.admit(&adm(10, Some(7))),
        Err(Refusal::TooManyCells { cells: 7, limit: 6 })
    );
    assert!(g.admit(&adm(10, Some(1))).is_ok());
    assert!(g.admit(&adm(10, None)).is_ok());
    let limited = g.admit(&adm(10, Some(1))).unwrap_err();
    assert!(matches!(limited, Refusal::RateLimited { limit: 2, .. }));
    assert!(limited.to_string().contains("2 tasks"), "{limited}");
    assert_eq!(g.usage(&p).unwrap().tasks_last_minute, 2);
    // another project has its own rate
    let other = pid("other");
    assert!(
        g.admit(&Admission {
            project: &other,
            ..adm(10, Some(1))
        })
        .is_ok()
    );
    // cells: a 7-cell table is refused at release, a 6-cell one passes, then the day is full
    let table = |n: usize| {
        let codes: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
        let mut t = CountTable::new(vec![Dim::codes("c", codes.clone())], &["n"]);
        for c in &codes {
            t.add(&[c], "n", 50).unwrap();
        }
        t
    };
    assert_eq!(
        g.release(&q(&p, "alice", "big"), table(7)).unwrap_err(),
        Refusal::TooManyCells { cells: 7, limit: 6 }
    );
    g.release(&q(&p, "alice", "six"), table(6)).unwrap();
    assert_eq!(
        g.release(&q(&p, "alice", "five"), table(5)).unwrap_err(),
        Refusal::CellsPerDay {
            project: "p".into(),
            used: 6,
            needed: 5,
            limit: 10
        }
    );
    assert_eq!(
        g.spent(&p).unwrap(),
        1.0,
        "the refused releases spent nothing"
    );
    assert_eq!(g.usage(&p).unwrap().cells_today, 6);
}

/// A table that reaches the gate after the task's time bound is refused as too slow before the
/// ledger: nothing is spent, and the same question in time is a new one, charged once.
#[test]
fn past_its_time_bound_a_table_is_refused_and_spends_nothing() {
    let g = gate(Policy {
        epsilon: Some(1.0),
        max_seconds: 3,
        ..Policy::default()
    });
    let p = pid("p1");
    let past = Instant::now() - std::time::Duration::from_millis(1);
    let e = g
        .release_before(&q(&p, "alice", "a"), CountTable::scalar("n", 40), past)
        .unwrap_err();
    assert_eq!(e, Refusal::TooSlow { limit_seconds: 3 });
    let e = g
        .release_series_before(&q(&p, "alice", "b"), CountTable::scalar("n", 40), past)
        .unwrap_err();
    assert_eq!(e, Refusal::TooSlow { limit_seconds: 3 });
    let soon = Instant::now() + std::time::Duration::from_secs(60);
    let d = g
        .release_before(&q(&p, "alice", "a"), CountTable::scalar("n", 40), soon)
        .unwrap()
        .into_inner()
        .disclosure;
    assert_eq!((d.budget_spent, d.repeated), (1.0, false), "{d:?}");
}
