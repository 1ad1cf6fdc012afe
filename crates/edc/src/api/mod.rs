//! The shapes of REDCap's API for a study's metadata (`content=project`, `metadata`,
//! `exportFieldNames`, `instrument`, `event`, `arm`, `formEventMapping`,
//! `repeatingFormsEvents`, `dag`), as typed rows whose JSON keys and CSV columns are
//! REDCap's own, in its order, so that client libraries (PyCap, REDCapR) read them unchanged.
//! The hub answers `POST …/api/` with these; nothing here does I/O.

use crate::dictionary::{Field, FieldType};
use crate::entry::MissingCode;
use crate::study::Study;
use serde::Serialize;

mod types;

pub use types::{
    ArmRow, DagRow, EventRow, ExportFieldName, FormEventRow, Instrument, MetadataRow, ProjectInfo,
    RepeatingRow,
};

/// The REDCap version the API reports (`content=version`): the release whose API shapes
/// these rows follow.
pub const REDCAP_VERSION: &str = "14.5.0";

fn yn(b: bool) -> String {
    if b { "y".into() } else { String::new() }
}

/// The project settings of a study; `project_id` and `created` (`YYYY-MM-DD HH:MM:SS`) are
/// the hub's.
pub fn project(s: &Study, project_id: u64, created: &str) -> ProjectInfo {
    let repeats = !s.repeating_forms.is_empty() || s.events().any(|e| e.repeating);
    ProjectInfo {
        project_id,
        project_title: s.title.clone(),
        creation_time: created.into(),
        production_time: String::new(),
        in_production: u8::from(s.status == crate::StudyStatus::Active),
        project_language: "English".into(),
        purpose: 2,
        purpose_other: String::new(),
        project_notes: format!(
            "{} (protocol {}; sponsor {})",
            s.acronym, s.protocol_version, s.sponsor
        ),
        custom_record_label: String::new(),
        secondary_unique_field: String::new(),
        is_longitudinal: 1,
        has_repeating_instruments_or_events: u8::from(repeats),
        surveys_enabled: 0,
        scheduling_enabled: 0,
        record_autonumbering_enabled: 0,
        randomization_enabled: 0,
        ddp_enabled: 0,
        project_irb_number: s
            .ethics
            .iter()
            .map(|e| format!("{} {}", e.country, e.reference))
            .collect::<Vec<_>>()
            .join("; "),
        project_grant_number: String::new(),
        project_pi_firstname: String::new(),
        project_pi_lastname: String::new(),
        display_today_now_button: 1,
        missing_data_codes: s
            .missing_codes
            .iter()
            .map(|m: &MissingCode| format!("{}, {}", m.code(), m.label()))
            .collect::<Vec<_>>()
            .join(" | "),
        external_modules: String::new(),
        bypass_branching_erase_field_prompt: 0,
    }
}

/// A field as a metadata row.
pub fn metadata_row(f: &Field) -> MetadataRow {
    let validation = match (f.field_type, f.validation) {
        (FieldType::Slider, _) => f.slider_number.clone(),
        (_, Some(v)) => v.as_str().to_owned(),
        _ => String::new(),
    };
    MetadataRow {
        field_name: f.variable.clone(),
        form_name: f.form.clone(),
        section_header: f.section_header.clone(),
        field_type: f.field_type.as_str().into(),
        field_label: f.label.clone(),
        select_choices_or_calculations: f.choices_column(),
        field_note: f.note.clone(),
        text_validation_type_or_show_slider_number: validation,
        text_validation_min: f.min.clone(),
        text_validation_max: f.max.clone(),
        identifier: yn(f.identifier),
        branching_logic: f.branching.clone(),
        required_field: yn(f.required),
        custom_alignment: f.alignment.clone(),
        question_number: f.question_number.clone(),
        matrix_group_name: f.matrix_group.clone(),
        matrix_ranking: yn(f.matrix_ranking),
        field_annotation: f.annotation.clone(),
    }
}

/// The metadata rows, of the named fields and forms only when any are named (REDCap's
/// `fields[]`, `forms[]`: a field is kept when it is named or its form is).
pub fn metadata(s: &Study, fields: &[String], forms: &[String]) -> Vec<MetadataRow> {
    let all = fields.is_empty() && forms.is_empty();
    s.fields
        .iter()
        .filter(|f| all || fields.contains(&f.variable) || forms.contains(&f.form))
        .map(metadata_row)
        .collect()
}

/// REDCap's column for a checkbox option: the code lower-cased, anything but letters and
/// digits as `_`.
pub fn checkbox_column(variable: &str, code: &str) -> String {
    let code: String = code
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{variable}___{code}")
}

/// The export field names, of one field when `field` is given: one per field, one per
/// checkbox option, and each form's `<form>_complete`; calc, file and descriptive fields
/// have none (they cannot be imported), as in REDCap.
pub fn export_field_names(s: &Study, field: Option<&str>) -> Vec<ExportFieldName> {
    let mut out = Vec::new();
    let row = |orig: &str, choice: &str, export: String| ExportFieldName {
        original_field_name: orig.into(),
        choice_value: choice.into(),
        export_field_name: export,
    };
    for (i, f) in s.fields.iter().enumerate() {
        match f.field_type {
            FieldType::Calc | FieldType::File | FieldType::Descriptive => {}
            FieldType::Checkbox => out.extend(
                f.choices
                    .iter()
                    .map(|c| row(&f.variable, &c.code, checkbox_column(&f.variable, &c.code))),
            ),
            _ => out.push(row(&f.variable, "", f.variable.clone())),
        }
        let last_of_form = s.fields.get(i + 1).is_none_or(|n| n.form != f.form);
        if last_of_form {
            let c = format!("{}_complete", f.form);
            out.push(row(&c, "", c.clone()));
        }
    }
    match field {
        Some(name) => out
            .into_iter()
            .filter(|r| r.original_field_name == name)
            .collect(),
        None => out,
    }
}

/// The forms with their labels.
pub fn instruments(s: &Study) -> Vec<Instrument> {
    s.forms()
        .into_iter()
        .map(|f| Instrument {
            instrument_name: f.into(),
            instrument_label: s.form_label(f),
        })
        .collect()
}

fn arm_wanted(arms: &[u32], n: u32) -> bool {
    arms.is_empty() || arms.contains(&n)
}

/// The events, of the given arms only when any are given.
pub fn events(s: &Study, arms: &[u32]) -> Vec<EventRow> {
    let mut out = Vec::new();
    let mut id = 0;
    for a in &s.arms {
        for e in &a.events {
            id += 1;
            if arm_wanted(arms, a.number) {
                out.push(EventRow {
                    event_name: e.label.clone(),
                    arm_num: a.number,
                    day_offset: e.day_offset,
                    offset_min: e.window_before,
                    offset_max: e.window_after,
                    unique_event_name: e.unique_name.clone(),
                    custom_event_label: String::new(),
                    event_id: id,
                });
            }
        }
    }
    out
}

/// The arms, of the given numbers only when any are given.
pub fn arms(s: &Study, arms: &[u32]) -> Vec<ArmRow> {
    s.arms
        .iter()
        .filter(|a| arm_wanted(arms, a.number))
        .map(|a| ArmRow {
            arm_num: a.number,
            name: a.name.clone(),
        })
        .collect()
}

/// Which forms each event collects, of the given arms only when any are given.
pub fn form_event_mapping(s: &Study, arms: &[u32]) -> Vec<FormEventRow> {
    s.arms
        .iter()
        .filter(|a| arm_wanted(arms, a.number))
        .flat_map(|a| {
            a.events.iter().flat_map(move |e| {
                e.forms.iter().map(move |f| FormEventRow {
                    arm_num: a.number,
                    unique_event_name: e.unique_name.clone(),
                    form: f.clone(),
                })
            })
        })
        .collect()
}

/// The repeating events (form empty) and repeating forms.
pub fn repeating(s: &Study) -> Vec<RepeatingRow> {
    let events = s.events().filter(|e| e.repeating).map(|e| RepeatingRow {
        event_name: e.unique_name.clone(),
        form_name: String::new(),
        custom_form_label: String::new(),
    });
    let forms = s.repeating_forms.iter().map(|r| RepeatingRow {
        event_name: r.event.clone(),
        form_name: r.form.clone(),
        custom_form_label: String::new(),
    });
    events.chain(forms).collect()
}

/// The sites as data access groups.
pub fn dags(s: &Study) -> Vec<DagRow> {
    s.sites
        .iter()
        .zip(1..)
        .map(|(d, id)| DagRow {
            data_access_group_name: d.name.clone(),
            unique_group_name: d.dag.clone(),
            data_access_group_id: id,
        })
        .collect()
}

/// Rows as CSV, the header from the first row's keys (REDCap's order), `\n` line ends;
/// an empty list is an empty text.
pub fn to_csv<T: Serialize>(rows: &[T]) -> Result<String, serde_json::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let mut header = false;
    for r in rows {
        let serde_json::Value::Object(m) = serde_json::to_value(r)? else {
            continue;
        };
        if !header {
            let _ = w.write_record(m.keys());
            header = true;
        }
        let cells = m.values().map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let _ = w.write_record(cells);
    }
    Ok(String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default())
}
