//! The sample locator task: per collection and material type, how many donors of a cohort
//! have specimens that meet the specimen criteria, and how many such specimens.
//!
//! Wire: `{"type": "samples", "schema_version": 1, "ccdl": {...}, "specimen": {...}}`, the
//! specimen criteria being [`SpecimenCriteria`] (material types, storage temperatures, a
//! window around a diagnosis, a minimum of aliquots per donor). The site releases a table
//! collection × material type with two measures, `donors` and `samples`, under the gate's
//! ordinary rule. The collection dimension's values are the ids of the site's own catalogue
//! (plus [`OTHER_COLLECTION`]), never ids read from patient data; the material dimension's are
//! the MIABIS codes the question allows (plus [`UNKNOWN_MATERIAL`]).
//!
//! Per person: a donor counts in at most [`MAX_CELLS_PER_DONOR`] cells (the first in key
//! order) with at most [`MAX_SAMPLES_PER_DONOR`] samples each, so one person changes at most
//! [`SENSITIVITY`] released counts' worth, which scales the noise.

use super::cohort::CohortRequest;
use super::{ChartKind, Note, ReleaseRule, TaskError};
use kakehashi_biobank::SpecimenCriteria;
use kakehashi_biobank::vocab::{MaterialType, ValueSet};
use kakehashi_disclosure::{CountTable, Dim, TableError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of the samples task's wire format.
pub const SCHEMA_VERSION: u32 = 1;
/// A count table under the ordinary rule; no denominator.
pub const RELEASE: ReleaseRule = ReleaseRule {
    series: false,
    denominator: false,
};
/// Bars per material type.
pub const CHART: ChartKind = ChartKind::Bars;
/// The measures, in order.
pub const MEASURES: [&str; 2] = ["donors", "samples"];
/// The most (collection, material) cells one donor counts in.
pub const MAX_CELLS_PER_DONOR: u32 = 2;
/// The most samples one donor adds to one cell.
pub const MAX_SAMPLES_PER_DONOR: u32 = 5;
/// How much one person can change the released counts: one donor and its samples in each of
/// its cells.
pub const SENSITIVITY: u32 = MAX_CELLS_PER_DONOR * (1 + MAX_SAMPLES_PER_DONOR);
/// The collection of specimens that name no collection of the site's catalogue.
pub const OTHER_COLLECTION: &str = "-";
/// The material of specimens whose type maps to no MIABIS material type.
pub const UNKNOWN_MATERIAL: &str = "-";

/// A locator question, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplesRequest {
    cohort: CohortRequest,
    specimen: SpecimenCriteria,
}

/// The wire fields of a samples task.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Wire {
    ccdl: Value,
    #[serde(default)]
    specimen: SpecimenCriteria,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    evaluation_date: Option<chrono::NaiveDate>,
}

impl SamplesRequest {
    /// A question of a cohort and specimen criteria (bounds checked, lists made canonical).
    pub fn new(
        cohort: CohortRequest,
        specimen: SpecimenCriteria,
    ) -> Result<SamplesRequest, TaskError> {
        TaskError::check_len("specimen.material_types", specimen.material_types.len())?;
        let specimen = specimen
            .checked()
            .map_err(|e| TaskError::field(format!("specimen.{}", e.field()), e))?;
        Ok(SamplesRequest { cohort, specimen })
    }

    pub(super) fn from_wire(w: Wire) -> Result<SamplesRequest, TaskError> {
        let mut cohort = CohortRequest::from_ccdl(w.ccdl)?;
        if let Some(d) = w.evaluation_date {
            cohort = cohort.with_evaluation_date(d)?;
        }
        SamplesRequest::new(cohort, w.specimen)
    }

    pub(super) fn to_wire(&self) -> Wire {
        Wire {
            ccdl: serde_json::from_str(&self.cohort.ccdl_text()).unwrap_or(Value::Null),
            specimen: self.specimen.clone(),
            evaluation_date: self.cohort.evaluation_date(),
        }
    }

    /// The cohort part.
    pub fn cohort(&self) -> &CohortRequest {
        &self.cohort
    }

    /// The same question with the cohort's ages computed as of `date`.
    pub fn with_evaluation_date(
        self,
        date: chrono::NaiveDate,
    ) -> Result<SamplesRequest, TaskError> {
        Ok(SamplesRequest {
            cohort: self.cohort.with_evaluation_date(date)?,
            ..self
        })
    }

    /// The specimen criteria.
    pub fn specimen(&self) -> &SpecimenCriteria {
        &self.specimen
    }

    /// The noise and budget key: the cohort's canonical form and the canonical criteria.
    pub fn canonical(&self) -> String {
        format!(
            "{}|specimen:{}",
            self.cohort.canonical(),
            serde_json::to_string(&self.specimen).unwrap_or_default()
        )
    }

    /// The notes every site gives with this question.
    pub fn notes(&self) -> Vec<Note> {
        self.cohort.notes()
    }

    /// A one-line summary: the cohort's, then the materials asked for.
    pub fn summary(&self) -> String {
        let m: Vec<&str> = self
            .specimen
            .material_types
            .iter()
            .map(|m| m.code())
            .collect();
        if m.is_empty() {
            self.cohort.summary()
        } else {
            format!("{} → {}", self.cohort.summary(), m.join(", "))
        }
    }

    /// The material values a released table may carry: the codes asked for (all MIABIS
    /// material types when none), and [`UNKNOWN_MATERIAL`] when any material is allowed.
    pub fn material_domain(&self) -> Vec<&'static str> {
        if self.specimen.material_types.is_empty() {
            let mut v: Vec<&str> = MaterialType::ALL.iter().map(|m| m.code()).collect();
            v.push(UNKNOWN_MATERIAL);
            v
        } else {
            self.specimen
                .material_types
                .iter()
                .map(|m| m.code())
                .collect()
        }
    }
}

/// One cell as the site computed it, clipped per donor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleCell {
    /// A collection of the site's catalogue, or [`OTHER_COLLECTION`].
    pub collection: String,
    /// A MIABIS material code, or [`UNKNOWN_MATERIAL`].
    pub material: String,
    /// Distinct donors.
    pub donors: u64,
    /// Samples, at most [`MAX_SAMPLES_PER_DONOR`] per donor.
    pub samples: u64,
}

/// The table a site releases: every (collection, material) of the declared grid, found or
/// not, so that an empty cell and a suppressed one look alike; `collections` are the site's
/// catalogue ids.
pub fn count_table(
    r: &SamplesRequest,
    collections: &[String],
    cells: &[SampleCell],
) -> Result<CountTable, TableError> {
    let mut cols: Vec<String> = collections.to_vec();
    cols.push(OTHER_COLLECTION.to_owned());
    let materials = r.material_domain();
    let mut t = CountTable::new(
        vec![
            Dim::codes("collection", cols.iter().cloned()),
            Dim::codes("material", materials.iter().copied()),
        ],
        &MEASURES,
    );
    for c in &cols {
        for m in &materials {
            t.ensure_row(&[c, m])?;
        }
    }
    for c in cells {
        t.add(&[&c.collection, &c.material], MEASURES[0], c.donors)?;
        t.add(&[&c.collection, &c.material], MEASURES[1], c.samples)?;
    }
    Ok(t)
}

/// The site's catalogue ids as a collection dimension allows them: at most
/// [`super::MAX_CODES`], no blank ones, sorted.
pub fn catalogue_domain(ids: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = ids
        .into_iter()
        .filter(|s| !s.trim().is_empty() && s != OTHER_COLLECTION)
        .collect();
    v.sort();
    v.dedup();
    v.truncate(super::MAX_CODES);
    v
}
