//! One site's answer to a statistics task: what is asked ([`Analysis`]), what the site may
//! release ([`SiteAnswer`]) and why it may not ([`SiteError`]), under the site's minimum.
//!
//! The same function ([`answer`]) serves a steward's local run and a task through the hub, so
//! both apply one set of rules. [`SiteAnswer::check`] re-checks, from the answer alone, the
//! rules an answer can show (groups and cells below the minimum, rows and parameters of a
//! GLM round): the site's gate runs it on everything it releases.

use crate::design::{Design, Levels};
use crate::formula::Formula;
use crate::frame::Frame;
use crate::glm::{CheckedDesign, GlmError, GlmRefusal, GlmRules, Round, RoundAnswer};
use crate::summary::{SiteSummary, SummaryError, site_summary};
use crate::survival::life_table::SiteInterval;
use crate::survival::{CoxError, CoxRefusal, CoxSums};
use crate::table::{Table, TableError, tabulate};
use crate::{DesignError, Family, FormulaError};
use serde::{Deserialize, Serialize};

/// What a statistics task asks a site to compute over its analysis dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Analysis {
    /// A numeric variable's summary, per level of `by`.
    Summary {
        /// The numeric variable.
        variable: String,
        /// A categorical variable to group by.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// A contingency table of 1–3 categorical variables.
    Table {
        /// The variables.
        variables: Vec<String>,
    },
    /// One IRLS round of a GLM: the sums at the round's coefficients.
    GlmRound {
        /// The model formula, `y ~ a + b`.
        formula: String,
        /// The family.
        family: Family,
        /// The round: iteration and coefficients.
        round: Round,
    },
    /// Kaplan–Meier as a grouped life table over declared intervals.
    LifeTable {
        /// The time variable, in days (rounded down).
        time: String,
        /// The event variable (1 event, 0 censored).
        event: String,
        /// The intervals' first days, ascending.
        breaks: Vec<u32>,
    },
    /// One Newton round of a Cox model (Breslow ties) on declared intervals: the risk-set sums
    /// at the round's coefficients.
    CoxRound {
        /// The time variable, in days (rounded down).
        time: String,
        /// The event variable (1 event, 0 censored).
        event: String,
        /// The covariates, the right side of a formula (`age_band + sex`).
        covariates: String,
        /// The intervals' first days, ascending.
        breaks: Vec<u32>,
        /// The round, from 0.
        iteration: u32,
        /// The coefficients, one per covariate column.
        beta: Vec<f64>,
    },
    /// The model fitted on the site's rows alone (for a study-level meta-analysis): the
    /// coefficients and their standard errors.
    SiteFit {
        /// The model formula.
        formula: String,
        /// The family.
        family: Family,
    },
}

/// The most intervals a life table or Cox model may declare.
pub const MAX_BREAKS: usize = 1000;

/// Why an analysis is not well-formed (checked before any site is asked).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    /// The formula does not parse.
    #[error("formula: {0}")]
    Formula(#[from] FormulaError),
    /// A table of no or more than three variables.
    #[error("variables: a table has 1 to 3 variables, {got} given")]
    Ways {
        /// Variables given.
        got: usize,
    },
    /// A variable the dataset does not declare.
    #[error("{field}: {name:?} is not a variable of the dataset (it has {known})")]
    Unknown {
        /// Where it is named (`variable`, `by`, `variables[1]`, `formula`).
        field: String,
        /// The name.
        name: String,
        /// The dataset's variables, comma-separated.
        known: String,
    },
    /// Coefficients that are not finite numbers.
    #[error("round.beta: coefficients must be finite numbers")]
    NotFinite,
    /// Interval breaks that are empty, not ascending or too many.
    #[error("breaks: give 1 to {MAX_BREAKS} ascending days ({got} given)")]
    Breaks {
        /// Breaks given.
        got: usize,
    },
}

impl Analysis {
    /// Checks the analysis against the dataset's variable names.
    pub fn check(&self, variables: &[&str]) -> Result<(), AnalysisError> {
        let known = |field: &str, name: &str| {
            if variables.contains(&name) {
                Ok(())
            } else {
                Err(AnalysisError::Unknown {
                    field: field.to_owned(),
                    name: name.to_owned(),
                    known: variables.join(", "),
                })
            }
        };
        match self {
            Analysis::Summary { variable, by } => {
                known("variable", variable)?;
                if let Some(b) = by {
                    known("by", b)?;
                }
            }
            Analysis::Table { variables: vs } => {
                if vs.is_empty() || vs.len() > 3 {
                    return Err(AnalysisError::Ways { got: vs.len() });
                }
                for (i, v) in vs.iter().enumerate() {
                    known(&format!("variables[{i}]"), v)?;
                }
            }
            Analysis::GlmRound { formula, round, .. } => {
                let f = Formula::parse(formula)?;
                for v in f.variables() {
                    known("formula", v)?;
                }
                if !round
                    .beta
                    .iter()
                    .chain(&round.null_beta)
                    .all(|b| b.is_finite())
                {
                    return Err(AnalysisError::NotFinite);
                }
            }
            Analysis::LifeTable {
                time,
                event,
                breaks,
            } => {
                known("time", time)?;
                known("event", event)?;
                check_breaks(breaks)?;
            }
            Analysis::CoxRound {
                time,
                event,
                covariates,
                breaks,
                beta,
                ..
            } => {
                known("time", time)?;
                known("event", event)?;
                let f = Formula::parse(&survival_formula(time, event, covariates))?;
                for v in f.variables() {
                    known("covariates", v)?;
                }
                check_breaks(breaks)?;
                if !beta.iter().all(|b| b.is_finite()) {
                    return Err(AnalysisError::NotFinite);
                }
            }
            Analysis::SiteFit { formula, .. } => {
                let f = Formula::parse(formula)?;
                for v in f.variables() {
                    known("formula", v)?;
                }
            }
        }
        Ok(())
    }
}

fn check_breaks(breaks: &[u32]) -> Result<(), AnalysisError> {
    if breaks.is_empty() || breaks.len() > MAX_BREAKS || breaks.windows(2).any(|w| w[0] >= w[1]) {
        return Err(AnalysisError::Breaks { got: breaks.len() });
    }
    Ok(())
}

/// The model `event ~ covariates + offset(time)` survival rows are read from (an empty
/// right side is the intercept alone).
pub fn survival_formula(time: &str, event: &str, covariates: &str) -> String {
    let rhs = if covariates.trim().is_empty() {
        "1"
    } else {
        covariates
    };
    format!("{event} ~ {rhs} + offset({time})")
}

/// What a site releases for one analysis: sums and counts only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SiteAnswer {
    /// Per group: n, missing, and moments and quartiles where n is at the minimum.
    Summary {
        /// The groups.
        groups: Vec<SiteSummary>,
    },
    /// The whole table, every non-zero cell at the minimum.
    Table {
        /// The table.
        table: Table,
    },
    /// One IRLS round's sums.
    GlmRound {
        /// XᵀWX, XᵀWz, deviance, log-likelihood and n of the model and the null model.
        answer: RoundAnswer,
    },
    /// The site's life table, counts between 1 and the minimum suppressed.
    LifeTable {
        /// Per interval.
        intervals: Vec<SiteInterval>,
    },
    /// One Cox round's risk-set sums per interval.
    CoxRound {
        /// The sums.
        sums: CoxSums,
    },
    /// The site's own fit of the model.
    SiteFit {
        /// Its coefficients.
        fit: OwnFit,
    },
}

/// A model fitted on one site's rows: what a meta-analysis needs of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnFit {
    /// Rows (complete cases).
    pub n: u64,
    /// The coefficients' names, in column order.
    pub terms: Vec<String>,
    /// The estimates.
    pub estimate: Vec<f64>,
    /// Their standard errors.
    pub std_error: Vec<f64>,
}

/// A disclosure rule that refuses an answer: a short code and the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `no_rows`, `too_few_rows`, `too_many_parameters`, `saturated`, `separation`,
    /// `small_cell`, `small_group`, `few_leavers`, `small_count`.
    pub rule: &'static str,
    /// The reason, for the researcher.
    pub message: String,
}

/// Why a site does not answer an analysis.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SiteError {
    /// A disclosure rule refuses (the site says which and why).
    #[error("{}", .0.message)]
    Refused(Rule),
    /// The formula does not parse.
    #[error(transparent)]
    Formula(#[from] FormulaError),
    /// The model matrix cannot be built (unknown variable, a factor with one level, ...).
    #[error(transparent)]
    Design(#[from] DesignError),
    /// The summary cannot be made.
    #[error(transparent)]
    Summary(#[from] SummaryError),
    /// The table cannot be made.
    #[error(transparent)]
    Table(TableError),
    /// The GLM round cannot be computed.
    #[error(transparent)]
    Glm(GlmError),
    /// The Cox round cannot be computed.
    #[error(transparent)]
    Cox(CoxError),
}

impl From<CoxError> for SiteError {
    fn from(e: CoxError) -> SiteError {
        match e {
            CoxError::Refused(r) => SiteError::Refused(Rule {
                rule: match r {
                    CoxRefusal::TooFewRows { .. } => "too_few_rows",
                    CoxRefusal::FewLeavers { .. } => "few_leavers",
                },
                message: r.to_string(),
            }),
            other => SiteError::Cox(other),
        }
    }
}

impl From<TableError> for SiteError {
    fn from(e: TableError) -> SiteError {
        match e {
            TableError::SmallCell { .. } => SiteError::Refused(Rule {
                rule: "small_cell",
                message: e.to_string(),
            }),
            other => SiteError::Table(other),
        }
    }
}

impl From<GlmError> for SiteError {
    fn from(e: GlmError) -> SiteError {
        match e {
            GlmError::Refused(r) => SiteError::Refused(glm_rule(&r)),
            other => SiteError::Glm(other),
        }
    }
}

fn glm_rule(r: &GlmRefusal) -> Rule {
    let rule = match r {
        GlmRefusal::NoRows => "no_rows",
        GlmRefusal::TooFewRows { .. } => "too_few_rows",
        GlmRefusal::TooManyParameters { .. } => "too_many_parameters",
        GlmRefusal::Saturated { .. } => "saturated",
        GlmRefusal::Separation { .. } => "separation",
    };
    Rule {
        rule,
        message: r.to_string(),
    }
}

/// The refusal of a site whose dataset has no rows at all (said before any model or variable
/// error, which would only follow from it).
fn no_rows() -> Rule {
    Rule {
        rule: "no_rows",
        message:
            "no rows: the dataset has no rows at this site (no cohort patient with an index stay)"
                .to_owned(),
    }
}

/// Computes a site's answer over its dataset `frame` (factor levels as declared, `levels`),
/// under the site's minimum `min` (rows in a GLM, values in a summary group, rows in a table
/// cell) and DataSHIELD's parameter share (0.33).
pub fn answer(
    frame: &Frame,
    levels: &Levels,
    analysis: &Analysis,
    min: u64,
) -> Result<SiteAnswer, SiteError> {
    if frame.rows() == 0 {
        return Err(SiteError::Refused(no_rows()));
    }
    match analysis {
        Analysis::Summary { variable, by } => Ok(SiteAnswer::Summary {
            groups: site_summary(frame, variable, by.as_deref(), min)?,
        }),
        Analysis::Table { variables } => {
            let vars: Vec<&str> = variables.iter().map(String::as_str).collect();
            let table = tabulate(frame, &vars, levels)?;
            table.check_cells(min)?;
            Ok(SiteAnswer::Table { table })
        }
        Analysis::GlmRound {
            formula,
            family,
            round,
        } => glm_round(&glm_design(frame, levels, formula, *family, min)?, round),
        Analysis::LifeTable {
            time,
            event,
            breaks,
        } => models::life_table(frame, levels, (time, event), breaks, min),
        Analysis::CoxRound {
            time,
            event,
            covariates,
            breaks,
            beta,
            ..
        } => models::cox_round(frame, levels, (time, event, covariates), breaks, beta, min),
        Analysis::SiteFit { formula, family } => {
            models::site_fit(frame, levels, formula, *family, min)
        }
    }
}

/// A GLM's design over a site's dataset, built and checked against the site's rules (its
/// minimum `min` and DataSHIELD's parameter share) once for the rounds of one model: a
/// round's answer from it ([`glm_round`]) is the one [`answer`] gives.
pub fn glm_design(
    frame: &Frame,
    levels: &Levels,
    formula: &str,
    family: Family,
    min: u64,
) -> Result<CheckedDesign, SiteError> {
    if frame.rows() == 0 {
        return Err(SiteError::Refused(no_rows()));
    }
    let f = Formula::parse(formula)?;
    let design = Design::build(frame, &f, levels)?;
    let rules = GlmRules {
        min_rows: min,
        ..GlmRules::default()
    };
    Ok(CheckedDesign::new(design, family, &rules)?)
}

/// One GLM round's answer on a checked design.
pub fn glm_round(design: &CheckedDesign, round: &Round) -> Result<SiteAnswer, SiteError> {
    Ok(SiteAnswer::GlmRound {
        answer: design.round(round)?,
    })
}

mod check;
mod models;
pub mod overlap;

pub use check::model_columns;

#[cfg(test)]
mod tests;
