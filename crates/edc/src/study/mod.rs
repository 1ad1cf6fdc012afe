//! A study as data: identity, ethics approvals, status, sites (REDCap's data access groups),
//! arms with their events (visits with windows), the forms each event collects, repeating
//! forms, roles with per-form rights, the missing-data codes, and the fields (the data
//! dictionary).

pub mod activation;
mod check;

pub use activation::{Activation, ActivationError};
pub use check::{StudyError, StudyProblem};

use crate::dictionary::Field;
use crate::entry::MissingCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A study's life cycle. A *sleeping* protocol is prepared and approved in advance (ISARIC's
/// model for outbreak studies) and activated at chosen sites when an outbreak begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StudyStatus {
    /// Being designed; no data.
    Draft,
    /// Approved and ready, not collecting.
    Sleeping,
    /// Collecting data.
    Active,
    /// No new data; analysis and archive.
    Closed,
}

/// One ethics committee's approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EthicsApproval {
    /// ISO 3166-1 alpha-2 country code (`DE`, `JP`).
    pub country: String,
    /// The committee.
    pub committee: String,
    /// Its reference number.
    pub reference: String,
    /// The approval date (`YYYY-MM-DD`).
    pub approved_on: String,
}

/// A participating site: a REDCap data access group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// The group's unique name (lower-case, `_`), also the site id in the federation.
    pub dag: String,
    /// Its display name.
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

/// A visit or time point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The unique event name (REDCap: `label_arm_N`).
    pub unique_name: String,
    /// Its label.
    pub label: String,
    /// The planned day relative to enrolment.
    #[serde(default)]
    pub day_offset: i32,
    /// Days before the planned day still within the window.
    #[serde(default)]
    pub window_before: u32,
    /// Days after the planned day still within the window.
    #[serde(default)]
    pub window_after: u32,
    /// Whether the whole event repeats (REDCap's repeating event).
    #[serde(default)]
    pub repeating: bool,
    /// The forms collected at this event, in order.
    pub forms: Vec<String>,
}

/// An arm with its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arm {
    /// The arm number (1, 2, …).
    pub number: u32,
    /// Its name.
    pub name: String,
    /// Its events in order.
    pub events: Vec<Event>,
}

/// A form that repeats within an event (daily assessments, medications).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatingForm {
    /// The event.
    pub event: String,
    /// The form.
    pub form: String,
}

/// What a role may do with one form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormRights {
    /// See the form's data.
    #[serde(default)]
    pub view: bool,
    /// Enter and change data.
    #[serde(default)]
    pub edit: bool,
    /// Lock and unlock the form (and e-sign it).
    #[serde(default)]
    pub lock: bool,
    /// Answer, close and re-open data queries on it.
    #[serde(default)]
    pub resolve_queries: bool,
    /// Export its data.
    #[serde(default)]
    pub export: bool,
    /// Read and write it through the API.
    #[serde(default)]
    pub api: bool,
}

/// A role and its rights per form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// The role's unique name.
    pub name: String,
    /// Sees every site's records (monitors, data managers), not only its own.
    #[serde(default)]
    pub all_sites: bool,
    /// May open data queries.
    #[serde(default)]
    pub open_queries: bool,
    /// Rights per form name; `*` gives rights on every form not named.
    pub forms: BTreeMap<String, FormRights>,
}

impl Role {
    /// The role's rights on a form.
    pub fn rights(&self, form: &str) -> FormRights {
        self.forms
            .get(form)
            .or_else(|| self.forms.get("*"))
            .copied()
            .unwrap_or_default()
    }
}

/// A study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Study {
    /// Its id (lower-case, `-`/`_`), used in URLs and file names.
    pub id: String,
    /// The full title.
    pub title: String,
    /// The acronym.
    pub acronym: String,
    /// The protocol version.
    pub protocol_version: String,
    /// The version of the partnership library's protocol document the study runs under
    /// (checked at the hub against the library).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<ProtocolCitation>,
    /// The sponsor.
    pub sponsor: String,
    /// Ethics approvals, per country.
    #[serde(default)]
    pub ethics: Vec<EthicsApproval>,
    /// The status.
    pub status: StudyStatus,
    /// The sites.
    #[serde(default)]
    pub sites: Vec<Site>,
    /// Arms and events.
    pub arms: Vec<Arm>,
    /// Repeating forms.
    #[serde(default)]
    pub repeating_forms: Vec<RepeatingForm>,
    /// Roles.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Missing-data codes in use.
    #[serde(default)]
    pub missing_codes: Vec<MissingCode>,
    /// Form labels (form name → label); the dictionary has no label column, REDCap derives
    /// one from the name when absent.
    #[serde(default)]
    pub form_labels: BTreeMap<String, String>,
    /// Translations: language (`de`, `ja`) → key → text. Keys: `var` (the label),
    /// `var:section` (its section header), `var:note`, `var=code` (a choice label),
    /// `form:name` (a form label). Missing keys show the English text, marked.
    #[serde(default)]
    pub translations: BTreeMap<String, BTreeMap<String, String>>,
    /// The fields (data dictionary order).
    pub fields: Vec<Field>,
    /// The date field that holds each subject's clinical enrolment date (e.g. ARC's
    /// `pres_enrolmentdate`): the dashboard counts enrolment by it, else by the day the hub
    /// received the subject (a registry importing past cases would pile them on one day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment_date: Option<String>,
    /// Its own data-quality rules (consistency checks in the logic language; see
    /// [`crate::quality`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quality_rules: Vec<crate::quality::QualityRule>,
    /// Its activations at sites, oldest first (see [`activation`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activations: Vec<Activation>,
    /// The items a site may propose values for from its own data ([`crate::prefill`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefill: Vec<crate::prefill::PrefillItem>,
}

/// A study's citation of the protocol version it runs under: a document of the partnership
/// library and one of its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolCitation {
    /// The library document's id (`proto-vhf-registry`).
    pub document: String,
    /// The version number (1, 2, …).
    pub version: u32,
}

impl Study {
    /// The forms in dictionary order.
    pub fn forms(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in &self.fields {
            if out.last() != Some(&f.form.as_str()) && !out.contains(&f.form.as_str()) {
                out.push(&f.form);
            }
        }
        out
    }

    /// A form's label (from `form_labels`, else REDCap's: the name with `_` as spaces,
    /// capitalised).
    pub fn form_label(&self, form: &str) -> String {
        self.form_labels.get(form).cloned().unwrap_or_else(|| {
            let s = form.replace('_', " ");
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => s,
            }
        })
    }

    /// Every event of every arm.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.arms.iter().flat_map(|a| a.events.iter())
    }

    /// Whether a form repeats at an event.
    pub fn is_repeating(&self, event: &str, form: &str) -> bool {
        self.repeating_forms
            .iter()
            .any(|r| r.event == event && r.form == form)
    }

    /// Reads a study's JSON and validates it.
    pub fn from_json(source_name: &str, text: &str) -> Result<Study, StudyError> {
        let s: Study = serde_json::from_str(text).map_err(|e| StudyError::Json {
            source_name: source_name.into(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        s.validate(source_name)?;
        Ok(s)
    }

    /// A study around a dictionary's fields, as REDCap creates a project from one: a single
    /// arm with one event collecting every form, the four missing-data codes, no sites or
    /// roles yet; the status is draft.
    pub fn from_dictionary(id: &str, title: &str, fields: Vec<Field>) -> Study {
        let mut s = Study {
            id: id.into(),
            title: title.into(),
            acronym: id.to_uppercase(),
            protocol_version: "1.0".into(),
            protocol: None,
            sponsor: "(to be set)".into(),
            ethics: Vec::new(),
            status: StudyStatus::Draft,
            sites: Vec::new(),
            arms: Vec::new(),
            repeating_forms: Vec::new(),
            roles: Vec::new(),
            missing_codes: MissingCode::ALL.to_vec(),
            form_labels: BTreeMap::new(),
            translations: BTreeMap::new(),
            fields,
            enrolment_date: None,
            quality_rules: Vec::new(),
            activations: Vec::new(),
            prefill: Vec::new(),
        };
        let forms = s.forms().into_iter().map(String::from).collect();
        s.arms.push(Arm {
            number: 1,
            name: "Arm 1".into(),
            events: vec![Event {
                unique_name: "event_1_arm_1".into(),
                label: "Event 1".into(),
                day_offset: 0,
                window_before: 0,
                window_after: 0,
                repeating: false,
                forms,
            }],
        });
        s
    }

    /// The study with a new set of fields (a REDCap dictionary imported on its base): its
    /// data-quality rules and pre-fill items that name a field no longer there are dropped, as
    /// they could not run.
    pub fn with_fields(mut self, fields: Vec<Field>) -> Study {
        self.fields = fields;
        let known = |v: &str| self.fields.iter().any(|f| f.variable == v);
        let keep: Vec<bool> = self
            .quality_rules
            .iter()
            .map(|r| {
                known(&r.field)
                    && crate::logic::parse(&r.logic)
                        .map(|e| e.vars().iter().all(|v| known(&v.field)))
                        .unwrap_or(false)
            })
            .collect();
        let mut keep = keep.into_iter();
        self.quality_rules.retain(|_| keep.next().unwrap_or(false));
        // and its pre-fill items for fields no longer there
        crate::prefill::retain_known(&mut self);
        self
    }

    /// The text in a language for a translation key, if translated.
    pub fn translated(&self, lang: &str, key: &str) -> Option<&str> {
        self.translations
            .get(lang)
            .and_then(|t| t.get(key))
            .map(String::as_str)
    }

    /// The study as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
