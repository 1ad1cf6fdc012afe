//! The gate: policy, noise, rounding, suppression and the ε ledger, in one place.

use crate::key::RepeatKey;
use crate::noise::{NoiseStream, Scale};
use crate::policy::{Policy, PolicyError};
use crate::table::{CountTable, DimHeader, Disclosure, GatedCount, GatedRow, GatedTable, Released};
use kakehashi_model::ProjectId;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The gate could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The policy is invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The secret file could not be read or written.
    #[error("{path}: {message}")]
    Secret {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The ledger database failed.
    #[error("disclosure ledger {path}: {message}")]
    Ledger {
        /// The database file.
        path: PathBuf,
        /// SQLite's message.
        message: String,
    },
}

/// Why the gate refused to release a result. The reason is sent to the hub instead of data.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// The site's policy does not list the task's project.
    #[error("this site does not answer project {project}")]
    ProjectNotAllowed {
        /// The project.
        project: String,
    },
    /// The project's ε budget at this site would be exceeded.
    #[error(
        "the privacy budget of project {project} at this site is exhausted (spent ε = {spent}, this question needs ε = {needed}, budget ε = {budget})"
    )]
    BudgetExhausted {
        /// The project.
        project: String,
        /// ε spent so far.
        spent: f64,
        /// ε this question needs.
        needed: f64,
        /// The budget.
        budget: f64,
    },
    /// The task produced a malformed table (a bug, reported rather than sent).
    #[error("the result table is malformed: {0}")]
    Table(String),
    /// The ledger could not record the spend, so nothing is released.
    #[error("the disclosure ledger failed: {0}")]
    Ledger(String),
}

/// What identifies a question for noise and budget: project, the question's [`RepeatKey`]
/// (its whole meaning: canonical request, evaluation date, data snapshot, reference data and
/// software versions), and how many counts one patient can change.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    /// The task's project.
    pub project: &'a ProjectId,
    /// The question's repeat key: the same key gets the stored answer, free.
    pub key: &'a RepeatKey,
    /// How many released counts one patient can change at most (1 for a cohort count).
    pub sensitivity: u32,
}

/// The disclosure gate of one site. Every result that leaves the site passes
/// [`Gate::release`], the only maker of [`Released`] values.
pub struct Gate {
    policy: Policy,
    secret: [u8; 32],
    db: Mutex<Connection>,
    db_path: PathBuf,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("policy", &self.policy)
            .field("ledger", &self.db_path)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// Opens the gate of the site whose state lives in `dir`: the noise secret
    /// (`gate.secret`, made on first use) and the ε ledger (`gate.sqlite`).
    pub fn open(dir: &Path, policy: Policy) -> Result<Gate, GateError> {
        policy.validate()?;
        std::fs::create_dir_all(dir).map_err(|e| GateError::Secret {
            path: dir.to_owned(),
            message: e.to_string(),
        })?;
        let secret = load_or_make_secret(&dir.join("gate.secret"))?;
        let db_path = dir.join("gate.sqlite");
        let lerr = |e: rusqlite::Error| GateError::Ledger {
            path: db_path.clone(),
            message: e.to_string(),
        };
        let db = Connection::open(&db_path).map_err(lerr)?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS spent (
               project TEXT NOT NULL, question TEXT NOT NULL, snapshot TEXT NOT NULL,
               epsilon_milli INTEGER NOT NULL, at TEXT NOT NULL,
               PRIMARY KEY (project, question, snapshot));",
        )
        .map_err(lerr)?;
        Ok(Gate {
            policy,
            secret,
            db: Mutex::new(db),
            db_path,
        })
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Refuses tasks of projects the policy does not list.
    pub fn admit(&self, project: &ProjectId) -> Result<(), Refusal> {
        if self.policy.allows(project) {
            Ok(())
        } else {
            Err(Refusal::ProjectNotAllowed {
                project: project.to_string(),
            })
        }
    }

    /// ε spent by a project at this site.
    pub fn spent(&self, project: &ProjectId) -> Result<f64, Refusal> {
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        Ok(
            spent_milli(&db, project.as_str()).map_err(|e| Refusal::Ledger(e.to_string()))? as f64
                / 1000.0,
        )
    }

    /// Releases a table of true counts: checks the project, spends ε for a new question (a
    /// repeated one costs nothing and gets the same answer), adds noise derived from the
    /// question, rounds, and withholds counts below the minimum (whether the true count or its
    /// released value is below it).
    pub fn release(
        &self,
        q: &Question<'_>,
        table: CountTable,
    ) -> Result<Released<GatedTable>, Refusal> {
        self.release_with(q, table, self.policy.min_count, self.policy.rounding)
    }

    /// Releases a weekly time series under the series rule (`docs/privacy.md`): when the
    /// site's noise is on, each count leaves with its discrete Laplace noise only, neither
    /// rounded nor withheld below the minimum. Rounding and thresholding after the noise are
    /// post-processing: they add nothing to the ε guarantee (and the threshold on the *true*
    /// count is itself outside it), while at weekly hospital counts they turn a season into
    /// spikes of 0/10/20 with gaps. Without noise (ε = 0) rounding and the minimum are the only
    /// protection and apply as for every other count. The released table's [`Disclosure`]
    /// states what was applied (minimum 0 and rounding 1 under the series rule).
    pub fn release_series(
        &self,
        q: &Question<'_>,
        table: CountTable,
    ) -> Result<Released<GatedTable>, Refusal> {
        match self.policy.epsilon_milli() {
            Some(_) => self.release_with(q, table, 0, 1),
            None => self.release(q, table),
        }
    }

    fn release_with(
        &self,
        q: &Question<'_>,
        table: CountTable,
        min: u64,
        step: u64,
    ) -> Result<Released<GatedTable>, Refusal> {
        self.admit(q.project)?;
        let question = q.key.as_str();
        let eps = self.policy.epsilon_milli();
        let (repeated, spent) = match eps {
            None => (false, 0),
            Some(e) => self.spend(q, question, e)?,
        };
        let scale = eps.map(|e| Scale::from_epsilon(q.sensitivity, e));
        let rows = table
            .rows
            .iter()
            .map(|(key, values)| GatedRow {
                key: key.clone(),
                values: values
                    .iter()
                    .zip(&table.measures)
                    .map(|(&n, measure)| {
                        let noisy = match scale {
                            Some(b) => {
                                let joined = key.join("\u{1f}");
                                let mut s = NoiseStream::derive(
                                    &self.secret,
                                    &[
                                        q.project.as_str(),
                                        question,
                                        q.key.snapshot(),
                                        &joined,
                                        measure,
                                    ],
                                );
                                (n as i128 + s.discrete_laplace(b) as i128).max(0) as u64
                            }
                            None => n,
                        };
                        let released = round_to(noisy, step);
                        if n < min || released < min {
                            GatedCount::Suppressed { below: min }
                        } else {
                            GatedCount::Value(released)
                        }
                    })
                    .collect(),
            })
            .collect();
        let dims = table
            .dims
            .iter()
            .map(|d| DimHeader {
                name: d.name.clone(),
                kind: d.kind,
            })
            .collect();
        tracing::info!(project = %q.project, question = &question[..12], snapshot = q.key.snapshot(), repeated, cells = table.rows.len() * table.measures.len(), "released");
        Ok(Released(GatedTable {
            dims,
            measures: table.measures.clone(),
            rows,
            disclosure: Disclosure {
                min_count: min,
                rounding: step,
                epsilon: self.policy.noise_epsilon(),
                sensitivity: q.sensitivity,
                repeated,
                budget_spent: spent as f64 / 1000.0,
                budget: self.policy.project_budget,
            },
        }))
    }

    /// Records the spend of a new question atomically; returns (repeated, total spent).
    fn spend(&self, q: &Question<'_>, question: &str, eps: u64) -> Result<(bool, u64), Refusal> {
        let lerr = |e: rusqlite::Error| Refusal::Ledger(e.to_string());
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let tx = db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(lerr)?;
        let seen: Option<i64> = tx
            .query_row(
                "SELECT epsilon_milli FROM spent WHERE project = ?1 AND question = ?2 AND snapshot = ?3",
                params![q.project.as_str(), question, q.key.snapshot()],
                |r| r.get(0),
            )
            .optional()
            .map_err(lerr)?;
        let spent = spent_milli(&tx, q.project.as_str()).map_err(lerr)?;
        if seen.is_some() {
            return Ok((true, spent));
        }
        if let Some(budget) = self.policy.budget_milli()
            && spent + eps > budget
        {
            return Err(Refusal::BudgetExhausted {
                project: q.project.to_string(),
                spent: spent as f64 / 1000.0,
                needed: eps as f64 / 1000.0,
                budget: budget as f64 / 1000.0,
            });
        }
        tx.execute(
            "INSERT INTO spent (project, question, snapshot, epsilon_milli, at) VALUES (?1, ?2, ?3, ?4, datetime('now'))",
            params![q.project.as_str(), question, q.key.snapshot(), eps as i64],
        )
        .map_err(lerr)?;
        tx.commit().map_err(lerr)?;
        Ok((false, spent + eps))
    }
}

fn spent_milli(db: &Connection, project: &str) -> rusqlite::Result<u64> {
    db.query_row(
        "SELECT COALESCE(SUM(epsilon_milli), 0) FROM spent WHERE project = ?1",
        [project],
        |r| r.get::<_, i64>(0),
    )
    .map(|v| v as u64)
}

/// Rounds to the nearest multiple of `step` (halves up).
fn round_to(n: u64, step: u64) -> u64 {
    if step <= 1 {
        return n;
    }
    (n + step / 2) / step * step
}

fn load_or_make_secret(path: &Path) -> Result<[u8; 32], GateError> {
    let err = |m: String| GateError::Secret {
        path: path.to_owned(),
        message: m,
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

#[cfg(test)]
mod tests {
    use super::round_to;

    #[test]
    fn rounding_goes_to_the_nearest_multiple() {
        assert_eq!(round_to(14, 10), 10);
        assert_eq!(round_to(15, 10), 20);
        assert_eq!(round_to(0, 10), 0);
        assert_eq!(round_to(7, 1), 7);
        assert_eq!(round_to(7, 5), 5);
    }
}
