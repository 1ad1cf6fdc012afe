//! The flat export's columns with their types, for a typed analysis file (Parquet): the same
//! rows and column names as REDCap's flat CSV, each column typed from the dictionary.
//!
//! - `text` with `integer` validation, sliders, `redcap_repeat_instance` and `form_complete`
//!   (0/1/2, with its labels): whole numbers; other numeric validations and `calc`: numbers.
//! - `date_*`: dates; `datetime_*`: date-times (as stored, no time zone).
//! - Each checkbox option `var___code` (and missing-data code `var___ni`): a boolean.
//! - `radio`, `dropdown`, `yesno`, `truefalse`: the codes as text, their labels kept beside
//!   ([`TypedColumn::labels`]).
//! - Everything else (free text, notes, times, the record id, event, instrument, site): text.
//!
//! A typed column cannot hold a missing-data code (`UNK` in a number field) or any stored
//! text that does not read as its type; nothing is dropped: such text goes, with the typed
//! cell left empty, to the column's companion `var__missing` (text), which follows each
//! number, date and date-time column of a field.

use super::{DAG, EVENT, REPEAT_INSTANCE, REPEAT_INSTRUMENT, field_columns, missing_columns};
use crate::dictionary::{Choice, Field, FieldType, Validation};
use crate::study::Study;
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;

/// The type of a typed column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text as stored.
    Text,
    /// A whole number.
    Integer,
    /// A number.
    Float,
    /// A date (`YYYY-MM-DD`).
    Date,
    /// A date-time (`YYYY-MM-DD HH:MM[:SS]`), no time zone.
    DateTime,
    /// A checkbox option (`0`/`1`).
    Boolean,
    /// A choice's code as text; its labels in [`TypedColumn::labels`].
    Category,
}

/// One column of the typed export.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedColumn {
    /// The flat export's column name (or `var__missing` for a companion).
    pub name: String,
    /// Its type.
    pub kind: ColumnType,
    /// The codes and labels of a category (or of `form_complete`).
    pub labels: Vec<Choice>,
    /// For a companion column: the typed column whose non-typed text it holds.
    pub companion_of: Option<String>,
}

impl TypedColumn {
    fn new(name: &str, kind: ColumnType) -> Self {
        TypedColumn {
            name: name.to_owned(),
            kind,
            labels: Vec::new(),
            companion_of: None,
        }
    }
}

/// The suffix of a companion column.
pub const MISSING_SUFFIX: &str = "__missing";

fn field_kind(f: &Field) -> ColumnType {
    match f.field_type {
        FieldType::Calc => ColumnType::Float,
        FieldType::Slider => ColumnType::Integer,
        FieldType::Radio | FieldType::Dropdown | FieldType::Yesno | FieldType::Truefalse => {
            ColumnType::Category
        }
        FieldType::Checkbox => ColumnType::Boolean,
        _ => match f.validation {
            Some(Validation::Integer) => ColumnType::Integer,
            Some(v) if v.is_numeric() => ColumnType::Float,
            Some(Validation::DateYmd | Validation::DateMdy | Validation::DateDmy) => {
                ColumnType::Date
            }
            Some(v) if v.is_temporal() => ColumnType::DateTime,
            _ => ColumnType::Text,
        },
    }
}

fn status_labels() -> Vec<Choice> {
    [("0", "Incomplete"), ("1", "Unverified"), ("2", "Complete")]
        .into_iter()
        .map(|(code, label)| Choice {
            code: code.into(),
            label: label.into(),
        })
        .collect()
}

/// The typed columns of the flat export's `columns` (as [`super::export`] returned them),
/// each companion right after its column.
pub fn typed_columns(study: &Study, columns: &[String]) -> Vec<TypedColumn> {
    let mut by_column: BTreeMap<String, &Field> = BTreeMap::new();
    for f in &study.fields {
        for c in field_columns(f)
            .into_iter()
            .chain(missing_columns(f, &study.missing_codes))
        {
            by_column.insert(c, f);
        }
    }
    let forms = study.forms();
    let mut out = Vec::with_capacity(columns.len());
    for c in columns {
        if c == REPEAT_INSTANCE {
            out.push(TypedColumn::new(c, ColumnType::Integer));
            continue;
        }
        if [EVENT, REPEAT_INSTRUMENT, DAG].contains(&c.as_str()) {
            out.push(TypedColumn::new(c, ColumnType::Text));
            continue;
        }
        if let Some(f) = by_column.get(c) {
            let kind = field_kind(f);
            let mut col = TypedColumn::new(c, kind);
            if kind == ColumnType::Category {
                col.labels = f.options();
            }
            let companion = matches!(
                kind,
                ColumnType::Integer | ColumnType::Float | ColumnType::Date | ColumnType::DateTime
            );
            out.push(col);
            if companion {
                out.push(TypedColumn {
                    name: format!("{c}{MISSING_SUFFIX}"),
                    kind: ColumnType::Text,
                    labels: Vec::new(),
                    companion_of: Some(c.clone()),
                });
            }
            continue;
        }
        let is_status = c
            .strip_suffix("_complete")
            .is_some_and(|form| forms.contains(&form));
        if is_status {
            let mut col = TypedColumn::new(c, ColumnType::Integer);
            col.labels = status_labels();
            out.push(col);
        } else {
            // the record id field and anything unknown: text
            out.push(TypedColumn::new(c, ColumnType::Text));
        }
    }
    out
}

/// A flat cell read as its column's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Empty.
    Null,
    /// Text.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A number.
    Float(f64),
    /// A date.
    Date(NaiveDate),
    /// A date-time.
    DateTime(NaiveDateTime),
    /// A checkbox option.
    Boolean(bool),
}

/// Reads a flat cell as `kind`; `None` when it is not empty and does not read (the text then
/// belongs in the companion column).
pub fn read_cell(kind: ColumnType, raw: &str) -> Option<Cell> {
    if raw.is_empty() {
        return Some(Cell::Null);
    }
    Some(match kind {
        ColumnType::Text | ColumnType::Category => Cell::Text(raw.to_owned()),
        ColumnType::Integer => Cell::Integer(raw.trim().parse().ok()?),
        ColumnType::Float => Cell::Float(raw.trim().parse::<f64>().ok().filter(|n| n.is_finite())?),
        ColumnType::Date => Cell::Date(NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()?),
        ColumnType::DateTime => {
            let t = raw.trim();
            Cell::DateTime(
                NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                    .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M"))
                    .ok()?,
            )
        }
        ColumnType::Boolean => match raw.trim() {
            "1" => Cell::Boolean(true),
            "0" => Cell::Boolean(false),
            _ => return None,
        },
    })
}
