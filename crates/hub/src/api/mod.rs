//! The JSON API, one module per area, each with its `routes()`: [`auth`] (sign-in, tokens),
//! [`admin`] (users, projects, sites), [`projects`] (the network and a user's projects),
//! [`tasks`], [`stats`] (federated statistics under a project), [`site`] (the site protocol: polls, answers, task state), [`uploads`] (large
//! answers in parts), [`audit`] and [`office`] (the partnership office, `/api/office/...`,
//! with its calendar feeds under `/office/calendar/`), [`notify`] (e-mail settings, the
//! outbox), [`catalogue`] (the network's MIABIS catalogue), [`requests`] (access requests),
//! [`studies`] (EDC studies, `/api/studies/...`, and the REDCap-compatible API at
//! `/redcap/api/`), [`records`] (study subjects and their forms), [`quality`] (data queries, checks, the study
//! dashboard). The
//! table of routes is [`crate::openapi::ROUTES`]; [`crate::router`] adds the web UI and the
//! layers. Handlers are thin: they read the request and call [`crate::service`].

use crate::Hub;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;

pub mod admin;
pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod notify;
pub mod office;
pub mod projects;
pub mod quality;
pub mod records;
pub mod requests;
pub mod site;
pub mod stats;
pub mod studies;
pub mod tasks;
pub mod uploads;

/// The state handlers take.
pub(crate) type S = axum::extract::State<Arc<Hub>>;

/// The API's routes.
pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/openapi.json", get(openapi))
        .merge(auth::routes())
        .merge(projects::routes())
        .merge(tasks::routes())
        .merge(stats::routes())
        .merge(admin::routes())
        .merge(audit::routes())
        .merge(site::routes())
        .merge(uploads::routes())
        .merge(office::routes())
        .merge(notify::routes())
        .merge(catalogue::routes())
        .merge(requests::routes())
        .merge(studies::routes())
        .merge(records::routes())
        .merge(quality::routes())
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

/// Reads a JSON body by hand, so that its errors say which body (`{what}: ...`) and name the
/// field.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<T, crate::ApiError> {
    serde_json::from_slice(body).map_err(|e| crate::ApiError::bad_request(format!("{what}: {e}")))
}
