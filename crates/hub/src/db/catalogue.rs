//! The network's catalogue (migration 6): each site's latest checked MIABIS catalogue, one
//! row per site (`site_catalogues`), replaced when the site sends a changed file. The
//! catalogue is kept as the checked value's JSON; the file's SHA-256 says which file it was.

use super::backend::{Sql, args};
use super::{Db, DbError, R};
use kakehashi_biobank::Catalogue;
use kakehashi_biobank::network::SiteCatalogue;

/// Migration 6 on SQLite.
pub(crate) const V6_SQLITE: &str = "
CREATE TABLE IF NOT EXISTS site_catalogues (site TEXT PRIMARY KEY REFERENCES sites(id),
    file TEXT NOT NULL, sha256 TEXT NOT NULL, received TEXT NOT NULL, catalogue TEXT NOT NULL);";

/// Migration 6 on PostgreSQL.
pub(crate) const V6_POSTGRES: &str = r#"
CREATE TABLE IF NOT EXISTS site_catalogues (site TEXT COLLATE "C" PRIMARY KEY REFERENCES sites(id),
    file TEXT NOT NULL, sha256 TEXT COLLATE "C" NOT NULL, received TEXT COLLATE "C" NOT NULL,
    catalogue TEXT NOT NULL);"#;

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
