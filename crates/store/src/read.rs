//! Reading a snapshot's tables without a query engine: live record batches of a view, with
//! column projection, replaced rows skipped.

use crate::{Snapshot, StoreError};
use arrow::array::{Array, BooleanArray, RecordBatch, UInt32Array};
use arrow::compute::filter_record_batch;
use arrow::error::ArrowError;
use kakehashi_model::View;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::fs::File;
use std::path::PathBuf;

/// A problem while scanning.
pub type ScanError = StoreError;

/// The live rows of one view of a snapshot, batch by batch.
pub struct TableScan<'s> {
    snap: &'s Snapshot,
    files: std::vec::IntoIter<PathBuf>,
    columns: Option<Vec<String>>,
    current: Option<(ParquetRecordBatchReader, PathBuf)>,
    batch_size: usize,
}

impl Snapshot {
    /// Scans a view; `columns` selects columns by name (all view columns when `None`). The
    /// internal `_seg`/`_ord` columns are used to skip replaced rows and are not returned.
    pub fn scan(&self, view: View, columns: Option<&[&str]>) -> TableScan<'_> {
        TableScan {
            snap: self,
            files: self.files(view).into_iter(),
            columns: columns.map(|c| c.iter().map(|s| (*s).to_owned()).collect()),
            current: None,
            batch_size: 64 * 1024,
        }
    }
}

impl TableScan<'_> {
    fn open(&self, path: &PathBuf) -> Result<ParquetRecordBatchReader, StoreError> {
        let perr = |m: String| StoreError::Parquet {
            path: path.clone(),
            message: m,
        };
        let f = File::open(path).map_err(crate::io_err(path))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| perr(e.to_string()))?;
        let schema = builder.parquet_schema();
        let names: Vec<String> = match &self.columns {
            Some(c) => c.clone(),
            None => builder
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .filter(|n| !n.starts_with('_'))
                .collect(),
        };
        let mut indices = Vec::new();
        for n in names.iter().map(String::as_str).chain(["_seg", "_ord"]) {
            let i = builder
                .schema()
                .fields()
                .iter()
                .position(|f| f.name() == n)
                .ok_or_else(|| perr(format!("no column `{n}`")))?;
            indices.push(i);
        }
        let mask = ProjectionMask::roots(schema, indices);
        builder
            .with_projection(mask)
            .with_batch_size(self.batch_size)
            .build()
            .map_err(|e| perr(e.to_string()))
    }
}

impl Iterator for TableScan<'_> {
    type Item = Result<RecordBatch, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.current.is_none() {
                let path = self.files.next()?;
                match self.open(&path) {
                    Ok(r) => self.current = Some((r, path)),
                    Err(e) => return Some(Err(e)),
                }
            }
            let (reader, path) = self.current.as_mut().expect("opened");
            match reader.next() {
                None => self.current = None,
                Some(Err(e)) => {
                    return Some(Err(StoreError::Parquet {
                        path: path.clone(),
                        message: e.to_string(),
                    }));
                }
                Some(Ok(b)) => {
                    let path = path.clone();
                    return Some(
                        live_only(self.snap, b, self.columns.as_deref()).map_err(|e| {
                            StoreError::Parquet {
                                path,
                                message: e.to_string(),
                            }
                        }),
                    );
                }
            }
        }
    }
}

/// Drops replaced rows and the internal columns, in the requested column order.
fn live_only(
    snap: &Snapshot,
    b: RecordBatch,
    columns: Option<&[String]>,
) -> Result<RecordBatch, ArrowError> {
    let not_u32 = |c: &str| ArrowError::SchemaError(format!("{c} is not UInt32"));
    let schema = b.schema();
    let seg_i = schema.index_of("_seg")?;
    let ord_i = schema.index_of("_ord")?;
    let filtered = if snap.has_deletions() {
        let seg = b
            .column(seg_i)
            .as_any()
            .downcast_ref::<UInt32Array>()
            .ok_or_else(|| not_u32("_seg"))?;
        let ord = b
            .column(ord_i)
            .as_any()
            .downcast_ref::<UInt32Array>()
            .ok_or_else(|| not_u32("_ord"))?;
        let keep: BooleanArray = (0..b.num_rows())
            .map(|i| Some(snap.is_live(seg.value(i), ord.value(i))))
            .collect();
        filter_record_batch(&b, &keep)?
    } else {
        b
    };
    let order: Vec<usize> = match columns {
        Some(cols) => cols
            .iter()
            .map(|c| schema.index_of(c))
            .collect::<Result<_, _>>()?,
        None => (0..schema.fields().len())
            .filter(|&i| i != seg_i && i != ord_i)
            .collect(),
    };
    filtered.project(&order)
}

/// Counts the live rows of a view by reading only its `_seg`/`_ord` columns.
pub(crate) fn count_live(snap: &Snapshot, view: View) -> Result<u64, StoreError> {
    let mut n = 0u64;
    for path in snap.files(view) {
        let perr = |m: String| StoreError::Parquet {
            path: path.clone(),
            message: m,
        };
        let f = File::open(&path).map_err(crate::io_err(&path))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| perr(e.to_string()))?;
        let fields = builder.schema().fields().clone();
        let idx: Vec<usize> = ["_seg", "_ord"]
            .iter()
            .map(|c| {
                fields
                    .iter()
                    .position(|f| f.name() == c)
                    .ok_or_else(|| perr(format!("no column {c}")))
            })
            .collect::<Result<_, _>>()?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), idx);
        for b in builder
            .with_projection(mask)
            .with_batch_size(256 * 1024)
            .build()
            .map_err(|e| perr(e.to_string()))?
        {
            let b = b.map_err(|e| perr(e.to_string()))?;
            let seg = b
                .column(0)
                .as_any()
                .downcast_ref::<UInt32Array>()
                .ok_or_else(|| perr("_seg".into()))?;
            let ord = b
                .column(1)
                .as_any()
                .downcast_ref::<UInt32Array>()
                .ok_or_else(|| perr("_ord".into()))?;
            n += (0..seg.len())
                .filter(|&i| snap.is_live(seg.value(i), ord.value(i)))
                .count() as u64;
        }
    }
    Ok(n)
}
