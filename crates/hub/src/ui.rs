//! The web UI routes (server-rendered pages from `kakehashi-web`).

use crate::Hub;
use axum::Router;
use std::sync::Arc;

/// The UI's routes.
pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
}
