//! The hub at the network office: HTTP API and web UI, users and roles, the task queue that
//! sites pull from (they never accept connections), answer verification and merging, its
//! audit log and metrics. State lives in SQLite (WAL) under the data directory.
//!
//! The map: [`server`] (HTTP and HTTPS transport), [`api`] and [`ui`] (routes and thin
//! handlers, one module per area), [`context`] (who is calling), [`error`] (one error type
//! and its response), [`service`] (what the handlers call), [`db`] (SQLite, one file per
//! concern), [`state`] (the shared [`Hub`] and its key `hub.key`), [`metrics`], [`auth`]
//! (passwords, secrets, cookies), [`websec`] (security headers, CSRF, JSON only, `next=`),
//! [`throttle`] (sign-in), [`config`], [`openapi`], [`criteria`], [`mail`] (SMTP, for
//! [`service::notify`]).

pub mod api;
pub mod auth;
pub mod config;
pub mod context;
pub mod criteria;
pub mod db;
pub mod error;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod server;
pub mod service;
pub mod state;
pub mod throttle;
pub mod ui;
pub mod websec;

pub use error::{ApiError, HubError};
pub use metrics::Metrics;
pub use server::serve;
pub use state::Hub;
use std::sync::Arc;

/// The hub's router: the API, metrics, and the web UI, with the body limit, the count of
/// refused callers, the API's JSON-only rule and the security headers on every response
/// ([`websec`]; the transport's limits are [`server`]'s).
pub fn router(hub: Arc<Hub>) -> axum::Router {
    api::routes()
        .merge(metrics::routes())
        .merge(ui::routes(hub.clone()))
        .layer(axum::extract::DefaultBodyLimit::max(
            hub.cfg.limits.max_body_bytes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            metrics::count_auth_failures,
        ))
        .layer(axum::middleware::from_fn(websec::json_only))
        // inside the security headers, so that a 413 carries them
        // the attachments route takes larger bodies (its own `DefaultBodyLimit`); every other
        // route keeps `max_body_bytes` through the `DefaultBodyLimit` above
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            hub.cfg
                .limits
                .max_body_bytes
                .max(api::requests::ATTACHMENT_BODY_BYTES),
        ))
        .layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            websec::security_headers,
        ))
        .with_state(hub)
}
