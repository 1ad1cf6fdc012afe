//! REDCap's flat record format, both ways, without I/O: the columns REDCap exports (the
//! record id field, `redcap_event_name`, `redcap_repeat_instrument`,
//! `redcap_repeat_instance`, `redcap_data_access_group`, each field in dictionary order with
//! checkboxes as `var___code`, and `form_complete` after each form), the rows of stored
//! [`FormData`] (one per record and event for the non-repeating forms, one per repeat
//! instance), filtered by records, fields, forms, events and `filterLogic`, raw or labels
//! ([`export`]); and imported rows read back into the changes of each form instance, every
//! problem named by record, field and value as REDCap words it ([`import`]); and the
//! columns typed from the dictionary for an analysis file ([`typed`]).

mod import;
pub mod typed;

pub use import::{ImportError, ImportForm, Overwrite, import};

use crate::dictionary::{Field, FieldType};
use crate::entry::{FormData, FormStatus, MissingCode, checkbox_missing};
use crate::logic::{self, Data, Expr, SmartVar, VarRef};
use crate::study::Study;
use chrono::NaiveDateTime;
use std::collections::{BTreeMap, BTreeSet};

/// `redcap_event_name`.
pub const EVENT: &str = "redcap_event_name";
/// `redcap_repeat_instrument`.
pub const REPEAT_INSTRUMENT: &str = "redcap_repeat_instrument";
/// `redcap_repeat_instance`.
pub const REPEAT_INSTANCE: &str = "redcap_repeat_instance";
/// `redcap_data_access_group`.
pub const DAG: &str = "redcap_data_access_group";

/// One record's stored data: its id, site and saved form instances.
#[derive(Debug, Clone, Copy)]
pub struct FlatRecord<'a> {
    /// The record id.
    pub record: &'a str,
    /// Its data access group.
    pub site: &'a str,
    /// Its saved forms (any order).
    pub forms: &'a [FormData],
}

/// What to export (REDCap's `records`, `fields`, `forms`, `events`, `rawOrLabel`,
/// `exportDataAccessGroups`, `filterLogic`).
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Only these records (empty: all).
    pub records: Vec<String>,
    /// Only these fields (empty with `forms` empty: all).
    pub fields: Vec<String>,
    /// Only these forms' fields.
    pub forms: Vec<String>,
    /// Only these events (empty: all).
    pub events: Vec<String>,
    /// Choice labels instead of codes.
    pub labels: bool,
    /// The `redcap_data_access_group` column.
    pub dags: bool,
    /// Only the rows for which this logic is true.
    pub filter: Option<Expr>,
}

/// The record id field: the dictionary's first field, as in REDCap.
pub fn record_id_field(study: &Study) -> &str {
    study
        .fields
        .first()
        .map_or("record_id", |f| f.variable.as_str())
}

fn longitudinal(study: &Study) -> bool {
    study.events().count() > 1
}

fn has_repeats(study: &Study) -> bool {
    !study.repeating_forms.is_empty()
}

fn exported(f: &Field) -> bool {
    f.field_type != FieldType::Descriptive
}

/// A field's export columns: `var`, or `var___code` per checkbox option.
pub fn field_columns(f: &Field) -> Vec<String> {
    if f.field_type == FieldType::Checkbox {
        f.choices
            .iter()
            .map(|c| format!("{}___{}", f.variable, c.code))
            .collect()
    } else {
        vec![f.variable.clone()]
    }
}

/// A checkbox's missing-data code columns (`var___ni`, `var___unk`, …; REDCap writes the code
/// in lower case); none for other fields.
pub fn missing_columns(f: &Field, missing: &[MissingCode]) -> Vec<String> {
    if f.field_type == FieldType::Checkbox {
        checkbox_missing(missing)
            .map(|c| format!("{}___{c}", f.variable))
            .collect()
    } else {
        Vec::new()
    }
}

/// The columns REDCap exports for these options, in its order.
pub fn columns(study: &Study, o: &ExportOptions) -> Vec<String> {
    let rid = record_id_field(study);
    let mut out = vec![rid.to_owned()];
    if longitudinal(study) {
        out.push(EVENT.into());
    }
    if has_repeats(study) {
        out.push(REPEAT_INSTRUMENT.into());
        out.push(REPEAT_INSTANCE.into());
    }
    if o.dags {
        out.push(DAG.into());
    }
    let all = o.fields.is_empty() && o.forms.is_empty();
    for form in study.forms() {
        let whole = all || o.forms.iter().any(|f| f == form);
        for f in study.fields.iter().filter(|f| f.form == form) {
            if f.variable == rid || !exported(f) {
                continue;
            }
            if whole || o.fields.contains(&f.variable) {
                out.extend(field_columns(f));
            }
        }
        let complete = format!("{form}_complete");
        if whole || o.fields.contains(&complete) {
            out.push(complete);
        }
    }
    out
}

/// One exported row by column.
pub type Row = BTreeMap<String, String>;

/// A row's repeat instrument and instance (none: the event's non-repeating forms).
type Repeat = Option<(String, u32)>;

struct RowView<'a> {
    row: &'a Row,
    record: &'a str,
    event: &'a str,
    instance: u32,
    by_event: &'a BTreeMap<&'a str, Row>,
}

impl Data for RowView<'_> {
    fn value(&self, v: &VarRef) -> Option<String> {
        let key = match &v.code {
            Some(c) => format!("{}___{c}", v.field),
            None => v.field.clone(),
        };
        let from = match &v.event {
            Some(e) => self.by_event.get(e.as_str())?,
            None => self.row,
        };
        from.get(&key).filter(|s| !s.is_empty()).cloned()
    }
    fn smart(&self, v: SmartVar) -> Option<String> {
        match v {
            SmartVar::EventName => Some(self.event.into()),
            SmartVar::CurrentInstance => Some(self.instance.to_string()),
            SmartVar::RecordName => Some(self.record.into()),
            _ => None,
        }
    }
    fn now(&self) -> NaiveDateTime {
        NaiveDateTime::MIN
    }
}

fn status_word(s: FormStatus, labels: bool) -> String {
    if labels {
        match s {
            FormStatus::Incomplete => "Incomplete",
            FormStatus::Unverified => "Unverified",
            FormStatus::Complete => "Complete",
        }
        .into()
    } else {
        s.code().to_string()
    }
}

fn label_of(f: &Field, column: &str, raw: &str) -> String {
    match f.field_type {
        FieldType::Checkbox => {
            if column.contains("___") {
                let code = column.split_once("___").map_or("", |(_, c)| c);
                let label = f.choices.iter().find(|c| c.code == code);
                if raw == "1" {
                    label.map_or_else(|| "Checked".into(), |c| c.label.clone())
                } else {
                    String::new()
                }
            } else {
                raw.into()
            }
        }
        t if t.has_choices() || t == FieldType::Yesno || t == FieldType::Truefalse => f
            .options()
            .into_iter()
            .find(|c| c.code == raw)
            .map_or_else(|| raw.to_owned(), |c| c.label),
        _ => raw.into(),
    }
}

/// Fills a row from one form's data.
fn fill(study: &Study, row: &mut Row, d: &FormData, labels: bool) {
    for f in study.fields.iter().filter(|f| f.form == d.form) {
        let mut cols = field_columns(f);
        cols.extend(missing_columns(f, &study.missing_codes));
        for c in cols {
            let raw = d.values.get(&c).cloned().unwrap_or_default();
            let raw = if raw.is_empty() && f.field_type == FieldType::Checkbox {
                "0".to_owned()
            } else {
                raw
            };
            let v = if labels { label_of(f, &c, &raw) } else { raw };
            row.insert(c, v);
        }
    }
    row.insert(
        format!("{}_complete", d.form),
        status_word(d.status, labels),
    );
}

/// The columns with, after each checkbox's own, its missing-data code columns that some
/// exported record uses (REDCap exports only those).
fn with_missing_used(
    study: &Study,
    cols: Vec<String>,
    records: &[FlatRecord<'_>],
    wanted: &BTreeSet<&str>,
) -> Vec<String> {
    let used: BTreeSet<&str> = records
        .iter()
        .filter(|r| wanted.is_empty() || wanted.contains(r.record))
        .flat_map(|r| r.forms.iter())
        .flat_map(|d| d.values.iter())
        .filter(|(_, v)| v.as_str() == "1")
        .map(|(k, _)| k.as_str())
        .collect();
    if used.is_empty() || study.missing_codes.is_empty() {
        return cols;
    }
    // the last option column of each checkbox → its field
    let ends: BTreeMap<String, &Field> = study
        .fields
        .iter()
        .filter(|f| f.field_type == FieldType::Checkbox)
        .filter_map(|f| field_columns(f).pop().map(|c| (c, f)))
        .collect();
    let mut out = Vec::with_capacity(cols.len());
    for c in cols {
        let checkbox_end = ends.get(&c).copied();
        out.push(c);
        if let Some(f) = checkbox_end {
            out.extend(
                missing_columns(f, &study.missing_codes)
                    .into_iter()
                    .filter(|m| used.contains(m.as_str())),
            );
        }
    }
    out
}

/// Exports records as REDCap's flat rows (each with every column of [`columns`]), records
/// in the order given, events in the study's order, repeat instances ascending.
pub fn export(
    study: &Study,
    records: &[FlatRecord<'_>],
    o: &ExportOptions,
) -> (Vec<String>, Vec<Row>) {
    let wanted: BTreeSet<&str> = o.records.iter().map(String::as_str).collect();
    let cols = with_missing_used(study, columns(study, o), records, &wanted);
    let rid = record_id_field(study);
    let mut rows = Vec::new();
    for r in records {
        if !wanted.is_empty() && !wanted.contains(r.record) {
            continue;
        }
        // the record's rows, per event (non-repeating) and per repeat instance
        let mut own: Vec<(String, Repeat, Row)> = Vec::new();
        for e in study.events() {
            let at: Vec<&FormData> = r
                .forms
                .iter()
                .filter(|d| d.event == e.unique_name)
                .collect();
            let plain: Vec<&&FormData> = at
                .iter()
                .filter(|d| !study.is_repeating(&e.unique_name, &d.form))
                .collect();
            if !plain.is_empty() {
                let mut row = Row::new();
                for d in plain {
                    fill(study, &mut row, d, o.labels);
                }
                own.push((e.unique_name.clone(), None, row));
            }
            let mut reps: Vec<&&FormData> = at
                .iter()
                .filter(|d| study.is_repeating(&e.unique_name, &d.form))
                .collect();
            reps.sort_by(|a, b| (&a.form, a.instance).cmp(&(&b.form, b.instance)));
            for d in reps {
                let mut row = Row::new();
                fill(study, &mut row, d, o.labels);
                own.push((
                    e.unique_name.clone(),
                    Some((d.form.clone(), d.instance)),
                    row,
                ));
            }
        }
        // the event rows `[event][var]` of a filter reads (built only for a filter)
        let by_event: BTreeMap<&str, Row> = if o.filter.is_some() {
            own.iter()
                .filter(|(_, rep, _)| rep.is_none())
                .map(|(e, _, row)| (e.as_str(), row.clone()))
                .collect()
        } else {
            BTreeMap::new()
        };
        for (event, rep, row) in &own {
            if !o.events.is_empty() && !o.events.contains(event) {
                continue;
            }
            if let Some(expr) = &o.filter {
                let v = RowView {
                    row,
                    record: r.record,
                    event,
                    instance: rep.as_ref().map_or(1, |(_, i)| *i),
                    by_event: &by_event,
                };
                if !logic::shown(expr, &v) {
                    continue;
                }
            }
            let mut out = Row::new();
            for c in &cols {
                let v = if c == rid {
                    r.record.to_owned()
                } else if c == EVENT {
                    if o.labels {
                        study
                            .events()
                            .find(|e| &e.unique_name == event)
                            .map_or_else(|| event.clone(), |e| e.label.clone())
                    } else {
                        event.clone()
                    }
                } else if c == REPEAT_INSTRUMENT {
                    rep.as_ref().map_or_else(String::new, |(f, _)| {
                        if o.labels {
                            study.form_label(f)
                        } else {
                            f.clone()
                        }
                    })
                } else if c == REPEAT_INSTANCE {
                    rep.as_ref()
                        .map_or_else(String::new, |(_, i)| i.to_string())
                } else if c == DAG {
                    r.site.to_owned()
                } else {
                    row.get(c).cloned().unwrap_or_default()
                };
                out.insert(c.clone(), v);
            }
            rows.push(out);
        }
    }
    (cols, rows)
}

/// The rows as REDCap's CSV (header always written, `\n` line ends).
pub fn to_csv(cols: &[String], rows: &[Row]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(cols);
    for r in rows {
        let _ = w.write_record(cols.iter().map(|c| r.get(c).map_or("", String::as_str)));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Reads imported CSV rows (a header line, then one row per line); a broken line is named.
pub fn read_csv(data: &str) -> Result<Vec<Row>, String> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(data.as_bytes());
    let head: Vec<String> = r
        .headers()
        .map_err(|e| format!("data: {e}"))?
        .iter()
        .map(String::from)
        .collect();
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("data: line {}: {e}", i + 2))?;
        out.push(
            head.iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect(),
        );
    }
    Ok(out)
}

/// The rows as REDCap's JSON (an array of objects, keys in column order).
pub fn to_json(cols: &[String], rows: &[Row]) -> String {
    let arr: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            for c in cols {
                m.insert(
                    c.clone(),
                    serde_json::Value::String(r.get(c).cloned().unwrap_or_default()),
                );
            }
            serde_json::Value::Object(m)
        })
        .collect();
    serde_json::Value::Array(arr).to_string()
}

#[cfg(test)]
mod tests;
