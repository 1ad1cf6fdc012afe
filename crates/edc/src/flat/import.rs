//! Imported flat rows read back into the changes of each form instance, checked first as a
//! whole: unknown columns, a missing record id, events that do not exist or do not collect
//! the form, repeat instruments that do not repeat, values that fail their field's
//! validation: every problem is returned (REDCap's wording: record, field, value, message),
//! and nothing is returned to store while there is one.

use super::{
    DAG, EVENT, REPEAT_INSTANCE, REPEAT_INSTRUMENT, Row, field_columns, longitudinal,
    missing_columns, record_id_field,
};
use crate::dictionary::{Field, FieldType};
use crate::entry::{FormStatus, validate_value};
use crate::study::Study;
use std::collections::BTreeMap;

/// REDCap's `overwriteBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// `normal`: a blank value leaves the stored one.
    Normal,
    /// `overwrite`: a blank value clears the stored one.
    Overwrite,
}

/// The changes for one form instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportForm {
    /// The record.
    pub record: String,
    /// The record's data access group, when a row names it.
    pub dag: Option<String>,
    /// The event.
    pub event: String,
    /// The form.
    pub form: String,
    /// The repeat instance.
    pub instance: u32,
    /// The values (`var` or `var___code` → stored text; blank clears).
    pub changes: Vec<(String, String)>,
    /// The status from `form_complete`, when given.
    pub status: Option<FormStatus>,
}

/// One refused value: REDCap's four columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The record.
    pub record: String,
    /// The field (or column).
    pub field: String,
    /// The value sent.
    pub value: String,
    /// What is wrong.
    pub message: String,
}

/// Why an import is refused; nothing of it may be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Columns that are no field of the project.
    #[error("The following fields were not found in the project as real data fields: {}", .0.join(", "))]
    UnknownFields(Vec<String>),
    /// The record id column is missing.
    #[error("The record ID field ('{0}') is missing from the data being imported")]
    NoRecordId(String),
    /// Values or rows refused, each as REDCap lists them.
    #[error("{}", .0.iter().map(|p| format!("\"{}\",\"{}\",\"{}\",\"{}\"", p.record, p.field, p.value.replace('"', "\"\""), p.message)).collect::<Vec<_>>().join("\n"))]
    Values(Vec<Problem>),
}

fn status_of(v: &str) -> Option<FormStatus> {
    match v {
        "0" => Some(FormStatus::Incomplete),
        "1" => Some(FormStatus::Unverified),
        "2" => Some(FormStatus::Complete),
        _ => None,
    }
}

/// Reads imported rows into the changes per form instance (in the order first met).
pub fn import(
    study: &Study,
    rows: &[Row],
    overwrite: Overwrite,
) -> Result<Vec<ImportForm>, ImportError> {
    let rid = record_id_field(study).to_owned();
    // column → (field, is the form's status column)
    let mut known: BTreeMap<String, (&Field, bool)> = BTreeMap::new();
    for f in &study.fields {
        for c in field_columns(f) {
            known.insert(c, (f, false));
        }
        for c in missing_columns(f, &study.missing_codes) {
            known.insert(c, (f, false));
        }
    }
    for form in study.forms() {
        if let Some(f) = study.fields.iter().find(|f| f.form == form) {
            known.insert(format!("{form}_complete"), (f, true));
        }
    }
    let special = [EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE, DAG];
    let mut unknown: Vec<String> = Vec::new();
    let mut has_rid = false;
    for r in rows {
        for c in r.keys() {
            if c == &rid {
                has_rid = true;
            } else if !known.contains_key(c)
                && !special.contains(&c.as_str())
                && !unknown.contains(c)
            {
                unknown.push(c.clone());
            }
        }
    }
    if !unknown.is_empty() {
        return Err(ImportError::UnknownFields(unknown));
    }
    if !has_rid && !rows.is_empty() {
        return Err(ImportError::NoRecordId(rid));
    }
    let single_event = (!longitudinal(study))
        .then(|| study.events().next().map(|e| e.unique_name.clone()))
        .flatten();
    let mut problems = Vec::new();
    let mut out: Vec<ImportForm> = Vec::new();
    let mut index: BTreeMap<(String, String, String, u32), usize> = BTreeMap::new();
    for r in rows {
        let get = |c: &str| r.get(c).map(|s| s.trim()).unwrap_or("");
        let record = get(&rid).to_owned();
        let mut problem = |field: &str, value: &str, message: String| {
            problems.push(Problem {
                record: record.clone(),
                field: field.into(),
                value: value.into(),
                message,
            })
        };
        if record.is_empty() {
            problem(&rid, "", "The record ID is blank".into());
            continue;
        }
        let event = match (get(EVENT), &single_event) {
            ("", Some(e)) => e.clone(),
            ("", None) => {
                problem(
                    EVENT,
                    "",
                    "The event name is missing (this project is longitudinal)".into(),
                );
                continue;
            }
            (e, _) => e.to_owned(),
        };
        let Some(ev) = study.events().find(|x| x.unique_name == event) else {
            problem(
                EVENT,
                &event,
                format!("The event name '{event}' is not valid"),
            );
            continue;
        };
        let instrument = get(REPEAT_INSTRUMENT);
        let instance: u32 = match get(REPEAT_INSTANCE) {
            "" => 1,
            s => match s.parse() {
                Ok(n) if n >= 1 => n,
                _ => {
                    problem(
                        REPEAT_INSTANCE,
                        s,
                        "The repeat instance must be a whole number of 1 or more".into(),
                    );
                    continue;
                }
            },
        };
        if !instrument.is_empty() && !study.is_repeating(&event, instrument) {
            problem(
                REPEAT_INSTRUMENT,
                instrument,
                format!(
                    "The instrument '{instrument}' is not a repeating instrument of the event '{event}'"
                ),
            );
            continue;
        }
        let dag = Some(get(DAG)).filter(|d| !d.is_empty()).map(String::from);
        for (col, raw) in r {
            let Some((f, is_status)) = known.get(col) else {
                continue;
            };
            if col == &rid {
                continue;
            }
            let value = raw.trim();
            if value.is_empty() && overwrite == Overwrite::Normal {
                continue;
            }
            let form = &f.form;
            let here = if instrument.is_empty() {
                !study.is_repeating(&event, form)
            } else {
                form == instrument
            };
            if !ev.forms.contains(form) || !here {
                if !value.is_empty() {
                    problem(
                        col,
                        value,
                        format!(
                            "The field is on the form '{form}', which is not collected {} at the event '{event}'",
                            if instrument.is_empty() {
                                "without a repeat instrument"
                            } else {
                                "by this repeat instrument"
                            }
                        ),
                    );
                }
                continue;
            }
            let key = (
                record.clone(),
                event.clone(),
                form.clone(),
                if instrument.is_empty() { 1 } else { instance },
            );
            let i = *index.entry(key.clone()).or_insert_with(|| {
                out.push(ImportForm {
                    record: key.0.clone(),
                    dag: dag.clone(),
                    event: key.1.clone(),
                    form: key.2.clone(),
                    instance: key.3,
                    changes: Vec::new(),
                    status: None,
                });
                out.len() - 1
            });
            if *is_status {
                if value.is_empty() {
                    continue;
                }
                match status_of(value) {
                    Some(s) => out[i].status = Some(s),
                    None => problem(
                        col,
                        value,
                        "The value must be 0, 1 or 2 (form status)".into(),
                    ),
                }
                continue;
            }
            if f.field_type == FieldType::Calc || f.field_type == FieldType::Descriptive {
                continue;
            }
            match validate_value(f, value, &study.missing_codes) {
                Ok(v) => out[i].changes.push((col.clone(), v)),
                Err(e) => problem(col, value, e.to_string()),
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ImportError::Values(problems))
    }
}
