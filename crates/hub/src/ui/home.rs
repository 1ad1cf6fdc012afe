//! The home page (the user's projects) and the network page (sites, status, policies).

use super::{S, SignedIn, policy_view};
use crate::service::sites::site_statuses;
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use kakehashi_web::pages::{self, Page};
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/", get(home))
        .route("/network", get(network))
}

async fn home(State(hub): S, SignedIn(ui, user): SignedIn) -> Result<Response, ApiError> {
    let (projects, online) = hub
        .blocking(move |h| {
            let online = site_statuses(h).map(|s| s.len() as u64).unwrap_or(0);
            Ok((h.db.projects_of(&user)?, online))
        })
        .await?;
    let page = pages::HomePage {
        projects: projects
            .into_iter()
            .map(|p| pages::ProjectRow {
                id: p.id.clone(),
                name: p.title.clone(),
                description: format!("{} · {}", p.id, p.members.join(", ")),
                sites: online,
            })
            .collect(),
    };
    Ok(ui.page(StatusCode::OK, &Page::Home(page), "home"))
}

async fn network(State(hub): S, SignedIn(ui, _): SignedIn) -> Result<Response, ApiError> {
    let sites = hub.blocking(site_statuses).await?;
    let page = pages::NetworkPage {
        sites: sites
            .into_iter()
            .map(|s| pages::SiteRow {
                id: s.id.to_string(),
                name: s.name,
                country: s.country,
                online: s.status == "online",
                last_seen: s.last_seen,
                snapshot: s.snapshot.map(|x| x.created),
                policy: s
                    .policy
                    .as_ref()
                    .map(policy_view)
                    .unwrap_or(pages::PolicySummary {
                        min_count: 0,
                        rounding: 1,
                        epsilon: None,
                        budget: None,
                    }),
            })
            .collect(),
    };
    Ok(ui.page(StatusCode::OK, &Page::Network(page), "network"))
}
