//! The network's catalogue: each site sends its MIABIS catalogue file over its outward
//! connection; the hub reads it with the site's own checks, refuses ids another site already
//! publishes, keeps the newest per site, logs each change in its audit log, and answers
//! searches and the network's MIABIS JSON export from what it keeps. Blocking.

use super::ApiResult;
use crate::db::SiteRow;
use crate::{ApiError, Hub};
use kakehashi_biobank::network::{self, Hit, Search};
use kakehashi_federation::catalogue::{CATALOGUE_VERSION, CatalogueReport, MAX_CATALOGUE_BYTES};

/// What became of a site's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Received {
    /// The file's SHA-256.
    pub sha256: String,
    /// Whether it replaced a different one (false: the hub had this file already).
    pub changed: bool,
    /// Its biobanks.
    pub biobanks: usize,
    /// Its collections.
    pub collections: usize,
}

/// Takes site `site`'s catalogue file: checked as the site checks it, its ids unique in the
/// network; stored (and logged as `catalogue_received`) when it differs from the stored one.
/// A refused file changes nothing and the message names the file, entry, line and field.
pub fn accept(hub: &Hub, site: &SiteRow, report: CatalogueReport) -> ApiResult<Received> {
    if report.version != CATALOGUE_VERSION {
        return Err(ApiError::conflict(format!(
            "unsupported catalogue report version {}: this hub speaks version {CATALOGUE_VERSION}",
            report.version
        )));
    }
    if report.text.len() > MAX_CATALOGUE_BYTES {
        return Err(ApiError::bad_request(format!(
            "catalogue: {} bytes; at most {MAX_CATALOGUE_BYTES}",
            report.text.len()
        )));
    }
    if !matches!(report.file.as_str(), "catalogue.toml" | "catalogue.json") {
        return Err(ApiError::bad_request(format!(
            "file: {:?}; a site's catalogue is catalogue.toml or catalogue.json",
            report.file
        )));
    }
    let name = format!("{} of site {}", report.file, site.id);
    let cat = kakehashi_biobank::parse_catalogue(&name, &report.text)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let others = hub.db.catalogues()?;
    let clashes = network::clashes(site.id.as_str(), &cat, &others);
    if !clashes.is_empty() {
        let list: Vec<String> = clashes.iter().map(|c| format!("  {c}")).collect();
        return Err(ApiError::conflict(format!(
            "{name}: {} id(s) clash:\n{}",
            clashes.len(),
            list.join("\n")
        )));
    }
    let sha256 = report.sha256();
    let changed = hub
        .db
        .put_catalogue(site.id.as_str(), &report.file, &sha256, &cat)?;
    let got = Received {
        sha256,
        changed,
        biobanks: cat.biobanks.len(),
        collections: cat.collections.len(),
    };
    if changed {
        hub.audit_log(
            "catalogue_received",
            serde_json::json!({"site": site.id, "file": report.file, "sha256": got.sha256,
                "biobanks": got.biobanks, "collections": got.collections}),
        )?;
    }
    Ok(got)
}

/// The collections of the network matching `search`.
pub fn find(hub: &Hub, search: &Search) -> ApiResult<Vec<Hit>> {
    Ok(network::search(&hub.db.catalogues()?, search))
}

/// The whole network's catalogue as MIABIS JSON.
pub fn miabis(hub: &Hub) -> ApiResult<String> {
    Ok(kakehashi_biobank::export::miabis_json(&network::merged(
        &hub.db.catalogues()?,
    )))
}

/// A search from query parameters, or 400 naming the parameter.
pub fn search_of(q: &std::collections::BTreeMap<String, String>) -> ApiResult<Search> {
    let p = |k: &str| q.get(k).map(String::as_str);
    Search::parse(p("q"), p("material"), p("disease"), p("country"))
        .map_err(|e| ApiError::bad_request(e.to_string()))
}
