//! The answers of the survival analyses and of a site's own fit: the site's rows read from its
//! dataset as a design, then the pure computations of [`crate::survival`] and [`crate::glm`].

use super::OwnFit;
use super::{SiteAnswer, SiteError, survival_formula};
use crate::Family;
use crate::design::{Design, Levels};
use crate::formula::Formula;
use crate::frame::Frame;
use crate::glm::{GlmRules, Settings, fit_local};
use crate::survival::{self, life_table};

/// The site's survival rows (covariates without intercept, days, event) over complete cases.
fn rows(
    frame: &Frame,
    levels: &Levels,
    (time, event, covariates): (&str, &str, &str),
) -> Result<(Vec<String>, survival::SurvivalRows), SiteError> {
    let f = Formula::parse(&survival_formula(time, event, covariates))?;
    let design = Design::build(frame, &f, levels)?;
    let terms = design
        .columns
        .iter()
        .filter(|c| c.as_str() != crate::design::INTERCEPT)
        .cloned()
        .collect();
    Ok((terms, survival::rows_of(&design)?))
}

/// The site's life table over `breaks`, counts between 1 and `min − 1` suppressed.
pub(super) fn life_table(
    frame: &Frame,
    levels: &Levels,
    (time, event): (&str, &str),
    breaks: &[u32],
    min: u64,
) -> Result<SiteAnswer, SiteError> {
    let (_, (_, t, e)) = rows(frame, levels, (time, event, ""))?;
    Ok(SiteAnswer::LifeTable {
        intervals: life_table::site_table(&t, &e, breaks, min),
    })
}

/// The site's Cox sums at `beta`, after its rules (rows and leavers per interval).
pub(super) fn cox_round(
    frame: &Frame,
    levels: &Levels,
    model: (&str, &str, &str),
    breaks: &[u32],
    beta: &[f64],
    min: u64,
) -> Result<SiteAnswer, SiteError> {
    let (_, (x, t, e)) = rows(frame, levels, model)?;
    Ok(SiteAnswer::CoxRound {
        sums: survival::site_sums(&x, &t, &e, breaks, beta, min)?,
    })
}

/// The model fitted on the site's rows alone, under the GLM rules of every round.
pub(super) fn site_fit(
    frame: &Frame,
    levels: &Levels,
    formula: &str,
    family: Family,
    min: u64,
) -> Result<SiteAnswer, SiteError> {
    let f = Formula::parse(formula)?;
    let design = Design::build(frame, &f, levels)?;
    let rules = GlmRules {
        min_rows: min,
        ..GlmRules::default()
    };
    let fit = fit_local(&design, family, &rules, Settings::default())?;
    Ok(SiteAnswer::SiteFit {
        fit: OwnFit {
            n: fit.n,
            terms: fit.coefficients.iter().map(|c| c.term.clone()).collect(),
            estimate: fit.coefficients.iter().map(|c| c.estimate).collect(),
            std_error: fit.coefficients.iter().map(|c| c.std_error).collect(),
        },
    })
}
