//! DataFusion SQL over a site snapshot: one table per standard view, for the site's data
//! steward. Local only: nothing here is reachable from the hub.
//!
//! Each view is registered over its Parquet files; replaced rows are hidden by a filter on the
//! internal `(_seg, _ord)` columns against the snapshot's deletion bitmap, and the internal
//! columns are not visible (`SELECT *` shows the view's columns only).

use arrow::array::{Array, BooleanArray, RecordBatch, UInt32Array};
use arrow::datatypes::DataType;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use datafusion::prelude::SessionContext;
use kakehashi_model::View;
use kakehashi_store::{Snapshot, Store, StoreError};
use std::path::Path;
use std::sync::Arc;

/// A SQL failure.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The query is not valid or failed (DataFusion's message).
    #[error("{0}")]
    Query(String),
}

fn q(e: impl std::fmt::Display) -> SqlError {
    SqlError::Query(e.to_string())
}

/// A DataFusion session with the snapshot's views registered as tables.
pub async fn session(snap: &Snapshot) -> Result<SessionContext, SqlError> {
    let ctx = SessionContext::new();
    let deleted = Arc::new(snap.deleted_set().clone());
    let live = {
        let deleted = deleted.clone();
        create_udf(
            "kh_live",
            vec![DataType::UInt32, DataType::UInt32],
            DataType::Boolean,
            Volatility::Immutable,
            Arc::new(move |args: &[ColumnarValue]| {
                let arrays = ColumnarValue::values_to_arrays(args)?;
                let seg = arrays[0]
                    .as_any()
                    .downcast_ref::<UInt32Array>()
                    .expect("_seg is UInt32");
                let ord = arrays[1]
                    .as_any()
                    .downcast_ref::<UInt32Array>()
                    .expect("_ord is UInt32");
                let out: BooleanArray = (0..seg.len())
                    .map(|i| {
                        Some(!deleted.contains(((seg.value(i) as u64) << 32) | ord.value(i) as u64))
                    })
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(out)))
            }),
        )
    };
    ctx.register_udf(live);
    for view in View::ALL {
        let name = view.name();
        let files = snap.files(view);
        if files.is_empty() {
            let schema = kakehashi_store::arrow_schema(view);
            let empty = MemTable::try_new(schema, vec![vec![]]).map_err(q)?;
            ctx.register_table(name, Arc::new(empty)).map_err(q)?;
            continue;
        }
        let urls = files
            .iter()
            .map(|p| ListingTableUrl::parse(p.to_string_lossy()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(q)?;
        let opts =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(opts)
            .infer_schema(&ctx.state())
            .await
            .map_err(q)?;
        let table = ListingTable::try_new(config).map_err(q)?;
        let raw = format!("__raw_{name}");
        ctx.register_table(raw.as_str(), Arc::new(table))
            .map_err(q)?;
        let cols: Vec<String> = view
            .columns()
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect();
        let filter = if snap.has_deletions() {
            " WHERE kh_live(_seg, _ord)"
        } else {
            ""
        };
        ctx.sql(&format!(
            "CREATE VIEW {name} AS SELECT {} FROM {raw}{filter}",
            cols.join(", ")
        ))
        .await
        .map_err(q)?;
    }
    Ok(ctx)
}

/// Runs one SQL statement over the current snapshot of the site at `site_dir`.
pub fn run(site_dir: &Path, sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
    let snap = Store::open(site_dir).current()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(q)?;
    rt.block_on(async {
        let ctx = session(&snap).await?;
        let df = ctx.sql(sql).await.map_err(q)?;
        df.collect().await.map_err(q)
    })
}
