//! Tasks, the sites they went to, answers and approval holds. Storing a task, an answer or a
//! hold announces it to the other replicas on the same database ([`super::Wake`]).

use super::backend::{Row, Sql, args};
use super::pg::{ANSWER, NEW_TASK};
use super::{Db, DbError, R, User};
use chrono::{DateTime, Utc};
use kakehashi_federation::{Answer, Envelope, Task, TaskSpec};
use kakehashi_model::{ProjectId, SiteId, TaskId};

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

fn time(s: &str) -> R<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| DbError(format!("stored time {s:?}: {e}")))
}

/// A task from the columns `id, project, requested_by, created, deadline, spec`.
fn task_from(r: &Row) -> R<Task> {
    Ok(Task {
        id: TaskId::new(r.text(0)?).map_err(|e| DbError(format!("tasks.id: {e}")))?,
        project: ProjectId::new(r.text(1)?).map_err(|e| DbError(format!("tasks.project: {e}")))?,
        requested_by: r.text(2)?,
        created: time(&r.text(3)?)?,
        deadline: time(&r.text(4)?)?,
        spec: serde_json::from_str::<TaskSpec>(&r.text(5)?)?,
    })
}

impl Db {
    /// Stores a task and the sites it goes to.
    pub fn put_task(&self, task: &Task, sites: &[SiteId]) -> R<()> {
        let q = Sql::both(
            "INSERT INTO tasks (id, project, requested_by, created, deadline, spec) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        );
        let to = Sql::both("INSERT INTO task_sites (task, site) VALUES (?1, ?2)");
        let (created, deadline) = (task.created.to_rfc3339(), task.deadline.to_rfc3339());
        let spec = serde_json::to_string(&task.spec)?;
        self.write(|c| {
            let id = task.id.as_str();
            let a = args![
                id,
                task.project.as_str(),
                &task.requested_by,
                &created,
                &deadline,
                &spec
            ];
            c.exec(&q, a)?;
            for s in sites {
                c.exec(&to, args![id, s.as_str()])?;
            }
            c.notify(NEW_TASK, id)
        })
    }

    /// A task.
    pub fn task(&self, id: &str) -> R<Option<Task>> {
        let q = Sql::both(
            "SELECT id, project, requested_by, created, deadline, spec FROM tasks WHERE id = ?1",
        );
        self.read(|c| c.row(&q, args![id]))?
            .as_ref()
            .map(task_from)
            .transpose()
    }

    /// Recent tasks of the projects visible to a user, newest first.
    pub fn tasks_for(&self, user: &User, project: Option<&str>, limit: u32) -> R<Vec<Task>> {
        let q = Sql::both(
            r#"SELECT id, project, requested_by, created, deadline, spec FROM tasks t
               WHERE (CAST(?3 AS TEXT) IS NULL OR project = ?3)
                 AND (?2 = 'admin' OR EXISTS (SELECT 1 FROM members m WHERE m.project = t.project AND m."user" = ?1))
               ORDER BY created DESC LIMIT ?4"#,
        );
        let a = args![&user.name, user.role.as_str(), project, i64::from(limit)];
        self.read(|c| c.rows(&q, a))?
            .iter()
            .map(task_from)
            .collect()
    }

    /// Tasks a site has yet to answer (deadline not passed).
    pub fn open_tasks_for_site(&self, site: &SiteId) -> R<Vec<Task>> {
        let q = Sql::both(
            "SELECT t.id, t.project, t.requested_by, t.created, t.deadline, t.spec FROM tasks t
             JOIN task_sites ts ON ts.task = t.id AND ts.site = ?1
             WHERE t.deadline > ?2 AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task = t.id AND a.site = ?1)
               AND NOT EXISTS (SELECT 1 FROM site_holds h WHERE h.task = t.id AND h.site = ?1)
             ORDER BY t.created",
        );
        let now = Utc::now().to_rfc3339();
        self.read(|c| c.rows(&q, args![site.as_str(), &now]))?
            .iter()
            .map(task_from)
            .collect()
    }

    /// The sites a task was sent to.
    pub fn task_sites(&self, task: &str) -> R<Vec<String>> {
        let q = Sql::both("SELECT site FROM task_sites WHERE task = ?1 ORDER BY site");
        self.read(|c| c.rows(&q, args![task]))?
            .iter()
            .map(|r| r.text(0))
            .collect()
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
        let asked = Sql::both("SELECT count(*) FROM task_sites WHERE task = ?1 AND site = ?2");
        let insert = Sql::both(
            "INSERT INTO answers (task, site, received, body, signature) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO NOTHING",
        );
        let kept = Sql::both("SELECT body, signature FROM answers WHERE task = ?1 AND site = ?2");
        let (task, site) = (answer.task.as_str(), answer.site.as_str());
        let received = received.to_rfc3339();
        self.write(|c| {
            if c.int(&asked, args![task, site])? == 0 {
                return Ok(Stored::Refused);
            }
            let a = args![task, site, &received, &env.body, &env.signature];
            if c.exec(&insert, a)? == 1 {
                c.notify(ANSWER, task)?;
                return Ok(Stored::New);
            }
            Ok(match c.row(&kept, args![task, site])? {
                Some(r) if r.text(0)? == env.body && r.text(1)? == env.signature => Stored::Same,
                _ => Stored::Refused,
            })
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
        let open = Sql::both(
            "SELECT count(*) FROM task_sites ts WHERE ts.task = ?1 AND ts.site = ?2
               AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task = ?1 AND a.site = ?2)",
        );
        let insert = Sql::both(
            "INSERT INTO site_holds (task, site, state, since) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
        );
        let since = since.to_rfc3339();
        self.write(|c| {
            if c.int(&open, args![task, site.as_str()])? == 0 {
                return Ok(false);
            }
            if c.exec(&insert, args![task, site.as_str(), state, &since])? == 1 {
                c.notify(ANSWER, task)?;
            }
            Ok(true)
        })
    }

    /// The sites holding a task for approval, with the time they reported it.
    pub fn holds(&self, task: &str) -> R<Vec<(String, DateTime<Utc>)>> {
        self.timed_rows(
            &Sql::both("SELECT site, since FROM site_holds WHERE task = ?1 ORDER BY site"),
            task,
        )
    }

    /// The answers to a task, with their arrival times.
    pub fn answers(&self, task: &str) -> R<Vec<(Answer, DateTime<Utc>)>> {
        let q = Sql::both("SELECT body, received FROM answers WHERE task = ?1 ORDER BY site");
        self.timed_rows(&q, task)?
            .into_iter()
            .map(|(b, at)| Ok((serde_json::from_str(&b)?, at)))
            .collect()
    }

    /// Rows of `(text, RFC 3339 time)` of one task, the time parsed.
    fn timed_rows(&self, q: &Sql, task: &str) -> R<Vec<(String, DateTime<Utc>)>> {
        self.read(|c| c.rows(q, args![task]))?
            .iter()
            .map(|r| Ok((r.text(0)?, time(&r.text(1)?)?)))
            .collect()
    }
}
