//! The `statistics` task: one analysis ([`Analysis`]: a summary, a table or one GLM round)
//! over a declared analysis dataset, answered with exact sums through the gate's statistics
//! path ([`kakehashi_disclosure::Gate::release_exact`]).
//!
//! Wire: `{"type": "statistics", "schema_version": 1, "dataset": {DATASET},
//! "evaluation_date": "2026-12-07", "analysis": {"kind": "glm_round", "formula": "died ~ sex",
//! "family": "binomial", "round": {"iteration": 0, "beta": [...], "null_beta": [...]}}}`.
//! A GLM is driven by the hub: one such task per iteration, to every site at once.

use super::{Dataset, DatasetWire};
use crate::task::{ChartKind, ReleaseRule, TaskError};
use chrono::NaiveDate;
use kakehashi_disclosure::{ExactAggregate, StatisticsRule};
use kakehashi_stats::analysis::{Analysis, SiteAnswer};
use serde::{Deserialize, Serialize};

/// The version of the statistics task's wire format.
pub const SCHEMA_VERSION: u32 = 1;
/// Not a count table: released by the statistics rule, no denominator.
pub const RELEASE: ReleaseRule = ReleaseRule {
    series: false,
    denominator: false,
};
/// Drawn as a table of numbers (with a forest plot on the analysis page, `/analysis`).
pub const CHART: ChartKind = ChartKind::Bars;

/// A statistics question, checked: the dataset, the day ages are computed at, the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsRequest {
    dataset: Dataset,
    evaluation_date: Option<NaiveDate>,
    /// Boxed: a Cox round's fields would make every task spec large.
    analysis: Box<Analysis>,
}

/// The wire fields of a statistics task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsWire {
    /// The analysis dataset.
    pub dataset: DatasetWire,
    /// The day ages are computed at (the hub sets it when the researcher gives none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_date: Option<NaiveDate>,
    /// What to compute.
    pub analysis: Analysis,
}

impl StatsRequest {
    /// A checked request: the dataset's fields, and every variable the analysis names
    /// declared by the dataset (`analysis.formula: "age" is not a variable of the dataset`).
    pub fn new(
        dataset: Dataset,
        evaluation_date: Option<NaiveDate>,
        analysis: Analysis,
    ) -> Result<StatsRequest, TaskError> {
        let names: Vec<&str> = dataset
            .spec()
            .variables
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        analysis.check(&names).map_err(|e| {
            let m = e.to_string();
            match m.split_once(": ") {
                Some((f, rest)) => TaskError::field(format!("analysis.{f}"), rest),
                None => TaskError::field("analysis", m),
            }
        })?;
        if let Some(d) = evaluation_date {
            kakehashi_cohort::check_evaluation_date(d, chrono::Utc::now().date_naive())
                .map_err(|e| TaskError::field("evaluation_date", e))?;
        }
        Ok(StatsRequest {
            dataset,
            evaluation_date,
            analysis: Box::new(analysis),
        })
    }

    /// Reads the wire fields.
    pub fn from_wire(w: StatsWire) -> Result<StatsRequest, TaskError> {
        let dataset = Dataset::from_wire(w.dataset).map_err(|e| match e {
            TaskError::Field { field, message } => TaskError::Field {
                field: format!("dataset.{field}"),
                message,
            },
            other => other,
        })?;
        StatsRequest::new(dataset, w.evaluation_date, w.analysis)
    }

    /// The wire fields.
    pub fn to_wire(&self) -> StatsWire {
        StatsWire {
            dataset: self.dataset.to_wire(),
            evaluation_date: self.evaluation_date,
            analysis: (*self.analysis).clone(),
        }
    }

    /// The same request computed as of `date`.
    pub fn with_evaluation_date(self, date: NaiveDate) -> Result<StatsRequest, TaskError> {
        StatsRequest::new(self.dataset, Some(date), *self.analysis)
    }

    /// The dataset.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The day ages are computed at, if set.
    pub fn evaluation_date(&self) -> Option<NaiveDate> {
        self.evaluation_date
    }

    /// The analysis.
    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// The canonical text of the question (its repeat key's request part): the wire form.
    pub fn canonical(&self) -> String {
        serde_json::to_string(&self.to_wire()).unwrap_or_default()
    }
}

/// What a site releases for a statistics task: a [`SiteAnswer`], only ever made by the gate
/// (`Released<StatsAnswer>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StatsAnswer(pub SiteAnswer);

impl ExactAggregate for StatsAnswer {
    fn cells(&self) -> u64 {
        self.0.cells()
    }

    fn check(&self, min: u64) -> Result<(), StatisticsRule> {
        self.0.check(min).map_err(|r| StatisticsRule {
            rule: r.rule.to_owned(),
            message: r.message,
        })
    }
}
