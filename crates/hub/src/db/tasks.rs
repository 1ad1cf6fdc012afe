//! Tasks, the sites they went to, answers and approval holds.

use super::{Db, DbError, R, User};
use chrono::{DateTime, Utc};
use kakehashi_federation::{Answer, Envelope, Task, TaskSpec};
use kakehashi_model::{ProjectId, SiteId, TaskId};
use rusqlite::{OptionalExtension, params};

/// What [`Db::put_answer`] did with an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored now.
    New,
    /// Exactly this signed answer was already stored (a retry); nothing changed.
    Same,
    /// Not stored: the site was not asked, or has already sent another answer.
    Refused,
}

impl Db {
    /// Stores a task and the sites it goes to.
    pub fn put_task(&self, task: &Task, sites: &[SiteId]) -> R<()> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO tasks (id, project, requested_by, created, deadline, spec) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![task.id.as_str(), task.project.as_str(), task.requested_by, task.created.to_rfc3339(), task.deadline.to_rfc3339(), serde_json::to_string(&task.spec)?],
        )?;
        for s in sites {
            tx.execute(
                "INSERT INTO task_sites (task, site) VALUES (?1, ?2)",
                params![task.id.as_str(), s.as_str()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn task_from_row(
        r: &rusqlite::Row<'_>,
    ) -> rusqlite::Result<(String, String, String, String, String, String)> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    }

    fn to_task(raw: (String, String, String, String, String, String)) -> R<Task> {
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| DbError(e.to_string()))
        };
        Ok(Task {
            id: TaskId::new(raw.0).map_err(|e| DbError(e.to_string()))?,
            project: ProjectId::new(raw.1).map_err(|e| DbError(e.to_string()))?,
            requested_by: raw.2,
            created: t(&raw.3)?,
            deadline: t(&raw.4)?,
            spec: serde_json::from_str::<TaskSpec>(&raw.5)?,
        })
    }

    /// A task.
    pub fn task(&self, id: &str) -> R<Option<Task>> {
        let raw = self
            .conn()
            .query_row("SELECT id, project, requested_by, created, deadline, spec FROM tasks WHERE id = ?1", [id], Self::task_from_row)
            .optional()?;
        raw.map(Self::to_task).transpose()
    }

    /// Recent tasks of the projects visible to a user, newest first.
    pub fn tasks_for(&self, user: &User, project: Option<&str>, limit: u32) -> R<Vec<Task>> {
        let c = self.conn();
        let mut stmt = c.prepare(
            "SELECT id, project, requested_by, created, deadline, spec FROM tasks t
             WHERE (?3 IS NULL OR project = ?3)
               AND (?2 = 'admin' OR EXISTS (SELECT 1 FROM members m WHERE m.project = t.project AND m.user = ?1))
             ORDER BY created DESC LIMIT ?4",
        )?;
        let raws = stmt
            .query_map(
                params![user.name, user.role.as_str(), project, limit],
                Self::task_from_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(Self::to_task).collect()
    }

    /// Tasks a site has yet to answer (deadline not passed).
    pub fn open_tasks_for_site(&self, site: &SiteId) -> R<Vec<Task>> {
        let c = self.conn();
        let mut stmt = c.prepare(
            "SELECT t.id, t.project, t.requested_by, t.created, t.deadline, t.spec FROM tasks t
             JOIN task_sites ts ON ts.task = t.id AND ts.site = ?1
             WHERE t.deadline > ?2 AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task = t.id AND a.site = ?1)
               AND NOT EXISTS (SELECT 1 FROM site_holds h WHERE h.task = t.id AND h.site = ?1)
             ORDER BY t.created",
        )?;
        let raws = stmt
            .query_map(
                params![site.as_str(), Utc::now().to_rfc3339()],
                Self::task_from_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        drop(stmt);
        drop(c);
        raws.into_iter().map(Self::to_task).collect()
    }

    /// The sites a task was sent to.
    pub fn task_sites(&self, task: &str) -> R<Vec<String>> {
        let c = self.conn();
        let mut stmt = c.prepare("SELECT site FROM task_sites WHERE task = ?1 ORDER BY site")?;
        let rows = stmt.query_map([task], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores an answer (the first answer of a site to a task wins): [`Stored::New`], or
    /// [`Stored::Same`] when exactly this signed answer is already stored (a site's retry), or
    /// [`Stored::Refused`] when the site was not asked or has answered otherwise.
    pub fn put_answer(
        &self,
        answer: &Answer,
        env: &Envelope,
        received: DateTime<Utc>,
    ) -> R<Stored> {
        let c = self.conn();
        let asked: i64 = c.query_row(
            "SELECT count(*) FROM task_sites WHERE task = ?1 AND site = ?2",
            params![answer.task.as_str(), answer.site.as_str()],
            |r| r.get(0),
        )?;
        if asked == 0 {
            return Ok(Stored::Refused);
        }
        let n = c.execute(
            "INSERT OR IGNORE INTO answers (task, site, received, body, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![answer.task.as_str(), answer.site.as_str(), received.to_rfc3339(), env.body, env.signature],
        )?;
        if n == 1 {
            return Ok(Stored::New);
        }
        let kept: Option<(String, String)> = c
            .query_row(
                "SELECT body, signature FROM answers WHERE task = ?1 AND site = ?2",
                params![answer.task.as_str(), answer.site.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match kept {
            Some((body, signature)) if body == env.body && signature == env.signature => {
                Stored::Same
            }
            _ => Stored::Refused,
        })
    }

    /// Records that a site holds a task for its steward's approval (the first report wins).
    /// Returns false if the site was not asked or has already answered.
    pub fn put_hold(
        &self,
        task: &str,
        site: &SiteId,
        state: &str,
        since: DateTime<Utc>,
    ) -> R<bool> {
        let c = self.conn();
        let open: i64 = c.query_row(
            "SELECT count(*) FROM task_sites ts WHERE ts.task = ?1 AND ts.site = ?2
               AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task = ?1 AND a.site = ?2)",
            params![task, site.as_str()],
            |r| r.get(0),
        )?;
        if open == 0 {
            return Ok(false);
        }
        c.execute(
            "INSERT OR IGNORE INTO site_holds (task, site, state, since) VALUES (?1, ?2, ?3, ?4)",
            params![task, site.as_str(), state, since.to_rfc3339()],
        )?;
        Ok(true)
    }

    /// The sites holding a task for approval, with the time they reported it.
    pub fn holds(&self, task: &str) -> R<Vec<(String, DateTime<Utc>)>> {
        self.timed_rows("SELECT site, since FROM site_holds WHERE task = ?1", task)
    }

    /// The answers to a task, with their arrival times.
    pub fn answers(&self, task: &str) -> R<Vec<(Answer, DateTime<Utc>)>> {
        self.timed_rows("SELECT body, received FROM answers WHERE task = ?1", task)?
            .into_iter()
            .map(|(b, at)| Ok((serde_json::from_str(&b)?, at)))
            .collect()
    }

    /// Rows of `(text, RFC 3339 time)` of one task, the time parsed.
    fn timed_rows(&self, sql: &str, task: &str) -> R<Vec<(String, DateTime<Utc>)>> {
        let c = self.conn();
        let mut stmt = c.prepare(sql)?;
        let rows = stmt
            .query_map([task], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(s, t)| {
                let at = DateTime::parse_from_rfc3339(&t)
                    .map_err(|e| DbError(e.to_string()))?
                    .with_timezone(&Utc);
                Ok((s, at))
            })
            .collect()
    }
}
