//! The surveillance series task: weekly cases, ICU, deaths and test positivity per pathogen for
//! a shipped case definition, per country, with rates per 100,000 patients.
//!
//! Wire: `{"type": "surveillance_series", "schema_version": 1, "definition": "sari-icosari",
//! "by": ["age"], "from": "2023-W40", "to": "2024-W20"}` (`by`, `from`, `to` optional). The
//! site releases the series of [`count_table`] under the gate's series rule and its patient
//! count ([`denominator_table`]) as its own question; the hub pools them with [`result`]. The UI
//! draws weekly lines per country with MEM bands, and positivity with its interval.

mod wire;

pub use wire::*;

use super::{ChartKind, Note, ReleaseRule, TaskError};
use kakehashi_surveillance::per_patient;
use kakehashi_surveillance::series::{AgeBands, SeriesSpec, Stratum};
use kakehashi_surveillance::{CaseDefinition, IsoWeek};
use serde::{Deserialize, Serialize};

/// The version of the surveillance task's wire format.
pub const SCHEMA_VERSION: u32 = 1;
/// A weekly series (the gate's series rule) with a denominator.
pub const RELEASE: ReleaseRule = ReleaseRule {
    series: true,
    denominator: true,
};
/// Weekly lines per country.
pub const CHART: ChartKind = ChartKind::WeeklyLines;
/// The earliest year a series may start: data before it are not in any site store.
pub const FIRST_YEAR: i32 = 1990;

/// A breakdown of the series a site may release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Breakdown {
    /// By age band.
    Age,
}

/// A surveillance question, checked: a shipped definition, known breakdowns, weeks that parse,
/// `from` not after `to`, and no week before [`FIRST_YEAR`] or after next year.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveillanceRequest {
    definition: String,
    by: Vec<Breakdown>,
    from: Option<IsoWeek>,
    to: Option<IsoWeek>,
    /// Each patient counts in at most this many weeks (privacy per person, `docs/privacy.md`).
    max_weeks_per_patient: u32,
}

/// The wire fields of a surveillance task.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Wire {
    definition: String,
    #[serde(default)]
    by: Vec<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_weeks_per_patient: Option<i64>,
}

impl SurveillanceRequest {
    /// Checks a question. `by` names breakdowns (`age`); weeks are ISO weeks (`2023-W40`).
    pub fn new(
        definition: &str,
        by: &[String],
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<SurveillanceRequest, TaskError> {
        CaseDefinition::shipped(definition).map_err(|e| TaskError::field("definition", e))?;
        TaskError::check_len("by", by.len())?;
        let mut breakdowns = Vec::new();
        for (i, b) in by.iter().enumerate() {
            match b.as_str() {
                "age" => breakdowns.push(Breakdown::Age),
                other => {
                    return Err(TaskError::field(
                        format!("by[{i}]"),
                        format!(
                            "{other:?} is not a breakdown a site can release (use \"age\" or none)"
                        ),
                    ));
                }
            }
        }
        breakdowns.sort();
        breakdowns.dedup();
        let last_year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
        let week = |w: Option<&str>, field: &str| -> Result<Option<IsoWeek>, TaskError> {
            let Some(w) = w else { return Ok(None) };
            let w: IsoWeek = w.parse().map_err(|e| TaskError::field(field, e))?;
            if w.year() < FIRST_YEAR || w.year() > last_year {
                return Err(TaskError::field(
                    field,
                    format!("week {w} is outside {FIRST_YEAR}-W01 to {last_year}-W52"),
                ));
            }
            Ok(Some(w))
        };
        let (from, to) = (week(from, "from")?, week(to, "to")?);
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(TaskError::field("from", format!("{f} is after to = {t}")));
        }
        Ok(SurveillanceRequest {
            definition: definition.to_owned(),
            by: breakdowns,
            from,
            to,
            max_weeks_per_patient: per_patient::DEFAULT_MAX_WEEKS_PER_PATIENT,
        })
    }

    /// The same question with each patient counted in at most `k` weeks (1 to
    /// [`per_patient::MAX_WEEKS_PER_PATIENT_LIMIT`]; a negative or zero `k` is refused with the
    /// field named).
    pub fn with_max_weeks_per_patient(self, k: i64) -> Result<SurveillanceRequest, TaskError> {
        let k = per_patient::check_max_weeks(k)
            .map_err(|e| TaskError::field(per_patient::FIELD, e.problem()))?;
        Ok(SurveillanceRequest {
            max_weeks_per_patient: k,
            ..self
        })
    }

    /// At most this many weeks per patient.
    pub fn max_weeks_per_patient(&self) -> u32 {
        self.max_weeks_per_patient
    }

    /// The whole series of a definition, no breakdown.
    pub fn of(definition: &str) -> Result<SurveillanceRequest, TaskError> {
        SurveillanceRequest::new(definition, &[], None, None)
    }

    pub(super) fn from_wire(w: Wire) -> Result<SurveillanceRequest, TaskError> {
        let r = SurveillanceRequest::new(&w.definition, &w.by, w.from.as_deref(), w.to.as_deref())?;
        match w.max_weeks_per_patient {
            Some(k) => r.with_max_weeks_per_patient(k),
            None => Ok(r),
        }
    }

    pub(super) fn to_wire(&self) -> Wire {
        Wire {
            definition: self.definition.clone(),
            by: self.by.iter().map(|_| "age".to_owned()).collect(),
            from: self.from.map(|w| w.to_string()),
            to: self.to.map(|w| w.to_string()),
            max_weeks_per_patient: (self.max_weeks_per_patient
                != per_patient::DEFAULT_MAX_WEEKS_PER_PATIENT)
                .then_some(i64::from(self.max_weeks_per_patient)),
        }
    }

    /// The case definition's name.
    pub fn definition(&self) -> &str {
        &self.definition
    }

    /// The shipped case definition.
    pub fn case_definition(&self) -> CaseDefinition {
        CaseDefinition::shipped(&self.definition).expect("checked on construction")
    }

    /// Whether the series is broken down by age.
    pub fn by_age(&self) -> bool {
        self.by.contains(&Breakdown::Age)
    }

    /// The whole series (no breakdown, no week bounds).
    pub fn is_whole(&self) -> bool {
        self.by.is_empty() && self.from.is_none() && self.to.is_none()
    }

    /// What the site computes.
    pub fn series_spec(&self) -> SeriesSpec {
        SeriesSpec {
            by: if self.by_age() {
                vec![Stratum::Age]
            } else {
                Vec::new()
            },
            age_bands: AgeBands::default(),
            from: self.from,
            to: self.to,
            max_weeks_per_patient: Some(self.max_weeks_per_patient),
        }
    }

    /// The question's canonical form (the domain crate's, part of the repeat key).
    pub fn canonical(&self) -> String {
        kakehashi_surveillance::request::canonical(&self.definition, &self.series_spec())
    }

    /// The notes every site gives with this question.
    pub fn notes(&self) -> Vec<Note> {
        if self.case_definition().needs_diagnosis_rank() {
            vec![Note::MainDiagnosisAsAnyDiagnosis]
        } else {
            Vec::new()
        }
    }
}

/// The names of the shipped case definitions, `sari-icosari` first (the UI's default), then
/// the others in name order.
pub fn definitions() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = kakehashi_surveillance::definition::SHIPPED
        .iter()
        .map(|(n, _)| *n)
        .collect();
    names.sort_by_key(|n| (*n != "sari-icosari", *n));
    names
}

#[cfg(test)]
mod tests;
