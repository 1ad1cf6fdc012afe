//! The network's catalogue (migration 6): each site's latest checked MIABIS catalogue, one
//! row per site (`site_catalogues`), replaced when the site sends a changed file. The
//! catalogue is kept as the checked value's JSON; the file's SHA-256 says which file it was.

use super::backend::{Sql, args};
use super::{Db, DbError, R};
use kakehashi_biobank::Catalogue;
use kakehashi_biobank::network::SiteCatalogue;

/// Migration 6 on SQLite: the catalogues, then the access requests (`requests.rs`).
pub(crate) const V6_SQLITE: &str = "
CREATE TABLE IF NOT EXISTS site_catalogues (site TEXT PRIMARY KEY REFERENCES sites(id),
    file TEXT NOT NULL, sha256 TEXT NOT NULL, received TEXT NOT NULL, catalogue TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS access_requests (id TEXT PRIMARY KEY, researcher TEXT NOT NULL REFERENCES users(name),
    state TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS access_requests_researcher ON access_requests (researcher, created);
CREATE TABLE IF NOT EXISTS request_sites (request TEXT NOT NULL REFERENCES access_requests(id),
    site TEXT NOT NULL, PRIMARY KEY (request, site));
CREATE INDEX IF NOT EXISTS request_sites_site ON request_sites (site, request);
CREATE TABLE IF NOT EXISTS request_content (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL,
    base64 TEXT NOT NULL, created TEXT NOT NULL);";

/// Migration 6 on PostgreSQL: the catalogues, then the access requests (`requests.rs`).
pub(crate) const V6_POSTGRES: &str = r#"
CREATE TABLE IF NOT EXISTS site_catalogues (site TEXT COLLATE "C" PRIMARY KEY REFERENCES sites(id),
    file TEXT NOT NULL, sha256 TEXT COLLATE "C" NOT NULL, received TEXT COLLATE "C" NOT NULL,
    catalogue TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS access_requests (id TEXT COLLATE "C" PRIMARY KEY,
    researcher TEXT COLLATE "C" NOT NULL REFERENCES users(name), state TEXT COLLATE "C" NOT NULL,
    created TEXT COLLATE "C" NOT NULL, updated TEXT COLLATE "C" NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS access_requests_researcher ON access_requests (researcher, created);
CREATE TABLE IF NOT EXISTS request_sites (request TEXT COLLATE "C" NOT NULL REFERENCES access_requests(id),
    site TEXT COLLATE "C" NOT NULL, PRIMARY KEY (request, site));
CREATE INDEX IF NOT EXISTS request_sites_site ON request_sites (site, request);
CREATE TABLE IF NOT EXISTS request_content (sha256 TEXT COLLATE "C" PRIMARY KEY, size BIGINT NOT NULL,
    base64 TEXT NOT NULL, created TEXT COLLATE "C" NOT NULL);"#;

impl Db {
    /// Stores site `site`'s checked catalogue (read from `file`, whose text has this SHA-256),
    /// replacing its earlier one; returns whether it differs from the one stored.
    pub fn put_catalogue(
        &self,
        site: &str,
        file: &str,
        sha256: &str,
        catalogue: &Catalogue,
    ) -> R<bool> {
        let json = serde_json::to_string(catalogue)?;
        let now = chrono::Utc::now().to_rfc3339();
        let same =
            Sql::both("SELECT COUNT(*) FROM site_catalogues WHERE site = ?1 AND sha256 = ?2");
        let put = Sql::both(
            "INSERT INTO site_catalogues (site, file, sha256, received, catalogue) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(site) DO UPDATE SET file = ?2, sha256 = ?3, received = ?4, catalogue = ?5",
        );
        self.write(|c| {
            if c.int(&same, args![site, sha256])? > 0 {
                return Ok(false);
            }
            c.exec(&put, args![site, file, sha256, &now, &json])?;
            Ok(true)
        })
    }

    /// Every site's catalogue, by site id.
    pub fn catalogues(&self) -> R<Vec<SiteCatalogue>> {
        let q = Sql::both(
            "SELECT site, received, sha256, catalogue FROM site_catalogues ORDER BY site",
        );
        self.read(|c| c.rows(&q, &[]))?
            .iter()
            .map(|r| {
                let site = r.text(0)?;
                let catalogue = serde_json::from_str(&r.text(3)?).map_err(|e| {
                    DbError(format!("site_catalogues.catalogue of site {site}: {e}"))
                })?;
                Ok(SiteCatalogue {
                    site,
                    received: r.text(1)?,
                    sha256: r.text(2)?,
                    catalogue,
                })
            })
            .collect()
    }
}
