//! Reading the hub's audit log: the latest entries, and those that concern one site.

use super::ApiResult;
use crate::db::User;
use crate::service::sites::site_statuses;
use crate::{ApiError, Hub};
use kakehashi_audit::Entry;

/// The last `limit` entries of the hub's audit log. Blocking.
pub fn tail(hub: &Hub, limit: usize) -> ApiResult<Vec<Entry>> {
    Ok(hub.audit.tail(limit)?)
}

/// The newest entries that concern a site (name it as `site` or among `sites`), at most
/// 200, read through the log's per-site index (never the whole log). Blocking.
pub fn site_entries(hub: &Hub, site: &str) -> ApiResult<Vec<Entry>> {
    Ok(hub.audit.tail_for_site(site, 200)?)
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
    let entries = site_entries(hub, &site)?;
    Ok(serde_json::json!({"site": status, "audit": entries}))
}
