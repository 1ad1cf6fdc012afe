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
use crate::glm::{GlmError, GlmRefusal, GlmRules, Round, RoundAnswer, site_round};
use crate::summary::{SiteSummary, SummaryError, site_summary};
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
}

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
        }
        Ok(())
    }
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
}

/// A disclosure rule that refuses an answer: a short code and the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `no_rows`, `too_few_rows`, `too_many_parameters`, `saturated`, `separation`,
    /// `small_cell`, `small_group`.
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
        } => {
            let f = Formula::parse(formula)?;
            let design = Design::build(frame, &f, levels)?;
            let rules = GlmRules {
                min_rows: min,
                ..GlmRules::default()
            };
            Ok(SiteAnswer::GlmRound {
                answer: site_round(&design, *family, round, &rules)?,
            })
        }
    }
}

impl SiteAnswer {
    /// The numbers it releases (for the site's cell limits).
    pub fn cells(&self) -> u64 {
        match self {
            SiteAnswer::Summary { groups } => 7 * groups.len() as u64,
            SiteAnswer::Table { table } => table.counts.len() as u64 + 1,
            SiteAnswer::GlmRound { answer } => [&answer.model, &answer.null]
                .iter()
                .map(|c| (c.xtwx.len() + c.xtwz.len() + 3) as u64)
                .sum(),
        }
    }

    /// The rules the answer itself shows, re-checked: a summary group below `min` carries no
    /// moments or quartiles; no table cell lies between 1 and `min − 1`; a GLM round has at
    /// least `min` rows and at most 0.33 × n coefficients.
    pub fn check(&self, min: u64) -> Result<(), Rule> {
        match self {
            SiteAnswer::Summary { groups } => {
                for g in groups {
                    if g.n < min.max(1) && (g.moments.is_some() || g.quartiles.is_some()) {
                        return Err(Rule {
                            rule: "small_group",
                            message: format!(
                                "group {} has {} values, fewer than the site's minimum of {min}, and would carry its mean or quartiles",
                                g.group.as_deref().unwrap_or("(all)"),
                                g.n
                            ),
                        });
                    }
                }
                Ok(())
            }
            SiteAnswer::Table { table } => {
                table
                    .check_cells(min)
                    .map_err(|e| match SiteError::from(e) {
                        SiteError::Refused(r) => r,
                        other => Rule {
                            rule: "small_cell",
                            message: other.to_string(),
                        },
                    })
            }
            SiteAnswer::GlmRound { answer } => {
                let rules = GlmRules {
                    min_rows: min,
                    ..GlmRules::default()
                };
                let p = answer.model.xtwz.len();
                rules
                    .check_counts(answer.model.n, p)
                    .map_err(|r| glm_rule(&r))
            }
        }
    }
}

/// The model's column names as every site codes them, known without data: the formula over
/// the dataset's declared variables and levels. A factor of the formula without declared
/// levels is refused (each site would code it by the levels it sees).
pub fn model_columns(
    spec: &crate::dataset::DatasetSpec,
    formula: &Formula,
) -> Result<Vec<String>, SiteError> {
    let levels = spec.levels();
    let mut frame = Frame::new();
    for v in &spec.variables {
        let column = if v.kind.is_factor() {
            crate::frame::Column::Factor(Vec::new())
        } else {
            crate::frame::Column::Numeric(Vec::new())
        };
        frame
            .push(v.name.clone(), column)
            .map_err(|e| SiteError::Design(e.into()))?;
    }
    for v in formula.terms.iter().flatten() {
        if spec.variable(v).is_some_and(|x| x.kind.is_factor()) && !levels.contains_key(v) {
            return Err(SiteError::Design(DesignError::OneLevel {
                variable: v.clone(),
                level: String::new(),
            }));
        }
    }
    Ok(Design::build(&frame, formula, &levels)?.columns)
}

#[cfg(test)]
mod tests;
