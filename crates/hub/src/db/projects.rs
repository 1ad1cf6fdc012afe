//! Projects and their members.

use super::{Db, Project, R, User};
use chrono::Utc;
use kakehashi_model::ProjectId;
use rusqlite::params;

impl Db {
    /// Creates a project (or renames it) and adds members.
    pub fn put_project(&self, id: &ProjectId, title: &str, members: &[String]) -> R<()> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO projects (id, title, created) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET title = ?2",
            params![id.as_str(), title, Utc::now().to_rfc3339()],
        )?;
        for m in members {
            tx.execute(
                "INSERT OR IGNORE INTO members (project, user) VALUES (?1, ?2)",
                params![id.as_str(), m],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether a user exists.
    pub fn user_exists(&self, name: &str) -> R<bool> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM users WHERE name = ?1", [name], |r| {
                r.get::<_, i64>(0)
            })?
            > 0)
    }

    /// Whether a project exists.
    pub fn project_exists(&self, id: &str) -> R<bool> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM projects WHERE id = ?1", [id], |r| {
                r.get::<_, i64>(0)
            })?
            > 0)
    }

    /// Whether `user` is a member of `project`.
    pub fn is_member(&self, project: &str, user: &str) -> R<bool> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM members WHERE project = ?1 AND user = ?2",
            [project, user],
            |r| r.get::<_, i64>(0),
        )? > 0)
    }

    /// Projects visible to a user (all, for an admin).
    pub fn projects_of(&self, user: &User) -> R<Vec<Project>> {
        let c = self.conn();
        let mut stmt = c.prepare(
            "SELECT p.id, p.title, COALESCE((SELECT group_concat(user, ',') FROM members m WHERE m.project = p.id), '')
             FROM projects p WHERE ?2 = 'admin' OR EXISTS (SELECT 1 FROM members m WHERE m.project = p.id AND m.user = ?1) ORDER BY p.id",
        )?;
        let rows = stmt.query_map(params![user.name, user.role.as_str()], |r| {
            let members: String = r.get(2)?;
            Ok(Project {
                id: r.get(0)?,
                title: r.get(1)?,
                members: members
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
