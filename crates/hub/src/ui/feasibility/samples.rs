//! The samples tab: the specimen criteria from the form, the locator's question, and its
//! answer as the page shows it (per site, collection and material type, as each gate released
//! it; a site that did not answer says why).

use super::criteria::FeasForm;
use super::result::state_name;
use kakehashi_biobank::SpecimenCriteria;
use kakehashi_disclosure::GatedCount;
use kakehashi_federation::cohort::CohortRequest;
use kakehashi_federation::samples::SamplesRequest;
use kakehashi_federation::{Merged, SiteState, TaskSpec};
use kakehashi_web::form::FieldErrors;
use kakehashi_web::samples::{SampleRow, SampleSite, SamplesResult};

/// The specimen criteria of the form; a problem is named at its field.
pub(super) fn criteria(f: &FeasForm, errors: &mut FieldErrors) -> Option<SpecimenCriteria> {
    let min_aliquots = match f.min_aliquots.trim() {
        "" => 0,
        n => match n.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                errors.add("min_aliquots", "err-number", n.to_owned());
                return None;
            }
        },
    };
    let v = serde_json::json!({"material_types": f.materials, "min_aliquots": min_aliquots});
    match serde_json::from_value(v) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.add("material", "err-choice", e.to_string());
            None
        }
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
