//! The rows of REDCap's API, with REDCap's keys in REDCap's order (serde keeps the field
//! order).

use serde::Serialize;

/// `content=project`: the project's settings (REDCap's keys; flags are 0/1 integers).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectInfo {
    /// A numeric id (REDCap's); the hub numbers its studies.
    pub project_id: u64,
    /// The title.
    pub project_title: String,
    /// When the project was created (`YYYY-MM-DD HH:MM:SS`).
    pub creation_time: String,
    /// When it moved to production (empty: not yet).
    pub production_time: String,
    /// 1 once the study collects data.
    pub in_production: u8,
    /// The interface language.
    pub project_language: String,
    /// 2: research.
    pub purpose: u8,
    /// Free text for another purpose.
    pub purpose_other: String,
    /// Notes: the acronym, protocol version and sponsor.
    pub project_notes: String,
    /// The custom record label.
    pub custom_record_label: String,
    /// The secondary unique field.
    pub secondary_unique_field: String,
    /// 1 when the study has events (every kakehashi study has at least one).
    pub is_longitudinal: u8,
    /// 1 when some form or event repeats.
    pub has_repeating_instruments_or_events: u8,
    /// Surveys are not used.
    pub surveys_enabled: u8,
    /// Scheduling is not used.
    pub scheduling_enabled: u8,
    /// Record ids are minted by the site (pseudonyms), not numbered.
    pub record_autonumbering_enabled: u8,
    /// Randomisation is not used.
    pub randomization_enabled: u8,
    /// Dynamic data pull (kakehashi's pre-fill is its own).
    pub ddp_enabled: u8,
    /// The ethics references, `;`-separated.
    pub project_irb_number: String,
    /// The grant number.
    pub project_grant_number: String,
    /// The PI's first name.
    pub project_pi_firstname: String,
    /// The PI's last name.
    pub project_pi_lastname: String,
    /// The today/now buttons are shown.
    pub display_today_now_button: u8,
    /// The missing-data codes, `CODE, Label` separated by ` | `.
    pub missing_data_codes: String,
    /// External modules (none).
    pub external_modules: String,
    /// Branching erases hidden values without asking.
    pub bypass_branching_erase_field_prompt: u8,
}

/// `content=metadata`: one data dictionary row, with REDCap's API column names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetadataRow {
    /// Variable.
    pub field_name: String,
    /// Form.
    pub form_name: String,
    /// Section header.
    pub section_header: String,
    /// Field type.
    pub field_type: String,
    /// Label.
    pub field_label: String,
    /// Choices (`code, label | …`) or the calculation.
    pub select_choices_or_calculations: String,
    /// Note.
    pub field_note: String,
    /// Validation type (or the slider's `number`).
    pub text_validation_type_or_show_slider_number: String,
    /// Minimum.
    pub text_validation_min: String,
    /// Maximum.
    pub text_validation_max: String,
    /// `y` for identifying fields.
    pub identifier: String,
    /// Branching logic.
    pub branching_logic: String,
    /// `y` when required.
    pub required_field: String,
    /// Alignment.
    pub custom_alignment: String,
    /// Question number.
    pub question_number: String,
    /// Matrix group.
    pub matrix_group_name: String,
    /// `y` for matrix ranking.
    pub matrix_ranking: String,
    /// Annotation.
    pub field_annotation: String,
}

/// `content=exportFieldNames`: the column(s) a field has in a flat record export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportFieldName {
    /// The field.
    pub original_field_name: String,
    /// The checkbox option (empty for other fields).
    pub choice_value: String,
    /// The column (`var___code` for a checkbox option).
    pub export_field_name: String,
}

/// `content=instrument`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instrument {
    /// The form's name.
    pub instrument_name: String,
    /// Its label.
    pub instrument_label: String,
}

/// `content=event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRow {
    /// The label.
    pub event_name: String,
    /// The arm.
    pub arm_num: u32,
    /// Planned day.
    pub day_offset: i32,
    /// Days before still in the window.
    pub offset_min: u32,
    /// Days after still in the window.
    pub offset_max: u32,
    /// The unique name.
    pub unique_event_name: String,
    /// Custom label (none).
    pub custom_event_label: String,
    /// A numeric id: the event's position in the study, from 1.
    pub event_id: u32,
}

/// `content=arm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArmRow {
    /// Number.
    pub arm_num: u32,
    /// Name.
    pub name: String,
}

/// `content=formEventMapping`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormEventRow {
    /// The arm.
    pub arm_num: u32,
    /// The event.
    pub unique_event_name: String,
    /// The form.
    pub form: String,
}

/// `content=repeatingFormsEvents`: a repeating form (or, with `form_name` empty, a
/// repeating event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepeatingRow {
    /// The event's unique name.
    pub event_name: String,
    /// The form (empty: the whole event repeats).
    pub form_name: String,
    /// Custom label (none).
    pub custom_form_label: String,
}

/// `content=dag`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DagRow {
    /// Display name.
    pub data_access_group_name: String,
    /// Unique name.
    pub unique_group_name: String,
    /// A numeric id: the site's position in the study, from 1.
    pub data_access_group_id: u32,
}
