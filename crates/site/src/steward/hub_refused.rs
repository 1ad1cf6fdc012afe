//! The answers the hub refused for good (a final `4xx`): kept so that the agent never runs
//! such a task again, even after a restart.

use super::{R, Steward};
use chrono::Utc;
use rusqlite::{OptionalExtension, params};

impl Steward {
    /// Records that the hub refused the answer to a task, with its status and reason.
    pub fn refused_by_hub(&self, id: &str, status: u16, reason: &str) -> R<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO hub_refused (task, at, status, reason) VALUES (?1, ?2, ?3, ?4)",
            params![id, Utc::now().to_rfc3339(), status, reason],
        )?;
        Ok(())
    }

    /// The hub's refusal of a task's answer (status, reason), if it refused one.
    pub fn hub_refused(&self, id: &str) -> R<Option<(u16, String)>> {
        self.conn()
            .query_row(
                "SELECT status, reason FROM hub_refused WHERE task = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
    }
}
