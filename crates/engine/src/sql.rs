//! DataFusion SQL over a site snapshot: one table per standard view, for the site's data
//! steward. Local only: nothing here is reachable from the hub.
//!
//! The views are registered by [`crate::snapshot::session`] (the one way every computation
//! opens a snapshot): replaced rows are hidden and the internal columns are not visible
//! (`SELECT *` shows the view's columns only).

use crate::snapshot::{self, PlanError};
use arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use kakehashi_store::{Snapshot, Store, StoreError};
use std::path::Path;

/// A SQL failure.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A view could not be registered, or the runtime not started.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The query is not valid or failed.
    #[error("{0}")]
    Query(#[source] Box<datafusion::error::DataFusionError>),
}

/// A query failure as a [`SqlError`].
pub(crate) fn query_error(e: datafusion::error::DataFusionError) -> SqlError {
    SqlError::Query(Box::new(e))
}

/// A DataFusion session with the snapshot's views registered as tables.
pub async fn session(snap: &Snapshot) -> Result<SessionContext, SqlError> {
    Ok(snapshot::session(snap, None).await?)
}

/// Runs one SQL statement over the current snapshot of the site at `site_dir`.
pub fn run(site_dir: &Path, sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
    let snap = Store::open(site_dir).current()?;
    let rt = snapshot::runtime()?;
    rt.block_on(async {
        let ctx = session(&snap).await?;
        let df = ctx.sql(sql).await.map_err(query_error)?;
        df.collect().await.map_err(query_error)
    })
}
