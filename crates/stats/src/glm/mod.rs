//! Generalised linear models fitted by federated IRLS.
//!
//! Each iteration the driver ([`Irls`]) sends the current coefficients ([`Round`]); each site
//! answers with its rows' XᵀWX, XᵀWz, deviance, log-likelihood and n ([`site_round`]), after
//! its disclosure rules ([`GlmRules`]); the driver adds the sites' answers, solves, and checks
//! convergence. As sums are all the pooled fit needs, the federated fit equals the fit on the
//! pooled rows up to the order of additions. The intercept-only model (the null deviance) is
//! fitted in the same rounds.
//!
//! Families with their canonical links: gaussian (identity), binomial (logit, 0/1 response),
//! poisson (log, with an optional offset).

mod driver;
mod family;
mod rules;

pub use driver::{Coefficient, GlmFit, Irls, Progress, Settings};
pub use family::Family;
pub use rules::{GlmRefusal, GlmRules};

use crate::design::Design;
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// Why a model cannot be fitted or a site cannot answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GlmError {
    /// A site's disclosure rules refuse to answer.
    #[error("refused: {0}")]
    Refused(#[from] GlmRefusal),
    /// A response value the family does not allow.
    #[error("response {variable}: row {row} has {value}, the {family} family needs {needs}")]
    Response {
        /// The response variable.
        variable: String,
        /// The 1-based row among the complete cases.
        row: usize,
        /// The value.
        value: f64,
        /// The family.
        family: Family,
        /// What the family needs.
        needs: &'static str,
    },
    /// A round whose coefficients do not fit the design.
    #[error("round {iteration}: {got} coefficients for a model with {expected}")]
    Coefficients {
        /// The iteration.
        iteration: u32,
        /// Coefficients sent.
        got: usize,
        /// Columns of the design.
        expected: usize,
    },
    /// An answer that does not fit the round (wrong sizes, not finite).
    #[error("site answer {site}: {message}")]
    BadAnswer {
        /// Which answer (0-based, in the order given).
        site: usize,
        /// What is wrong.
        message: String,
    },
    /// No site had rows.
    #[error("no rows at any site")]
    NoRows,
    /// Terms whose columns are zero or a combination of others in the pooled data.
    #[error("the model cannot be estimated: {terms} {reason}")]
    Aliased {
        /// The terms, comma-separated.
        terms: String,
        /// `have no rows` or `are collinear with earlier terms`.
        reason: &'static str,
    },
    /// No convergence within the iteration limit.
    #[error(
        "no convergence after {iterations} iterations (last relative change {change:.3e}); the model may be separated or badly specified"
    )]
    NotConverged {
        /// Iterations done.
        iterations: u32,
        /// The last relative change of the coefficients.
        change: f64,
    },
}

/// What the driver sends each site for one iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// The iteration, from 0.
    pub iteration: u32,
    /// The model's current coefficients, in the design's column order.
    pub beta: Vec<f64>,
    /// The intercept-only model's coefficient (empty for a model without intercept).
    pub null_beta: Vec<f64>,
}

/// One model's sums over a site's rows at the round's coefficients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Rows (complete cases).
    pub n: u64,
    /// XᵀWX, p × p, column by column.
    pub xtwx: Vec<f64>,
    /// XᵀWz, p.
    pub xtwz: Vec<f64>,
    /// The deviance at the round's coefficients.
    pub deviance: f64,
    /// The log-likelihood at the round's coefficients (gaussian: 0; its scale is pooled).
    pub log_likelihood: f64,
}

/// A site's answer to one round: the model's and the null model's sums.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundAnswer {
    /// The model.
    pub model: Contribution,
    /// The intercept-only model (no columns for a model without intercept).
    pub null: Contribution,
}

/// A site's answer to a round: checks the response and the disclosure rules, then computes
/// both models' sums at the round's coefficients. A fitted value at 0 or 1 (binomial) or 0
/// (poisson) is refused as separation: the coefficients are running off to infinity and
/// would tell that every row of some group had the same outcome.
pub fn site_round(
    design: &Design,
    family: Family,
    round: &Round,
    rules: &GlmRules,
) -> Result<RoundAnswer, GlmError> {
    family.check_response(design)?;
    rules.check(design)?;
    sums(design, family, round)
}

/// A design whose response and rows a site has checked once against its rules: the checks
/// depend on the rows alone, not on a round's coefficients, so the rounds of one model reuse
/// it ([`CheckedDesign::round`] answers as [`site_round`] does, without building the model
/// matrix and counting its covariate patterns again every round).
#[derive(Debug)]
pub struct CheckedDesign {
    design: Design,
    family: Family,
}

impl CheckedDesign {
    /// Checks the response for `family` and the design against `rules`.
    pub fn new(design: Design, family: Family, rules: &GlmRules) -> Result<Self, GlmError> {
        family.check_response(&design)?;
        rules.check(&design)?;
        Ok(CheckedDesign { design, family })
    }

    /// The design.
    pub fn design(&self) -> &Design {
        &self.design
    }

    /// The family it was checked for.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Both models' sums at the round's coefficients (separation is checked here, per round).
    pub fn round(&self, round: &Round) -> Result<RoundAnswer, GlmError> {
        sums(&self.design, self.family, round)
    }
}

/// Both models' sums at the round's coefficients, on a checked design.
fn sums(design: &Design, family: Family, round: &Round) -> Result<RoundAnswer, GlmError> {
    let p = design.parameters();
    if round.beta.len() != p {
        return Err(GlmError::Coefficients {
            iteration: round.iteration,
            got: round.beta.len(),
            expected: p,
        });
    }
    let has_intercept =
        design.columns.first().map(String::as_str) == Some(crate::design::INTERCEPT);
    let null_p = usize::from(has_intercept);
    if round.null_beta.len() != null_p {
        return Err(GlmError::Coefficients {
            iteration: round.iteration,
            got: round.null_beta.len(),
            expected: null_p,
        });
    }
    let model = contribution(&design.x, design, family, &round.beta, true)?;
    let ones = DMatrix::from_element(design.rows(), null_p, 1.0);
    let null = contribution(&ones, design, family, &round.null_beta, false)?;
    Ok(RoundAnswer { model, null })
}

/// One model's sums; `check` refuses fitted values at the boundary (separation).
fn contribution(
    x: &DMatrix<f64>,
    design: &Design,
    family: Family,
    beta: &[f64],
    check: bool,
) -> Result<Contribution, GlmError> {
    let n = x.nrows();
    let p = x.ncols();
    let b = DVector::from_column_slice(beta);
    let eta = x * &b + &design.offset;
    let mut w = DVector::zeros(n);
    let mut z = DVector::zeros(n);
    let mut deviance = 0.0;
    let mut log_likelihood = 0.0;
    for i in 0..n {
        let y = design.y[i];
        let mu = family.inverse_link(eta[i]);
        if check && family.at_boundary(mu) {
            return Err(GlmRefusal::Separation {
                family,
                mu,
                response: design.y[i],
            }
            .into());
        }
        let var = family.variance(mu);
        // canonical links: dη/dμ = 1/V(μ), so W = V(μ) and z = η − offset + (y − μ)/V(μ)
        w[i] = var;
        z[i] = eta[i] - design.offset[i] + (y - mu) / var;
        deviance += family.unit_deviance(y, mu);
        log_likelihood += family.log_likelihood(y, mu);
    }
    let xw = DMatrix::from_fn(n, p, |i, j| x[(i, j)] * w[i]);
    let xtwx = x.transpose() * &xw;
    let xtwz = xw.transpose() * &z;
    Ok(Contribution {
        n: n as u64,
        xtwx: xtwx.as_slice().to_vec(),
        xtwz: xtwz.as_slice().to_vec(),
        deviance,
        log_likelihood,
    })
}

/// Fits a model on one frame's rows (a steward's local run, or the pooled reference) with the
/// same driver and rules a federated fit uses.
pub fn fit_local(
    design: &Design,
    family: Family,
    rules: &GlmRules,
    settings: Settings,
) -> Result<GlmFit, GlmError> {
    let has_intercept =
        design.columns.first().map(String::as_str) == Some(crate::design::INTERCEPT);
    let mut irls = Irls::new(family, design.columns.clone(), has_intercept, settings);
    loop {
        let answer = site_round(design, family, &irls.round(), rules)?;
        match irls.absorb(&[answer])? {
            Progress::Next => {}
            Progress::Done(fit) => return Ok(*fit),
        }
    }
}

#[cfg(test)]
mod tests;
