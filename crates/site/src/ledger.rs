//! The gate's state in the site agent's state directory: the noise secret (`gate.secret`, made
//! on first use, mode 0600) and the disclosure ledger in SQLite (`gate.sqlite`, WAL, synchronous
//! FULL). The accounting rules are `kakehashi_disclosure::ledger`'s; this module stores them.

use kakehashi_disclosure::ledger::{Balance, Charge, Limits, Spend, charge, now_ms, rate_check};
use kakehashi_disclosure::{
    Gate, GateError, Ledger, LedgerEntry, LedgerError, Policy, Refusal, Usage, ledger::milli,
};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The gate's state could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The secret file could not be read or written, or holds no secret.
    #[error("{path}: {reason}")]
    Secret {
        /// The file (or the state directory it should be in).
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The ledger database could not be opened.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The policy is invalid.
    #[error(transparent)]
    Gate(#[from] GateError),
}

/// Opens the gate of the site whose state lives in `dir`: the noise secret (`gate.secret`,
/// made on first use) and the ledger (`gate.sqlite`).
pub fn open_gate(dir: &Path, policy: Policy) -> Result<Gate, OpenError> {
    policy.validate().map_err(GateError::from)?;
    std::fs::create_dir_all(dir).map_err(|e| OpenError::Secret {
        path: dir.to_owned(),
        reason: e.to_string(),
    })?;
    let secret = load_or_make_secret(&dir.join("gate.secret"))?;
    let ledger = SqliteLedger::open(&dir.join("gate.sqlite"))?;
    Ok(Gate::new(policy, secret, Box::new(ledger))?)
}

fn load_or_make_secret(path: &Path) -> Result<[u8; 32], OpenError> {
    let err = |m: String| OpenError::Secret {
        path: path.to_owned(),
        reason: m,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes =
                hex::decode(text.trim()).map_err(|e| err(format!("not a hex secret: {e}")))?;
            bytes
                .try_into()
                .map_err(|_| err("the secret must be 32 bytes (64 hex digits)".into()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            rand::Rng::fill(&mut rand::rng(), &mut secret);
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, hex::encode(secret)).map_err(|e| err(e.to_string()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| err(e.to_string()))?;
            }
            std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))?;
            Ok(secret)
        }
        Err(e) => Err(err(e.to_string())),
    }
}

/// The disclosure ledger in SQLite: every check and its record in one `IMMEDIATE`
/// transaction.
pub struct SqliteLedger {
    db: Mutex<Connection>,
    path: PathBuf,
}

fn lerr(e: rusqlite::Error) -> Refusal {
    Refusal::Ledger(e.to_string())
}

impl SqliteLedger {
    /// Opens (or makes) the ledger database `path`, upgrading a ledger from before
    /// per-researcher budgets.
    pub fn open(path: &Path) -> Result<SqliteLedger, LedgerError> {
        let gerr = |e: rusqlite::Error| LedgerError {
            location: path.display().to_string(),
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
        Ok(SqliteLedger {
            db: Mutex::new(db),
            path: path.to_owned(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn gerr(&self, e: rusqlite::Error) -> LedgerError {
        LedgerError {
            location: self.path.display().to_string(),
            message: e.to_string(),
        }
    }
}

impl Ledger for SqliteLedger {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn admit(&self, project: &str, researcher: &str, tasks_per_minute: u32) -> Result<(), Refusal> {
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
        rate_check(project, recent as u64, tasks_per_minute)?;
        tx.execute(
            "INSERT INTO admitted (project, researcher, at_ms) VALUES (?1, ?2, ?3)",
            params![project, researcher, now],
        )
        .map_err(lerr)?;
        tx.commit().map_err(lerr)
    }

    fn usage(&self, project: &str) -> Result<Usage, LedgerError> {
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

    fn record(&self, c: &Charge<'_>, limits: &Limits) -> Result<Spend, Refusal> {
        let mut db = self.lock();
        let tx = db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(lerr)?;
        let seen: Option<i64> = tx
            .query_row(
                "SELECT epsilon_milli FROM spent WHERE project = ?1 AND question = ?2 AND snapshot = ?3",
                params![c.project, c.question, c.snapshot],
                |r| r.get(0),
            )
            .optional()
            .map_err(lerr)?;
        let balance = Balance {
            cells_today: cells_today(&tx, c.project).map_err(lerr)?,
            seen: seen.is_some(),
            project_milli: spent_milli(&tx, "project", c.project).map_err(lerr)?,
            researcher_milli: spent_milli(&tx, "researcher", c.researcher).map_err(lerr)?,
        };
        let spend = charge(c, &balance, limits)?;
        if !spend.repeated {
            tx.execute(
                "INSERT INTO spent (project, question, snapshot, epsilon_milli, at, researcher) VALUES (?1, ?2, ?3, ?4, datetime('now'), ?5)",
                params![c.project, c.question, c.snapshot, spend.charged_milli as i64, c.researcher],
            )
            .map_err(lerr)?;
        }
        tx.execute(
            "INSERT INTO cells (project, day, n) VALUES (?1, date('now'), ?2)
             ON CONFLICT (project, day) DO UPDATE SET n = n + excluded.n",
            params![c.project, c.cells as i64],
        )
        .map_err(lerr)?;
        tx.commit().map_err(lerr)?;
        Ok(spend)
    }

    fn spent(&self, project: &str, researcher: &str) -> Result<(u64, u64), LedgerError> {
        let db = self.lock();
        let p = spent_milli(&db, "project", project).map_err(|e| self.gerr(e))?;
        let r = spent_milli(&db, "researcher", researcher).map_err(|e| self.gerr(e))?;
        Ok((p, r))
    }

    fn entries(&self) -> Result<Vec<LedgerEntry>, LedgerError> {
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

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
