//! Typed column readers for the surveillance rows: a batch's column by name, in the type the
//! rows need, whatever Arrow type the store or DataFusion gives (a missing column reads as null).

use super::SurveillanceError;
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, NaiveDate, Utc};
use kakehashi_model::View;
use std::sync::Arc;

/// A string column read as UTF-8, whatever its Arrow string type.
pub(crate) struct Strings(Option<ArrayRef>);

impl Strings {
    pub(crate) fn value(&self, i: usize) -> Option<&str> {
        let a = self.0.as_ref()?;
        if a.is_null(i) {
            return None;
        }
        Some(a.as_string::<i32>().value(i))
    }
}

pub(crate) fn column<'a>(b: &'a RecordBatch, view: View, name: &str) -> Option<&'a ArrayRef> {
    let _ = view;
    b.column_by_name(name)
}

pub(crate) fn col_err(view: View, column: &str, e: impl ToString) -> SurveillanceError {
    SurveillanceError::Column {
        view,
        column: column.to_string(),
        message: e.to_string(),
    }
}

/// A missing column reads as all null (a store may omit columns that are null throughout).
pub(crate) fn strings(
    b: &RecordBatch,
    view: View,
    name: &str,
) -> Result<Strings, SurveillanceError> {
    match column(b, view, name) {
        None => Ok(Strings(None)),
        Some(a) if a.data_type() == &DataType::Utf8 => Ok(Strings(Some(a.clone()))),
        Some(a) => cast(a, &DataType::Utf8)
            .map(|a| Strings(Some(a)))
            .map_err(|e| col_err(view, name, e)),
    }
}

pub(crate) fn times(
    b: &RecordBatch,
    view: View,
    name: &str,
) -> Result<Vec<Option<DateTime<Utc>>>, SurveillanceError> {
    let n = b.num_rows();
    let Some(a) = column(b, view, name) else {
        return Ok(vec![None; n]);
    };
    let a = match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = cast(a, &DataType::Utf8).map_err(|e| col_err(view, name, e))?;
            let s = s.as_string::<i32>();
            return Ok((0..n)
                .map(|i| {
                    (!s.is_null(i)).then(|| s.value(i)).and_then(|t| {
                        DateTime::parse_from_rfc3339(t)
                            .ok()
                            .map(|d| d.with_timezone(&Utc))
                            .or_else(|| {
                                NaiveDate::parse_from_str(t, "%Y-%m-%d")
                                    .ok()
                                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                                    .map(|d| d.and_utc())
                            })
                    })
                })
                .collect());
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => a.clone(),
        _ => cast(
            a,
            &DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC"))),
        )
        .map_err(|e| col_err(view, name, e))?,
    };
    let t = a.as_primitive::<TimestampMicrosecondType>();
    Ok((0..n)
        .map(|i| {
            (!t.is_null(i))
                .then(|| DateTime::from_timestamp_micros(t.value(i)))
                .flatten()
        })
        .collect())
}

pub(crate) fn dates(
    b: &RecordBatch,
    view: View,
    name: &str,
) -> Result<Vec<Option<NaiveDate>>, SurveillanceError> {
    let n = b.num_rows();
    let Some(a) = column(b, view, name) else {
        return Ok(vec![None; n]);
    };
    if matches!(
        a.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        let s = cast(a, &DataType::Utf8).map_err(|e| col_err(view, name, e))?;
        let s = s.as_string::<i32>();
        return Ok((0..n)
            .map(|i| {
                (!s.is_null(i)).then(|| s.value(i)).and_then(|t| {
                    NaiveDate::parse_from_str(t, "%Y-%m-%d")
                        .ok()
                        .or_else(|| NaiveDate::parse_from_str(&format!("{t}-01"), "%Y-%m-%d").ok())
                        .or_else(|| {
                            NaiveDate::parse_from_str(&format!("{t}-01-01"), "%Y-%m-%d").ok()
                        })
                })
            })
            .collect());
    }
    let a = cast(a, &DataType::Date32).map_err(|e| col_err(view, name, e))?;
    let d = a.as_primitive::<arrow::datatypes::Date32Type>();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid");
    Ok((0..n)
        .map(|i| (!d.is_null(i)).then(|| epoch + chrono::Duration::days(d.value(i) as i64)))
        .collect())
}

pub(crate) fn floats(
    b: &RecordBatch,
    view: View,
    name: &str,
) -> Result<Vec<Option<f64>>, SurveillanceError> {
    let n = b.num_rows();
    let Some(a) = column(b, view, name) else {
        return Ok(vec![None; n]);
    };
    let a = cast(a, &DataType::Float64).map_err(|e| col_err(view, name, e))?;
    let f = a.as_primitive::<arrow::datatypes::Float64Type>();
    Ok((0..n)
        .map(|i| (!f.is_null(i)).then(|| f.value(i)))
        .collect())
}

pub(crate) fn string_lists(
    b: &RecordBatch,
    view: View,
    name: &str,
) -> Result<Vec<Vec<String>>, SurveillanceError> {
    let n = b.num_rows();
    let Some(a) = column(b, view, name) else {
        return Ok(vec![Vec::new(); n]);
    };
    let target = DataType::List(Arc::new(arrow::datatypes::Field::new(
        "item",
        DataType::Utf8,
        true,
    )));
    let a = match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            // A plain string column: one value per row.
            let s = strings(b, view, name)?;
            return Ok((0..n)
                .map(|i| s.value(i).map(|v| vec![v.to_string()]).unwrap_or_default())
                .collect());
        }
        _ => cast(a, &target).map_err(|e| col_err(view, name, e))?,
    };
    let l = a.as_list::<i32>();
    Ok((0..n)
        .map(|i| {
            if l.is_null(i) {
                return Vec::new();
            }
            let v = l.value(i);
            let s = v.as_string::<i32>();
            (0..s.len())
                .filter(|&j| !s.is_null(j))
                .map(|j| s.value(j).to_string())
                .collect()
        })
        .collect())
}
