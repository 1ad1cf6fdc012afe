//! The steward's records at the site (`<state_dir>/steward.sqlite`): every task the agent
//! received with its state, the steward's decisions in manual-approval mode, and the signed
//! answer body exactly as it left the site. The steward console ([`crate::console`]) reads
//! them; the agent writes them.

use chrono::{DateTime, Utc};
use kakehashi_federation::Task;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio::sync::Notify;

mod hub_refused;
mod summary;
pub use summary::summary;

/// How the site decides whether to answer a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    /// Every admitted task is computed and released at once (the gate still applies).
    #[default]
    Auto,
    /// Each task waits in the steward console until the steward approves or refuses it.
    Manual,
}

/// A task's state at the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Received, being computed (automatic approval).
    Received,
    /// Waiting for the steward's decision (manual approval).
    Waiting,
    /// Approved by the steward, being computed.
    Approved,
    /// Answered with a released table.
    Answered,
    /// Refused (by the gate or by the steward).
    Refused,
    /// The site could not compute it.
    Failed,
    /// Its deadline passed before it was decided or answered; nothing was sent.
    Expired,
}

impl TaskState {
    /// The state's name (`waiting`, `answered`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Received => "received",
            TaskState::Waiting => "waiting",
            TaskState::Approved => "approved",
            TaskState::Answered => "answered",
            TaskState::Refused => "refused",
            TaskState::Failed => "failed",
            TaskState::Expired => "expired",
        }
    }

    fn parse(s: &str) -> TaskState {
        match s {
            "waiting" => TaskState::Waiting,
            "approved" => TaskState::Approved,
            "answered" => TaskState::Answered,
            "refused" => TaskState::Refused,
            "failed" => TaskState::Failed,
            "expired" => TaskState::Expired,
            _ => TaskState::Received,
        }
    }
}

/// A task as the steward sees it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    /// Task id.
    pub id: String,
    /// Project.
    pub project: String,
    /// Who asked.
    pub researcher: String,
    /// Task type (`cohort`, `antibiogram`, `surveillance_series`).
    pub kind: String,
    /// A readable summary of the question.
    pub summary: String,
    /// The question as it came from the hub (JSON).
    pub spec: String,
    /// When the site received it.
    pub received: DateTime<Utc>,
    /// Its deadline.
    pub deadline: DateTime<Utc>,
    /// Its state.
    pub state: TaskState,
    /// Why refused or failed, as sent.
    pub reason: Option<String>,
    /// Who decided (manual approval).
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The steward's comment on a refusal.
    pub comment: Option<String>,
    /// ε this task spent at the site (0 for a repeated question).
    pub epsilon: Option<f64>,
    /// Whether an answer body was sent (see [`Steward::sent_body`]).
    pub sent: bool,
}

/// An answer as it left the site.
#[derive(Debug, Clone, Serialize)]
pub struct SentAnswer {
    /// Task id.
    pub task: String,
    /// When it was signed.
    pub at: DateTime<Utc>,
    /// The signed JSON body, byte for byte.
    pub body: String,
    /// Its Ed25519 signature (base64).
    pub signature: String,
}

/// ε charged per researcher and project, from the tasks' released tables.
#[derive(Debug, Clone, Serialize)]
pub struct ResearcherSpend {
    /// Researcher (user name at the hub).
    pub researcher: String,
    /// Project.
    pub project: String,
    /// Tasks answered.
    pub answered: u64,
    /// ε spent by those tasks.
    pub epsilon: f64,
}

/// The steward's records could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[error("steward records {path}: {message}")]
pub struct StewardError {
    path: PathBuf,
    message: String,
}

/// A steward's decision could not be taken.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecideError {
    /// No such task at this site.
    #[error("no task {0} at this site")]
    Unknown(String),
    /// Already decided, answered, or not waiting for a decision.
    #[error("task {id} is {state}, not waiting for a decision")]
    NotWaiting {
        /// The task.
        id: String,
        /// Its state.
        state: &'static str,
    },
    /// Its deadline has passed.
    #[error("task {0} is past its deadline; it has dropped out of the queue")]
    Expired(String),
    /// The database failed.
    #[error("steward records: {0}")]
    Db(String),
}

/// What the steward decided about a waiting task.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Compute and release it.
    Go,
    /// Refuse it, with the steward's optional comment.
    Refuse(Option<String>),
    /// Its deadline passed first: send nothing.
    Expired,
}

/// The longest steward comment sent to the hub, in characters.
pub const MAX_COMMENT: usize = 500;

/// The steward's records and the queue of tasks awaiting a decision.
pub struct Steward {
    db: Mutex<Connection>,
    path: PathBuf,
    approval: Approval,
    decided: Notify,
}

impl std::fmt::Debug for Steward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Steward")
            .field("path", &self.path)
            .field("approval", &self.approval)
            .finish_non_exhaustive()
    }
}

type R<T> = Result<T, rusqlite::Error>;

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

impl Steward {
    /// Opens (and creates) `dir/steward.sqlite`.
    pub fn open(dir: &Path, approval: Approval) -> Result<Steward, StewardError> {
        let path = dir.join("steward.sqlite");
        let err = |e: String| StewardError {
            path: path.clone(),
            message: e,
        };
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        let db = Connection::open(&path).map_err(|e| err(e.to_string()))?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, project TEXT NOT NULL,
               researcher TEXT NOT NULL, kind TEXT NOT NULL, summary TEXT NOT NULL,
               task TEXT NOT NULL, received TEXT NOT NULL, deadline TEXT NOT NULL,
               state TEXT NOT NULL, reason TEXT, decided_by TEXT, decided_at TEXT,
               comment TEXT, epsilon REAL);
             CREATE INDEX IF NOT EXISTS tasks_received ON tasks(received);
             CREATE TABLE IF NOT EXISTS sent (task TEXT PRIMARY KEY REFERENCES tasks(id),
               at TEXT NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS hub_refused (task TEXT PRIMARY KEY, at TEXT NOT NULL,
               status INTEGER NOT NULL, reason TEXT NOT NULL);",
        )
        .map_err(|e| err(e.to_string()))?;
        Ok(Steward {
            db: Mutex::new(db),
            path,
            approval,
            decided: Notify::new(),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The approval mode.
    pub fn approval(&self) -> Approval {
        self.approval
    }

    /// Records a task as it arrives (a task seen before keeps its state and decision) and
    /// returns its state.
    pub fn received(&self, task: &Task) -> R<TaskState> {
        let c = self.conn();
        let initial = match self.approval {
            Approval::Auto => TaskState::Received,
            Approval::Manual => TaskState::Waiting,
        };
        let json = serde_json::to_string(task).unwrap_or_default();
        let spec = serde_json::to_value(&task.spec).unwrap_or_default();
        c.execute(
            "INSERT OR IGNORE INTO tasks (id, project, researcher, kind, summary, task, received, deadline, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                task.id.as_str(),
                task.project.as_str(),
                task.requested_by,
                task.spec.kind(),
                summary(&spec),
                json,
                Utc::now().to_rfc3339(),
                task.deadline.to_rfc3339(),
                initial.as_str()
            ],
        )?;
        let s: String = c.query_row(
            "SELECT state FROM tasks WHERE id = ?1",
            [task.id.as_str()],
            |r| r.get(0),
        )?;
        Ok(TaskState::parse(&s))
    }

    /// Waits for the steward's decision on a waiting task, until its deadline.
    pub async fn verdict(&self, task: &Task) -> Verdict {
        loop {
            let notified = self.decided.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let row = self.task(task.id.as_str()).ok().flatten();
            match row.map(|r| (r.state, r.comment)) {
                Some((TaskState::Waiting, _)) | None => {}
                Some((TaskState::Refused, comment)) => return Verdict::Refuse(comment),
                Some((TaskState::Expired, _)) => return Verdict::Expired,
                Some(_) => return Verdict::Go,
            }
            let left = (task.deadline - Utc::now()).to_std().unwrap_or_default();
            if left.is_zero() {
                let _ = self.set_state(task.id.as_str(), TaskState::Expired, None);
                // the steward may have decided in the same instant
                return match self.task(task.id.as_str()).ok().flatten().map(|r| r.state) {
                    Some(TaskState::Approved) => Verdict::Go,
                    _ => Verdict::Expired,
                };
            }
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// The steward approves (`approve`) or refuses a waiting task.
    pub fn decide(
        &self,
        id: &str,
        approve: bool,
        by: &str,
        comment: Option<&str>,
    ) -> Result<(), DecideError> {
        let db = |e: rusqlite::Error| DecideError::Db(e.to_string());
        let row = self
            .task(id)
            .map_err(db)?
            .ok_or_else(|| DecideError::Unknown(id.to_owned()))?;
        if row.state != TaskState::Waiting {
            return Err(DecideError::NotWaiting {
                id: id.to_owned(),
                state: row.state.as_str(),
            });
        }
        if row.deadline <= Utc::now() {
            return Err(DecideError::Expired(id.to_owned()));
        }
        let comment = comment.map(clean_comment).filter(|c| !c.is_empty());
        let (state, reason) = if approve {
            (TaskState::Approved, None)
        } else {
            (
                TaskState::Refused,
                Some(
                    kakehashi_disclosure::Refusal::StewardRefused {
                        comment: comment.clone(),
                    }
                    .to_string(),
                ),
            )
        };
        let n = self
            .conn()
            .execute(
                "UPDATE tasks SET state = ?2, reason = ?3, decided_by = ?4, decided_at = ?5, comment = ?6
                 WHERE id = ?1 AND state = 'waiting'",
                params![id, state.as_str(), reason, by, Utc::now().to_rfc3339(), comment],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(DecideError::NotWaiting {
                id: id.to_owned(),
                state: "decided",
            });
        }
        self.decided.notify_waiters();
        Ok(())
    }

    fn set_state(&self, id: &str, state: TaskState, reason: Option<&str>) -> R<()> {
        let c = self.conn();
        if state == TaskState::Expired {
            c.execute(
                "UPDATE tasks SET state = 'expired' WHERE id = ?1 AND state IN ('waiting', 'received')",
                [id],
            )?;
        } else {
            c.execute(
                "UPDATE tasks SET state = ?2, reason = COALESCE(?3, reason) WHERE id = ?1",
                params![id, state.as_str(), reason],
            )?;
        }
        Ok(())
    }

    /// Marks a task expired (its deadline passed before the site saw it).
    pub fn expired(&self, id: &str) -> R<()> {
        self.set_state(id, TaskState::Expired, None)
    }

    /// Records the outcome and the signed body exactly as it leaves the site.
    pub fn sent(
        &self,
        id: &str,
        state: TaskState,
        reason: Option<&str>,
        epsilon: Option<f64>,
        body: &str,
        signature: &str,
    ) -> R<()> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        tx.execute(
            "UPDATE tasks SET state = ?2, reason = COALESCE(?3, reason), epsilon = ?4 WHERE id = ?1",
            params![id, state.as_str(), reason, epsilon],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO sent (task, at, body, signature) VALUES (?1, ?2, ?3, ?4)",
            params![id, Utc::now().to_rfc3339(), body, signature],
        )?;
        tx.commit()
    }

    const COLUMNS: &'static str = "t.id, t.project, t.researcher, t.kind, t.summary, t.task, t.received, t.deadline, t.state, t.reason, t.decided_by, t.decided_at, t.comment, t.epsilon, EXISTS (SELECT 1 FROM sent s WHERE s.task = t.id)";

    fn row(r: &rusqlite::Row<'_>) -> R<TaskRow> {
        let task: String = r.get(5)?;
        let spec = serde_json::from_str::<serde_json::Value>(&task)
            .ok()
            .and_then(|t| {
                t.get("spec")
                    .map(|s| serde_json::to_string_pretty(s).unwrap_or_default())
            })
            .unwrap_or_default();
        Ok(TaskRow {
            id: r.get(0)?,
            project: r.get(1)?,
            researcher: r.get(2)?,
            kind: r.get(3)?,
            summary: r.get(4)?,
            spec,
            received: time(&r.get::<_, String>(6)?),
            deadline: time(&r.get::<_, String>(7)?),
            state: TaskState::parse(&r.get::<_, String>(8)?),
            reason: r.get(9)?,
            decided_by: r.get(10)?,
            decided_at: r.get::<_, Option<String>>(11)?.map(|s| time(&s)),
            comment: r.get(12)?,
            epsilon: r.get(13)?,
            sent: r.get(14)?,
        })
    }

    /// One task.
    pub fn task(&self, id: &str) -> R<Option<TaskRow>> {
        let c = self.conn();
        c.query_row(
            &format!("SELECT {} FROM tasks t WHERE t.id = ?1", Self::COLUMNS),
            [id],
            Self::row,
        )
        .optional()
    }

    /// The queue: tasks waiting for a decision whose deadline has not passed, oldest first.
    pub fn queue(&self) -> R<Vec<TaskRow>> {
        let c = self.conn();
        let mut stmt = c.prepare(&format!(
            "SELECT {} FROM tasks t WHERE t.state = 'waiting' AND t.deadline > ?1 ORDER BY t.received",
            Self::COLUMNS
        ))?;
        stmt.query_map([Utc::now().to_rfc3339()], Self::row)?
            .collect()
    }

    /// The latest tasks, newest first.
    pub fn recent(&self, limit: u32) -> R<Vec<TaskRow>> {
        let c = self.conn();
        let mut stmt = c.prepare(&format!(
            "SELECT {} FROM tasks t ORDER BY t.received DESC LIMIT ?1",
            Self::COLUMNS
        ))?;
        stmt.query_map([limit], Self::row)?.collect()
    }

    /// Tasks the agent still has to finish after a restart: waiting or approved (or received,
    /// in automatic mode) and within their deadline.
    pub fn unfinished(&self) -> R<Vec<Task>> {
        let c = self.conn();
        let mut stmt = c.prepare(
            "SELECT task FROM tasks WHERE state IN ('waiting', 'approved', 'received') AND deadline > ?1 ORDER BY received",
        )?;
        let texts = stmt
            .query_map([Utc::now().to_rfc3339()], |r| r.get::<_, String>(0))?
            .collect::<R<Vec<_>>>()?;
        Ok(texts
            .iter()
            .filter_map(|t| serde_json::from_str(t).ok())
            .collect())
    }

    /// The body sent for a task, byte for byte.
    pub fn sent_body(&self, id: &str) -> R<Option<SentAnswer>> {
        self.conn()
            .query_row(
                "SELECT task, at, body, signature FROM sent WHERE task = ?1",
                [id],
                |r| {
                    Ok(SentAnswer {
                        task: r.get(0)?,
                        at: time(&r.get::<_, String>(1)?),
                        body: r.get(2)?,
                        signature: r.get(3)?,
                    })
                },
            )
            .optional()
    }

    /// Answers sent, newest first, with their tasks.
    pub fn sent_list(&self, limit: u32) -> R<Vec<(TaskRow, DateTime<Utc>)>> {
        let c = self.conn();
        let mut stmt = c.prepare(&format!(
            "SELECT {}, s.at FROM tasks t JOIN sent s ON s.task = t.id ORDER BY s.at DESC LIMIT ?1",
            Self::COLUMNS
        ))?;
        stmt.query_map([limit], |r| {
            Ok((Self::row(r)?, time(&r.get::<_, String>(15)?)))
        })?
        .collect()
    }

    /// ε spent per researcher and project (from the answered tasks).
    pub fn by_researcher(&self) -> R<Vec<ResearcherSpend>> {
        let c = self.conn();
        let mut stmt = c.prepare(
            "SELECT researcher, project, count(*), COALESCE(SUM(epsilon), 0) FROM tasks
             WHERE state = 'answered' GROUP BY researcher, project ORDER BY researcher, project",
        )?;
        stmt.query_map([], |r| {
            Ok(ResearcherSpend {
                researcher: r.get(0)?,
                project: r.get(1)?,
                answered: r.get::<_, i64>(2)? as u64,
                epsilon: r.get(3)?,
            })
        })?
        .collect()
    }
}

/// A steward's comment as it is sent: control characters removed, whitespace collapsed,
/// at most [`MAX_COMMENT`] characters.
pub fn clean_comment(c: &str) -> String {
    let visible: String = c
        .chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect();
    let words: Vec<&str> = visible.split_whitespace().collect();
    words.join(" ").chars().take(MAX_COMMENT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_one_bounded_line() {
        assert_eq!(
            clean_comment("  not\nnow\t please \u{7} "),
            "not now please"
        );
        assert_eq!(clean_comment(&"x".repeat(900)).chars().count(), MAX_COMMENT);
    }
}
