//! One way to open a site snapshot for DataFusion, shared by every computation of this crate
//! (SQL, surveillance, AMR): each standard view is a listing table over the view's Parquet files,
//! with projection and predicate pushdown into the Parquet reader and two target partitions
//! (this machine class has two cores), and replaced rows hidden by a filter on the internal
//! `(_seg, _ord)` columns against the snapshot's deletion bitmap.

use arrow::array::{Array, BooleanArray, RecordBatch, UInt32Array};
use arrow::datatypes::DataType;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::{Expr, SessionConfig, SessionContext, col};
use futures::StreamExt;
use kakehashi_model::View;
use kakehashi_store::Snapshot;
use std::sync::Arc;

/// Threads (and DataFusion target partitions) a computation uses.
pub const THREADS: usize = 2;

/// A problem while planning or running a plan over a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// DataFusion refused the plan or failed while running it (its message names the file
    /// when a Parquet file does not read).
    #[error("table {view}: {source}")]
    DataFusion {
        /// The view the plan reads (or `sql` for a free query).
        view: String,
        /// DataFusion's error.
        #[source]
        source: Box<DataFusionError>,
    },
    /// The runtime could not be started.
    #[error("starting the query runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl PlanError {
    pub(crate) fn df(view: impl ToString) -> impl FnOnce(DataFusionError) -> PlanError {
        let view = view.to_string();
        move |e| PlanError::DataFusion {
            view,
            source: Box::new(e),
        }
    }
}

/// The session configuration every computation uses: two partitions, filters evaluated inside
/// the Parquet decoder (late materialisation: the other columns are decoded only for rows
/// that pass) and reordered by cost.
pub fn config() -> SessionConfig {
    let mut c = SessionConfig::new()
        .with_target_partitions(THREADS)
        .with_batch_size(16 * 1024);
    let opts = c.options_mut();
    opts.execution.parquet.pushdown_filters = true;
    opts.execution.parquet.reorder_filters = true;
    c
}

/// A tokio runtime with [`THREADS`] workers, for running plans from synchronous code.
pub fn runtime() -> Result<tokio::runtime::Runtime, PlanError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .enable_all()
        .build()
        .map_err(PlanError::Runtime)
}

/// A session with the given views of `snap` registered under their names (all views when
/// `views` is `None`), reading the Parquet files from the site directory.
pub async fn session(snap: &Snapshot, views: Option<&[View]>) -> Result<SessionContext, PlanError> {
    let dir = snap.dir().to_owned();
    let ctx = SessionContext::new_with_config(config());
    let local = |rel: &str| dir.join(rel).to_string_lossy().into_owned();
    register_views(&ctx, snap, views, &local).await?;
    Ok(ctx)
}

/// Registers the given views of `snap` (all when `None`) in `ctx`; `url_of` turns a file's path
/// relative to the site directory into the location DataFusion reads (a local path, or an
/// object store URL whose store `ctx` knows).
pub(crate) async fn register_views(
    ctx: &SessionContext,
    snap: &Snapshot,
    views: Option<&[View]>,
    url_of: &dyn Fn(&str) -> String,
) -> Result<(), PlanError> {
    let live = snap.has_deletions().then(|| live_udf(snap));
    for &view in views.unwrap_or(&View::ALL) {
        let files: Vec<String> = snap.relative_files(view).into_iter().map(url_of).collect();
        register_view(ctx, view, files, live.as_ref()).await?;
    }
    Ok(())
}

/// `kh_live(_seg, _ord)`: whether a row is current (not replaced by a later load).
fn live_udf(snap: &Snapshot) -> ScalarUDF {
    let deleted = Arc::new(snap.deleted_set().clone());
    create_udf(
        "kh_live",
        vec![DataType::UInt32, DataType::UInt32],
        DataType::Boolean,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let as_u32 = |a: &Arc<dyn Array>, name: &str| {
                a.as_any()
                    .downcast_ref::<UInt32Array>()
                    .cloned()
                    .ok_or_else(|| {
                        DataFusionError::Execution(format!("internal column {name} is not UInt32"))
                    })
            };
            let seg = as_u32(&arrays[0], "_seg")?;
            let ord = as_u32(&arrays[1], "_ord")?;
            let out: BooleanArray = (0..seg.len())
                .map(|i| {
                    Some(!deleted.contains(((seg.value(i) as u64) << 32) | ord.value(i) as u64))
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

/// Registers one view: its Parquet files as `__raw_<view>`, and `<view>` as the live rows with
/// the view's columns the files hold (a store may omit a column that is null throughout; a view
/// without files is an empty table of the view's schema).
async fn register_view(
    ctx: &SessionContext,
    view: View,
    files: Vec<String>,
    live: Option<&ScalarUDF>,
) -> Result<(), PlanError> {
    let name = view.name();
    let err = PlanError::df(name);
    if files.is_empty() {
        let schema = kakehashi_store::arrow_schema(view);
        let empty = MemTable::try_new(schema, vec![vec![]]).map_err(PlanError::df(name))?;
        ctx.register_table(name, Arc::new(empty))
            .map_err(PlanError::df(name))?;
        return Ok(());
    }
    let urls = files
        .iter()
        .map(ListingTableUrl::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(PlanError::df(name))?;
    let opts =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(opts)
        .infer_schema(&ctx.state())
        .await
        .map_err(PlanError::df(name))?;
    let table = ListingTable::try_new(config).map_err(PlanError::df(name))?;
    let have: Vec<String> = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let raw = format!("__raw_{name}");
    ctx.register_table(raw.as_str(), Arc::new(table))
        .map_err(PlanError::df(name))?;
    let mut df = ctx.table(raw.as_str()).await.map_err(PlanError::df(name))?;
    if let Some(live) = live {
        df = df
            .filter(live.call(vec![col("_seg"), col("_ord")]))
            .map_err(PlanError::df(name))?;
    }
    let cols: Vec<&str> = view
        .columns()
        .iter()
        .map(|c| c.name)
        .filter(|c| have.iter().any(|h| h == c))
        .collect();
    let df = df.select_columns(&cols).map_err(PlanError::df(name))?;
    ctx.register_table(name, df.into_view()).map_err(err)?;
    Ok(())
}

/// The live rows of one view with the named columns it has (columns the files do not hold are
/// left out, and read as null by the caller), filtered by `filter` while the files are read.
pub async fn view_frame(
    ctx: &SessionContext,
    view: View,
    columns: &[&str],
    filter: Option<Expr>,
) -> Result<DataFrame, PlanError> {
    let name = view.name();
    let df = ctx.table(name).await.map_err(PlanError::df(name))?;
    let have: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| df.schema().has_column_with_unqualified_name(c))
        .collect();
    let df = match filter {
        Some(f) => df.filter(f).map_err(PlanError::df(name))?,
        None => df,
    };
    df.select_columns(&have).map_err(PlanError::df(name))
}

/// Runs a plan and hands its batches to `f` one at a time as both partitions produce them (the
/// order of rows is not that of the files). An error of `f` stops the run and is returned.
pub async fn for_each_batch<E>(
    df: DataFrame,
    label: &str,
    mut f: impl FnMut(RecordBatch) -> Result<(), E>,
) -> Result<Result<(), E>, PlanError> {
    let mut stream = df.execute_stream().await.map_err(PlanError::df(label))?;
    while let Some(b) = stream.next().await {
        let b = b.map_err(PlanError::df(label))?;
        if b.num_rows() == 0 {
            continue;
        }
        if let Err(e) = f(b) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

/// Streams the live rows of one view of `snap` (named columns, optional filter evaluated while
/// reading) through `f`, on a runtime of its own. For synchronous callers.
pub fn scan_view<E>(
    snap: &Snapshot,
    view: View,
    columns: &[&str],
    filter: Option<Expr>,
    f: impl FnMut(RecordBatch) -> Result<(), E>,
) -> Result<Result<(), E>, PlanError> {
    let rt = runtime()?;
    rt.block_on(async {
        let ctx = session(snap, Some(&[view])).await?;
        let df = view_frame(&ctx, view, columns, filter).await?;
        for_each_batch(df, view.name(), f).await
    })
}
