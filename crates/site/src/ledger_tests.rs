//! The gate on its stored state: the ledger's rules hold in SQLite, spends and the secret
//! survive a restart, and an old ledger upgrades in place.

use super::*;
use kakehashi_disclosure::{Admission, CountTable, Question, RepeatKey};
use kakehashi_model::ProjectId;

fn policy() -> Policy {
    Policy {
        projects: vec!["*".into()],
        min_count: 0,
        rounding: 1,
        epsilon: Some(0.5),
        project_budget: Some(1.0),
        researcher_budget: Some(10.0),
        cells_per_day: 3,
        tasks_per_minute: 2,
        ..Policy::default()
    }
}

fn release(g: &Gate, p: &ProjectId, who: &str, question: &str) -> Result<u64, Refusal> {
    let key = RepeatKey::of_data(question, "snap-1");
    let q = Question {
        project: p,
        researcher: who,
        key: &key,
        sensitivity: 1,
    };
    g.release(&q, CountTable::scalar("count", 1000))
        .map(|r| r.get().rows[0].values[0].value().unwrap())
}

/// Budgets, repeats, the daily cells and the rate limit hold in the stored ledger, and a gate
/// reopened on the same directory answers the same and remembers every spend.
#[test]
fn the_stored_ledger_keeps_the_rules_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let p = ProjectId::new("p").unwrap();
    let g = open_gate(dir.path(), policy()).unwrap();
    let first = release(&g, &p, "ann", "q1").unwrap();
    assert_eq!(release(&g, &p, "bob", "q1").unwrap(), first, "a repeat");
    release(&g, &p, "ann", "q2").unwrap();
    assert!(matches!(
        release(&g, &p, "ann", "q3"),
        Err(Refusal::CellsPerDay { used: 3, .. })
    ));
    assert_eq!(g.spent(&p).unwrap(), 1.0);
    let admit = Admission {
        project: &p,
        researcher: "ann",
        rows_scanned: 0,
        cells: Some(0),
    };
    g.admit(&admit).unwrap();
    g.admit(&admit).unwrap();
    assert!(matches!(
        g.admit(&admit),
        Err(Refusal::RateLimited { limit: 2, .. })
    ));
    drop(g);
    let g = open_gate(
        dir.path(),
        Policy {
            cells_per_day: 100,
            ..policy()
        },
    )
    .unwrap();
    assert_eq!(release(&g, &p, "ann", "q1").unwrap(), first, "same secret");
    assert!(matches!(
        release(&g, &p, "ann", "q4"),
        Err(Refusal::BudgetExhausted { .. })
    ));
    let ledger = g.ledger().unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!((ledger[0].questions, ledger[0].spent), (2, 1.0));
    assert_eq!(g.usage(&p).unwrap().cells_today, 4);
    assert_eq!(g.usage(&p).unwrap().tasks_last_minute, 2);
}

/// A ledger written before researchers were recorded opens and keeps its spends.
#[test]
fn an_old_ledger_is_migrated_without_losing_spends() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = rusqlite::Connection::open(dir.path().join("gate.sqlite")).unwrap();
        db.execute_batch(
            "CREATE TABLE spent (project TEXT NOT NULL, question TEXT NOT NULL, snapshot TEXT NOT NULL,
               epsilon_milli INTEGER NOT NULL, at TEXT NOT NULL, PRIMARY KEY (project, question, snapshot));
             INSERT INTO spent VALUES ('p', 'q', 's', 2500, '2026-01-01 00:00:00');",
        )
        .unwrap();
    }
    let g = open_gate(
        dir.path(),
        Policy {
            projects: vec!["*".into()],
            ..Policy::default()
        },
    )
    .unwrap();
    assert_eq!(g.spent(&ProjectId::new("p").unwrap()).unwrap(), 2.5);
    assert_eq!(g.ledger().unwrap()[0].researcher, "");
}

/// A secret file that is not 64 hex digits is refused with the file named.
#[test]
fn a_damaged_secret_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gate.secret"), "abcd").unwrap();
    let e = open_gate(dir.path(), policy()).unwrap_err().to_string();
    assert!(e.contains("gate.secret") && e.contains("32 bytes"), "{e}");
}
