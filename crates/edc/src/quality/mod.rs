//! Data quality without I/O: the checks a study's data are run through (REDCap's Data Quality
//! module), their findings, and the study dashboard ([`dashboard`]).
//!
//! Three checks are built in: required fields left empty where they are shown
//! (`missing_required`), stored values the dictionary no longer accepts — wrong type, out of
//! range, a code the field lacks, a missing-data code the study dropped (`invalid_value`, for
//! data entered before a dictionary change or imported), and values in fields their
//! branching logic hides (`hidden_with_value`). A study adds its own consistency rules
//! ([`QualityRule`]) in the logic language of branching and calculations, TRUE where the data
//! are discrepant (REDCap's custom rules), each evaluated on every saved instance of the form
//! that holds the rule's field, with `[event][var]` reaching the subject's other forms.
//! A finding names record, site, event, form, instance and field, so a monitor can open a
//! query on it ([`crate::entry::DataQuery::from_finding`]).

pub mod dashboard;
mod view;

use crate::Study;
use crate::dictionary::{Field, FieldType};
use crate::entry::{FormData, validate_value};
use crate::logic::{self, Expr};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use view::RecordView;

/// The built-in checks' names.
pub const BUILT_IN: [&str; 3] = ["missing_required", "invalid_value", "hidden_with_value"];

/// A study's own consistency rule: logic that is TRUE where the data are discrepant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityRule {
    /// Its name (lower-case letters, digits, `_`), unique in the study and none of
    /// [`BUILT_IN`].
    pub id: String,
    /// What it checks, in words (shown with each finding and as a query's text).
    pub label: String,
    /// REDCap logic, true where discrepant, e.g. `[ast] > 0 and [alt] = ''`.
    pub logic: String,
    /// The field a finding (and a query opened from it) is attached to; the rule runs on
    /// every saved instance of this field's form.
    pub field: String,
    /// Also shown on the form page as soon as the form is saved.
    #[serde(default)]
    pub realtime: bool,
}

/// Why a study's rule cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleProblem {
    /// The id is not a name or is taken.
    #[error(
        "quality rule '{0}': the id must be a name (lower-case letters, digits, '_'), unique, and not one of missing_required, invalid_value, hidden_with_value"
    )]
    BadId(String),
    /// The rule names a field the dictionary lacks.
    #[error("quality rule '{rule}': field '{field}' is not in the dictionary")]
    UnknownField {
        /// The rule.
        rule: String,
        /// The field.
        field: String,
    },
    /// The logic does not read.
    #[error("quality rule '{rule}': {error}")]
    Logic {
        /// The rule.
        rule: String,
        /// Where and what.
        error: logic::LogicError,
    },
    /// The label is empty.
    #[error("quality rule '{0}': the label is empty")]
    NoLabel(String),
}

/// The problems of a study's rules (empty: all usable).
pub fn rule_problems(study: &Study) -> Vec<RuleProblem> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in &study.quality_rules {
        if !logic::valid_name(&r.id) || BUILT_IN.contains(&r.id.as_str()) || !seen.insert(&r.id) {
            out.push(RuleProblem::BadId(r.id.clone()));
        }
        if r.label.trim().is_empty() {
            out.push(RuleProblem::NoLabel(r.id.clone()));
        }
        if !study.fields.iter().any(|f| f.variable == r.field) {
            out.push(RuleProblem::UnknownField {
                rule: r.id.clone(),
                field: r.field.clone(),
            });
        }
        match logic::parse(&r.logic) {
            Err(error) => out.push(RuleProblem::Logic {
                rule: r.id.clone(),
                error,
            }),
            Ok(e) => {
                let mut named = std::collections::BTreeSet::new();
                for v in e.vars() {
                    if v.field != r.field
                        && named.insert(v.field.clone())
                        && !study.fields.iter().any(|f| f.variable == v.field)
                    {
                        out.push(RuleProblem::UnknownField {
                            rule: r.id.clone(),
                            field: v.field.clone(),
                        });
                    }
                }
            }
        }
    }
    out
}

/// A check a study can run: a built-in one or one of its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckInfo {
    /// Its id (`missing_required`, … or the rule's id).
    pub id: String,
    /// Whether built in.
    pub built_in: bool,
    /// The rule's label (empty for built-in checks, which the UI names in its language).
    pub label: String,
    /// The rule's logic (empty for built-in checks).
    pub logic: String,
}

/// Every check of a study: the built-in ones, then its rules.
pub fn checks(study: &Study) -> Vec<CheckInfo> {
    BUILT_IN
        .iter()
        .map(|id| CheckInfo {
            id: (*id).into(),
            built_in: true,
            label: String::new(),
            logic: String::new(),
        })
        .chain(study.quality_rules.iter().map(|r| CheckInfo {
            id: r.id.clone(),
            built_in: false,
            label: r.label.clone(),
            logic: r.logic.clone(),
        }))
        .collect()
}

/// One discrepancy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Finding {
    /// The check that found it.
    pub check: String,
    /// The record.
    pub record: String,
    /// Its site.
    pub site: String,
    /// The event.
    pub event: String,
    /// The form.
    pub form: String,
    /// The repeat instance.
    pub instance: u32,
    /// The field.
    pub field: String,
    /// The field's stored value (empty: none).
    pub value: String,
    /// What is wrong, in English (the rule's label, or the value's problem).
    pub message: String,
}

impl Finding {
    /// The key that tells two findings of the same discrepancy apart from others.
    pub fn key(&self) -> (&str, &str, &str, &str, u32, &str) {
        (
            &self.check,
            &self.record,
            &self.event,
            &self.form,
            self.instance,
            &self.field,
        )
    }
}

/// A check that does not exist in the study.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the study has no data-quality check '{0}'")]
pub struct UnknownCheck(pub String);

/// Runs one check over saved forms (of any number of records), findings in record, event,
/// form, instance order. `now` is the clock for `"today"` in rules.
pub fn run(
    study: &Study,
    check: &str,
    forms: &[FormData],
    now: NaiveDateTime,
) -> Result<Vec<Finding>, UnknownCheck> {
    let kind = match check {
        "missing_required" => Kind::Missing,
        "invalid_value" => Kind::Invalid,
        "hidden_with_value" => Kind::Hidden,
        id => {
            let r = study
                .quality_rules
                .iter()
                .find(|r| r.id == id)
                .ok_or_else(|| UnknownCheck(id.into()))?;
            Kind::Rule(r, logic::parse(&r.logic).ok())
        }
    };
    let fields: BTreeMap<&str, Vec<&Field>> =
        study
            .fields
            .iter()
            .fold(BTreeMap::new(), |mut m: BTreeMap<&str, Vec<&Field>>, f| {
                m.entry(f.form.as_str()).or_default().push(f);
                m
            });
    let events: Vec<&str> = study.events().map(|e| e.unique_name.as_str()).collect();
    let mut by_record: BTreeMap<&str, Vec<&FormData>> = BTreeMap::new();
    for d in forms {
        by_record.entry(d.record.as_str()).or_default().push(d);
    }
    let mut out = Vec::new();
    for record in by_record.values() {
        for d in record {
            let view = RecordView {
                forms: record,
                at: d,
                events: &events,
                now,
            };
            let on_form = fields.get(d.form.as_str()).map_or(&[][..], Vec::as_slice);
            kind.find(study, d, on_form, &view, &mut out);
        }
    }
    out.sort();
    Ok(out)
}

/// Runs every check over the forms: the real-time view of a record.
pub fn run_all(study: &Study, forms: &[FormData], now: NaiveDateTime) -> Vec<Finding> {
    checks(study)
        .iter()
        .flat_map(|c| run(study, &c.id, forms, now).unwrap_or_default())
        .collect()
}

enum Kind<'a> {
    Missing,
    Invalid,
    Hidden,
    Rule(&'a QualityRule, Option<Expr>),
}

fn shown(f: &Field, view: &RecordView<'_>) -> bool {
    if f.branching.trim().is_empty() {
        return true;
    }
    logic::parse(&f.branching).map_or(true, |e| logic::shown(&e, view))
}

/// The stored value of a field on a form, checkbox options joined (`1,3`).
fn stored(f: &Field, d: &FormData) -> String {
    if f.field_type == FieldType::Checkbox {
        if let Some(m) = d.values.get(&f.variable) {
            return m.clone();
        }
        return f
            .options()
            .iter()
            .filter(|c| {
                d.values
                    .get(&format!("{}___{}", f.variable, c.code))
                    .map(String::as_str)
                    == Some("1")
            })
            .map(|c| c.code.clone())
            .collect::<Vec<_>>()
            .join(",");
    }
    d.values.get(&f.variable).cloned().unwrap_or_default()
}

impl Kind<'_> {
    fn find(
        &self,
        study: &Study,
        d: &FormData,
        on_form: &[&Field],
        view: &RecordView<'_>,
        out: &mut Vec<Finding>,
    ) {
        let finding = |check: &str, f: &str, value: String, message: String| Finding {
            check: check.into(),
            record: d.record.clone(),
            site: d.site.clone(),
            event: d.event.clone(),
            form: d.form.clone(),
            instance: d.instance,
            field: f.into(),
            value,
            message,
        };
        match self {
            Kind::Missing => {
                for f in on_form.iter().filter(|f| f.required) {
                    if stored(f, d).is_empty() && shown(f, view) {
                        out.push(finding(
                            "missing_required",
                            &f.variable,
                            String::new(),
                            "a required field is empty".into(),
                        ));
                    }
                }
            }
            Kind::Hidden => {
                for f in on_form.iter().filter(|f| f.field_type != FieldType::Calc) {
                    let v = stored(f, d);
                    if !v.is_empty() && !shown(f, view) {
                        out.push(finding(
                            "hidden_with_value",
                            &f.variable,
                            v,
                            format!(
                                "has a value but its branching logic hides it: {}",
                                f.branching
                            ),
                        ));
                    }
                }
            }
            Kind::Invalid => {
                for (key, v) in &d.values {
                    let (var, code) = match key.split_once("___") {
                        Some((v, c)) => (v, Some(c)),
                        None => (key.as_str(), None),
                    };
                    let Some(f) = on_form.iter().find(|f| f.variable == var) else {
                        out.push(finding(
                            "invalid_value",
                            key,
                            v.clone(),
                            format!("'{key}' is not a field of form '{}' any more", d.form),
                        ));
                        continue;
                    };
                    if f.field_type == FieldType::Calc || f.field_type == FieldType::Descriptive {
                        continue;
                    }
                    if let Some(c) = code
                        && !f.options().iter().any(|o| o.code == c)
                    {
                        out.push(finding(
                            "invalid_value",
                            key,
                            v.clone(),
                            format!("'{c}' is not one of the field's codes"),
                        ));
                        continue;
                    }
                    if let Err(e) = validate_value(f, v, &study.missing_codes) {
                        out.push(finding("invalid_value", key, v.clone(), e.to_string()));
                    }
                }
            }
            Kind::Rule(r, e) => {
                if !on_form.iter().any(|f| f.variable == r.field) {
                    return;
                }
                let Some(e) = e else { return };
                if logic::eval(e, view).truthy() {
                    let value = on_form
                        .iter()
                        .find(|f| f.variable == r.field)
                        .map(|f| stored(f, d))
                        .unwrap_or_default();
                    out.push(finding(&r.id, &r.field, value, r.label.clone()));
                }
            }
        }
    }
}
