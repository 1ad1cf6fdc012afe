//! Registered sites and their heartbeats.

use super::{Db, R, SiteRow, secret_hash};
use chrono::{DateTime, Utc};
use kakehashi_federation::SnapshotInfo;
use kakehashi_model::{Country, SiteId};
use rusqlite::{OptionalExtension, params};

impl Db {
    /// Registers (or re-keys) a site with the hash of its token.
    pub fn put_site(
        &self,
        id: &SiteId,
        name: &str,
        country: Country,
        public_key: &str,
        token: &str,
    ) -> R<()> {
        self.conn().execute(
            "INSERT INTO sites (id, name, country, public_key, token_hash, registered) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET name = ?2, country = ?3, public_key = ?4, token_hash = ?5",
            params![id.as_str(), name, country.iso(), public_key, secret_hash(token), Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    fn site_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SiteRow> {
        let json = |i: usize| -> rusqlite::Result<Option<String>> { r.get(i) };
        Ok(SiteRow {
            id: SiteId::new(r.get::<_, String>(0)?)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            name: r.get(1)?,
            country: r.get::<_, String>(2)?.parse().unwrap_or(Country::Germany),
            public_key: r.get(3)?,
            last_seen: r
                .get::<_, Option<String>>(4)?
                .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
                .map(|t| t.with_timezone(&Utc)),
            snapshot: json(5)?.and_then(|s| serde_json::from_str(&s).ok()),
            policy: json(6)?.and_then(|s| serde_json::from_str(&s).ok()),
            version: r.get(7)?,
            audit_head: r.get(8)?,
        })
    }

    const SITE_COLS: &'static str =
        "id, name, country, public_key, last_seen, snapshot, policy, version, audit_head";

    /// All sites, by id.
    pub fn sites(&self) -> R<Vec<SiteRow>> {
        let c = self.conn();
        let mut stmt = c.prepare(&format!(
            "SELECT {} FROM sites ORDER BY country, id",
            Self::SITE_COLS
        ))?;
        let rows = stmt.query_map([], Self::site_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The site a token belongs to.
    pub fn site_by_token(&self, token: &str) -> R<Option<SiteRow>> {
        let c = self.conn();
        Ok(c.query_row(
            &format!(
                "SELECT {} FROM sites WHERE token_hash = ?1",
                Self::SITE_COLS
            ),
            [secret_hash(token)],
            Self::site_from_row,
        )
        .optional()?)
    }

    /// Records a site's heartbeat.
    pub fn site_seen(
        &self,
        id: &SiteId,
        snapshot: Option<&SnapshotInfo>,
        policy: &kakehashi_disclosure::PolicySummary,
        version: &str,
        audit_head: &str,
    ) -> R<()> {
        self.conn().execute(
            "UPDATE sites SET last_seen = ?2, snapshot = ?3, policy = ?4, version = ?5, audit_head = ?6 WHERE id = ?1",
            params![
                id.as_str(),
                Utc::now().to_rfc3339(),
                snapshot.map(serde_json::to_string).transpose()?,
                serde_json::to_string(policy)?,
                version,
                audit_head
            ],
        )?;
        Ok(())
    }
}
