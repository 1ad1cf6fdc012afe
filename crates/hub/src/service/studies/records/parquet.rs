//! The flat export as a typed Parquet file for analysis: the rows and column names of the
//! REDCap-style flat CSV, each column typed by `kakehashi_edc::flat::typed` (whole numbers
//! Int64, numbers Float64, dates Date32, date-times Timestamp(ms), checkbox options Boolean,
//! categories their codes as Utf8), the labels of categories and form statuses in each
//! column's metadata (`labels`: a JSON object code → label) and all of them in the file's
//! key-value metadata (`kakehashi.labels`). Text a typed column cannot hold (a missing-data
//! code) is kept in the companion `var__missing` column. Written in memory (Snappy).

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use kakehashi_edc::Study;
use kakehashi_edc::flat::Row;
use kakehashi_edc::flat::typed::{Cell, ColumnType, TypedColumn, read_cell, typed_columns};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Rows per record batch (row group slices), to bound memory per column builder.
const BATCH: usize = 8192;

/// Why the Parquet file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    /// Arrow refused a batch.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// The writer failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
}

fn data_type(k: ColumnType) -> DataType {
    match k {
        ColumnType::Text | ColumnType::Category => DataType::Utf8,
        ColumnType::Integer => DataType::Int64,
        ColumnType::Float => DataType::Float64,
        ColumnType::Date => DataType::Date32,
        ColumnType::DateTime => DataType::Timestamp(TimeUnit::Millisecond, None),
        ColumnType::Boolean => DataType::Boolean,
    }
}

fn labels_json(c: &TypedColumn) -> String {
    let m: serde_json::Map<String, serde_json::Value> = c
        .labels
        .iter()
        .map(|l| (l.code.clone(), serde_json::Value::String(l.label.clone())))
        .collect();
    serde_json::Value::Object(m).to_string()
}

fn schema(cols: &[TypedColumn]) -> Schema {
    let fields: Vec<Field> = cols
        .iter()
        .map(|c| {
            let mut meta = HashMap::new();
            if !c.labels.is_empty() {
                meta.insert("labels".to_owned(), labels_json(c));
            }
            if let Some(of) = &c.companion_of {
                meta.insert("missing_codes_of".to_owned(), of.clone());
            }
            Field::new(&c.name, data_type(c.kind), true).with_metadata(meta)
        })
        .collect();
    let all: serde_json::Map<String, serde_json::Value> = cols
        .iter()
        .filter(|c| !c.labels.is_empty())
        .map(|c| {
            (
                c.name.clone(),
                serde_json::from_str(&labels_json(c)).unwrap_or_default(),
            )
        })
        .collect();
    let mut meta = HashMap::new();
    meta.insert(
        "kakehashi.labels".to_owned(),
        serde_json::Value::Object(all).to_string(),
    );
    Schema::new(fields).with_metadata(meta)
}

const EPOCH_DAYS_CE: i32 = 719_163;

/// One column of one batch: the typed cells, and for a companion the text its typed column
/// could not hold.
fn column(c: &TypedColumn, rows: &[Row], typed: &BTreeMap<&str, ColumnType>) -> ArrayRef {
    use chrono::Datelike;
    let raw = |r: &Row, name: &str| r.get(name).map_or("", String::as_str).to_owned();
    if let Some(of) = &c.companion_of {
        let kind = typed.get(of.as_str()).copied().unwrap_or(ColumnType::Text);
        let mut b = StringBuilder::new();
        for r in rows {
            let v = raw(r, of);
            match read_cell(kind, &v) {
                None => b.append_value(v),
                Some(_) => b.append_null(),
            }
        }
        return Arc::new(b.finish());
    }
    let cells = rows.iter().map(|r| read_cell(c.kind, &raw(r, &c.name)));
    match c.kind {
        ColumnType::Text | ColumnType::Category => {
            let mut b = StringBuilder::new();
            for cell in cells {
                match cell {
                    Some(Cell::Text(s)) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        ColumnType::Integer => {
            let mut b = Int64Builder::new();
            for cell in cells {
                b.append_option(match cell {
                    Some(Cell::Integer(n)) => Some(n),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        ColumnType::Float => {
            let mut b = Float64Builder::new();
            for cell in cells {
                b.append_option(match cell {
                    Some(Cell::Float(n)) => Some(n),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        ColumnType::Date => {
            let mut b = Date32Builder::new();
            for cell in cells {
                b.append_option(match cell {
                    Some(Cell::Date(d)) => Some(d.num_days_from_ce() - EPOCH_DAYS_CE),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        ColumnType::DateTime => {
            let mut b = TimestampMillisecondBuilder::new();
            for cell in cells {
                b.append_option(match cell {
                    Some(Cell::DateTime(t)) => Some(t.and_utc().timestamp_millis()),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        ColumnType::Boolean => {
            let mut b = BooleanBuilder::new();
            for cell in cells {
                b.append_option(match cell {
                    Some(Cell::Boolean(v)) => Some(v),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
    }
}

/// The flat export's `columns` and `rows` as a typed Parquet file.
pub fn write(study: &Study, columns: &[String], rows: &[Row]) -> Result<Vec<u8>, ParquetError> {
    let cols = typed_columns(study, columns);
    let schema = Arc::new(schema(&cols));
    let typed: BTreeMap<&str, ColumnType> =
        cols.iter().map(|c| (c.name.as_str(), c.kind)).collect();
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))?;
    for chunk in rows.chunks(BATCH) {
        let arrays: Vec<ArrayRef> = cols.iter().map(|c| column(c, chunk, &typed)).collect();
        w.write(&RecordBatch::try_new(schema.clone(), arrays)?)?;
    }
    if rows.is_empty() {
        w.write(&RecordBatch::new_empty(schema.clone()))?;
    }
    Ok(w.into_inner()?)
}
