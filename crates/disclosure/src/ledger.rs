//! The site's disclosure ledger (`gate.sqlite`): ε spent per question, project and researcher,
//! tasks admitted per project (rate limit) and cells released per project and day.

use crate::gate::{GateError, Refusal};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One row of the ledger as the steward sees it: what one researcher spent in one project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerEntry {
    /// The project.
    pub project: String,
    /// The researcher (the tasks' `requested_by`; empty for spends recorded before
    /// researchers were).
    pub researcher: String,
    /// New questions answered (repeats are not counted: they cost nothing).
    pub questions: u64,
    /// ε spent.
    pub spent: f64,
    /// When the last new question was answered (UTC, `YYYY-MM-DD HH:MM:SS`).
    pub last: String,
}

/// What a researcher may still spend in a project at this site.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Remaining {
    /// ε spent by the project (all its researchers).
    pub project_spent: f64,
    /// The project's budget, if limited.
    pub project_budget: Option<f64>,
    /// ε spent by the researcher (all projects).
    pub researcher_spent: f64,
    /// The researcher's budget, if limited.
    pub researcher_budget: Option<f64>,
    /// The smaller of both remainders (none when neither is limited or noise is off).
    pub remaining: Option<f64>,
}

/// A project's recent use of the site, against the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Tasks admitted in the last 60 seconds.
    pub tasks_last_minute: u64,
    /// Cells released today (UTC).
    pub cells_today: u64,
}

/// The outcome of recording a release.
pub(crate) struct Spend {
    pub(crate) repeated: bool,
    pub(crate) project_milli: u64,
    pub(crate) researcher_milli: u64,
}

/// Budgets and limits a spend is checked against (thousandths of ε).
pub(crate) struct Limits {
    pub(crate) project_milli: Option<u64>,
    pub(crate) researcher_milli: Option<u64>,
    pub(crate) cells_per_day: u64,
}

pub(crate) struct Ledger {
    db: Mutex<Connection>,
    path: PathBuf,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn lerr(e: rusqlite::Error) -> Refusal {
    Refusal::Ledger(e.to_string())
}

impl Ledger {
    pub(crate) fn open(path: &Path) -> Result<Ledger, GateError> {
        let gerr = |e: rusqlite::Error| GateError::Ledger {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let db = Connection::open(path).map_err(gerr)?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS spent (
               project TEXT NOT NULL, question TEXT NOT NULL, snapshot TEXT NOT NULL,
               epsilon_milli INTEGER NOT NULL, at TEXT NOT NULL,
               PRIMARY KEY (project, question, snapshot));
             CREATE TABLE IF NOT EXISTS admitted (
               project TEXT NOT NULL, researcher TEXT NOT NULL, at_ms INTEGER NOT NULL);
             CREATE INDEX IF NOT EXISTS admitted_at ON admitted (project, at_ms);
             CREATE TABLE IF NOT EXISTS cells (
               project TEXT NOT NULL, day TEXT NOT NULL, n INTEGER NOT NULL,
               PRIMARY KEY (project, day));",
        )
        .map_err(gerr)?;
        // Ledgers from before per-researcher budgets: their spends belong to nobody.
        let has_researcher: bool = db
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('spent') WHERE name = 'researcher'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(gerr)?
            > 0;
        if !has_researcher {
            db.execute_batch("ALTER TABLE spent ADD COLUMN researcher TEXT NOT NULL DEFAULT ''")
                .map_err(gerr)?;
        }
        Ok(Ledger {
            db: Mutex::new(db),
            path: path.to_owned(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn gerr(&self, e: rusqlite::Error) -> GateError {
        GateError::Ledger {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Records an admitted task if the project is under its rate limit, in one transaction.
    pub(crate) fn admit(
        &self,
        project: &str,
        researcher: &str,
        tasks_per_minute: u32,
    ) -> Result<(), Refusal> {
        let mut db = self.lock();
        let tx = db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(lerr)?;
        let now = now_ms();
        tx.execute(
            "DELETE FROM admitted WHERE at_ms < ?1",
            [now - 24 * 3600 * 1000],
        )
        .map_err(lerr)?;
        let recent: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM admitted WHERE project = ?1 AND at_ms > ?2",
                params![project, now - 60_000],
                |r| r.get(0),
            )
            .map_err(lerr)?;
        if recent as u64 >= u64::from(tasks_per_minute) {
            return Err(Refusal::RateLimited {
                project: project.to_owned(),
                limit: tasks_per_minute,
            });
        }
        tx.execute(
            "INSERT INTO admitted (project, researcher, at_ms) VALUES (?1, ?2, ?3)",
            params![project, researcher, now],
        )
        .map_err(lerr)?;
        tx.commit().map_err(lerr)
    }

    /// A project's use against the rate limits.
    pub(crate) fn usage(&self, project: &str) -> Result<Usage, GateError> {
        let db = self.lock();
        let recent: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM admitted WHERE project = ?1 AND at_ms > ?2",
                params![project, now_ms() - 60_000],
                |r| r.get(0),
            )
            .map_err(|e| self.gerr(e))?;
        let cells = cells_today(&db, project).map_err(|e| self.gerr(e))?;
        Ok(Usage {
            tasks_last_minute: recent as u64,
            cells_today: cells,
        })
    }

    /// Records a release atomically: checks the day's cells and, for a new question, both
    /// budgets; then records the spend (ε 0 without noise) and the cells. Nothing is recorded
    /// when it refuses.
    pub(crate) fn record(
        &self,
        q: &crate::Question<'_>,
        question: &str,
        eps_milli: u64,
        cells: u64,
        limits: &Limits,
    ) -> Result<Spend, Refusal> {
        let project = q.project.as_str();
        let mut db = self.lock();
        let tx = db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(lerr)?;
        let today = cells_today(&tx, project).map_err(lerr)?;
        if today + cells > limits.cells_per_day {
            return Err(Refusal::CellsPerDay {
                project: project.to_owned(),
                used: today,
                needed: cells,
                limit: limits.cells_per_day,
            });
        }
        let seen: Option<i64> = tx
            .query_row(
                "SELECT epsilon_milli FROM spent WHERE project = ?1 AND question = ?2 AND snapshot = ?3",
                params![project, question, q.key.snapshot()],
                |r| r.get(0),
            )
            .optional()
            .map_err(lerr)?;
        let p_spent = spent_milli(&tx, "project", project).map_err(lerr)?;
        let r_spent = spent_milli(&tx, "researcher", q.researcher).map_err(lerr)?;
        let repeated = seen.is_some();
        let eps = if repeated { 0 } else { eps_milli };
        if !repeated {
            if let Some(budget) = limits.project_milli
                && p_spent + eps > budget
            {
                return Err(Refusal::BudgetExhausted {
                    project: project.to_owned(),
                    spent: milli(p_spent),
                    needed: milli(eps),
                    budget: milli(budget),
                });
            }
            if let Some(budget) = limits.researcher_milli
                && r_spent + eps > budget
            {
                return Err(Refusal::ResearcherBudgetExhausted {
                    researcher: q.researcher.to_owned(),
                    spent: milli(r_spent),
                    needed: milli(eps),
                    budget: milli(budget),
                });
            }
            tx.execute(
                "INSERT INTO spent (project, question, snapshot, epsilon_milli, at, researcher) VALUES (?1, ?2, ?3, ?4, datetime('now'), ?5)",
                params![project, question, q.key.snapshot(), eps as i64, q.researcher],
            )
            .map_err(lerr)?;
        }
        tx.execute(
            "INSERT INTO cells (project, day, n) VALUES (?1, date('now'), ?2)
             ON CONFLICT (project, day) DO UPDATE SET n = n + excluded.n",
            params![project, cells as i64],
        )
        .map_err(lerr)?;
        tx.commit().map_err(lerr)?;
        Ok(Spend {
            repeated,
            project_milli: p_spent + eps,
            researcher_milli: r_spent + eps,
        })
    }

    /// ε spent (thousandths) by a project and by a researcher.
    pub(crate) fn spent(&self, project: &str, researcher: &str) -> Result<(u64, u64), GateError> {
        let db = self.lock();
        let p = spent_milli(&db, "project", project).map_err(|e| self.gerr(e))?;
        let r = spent_milli(&db, "researcher", researcher).map_err(|e| self.gerr(e))?;
        Ok((p, r))
    }

    /// Every (project, researcher) with what they spent, ordered by project and researcher.
    pub(crate) fn entries(&self) -> Result<Vec<LedgerEntry>, GateError> {
        let db = self.lock();
        let mut st = db
            .prepare(
                "SELECT project, researcher, COUNT(*), SUM(epsilon_milli), MAX(at) FROM spent
                 GROUP BY project, researcher ORDER BY project, researcher",
            )
            .map_err(|e| self.gerr(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(LedgerEntry {
                    project: r.get(0)?,
                    researcher: r.get(1)?,
                    questions: r.get::<_, i64>(2)? as u64,
                    spent: milli(r.get::<_, i64>(3)? as u64),
                    last: r.get(4)?,
                })
            })
            .map_err(|e| self.gerr(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.gerr(e))
    }
}

pub(crate) fn milli(m: u64) -> f64 {
    m as f64 / 1000.0
}

fn spent_milli(db: &Connection, column: &str, value: &str) -> rusqlite::Result<u64> {
    // `column` is one of two constants, never input.
    db.query_row(
        &format!("SELECT COALESCE(SUM(epsilon_milli), 0) FROM spent WHERE {column} = ?1"),
        [value],
        |r| r.get::<_, i64>(0),
    )
    .map(|v| v as u64)
}

fn cells_today(db: &Connection, project: &str) -> rusqlite::Result<u64> {
    db.query_row(
        "SELECT COALESCE(SUM(n), 0) FROM cells WHERE project = ?1 AND day = date('now')",
        [project],
        |r| r.get::<_, i64>(0),
    )
    .map(|v| v as u64)
}
