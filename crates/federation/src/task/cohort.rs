//! The cohort feasibility task: how many patients match an MII CCDL query.
//!
//! Wire: `{"type": "cohort", "schema_version": 1, "ccdl": {...}}`. The site releases one count,
//! distinct patients (sensitivity 1), under the gate's ordinary rule; the hub pools the sites'
//! counts. The UI draws a bar per site.

use super::{ChartKind, Note, ReleaseRule, TaskError};
use kakehashi_cohort::ccdl::Filter;
use kakehashi_cohort::{Criterion, Query};
use kakehashi_disclosure::CountTable;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of the cohort task's wire format.
pub const SCHEMA_VERSION: u32 = 1;
/// A count table leaves under the ordinary rule; no denominator.
pub const RELEASE: ReleaseRule = ReleaseRule {
    series: false,
    denominator: false,
};
/// A bar per site.
pub const CHART: ChartKind = ChartKind::Bars;
/// The released table's one measure: distinct patients.
pub const MEASURE: &str = "patients";
/// How many released counts one patient can change.
pub const SENSITIVITY: u32 = 1;

/// A cohort question, checked: the CCDL as the researcher wrote it (sites compile it
/// themselves) and its reading.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortRequest {
    ccdl: Value,
    query: Query,
    /// The day ages are computed as of: part of the question (the hub sets the day it makes
    /// the task when the researcher gives none; a site given none uses the day the task was
    /// made).
    evaluation_date: Option<chrono::NaiveDate>,
}

/// The wire fields of a cohort task.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Wire {
    ccdl: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    evaluation_date: Option<chrono::NaiveDate>,
}

impl CohortRequest {
    /// Reads and checks a CCDL query (v2 or structured-query form). Errors name the element,
    /// e.g. `spec.ccdl.inclusionCriteria[0][0].termCodes[0].code`; more than
    /// [`super::MAX_CODES`] codes are refused.
    pub fn from_ccdl(ccdl: Value) -> Result<CohortRequest, TaskError> {
        let query = Query::from_value(&ccdl).map_err(|e| TaskError::Field {
            field: format!("ccdl.{}", e.path),
            message: e.message,
        })?;
        let mut codes = 0;
        for c in query.criteria() {
            codes += codes_of(c);
        }
        TaskError::check_len("ccdl (term codes)", codes)?;
        TaskError::check_len("ccdl (criteria)", query.criteria().count())?;
        Ok(CohortRequest {
            ccdl,
            query,
            evaluation_date: None,
        })
    }

    /// Reads a CCDL query from JSON text (a file given to the CLI) and checks it.
    pub fn from_json(text: &str) -> Result<CohortRequest, TaskError> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| TaskError::field("ccdl", format!("not valid JSON: {e}")))?;
        CohortRequest::from_ccdl(v)
    }

    pub(super) fn from_wire(w: Wire) -> Result<CohortRequest, TaskError> {
        let r = CohortRequest::from_ccdl(w.ccdl)?;
        match w.evaluation_date {
            Some(d) => r.with_evaluation_date(d),
            None => Ok(r),
        }
    }

    pub(super) fn to_wire(&self) -> Wire {
        Wire {
            ccdl: self.ccdl.clone(),
            evaluation_date: self.evaluation_date,
        }
    }

    /// The same question with ages computed as of `date`; a date after tomorrow is refused
    /// with the field named.
    pub fn with_evaluation_date(self, date: chrono::NaiveDate) -> Result<CohortRequest, TaskError> {
        kakehashi_cohort::check_evaluation_date(date, chrono::Utc::now().date_naive())
            .map_err(|e| TaskError::field("evaluation_date", e))?;
        Ok(CohortRequest {
            evaluation_date: Some(date),
            ..self
        })
    }

    /// The day ages are computed as of, if the question names one.
    pub fn evaluation_date(&self) -> Option<chrono::NaiveDate> {
        self.evaluation_date
    }

    /// The query as read.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The CCDL as written, pretty-printed (the UI's editor shows it).
    pub fn ccdl_text(&self) -> String {
        serde_json::to_string_pretty(&self.ccdl).unwrap_or_default()
    }

    /// The noise and budget key: the query's canonical form (displays and order dropped).
    pub fn canonical(&self) -> String {
        self.query.canonical()
    }

    /// The notes every site gives with this question (they follow from the question alone).
    pub fn notes(&self) -> Vec<Note> {
        self.query
            .criteria()
            .enumerate()
            .filter(|(_, c)| has_unit(c))
            .map(|(i, _)| Note::UnitsNotConverted {
                criterion_index: i as u32,
            })
            .collect()
    }

    /// A one-line summary for lists: the first display (or code) of each criterion, `¬` before
    /// exclusion criteria, cut at 120 characters.
    pub fn summary(&self) -> String {
        let name = |c: &Criterion| {
            c.term_codes
                .first()
                .map(|t| {
                    if t.display.is_empty() {
                        t.code.clone()
                    } else {
                        t.display.clone()
                    }
                })
                .unwrap_or_else(|| "?".into())
        };
        let names: Vec<String> = (self.query.inclusion.iter().flatten().map(name))
            .chain(
                self.query
                    .exclusion
                    .iter()
                    .flatten()
                    .map(|c| format!("¬{}", name(c))),
            )
            .collect();
        let s = names.join(" · ");
        if s.chars().count() > 120 {
            s.chars().take(119).collect::<String>() + "…"
        } else {
            s
        }
    }
}

fn codes_of(c: &Criterion) -> usize {
    fn filter(f: &Filter) -> usize {
        match f {
            Filter::Concept { concepts } => concepts.len(),
            Filter::Reference { criteria } => criteria.iter().map(codes_of).sum(),
            _ => 0,
        }
    }
    c.term_codes.len()
        + c.value_filter.as_ref().map_or(0, filter)
        + c.attribute_filters
            .iter()
            .map(|a| 1 + filter(&a.filter))
            .sum::<usize>()
}

fn has_unit(c: &Criterion) -> bool {
    let unit = |f: &Filter| {
        matches!(
            f,
            Filter::QuantityComparator { unit: Some(_), .. }
                | Filter::QuantityRange { unit: Some(_), .. }
        )
    };
    c.value_filter.as_ref().is_some_and(unit) || c.attribute_filters.iter().any(|a| unit(&a.filter))
}

/// The table a site releases: its count of distinct matching patients.
pub fn count_table(patients: u64) -> CountTable {
    CountTable::scalar(MEASURE, patients)
}
