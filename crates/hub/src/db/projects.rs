//! Projects and their members.

use super::backend::{Sql, args};
use super::{Db, Project, R, User};
use chrono::Utc;
use kakehashi_model::ProjectId;

impl Db {
    /// Creates a project (or renames it) and adds members.
    pub fn put_project(&self, id: &ProjectId, title: &str, members: &[String]) -> R<()> {
        let project = Sql::both(
            "INSERT INTO projects (id, title, created) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET title = ?2",
        );
        let member = Sql::both(
            r#"INSERT INTO members (project, "user") VALUES (?1, ?2) ON CONFLICT DO NOTHING"#,
        );
        let now = Utc::now().to_rfc3339();
        self.write(|c| {
            c.exec(&project, args![id.as_str(), title, &now])?;
            for m in members {
                c.exec(&member, args![id.as_str(), m])?;
            }
            Ok(())
        })
    }

    /// Whether a user exists.
    pub fn user_exists(&self, name: &str) -> R<bool> {
        let q = Sql::both("SELECT count(*) FROM users WHERE name = ?1");
        Ok(self.read(|c| c.int(&q, args![name]))? > 0)
    }

    /// Whether a project exists.
    pub fn project_exists(&self, id: &str) -> R<bool> {
        let q = Sql::both("SELECT count(*) FROM projects WHERE id = ?1");
        Ok(self.read(|c| c.int(&q, args![id]))? > 0)
    }

    /// Whether `user` is a member of `project`.
    pub fn is_member(&self, project: &str, user: &str) -> R<bool> {
        let q = Sql::both(r#"SELECT count(*) FROM members WHERE project = ?1 AND "user" = ?2"#);
        Ok(self.read(|c| c.int(&q, args![project, user]))? > 0)
    }

    /// Projects visible to a user (all, for an admin), by id, with their members by name.
    pub fn projects_of(&self, user: &User) -> R<Vec<Project>> {
        let projects = Sql::both(
            r#"SELECT p.id, p.title FROM projects p
               WHERE ?2 = 'admin' OR EXISTS (SELECT 1 FROM members v WHERE v.project = p.id AND v."user" = ?1)
               ORDER BY p.id"#,
        );
        let members = Sql::both(
            r#"SELECT m.project, m."user" FROM members m JOIN projects p ON p.id = m.project
               WHERE ?2 = 'admin' OR EXISTS (SELECT 1 FROM members v WHERE v.project = p.id AND v."user" = ?1)
               ORDER BY m.project, m."user""#,
        );
        let (projects, members) = self.read(|c| {
            let a = args![&user.name, user.role.as_str()];
            Ok((c.rows(&projects, a)?, c.rows(&members, a)?))
        })?;
        let mut out = projects
            .iter()
            .map(|r| {
                Ok(Project {
                    id: r.text(0)?,
                    title: r.text(1)?,
                    members: Vec::new(),
                })
            })
            .collect::<R<Vec<_>>>()?;
        for r in &members {
            let project = r.text(0)?;
            if let Ok(i) = out.binary_search_by(|p| p.id.as_str().cmp(&project)) {
                out[i].members.push(r.text(1)?);
            }
        }
        Ok(out)
    }
}
