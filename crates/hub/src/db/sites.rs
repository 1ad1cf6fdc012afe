//! Registered sites and their heartbeats.

use super::backend::{Row, Sql, args};
use super::{Db, DbError, R, SiteRow, secret_hash};
use chrono::{DateTime, Utc};
use kakehashi_federation::SnapshotInfo;
use kakehashi_model::{Country, SiteId};

fn site_from(r: &Row) -> R<SiteRow> {
    Ok(SiteRow {
        id: SiteId::new(r.text(0)?).map_err(|e| DbError(format!("sites.id: {e}")))?,
        name: r.text(1)?,
        country: r.text(2)?.parse().unwrap_or(Country::Germany),
        public_key: r.text(3)?,
        last_seen: r
            .opt_text(4)?
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|t| t.with_timezone(&Utc)),
        snapshot: r.opt_text(5)?.and_then(|s| serde_json::from_str(&s).ok()),
        policy: r.opt_text(6)?.and_then(|s| serde_json::from_str(&s).ok()),
        version: r.opt_text(7)?,
        audit_head: r.opt_text(8)?,
    })
}

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
        let q = Sql::both(
            "INSERT INTO sites (id, name, country, public_key, token_hash, registered) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET name = ?2, country = ?3, public_key = ?4, token_hash = ?5",
        );
        let (hash, now) = (secret_hash(token), Utc::now().to_rfc3339());
        self.write(|c| {
            c.exec(
                &q,
                args![id.as_str(), name, country.iso(), public_key, &hash, &now],
            )
        })?;
        Ok(())
    }

    /// All sites, by country and id.
    pub fn sites(&self) -> R<Vec<SiteRow>> {
        let q = Sql::both(
            "SELECT id, name, country, public_key, last_seen, snapshot, policy, version, audit_head
             FROM sites ORDER BY country, id",
        );
        self.read(|c| c.rows(&q, &[]))?
            .iter()
            .map(site_from)
            .collect()
    }

    /// The site a token belongs to.
    pub fn site_by_token(&self, token: &str) -> R<Option<SiteRow>> {
        let q = Sql::both(
            "SELECT id, name, country, public_key, last_seen, snapshot, policy, version, audit_head
             FROM sites WHERE token_hash = ?1",
        );
        self.read(|c| c.row(&q, args![&secret_hash(token)]))?
            .as_ref()
            .map(site_from)
            .transpose()
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
        let q = Sql::both(
            "UPDATE sites SET last_seen = ?2, snapshot = ?3, policy = ?4, version = ?5, audit_head = ?6 WHERE id = ?1",
        );
        let now = Utc::now().to_rfc3339();
        let snapshot = snapshot.map(serde_json::to_string).transpose()?;
        let policy = serde_json::to_string(policy)?;
        self.write(|c| {
            c.exec(
                &q,
                args![id.as_str(), &now, &snapshot, &policy, version, audit_head],
            )
        })?;
        Ok(())
    }
}
