//! The feasibility form's criterion builder: it adds a coded criterion (with value and time
//! filters) or a patient criterion (age, sex) to the CCDL query being written.

use kakehashi_web::form::FieldErrors;
use serde::Deserialize;

/// The feasibility form as posted.
#[derive(Deserialize, Default)]
pub(super) struct FeasForm {
    #[serde(default)]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) action: String,
    #[serde(default)]
    pub(super) add: String,
    #[serde(default)]
    pub(super) project: String,
    #[serde(default)]
    pub(super) search: String,
    #[serde(default)]
    pub(super) ccdl: String,
    #[serde(default)]
    pub(super) min_value: String,
    #[serde(default)]
    pub(super) max_value: String,
    #[serde(default)]
    pub(super) unit: String,
    #[serde(default)]
    pub(super) from: String,
    #[serde(default)]
    pub(super) to: String,
    #[serde(default)]
    pub(super) age_min: String,
    #[serde(default)]
    pub(super) age_max: String,
    #[serde(default)]
    pub(super) sex: String,
    /// The tab the form was posted from (`samples` or not).
    #[serde(default)]
    pub(super) tab: String,
    /// The samples tab's material types (a checkbox each, so repeated).
    #[serde(skip)]
    pub(super) materials: Vec<String>,
    #[serde(default)]
    pub(super) min_aliquots: String,
    /// The samples tab's storage temperatures (a checkbox each).
    #[serde(skip)]
    pub(super) storages: Vec<String>,
    #[serde(default)]
    pub(super) anchor: String,
    #[serde(default)]
    pub(super) anchor_code: String,
    #[serde(default)]
    pub(super) days_before: String,
    #[serde(default)]
    pub(super) days_after: String,
    #[serde(default)]
    pub(super) min_volume_ul: String,
}

impl FeasForm {
    /// The form from its posted pairs (the material checkboxes repeat their name).
    pub(super) fn from_pairs(pairs: &[(String, String)]) -> FeasForm {
        let mut f = FeasForm::default();
        for (k, v) in pairs {
            let v = v.clone();
            match k.as_str() {
                "csrf" => f.csrf = v,
                "action" => f.action = v,
                "add" => f.add = v,
                "project" => f.project = v,
                "search" => f.search = v,
                "ccdl" => f.ccdl = v,
                "min_value" => f.min_value = v,
                "max_value" => f.max_value = v,
                "unit" => f.unit = v,
                "from" => f.from = v,
                "to" => f.to = v,
                "age_min" => f.age_min = v,
                "age_max" => f.age_max = v,
                "sex" => f.sex = v,
                "tab" => f.tab = v,
                "material" => f.materials.push(v),
                "min_aliquots" => f.min_aliquots = v,
                "storage" => f.storages.push(v),
                "anchor" => f.anchor = v,
                "anchor_code" => f.anchor_code = v,
                "days_before" => f.days_before = v,
                "days_after" => f.days_after = v,
                "min_volume_ul" => f.min_volume_ul = v,
                _ => {}
            }
        }
        f
    }
}

/// Adds one inclusion criterion (its own AND-group) to a CCDL query, creating the query if
/// the text is empty.
fn add_criterion(ccdl: &str, criterion: serde_json::Value) -> Result<String, QueryShape> {
    let mut q: serde_json::Value = if ccdl.trim().is_empty() {
        serde_json::json!({"version": "http://to_be_decided.com/draft-1/schema#", "display": "", "inclusionCriteria": []})
    } else {
        serde_json::from_str(ccdl).map_err(|e| QueryShape::Json {
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        })?
    };
    let inc = q
        .as_object_mut()
        .ok_or(QueryShape::NotAnObject)?
        .entry("inclusionCriteria")
        .or_insert_with(|| serde_json::json!([]));
    inc.as_array_mut()
        .ok_or(QueryShape::CriteriaNotAList)?
        .push(serde_json::json!([criterion]));
    Ok(serde_json::to_string_pretty(&q).expect("a JSON value serialises"))
}

/// Why a criterion cannot be added to the query text in the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum QueryShape {
    /// The text is not JSON.
    #[error("{reason}")]
    Json {
        /// Line of the problem (from 1).
        line: usize,
        /// Column of the problem (from 1).
        column: usize,
        /// The JSON reader's message (naming line and column).
        reason: String,
    },
    /// The JSON is not an object.
    #[error("the query is not a JSON object")]
    NotAnObject,
    /// `inclusionCriteria` is there but not a list.
    #[error("inclusionCriteria is not a list")]
    CriteriaNotAList,
}

/// The CCDL context of a criterion.
fn context(code: &str) -> serde_json::Value {
    serde_json::json!({"code": code, "system": "fdpg.mii.cds", "display": code, "version": "1.0.0"})
}

/// `add`: the coded criterion the form names (`context|system|code`), with its value range,
/// unit and dates; `None` (and the errors) when the form is not valid.
pub(super) fn add_coded(f: &FeasForm, locale: &str, errors: &mut FieldErrors) -> Option<String> {
    let mut parts = f.add.splitn(3, '|');
    let (ctx_code, system, code) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let min = errors.number("min_value", &f.min_value);
    let max = errors.number("max_value", &f.max_value);
    errors.ordered("max_value", min, max);
    let from = errors.date("from", &f.from);
    let to = errors.date("to", &f.to);
    errors.ordered("to", from, to);
    if (min.is_some() || max.is_some()) && f.unit.trim().is_empty() {
        errors.add("unit", "err-required", "");
    }
    if !errors.is_empty() {
        return None;
    }
    let display = crate::criteria::display(system, code, locale).unwrap_or_else(|| code.to_owned());
    let mut crit = serde_json::json!({
        "context": context(ctx_code),
        "termCodes": [{"code": code, "system": system, "display": display}]
    });
    let unit = serde_json::json!({"code": f.unit.trim(), "display": f.unit.trim()});
    match (min, max) {
        (Some(a), Some(b)) => {
            crit["valueFilter"] = serde_json::json!({"type": "quantity-range", "minValue": a, "maxValue": b, "unit": unit})
        }
        (Some(a), None) => {
            crit["valueFilter"] = serde_json::json!({"type": "quantity-comparator", "comparator": "gt", "value": a, "unit": unit})
        }
        (None, Some(b)) => {
            crit["valueFilter"] = serde_json::json!({"type": "quantity-comparator", "comparator": "lt", "value": b, "unit": unit})
        }
        (None, None) => {}
    }
    if from.is_some() || to.is_some() {
        let mut tr = serde_json::Map::new();
        if let Some(d) = from {
            tr.insert("afterDate".into(), d.to_string().into());
        }
        if let Some(d) = to {
            tr.insert("beforeDate".into(), d.to_string().into());
        }
        crit["timeRestriction"] = tr.into();
    }
    match add_criterion(&f.ccdl, crit) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.add("ccdl", "err-ccdl", e.to_string());
            None
        }
    }
}

/// `add-patient`: an age range and/or a sex; `None` (and the errors) when not valid.
pub(super) fn add_patient(f: &FeasForm, errors: &mut FieldErrors) -> Option<String> {
    let amin = errors.number("age_min", &f.age_min);
    let amax = errors.number("age_max", &f.age_max);
    errors.ordered("age_max", amin, amax);
    if !f.sex.is_empty() {
        errors.one_of("sex", &f.sex, &["female", "male", "other"]);
    }
    if amin.is_none() && amax.is_none() && f.sex.is_empty() && errors.is_empty() {
        errors.add("age_min", "err-required", "");
    }
    if !errors.is_empty() {
        return None;
    }
    let mut text = f.ccdl.clone();
    if amin.is_some() || amax.is_some() {
        let age = serde_json::json!({
            "context": context("Patient"),
            "termCodes": [{"code": "424144002", "system": "http://snomed.info/sct", "display": "Current chronological age"}],
            "valueFilter": {"type": "quantity-range", "minValue": amin.unwrap_or(0.0), "maxValue": amax.unwrap_or(150.0), "unit": {"code": "a", "display": "a"}}
        });
        match add_criterion(&text, age) {
            Ok(t) => text = t,
            Err(e) => errors.add("ccdl", "err-ccdl", e.to_string()),
        }
    }
    if !f.sex.is_empty() {
        let sex = serde_json::json!({
            "context": context("Patient"),
            "termCodes": [{"code": "263495000", "system": "http://snomed.info/sct", "display": "Gender"}],
            "valueFilter": {"type": "concept", "selectedConcepts": [{"code": f.sex, "system": "http://hl7.org/fhir/administrative-gender", "display": f.sex}]}
        });
        match add_criterion(&text, sex) {
            Ok(t) => text = t,
            Err(e) => errors.add("ccdl", "err-ccdl", e.to_string()),
        }
    }
    Some(text)
}
