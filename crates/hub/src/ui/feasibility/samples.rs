//! The samples tab: the specimen criteria from the form, the locator's question, and its
//! answer as the page shows it (per site, collection and material type, as each gate released
//! it; a site that did not answer says why).

use super::criteria::FeasForm;
use super::result::state_name;
use kakehashi_biobank::SpecimenCriteria;
use kakehashi_biobank::criteria::{Anchor, DiagnosisWindow, TestCode, TestSystem};
use kakehashi_biobank::icd10::Icd10;
use kakehashi_biobank::vocab::{MaterialType, StorageTemperature, ValueSet};
use kakehashi_disclosure::GatedCount;
use kakehashi_federation::cohort::CohortRequest;
use kakehashi_federation::samples::SamplesRequest;
use kakehashi_federation::{Merged, SiteState, TaskSpec};
use kakehashi_web::form::FieldErrors;
use kakehashi_web::samples::{SampleRow, SampleSite, SamplesResult};

/// A whole number of the form, blank as `default`; a problem is named at its field.
fn whole<T: std::str::FromStr>(
    raw: &str,
    field: &str,
    default: T,
    errors: &mut FieldErrors,
) -> Option<T> {
    match raw.trim() {
        "" => Some(default),
        n => match n.parse::<T>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(field, "err-number", n.to_owned());
                None
            }
        },
    }
}

/// Values of a MIABIS value set ticked on the form; an unknown one is named at `field`.
fn ticked<V: ValueSet>(given: &[String], field: &str, errors: &mut FieldErrors) -> Vec<V> {
    given
        .iter()
        .filter_map(|g| {
            let v = V::parse(g);
            if v.is_none() {
                errors.add(field, "err-choice", g.clone());
            }
            v
        })
        .collect()
}

/// The collection window of the form (anchor, code, days), if one is chosen.
fn window(f: &FeasForm, errors: &mut FieldErrors) -> Option<DiagnosisWindow> {
    let code = f.anchor_code.trim();
    let test = |system| {
        Some(TestCode {
            system,
            code: code.to_owned(),
        })
    };
    let (icd10, positive_test) = match f.anchor.as_str() {
        "" => return None,
        "diagnosis" => match Icd10::parse(code) {
            Ok(c) => (Some(c), None),
            Err(e) => {
                errors.add("anchor_code", "err-choice", e.to_string());
                return None;
            }
        },
        "loinc" => (None, test(TestSystem::Loinc)),
        "jlac10" => (None, test(TestSystem::Jlac10)),
        other => {
            errors.add("anchor", "err-choice", other.to_owned());
            return None;
        }
    };
    let days_before = whole(&f.days_before, "days_before", 0, errors)?;
    let days_after = whole(&f.days_after, "days_after", 30, errors)?;
    Some(DiagnosisWindow {
        icd10,
        positive_test,
        days_before,
        days_after,
    })
}

/// The specimen criteria of the form; a problem is named at its field.
pub(super) fn criteria(f: &FeasForm, errors: &mut FieldErrors) -> Option<SpecimenCriteria> {
    let before = errors.0.len();
    let c = SpecimenCriteria {
        material_types: ticked::<MaterialType>(&f.materials, "material", errors),
        storage_temperatures: ticked::<StorageTemperature>(&f.storages, "storage", errors),
        window: window(f, errors),
        min_aliquots: whole(&f.min_aliquots, "min_aliquots", 0, errors).unwrap_or_default(),
        min_volume_ul: whole(&f.min_volume_ul, "min_volume_ul", 0, errors).unwrap_or_default(),
    };
    if errors.0.len() > before {
        return None;
    }
    match c.checked() {
        Ok(c) => Some(c),
        Err(e) => {
            let field = match e.field() {
                "window" => "anchor",
                "window.positive_test.code" => "anchor_code",
                "window.days_before" => "days_before",
                "window.days_after" => "days_after",
                other => other,
            };
            errors.add(field, "err-choice", e.to_string());
            None
        }
    }
}

/// The form's fields for a question asked before (a task's specimen criteria).
pub(super) fn form_of(c: &SpecimenCriteria, form: &mut kakehashi_web::pages::FeasibilityForm) {
    form.materials = c
        .material_types
        .iter()
        .map(|x| x.code().to_owned())
        .collect();
    form.storages = c
        .storage_temperatures
        .iter()
        .map(|x| x.code().to_owned())
        .collect();
    let some = |n: u32| {
        Some(n)
            .filter(|n| *n > 0)
            .map(|n| n.to_string())
            .unwrap_or_default()
    };
    form.min_aliquots = some(c.min_aliquots);
    form.min_volume_ul = some(c.min_volume_ul);
    if let Some(w) = &c.window {
        match w.anchor() {
            Some(Anchor::Diagnosis(code)) => {
                form.anchor = "diagnosis".into();
                form.anchor_code = code.as_str().to_owned();
            }
            Some(Anchor::PositiveTest(t)) => {
                form.anchor = match t.system {
                    TestSystem::Loinc => "loinc",
                    TestSystem::Jlac10 => "jlac10",
                }
                .into();
                form.anchor_code = t.code.clone();
            }
            None => {}
        }
        form.days_before = w.days_before.to_string();
        form.days_after = w.days_after.to_string();
    }
}

/// The locator's question for the cohort.
pub(super) fn spec(
    cohort: CohortRequest,
    c: SpecimenCriteria,
    errors: &mut FieldErrors,
) -> Option<TaskSpec> {
    match SamplesRequest::new(cohort, c) {
        Ok(r) => Some(TaskSpec::Samples(r)),
        Err(e) => {
            errors.add("material", "err-choice", e.to_string());
            None
        }
    }
}

fn shown(v: Option<GatedCount>) -> String {
    match v {
        Some(GatedCount::Value(n)) => n.to_string(),
        Some(GatedCount::Suppressed { below }) => format!("< {below}"),
        None => "–".into(),
    }
}

/// How a site's gate released its numbers, in a line.
fn disclosure(d: &kakehashi_disclosure::Disclosure) -> String {
    let mut parts = Vec::new();
    if d.noise_off() {
        parts.push("exact (no noise)".to_owned());
    } else if let Some(e) = d.epsilon {
        parts.push(format!("ε = {e}"));
    }
    parts.push(format!("min {}", d.min_count));
    if d.repeated {
        parts.push("repeated".into());
    }
    parts.join(", ")
}

/// The answer as the tab shows it: the cells with donors or samples, every site's state.
pub(super) fn result(m: &Merged) -> SamplesResult {
    let mut rows = Vec::new();
    let mut sites = Vec::new();
    for s in &m.sites {
        let answered = s.state == SiteState::Answered;
        sites.push(SampleSite {
            site: s.name.clone(),
            status: state_name(s.state).to_owned(),
            reason: s.reason.clone().filter(|_| !answered),
            disclosure: s
                .table
                .as_ref()
                .filter(|_| answered)
                .map(|t| disclosure(&t.disclosure))
                .unwrap_or_default(),
        });
        let Some(t) = s.table.as_ref().filter(|_| answered) else {
            continue;
        };
        for r in &t.rows {
            let (donors, samples) = (r.values.first().copied(), r.values.get(1).copied());
            let zero = |v: Option<GatedCount>| v.and_then(GatedCount::value) == Some(0);
            if zero(donors) && zero(samples) {
                continue;
            }
            rows.push(SampleRow {
                site: s.name.clone(),
                country: s.country.to_string(),
                collection: r.key.first().cloned().unwrap_or_default(),
                material: r.key.get(1).cloned().unwrap_or_default(),
                donors: shown(donors),
                samples: shown(samples),
                donors_value: donors.and_then(GatedCount::value),
            });
        }
    }
    SamplesResult {
        task: m.task.id.to_string(),
        rows,
        sites,
        chart_svg: String::new(),
    }
}
