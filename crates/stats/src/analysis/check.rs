//! What an answer shows by itself ([`SiteAnswer::cells`], [`SiteAnswer::check`], which the
//! site's gate runs on everything it releases), and the model's columns the hub knows without
//! data ([`model_columns`]).

use super::{Rule, SiteAnswer, SiteError, glm_rule};
use crate::DesignError;
use crate::design::Design;
use crate::formula::Formula;
use crate::frame::Frame;
use crate::glm::GlmRules;
use crate::survival::CoxRefusal;

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
            SiteAnswer::LifeTable { intervals } => 3 * intervals.len() as u64,
            SiteAnswer::CoxRound { sums } => {
                (1 + sums.event_x.len()
                    + sums.d.len()
                    + sums.s0.len()
                    + sums.s1.len()
                    + sums.s2.len()) as u64
            }
            SiteAnswer::SiteFit { fit } => 1 + 2 * fit.estimate.len() as u64,
        }
    }

    /// The rules the answer itself shows, re-checked: a summary group below `min` carries no
    /// moments or quartiles; no table cell lies between 1 and `min − 1`; a GLM round has at
    /// least `min` rows and at most 0.33 × n coefficients, as has a site's own fit; no count of
    /// a life table lies between 1 and `min − 1`; a Cox round has at least `min` rows.
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
            SiteAnswer::SiteFit { fit } => {
                let rules = GlmRules {
                    min_rows: min,
                    ..GlmRules::default()
                };
                rules
                    .check_counts(fit.n, fit.estimate.len())
                    .map_err(|r| glm_rule(&r))
            }
            SiteAnswer::LifeTable { intervals } => {
                for i in intervals {
                    for (what, c) in [
                        ("at risk", i.at_risk),
                        ("events", i.events),
                        ("censored", i.censored),
                    ] {
                        if let Some(c @ 1..) = c
                            && c < min
                        {
                            return Err(Rule {
                                rule: "small_count",
                                message: format!(
                                    "interval from day {}: {what} {c}, fewer than the site's minimum of {min}, would be released",
                                    i.from
                                ),
                            });
                        }
                    }
                }
                Ok(())
            }
            SiteAnswer::CoxRound { sums } => {
                if sums.n < min {
                    return Err(Rule {
                        rule: "too_few_rows",
                        message: CoxRefusal::TooFewRows { rows: sums.n, min }.to_string(),
                    });
                }
                Ok(())
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
