//! Reading the hub's audit log: the latest entries, and those that concern one site.

use super::ApiResult;
use crate::db::User;
use crate::service::sites::site_statuses;
use crate::{ApiError, Hub};
use kakehashi_federation::audit::Entry;

/// The last `limit` entries of the hub's audit log. Blocking.
pub fn tail(hub: &Hub, limit: usize) -> ApiResult<Vec<Entry>> {
    Ok(hub.audit.tail(limit)?)
}

/// Whether an audit entry concerns a site (names it as `site` or among `sites`).
pub fn concerns_site(e: &Entry, site: &str) -> bool {
    e.detail.get("site").and_then(|s| s.as_str()) == Some(site)
        || e.detail
            .get("sites")
            .and_then(|s| s.as_array())
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(site)))
}

/// The entries among the last `scan` that concern a site, at most 200.
pub fn site_entries(hub: &Hub, site: &str, scan: usize) -> ApiResult<Vec<Entry>> {
    Ok(tail(hub, scan)?
        .into_iter()
        .filter(|e| concerns_site(e, site))
        .take(200)
        .collect())
}

/// The steward's view: their site's status and the hub's audit entries that concern it.
/// Blocking.
pub fn steward_view(hub: &Hub, user: &User) -> ApiResult<serde_json::Value> {
    let site = user
        .site
        .clone()
        .ok_or_else(|| ApiError::forbidden("this account looks after no site"))?;
    let status = site_statuses(hub)?
        .into_iter()
        .find(|s| s.id.as_str() == site);
    let entries = site_entries(hub, &site, 10_000)?;
    Ok(serde_json::json!({"site": status, "audit": entries}))
}
