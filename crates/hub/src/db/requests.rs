//! Access requests (migration 6): each request as the biobank crate's typed JSON (`doc`) with
//! its state and researcher beside it for listing; the sites it asks (`request_sites`, so a
//! steward's list is one indexed query); attachment bytes once per SHA-256
//! (`request_content`, base64). A request changes only by compare-and-swap on its stored JSON
//! ([`Db::request_swap`]): two people acting at once never overwrite each other unseen. The
//! tables are in migration 6's SQL (`catalogue.rs`).

use super::backend::{Sql, args};
use super::{Db, R};
use chrono::Utc;

impl Db {
    /// Stores a new request (its JSON, state, researcher) and the sites it asks.
    pub fn request_insert(
        &self,
        id: &str,
        researcher: &str,
        state: &str,
        doc: &str,
        sites: &[String],
    ) -> R<()> {
        let now = Utc::now().to_rfc3339();
        let ins = Sql::both(
            "INSERT INTO access_requests (id, researcher, state, created, updated, doc) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        );
        let site = Sql::both(
            "INSERT INTO request_sites (request, site) VALUES (?1, ?2) ON CONFLICT (request, site) DO NOTHING",
        );
        self.write(|c| {
            c.exec(&ins, args![id, researcher, state, &now, doc])?;
            for s in sites {
                c.exec(&site, args![id, s])?;
            }
            Ok(())
        })
    }

    /// Replaces a request's JSON if it is still `old`; whether it was.
    pub fn request_swap(&self, id: &str, old: &str, doc: &str, state: &str) -> R<bool> {
        let now = Utc::now().to_rfc3339();
        let q = Sql::both(
            "UPDATE access_requests SET doc = ?3, state = ?4, updated = ?5 WHERE id = ?1 AND doc = ?2",
        );
        Ok(self.write(|c| c.exec(&q, args![id, old, doc, state, &now]))? == 1)
    }

    /// A request's JSON.
    pub fn request_doc(&self, id: &str) -> R<Option<String>> {
        let q = Sql::both("SELECT doc FROM access_requests WHERE id = ?1");
        self.read(|c| c.row(&q, args![id]))?
            .map(|r| r.text(0))
            .transpose()
    }

    /// The JSON of the requests of a researcher (`Some(name)`), of a site (`site`), or all;
    /// newest first.
    pub fn request_docs(&self, researcher: Option<&str>, site: Option<&str>) -> R<Vec<String>> {
        let rows = self.read(|c| match (researcher, site) {
            (Some(r), _) => c.rows(
                &Sql::both(
                    "SELECT doc FROM access_requests WHERE researcher = ?1 ORDER BY created DESC, id",
                ),
                args![r],
            ),
            (None, Some(s)) => c.rows(
                &Sql::both(
                    "SELECT a.doc FROM access_requests a JOIN request_sites s ON s.request = a.id
                     WHERE s.site = ?1 ORDER BY a.created DESC, a.id",
                ),
                args![s],
            ),
            (None, None) => c.rows(
                &Sql::both("SELECT doc FROM access_requests ORDER BY created DESC, id"),
                &[],
            ),
        })?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    /// Keeps attachment bytes (base64) under their SHA-256, once.
    pub fn request_put_content(&self, sha256: &str, size: i64, base64: &str) -> R<()> {
        let q = Sql::both(
            "INSERT INTO request_content (sha256, size, base64, created) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sha256) DO NOTHING",
        );
        let now = Utc::now().to_rfc3339();
        self.write(|c| c.exec(&q, args![sha256, size, base64, &now]))?;
        Ok(())
    }

    /// Attachment bytes (base64) by SHA-256.
    pub fn request_content(&self, sha256: &str) -> R<Option<String>> {
        let q = Sql::both("SELECT base64 FROM request_content WHERE sha256 = ?1");
        self.read(|c| c.row(&q, args![sha256]))?
            .map(|r| r.text(0))
            .transpose()
    }
}
