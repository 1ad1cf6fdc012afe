//! The pooled side of federated IRLS: adds the sites' sums, solves, checks convergence and
//! gives the fit with its inference.

use super::{Contribution, Family, GlmError, Round, RoundAnswer};
use nalgebra::{Cholesky, DMatrix, DVector};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::erf::erfc;

/// Iteration limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The most rounds before giving up.
    pub max_iterations: u32,
    /// Converged when no coefficient changes by more than this, relative to 1 + its size.
    pub tolerance: f64,
}

impl Default for Settings {
    /// 50 rounds, 1e-10.
    fn default() -> Settings {
        Settings {
            max_iterations: 50,
            tolerance: 1e-10,
        }
    }
}

/// One coefficient with its Wald inference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficient {
    /// The column name (`(Intercept)`, `sex[male]`, ...).
    pub term: String,
    /// The estimate.
    pub estimate: f64,
    /// Its standard error.
    pub std_error: f64,
    /// estimate / std_error.
    pub z: f64,
    /// Two-sided p-value (normal reference, as statsmodels' GLM).
    pub p_value: f64,
    /// Lower 95 % Wald limit.
    pub ci_low: f64,
    /// Upper 95 % Wald limit.
    pub ci_high: f64,
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlmFit {
    /// The family.
    pub family: Family,
    /// Rows used (complete cases, all sites).
    pub n: u64,
    /// The coefficients in column order.
    pub coefficients: Vec<Coefficient>,
    /// The residual deviance.
    pub deviance: f64,
    /// The intercept-only (or, without intercept, offset-only) model's deviance.
    pub null_deviance: f64,
    /// n − coefficients.
    pub df_residual: u64,
    /// n − 1 with an intercept, else n.
    pub df_null: u64,
    /// The dispersion: deviance / df_residual for gaussian, 1 otherwise.
    pub dispersion: f64,
    /// The log-likelihood (gaussian at the maximum-likelihood variance deviance / n).
    pub log_likelihood: f64,
    /// Akaike's criterion, as R's `glm` (gaussian counts the variance as a parameter).
    pub aic: f64,
    /// Rounds used.
    pub iterations: u32,
    /// The coefficients' covariance, column by column.
    pub covariance: Vec<f64>,
}

/// What the driver says after a round.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Send [`Irls::round`] to every site again.
    Next,
    /// Converged.
    Done(Box<GlmFit>),
}

/// One model's state in the driver.
#[derive(Debug, Clone)]
struct Track {
    beta: Vec<f64>,
    /// The sums at convergence, with the coefficients one step further.
    done: Option<(Contribution, Vec<f64>)>,
    change: f64,
}

impl Track {
    fn new(p: usize) -> Track {
        Track {
            beta: vec![0.0; p],
            done: None,
            change: f64::INFINITY,
        }
    }

    /// Takes the pooled sums at `beta`: one Newton step, converged when it is small.
    fn step(
        &mut self,
        sum: Contribution,
        columns: &[String],
        tolerance: f64,
    ) -> Result<(), GlmError> {
        if self.done.is_some() {
            return Ok(());
        }
        let p = self.beta.len();
        if p == 0 {
            self.done = Some((sum, Vec::new()));
            return Ok(());
        }
        let a = DMatrix::from_column_slice(p, p, &sum.xtwx);
        let b = DVector::from_column_slice(&sum.xtwz);
        let chol = solve_checked(&a, columns)?;
        let next = chol.solve(&b);
        let mut change: f64 = 0.0;
        for (new, old) in next.iter().zip(&self.beta) {
            change = change.max((new - old).abs() / (1.0 + old.abs()));
        }
        self.change = change;
        self.beta = next.as_slice().to_vec();
        if change <= tolerance {
            self.done = Some((sum, self.beta.clone()));
        }
        Ok(())
    }
}

/// The federated IRLS driver: send [`Irls::round`] to every site, give their answers to
/// [`Irls::absorb`], until it says [`Progress::Done`].
#[derive(Debug, Clone)]
pub struct Irls {
    family: Family,
    columns: Vec<String>,
    settings: Settings,
    iteration: u32,
    model: Track,
    null: Track,
}

impl Irls {
    /// A driver for a model with these columns (from the design every site builds alike);
    /// `intercept`: whether the first column is the intercept (the null model then has one).
    pub fn new(family: Family, columns: Vec<String>, intercept: bool, settings: Settings) -> Irls {
        let p = columns.len();
        Irls {
            family,
            columns,
            settings,
            iteration: 0,
            model: Track::new(p),
            null: Track::new(usize::from(intercept)),
        }
    }

    /// What to send every site now.
    pub fn round(&self) -> Round {
        Round {
            iteration: self.iteration,
            beta: self.model.beta.clone(),
            null_beta: self.null.beta.clone(),
        }
    }

    /// The model's column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Adds all sites' answers to the current round and takes a step.
    pub fn absorb(&mut self, answers: &[RoundAnswer]) -> Result<Progress, GlmError> {
        let p = self.columns.len();
        let model = pool(answers.iter().map(|a| &a.model), p)?;
        let null = pool(answers.iter().map(|a| &a.null), self.null.beta.len())?;
        if model.n == 0 {
            return Err(GlmError::NoRows);
        }
        self.model
            .step(model, &self.columns, self.settings.tolerance)?;
        self.null.step(
            null,
            &[crate::design::INTERCEPT.to_owned()],
            self.settings.tolerance,
        )?;
        self.iteration += 1;
        if let (Some(m), Some(n)) = (&self.model.done, &self.null.done) {
            return Ok(Progress::Done(Box::new(self.finish(m, n)?)));
        }
        if self.iteration >= self.settings.max_iterations {
            return Err(GlmError::NotConverged {
                iterations: self.iteration,
                change: self.model.change.max(if self.null.done.is_some() {
                    0.0
                } else {
                    self.null.change
                }),
            });
        }
        Ok(Progress::Next)
    }

    fn finish(
        &self,
        (sum, beta): &(Contribution, Vec<f64>),
        (null, _): &(Contribution, Vec<f64>),
    ) -> Result<GlmFit, GlmError> {
        let p = beta.len();
        let n = sum.n;
        let df_residual = n.saturating_sub(p as u64);
        let dispersion = if self.family.estimates_dispersion() {
            if df_residual == 0 {
                f64::NAN
            } else {
                sum.deviance / df_residual as f64
            }
        } else {
            1.0
        };
        let a = DMatrix::from_column_slice(p, p, &sum.xtwx);
        let inverse = solve_checked(&a, &self.columns)?.inverse() * dispersion;
        let z975 = Normal::standard().inverse_cdf(0.975);
        let coefficients = (0..p)
            .map(|j| {
                let se = inverse[(j, j)].sqrt();
                let z = beta[j] / se;
                Coefficient {
                    term: self.columns[j].clone(),
                    estimate: beta[j],
                    std_error: se,
                    z,
                    p_value: erfc(z.abs() / std::f64::consts::SQRT_2),
                    ci_low: beta[j] - z975 * se,
                    ci_high: beta[j] + z975 * se,
                }
            })
            .collect();
        let (log_likelihood, k) = match self.family {
            Family::Gaussian => {
                let nf = n as f64;
                (
                    -0.5 * nf * ((2.0 * std::f64::consts::PI * sum.deviance / nf).ln() + 1.0),
                    p + 1,
                )
            }
            _ => (sum.log_likelihood, p),
        };
        Ok(GlmFit {
            family: self.family,
            n,
            coefficients,
            deviance: sum.deviance,
            null_deviance: null.deviance,
            df_residual,
            df_null: n.saturating_sub(self.null.beta.len() as u64),
            dispersion,
            log_likelihood,
            aic: -2.0 * log_likelihood + 2.0 * k as f64,
            iterations: self.iteration,
            covariance: inverse.as_slice().to_vec(),
        })
    }
}

/// Adds the sites' sums, checking sizes and finiteness.
fn pool<'a>(
    parts: impl Iterator<Item = &'a Contribution>,
    p: usize,
) -> Result<Contribution, GlmError> {
    let mut sum = Contribution {
        n: 0,
        xtwx: vec![0.0; p * p],
        xtwz: vec![0.0; p],
        deviance: 0.0,
        log_likelihood: 0.0,
    };
    for (site, c) in parts.enumerate() {
        if c.xtwx.len() != p * p || c.xtwz.len() != p {
            return Err(GlmError::BadAnswer {
                site,
                message: format!(
                    "{} × {} sums for {p} coefficients",
                    c.xtwx.len(),
                    c.xtwz.len()
                ),
            });
        }
        let finite = c.xtwx.iter().chain(&c.xtwz).all(|v| v.is_finite())
            && c.deviance.is_finite()
            && !c.log_likelihood.is_nan();
        if !finite {
            return Err(GlmError::BadAnswer {
                site,
                message: "sums that are not finite numbers".into(),
            });
        }
        sum.n += c.n;
        for (s, v) in sum.xtwx.iter_mut().zip(&c.xtwx) {
            *s += v;
        }
        for (s, v) in sum.xtwz.iter_mut().zip(&c.xtwz) {
            *s += v;
        }
        sum.deviance += c.deviance;
        sum.log_likelihood += c.log_likelihood;
    }
    Ok(sum)
}

/// The Cholesky factor of XᵀWX, or the terms that make it singular: columns without rows
/// first, else each column that is a combination of the ones before it.
fn solve_checked(
    a: &DMatrix<f64>,
    columns: &[String],
) -> Result<Cholesky<f64, nalgebra::Dyn>, GlmError> {
    let p = a.nrows();
    let scale = (0..p).map(|j| a[(j, j)]).fold(0.0_f64, f64::max);
    let empty: Vec<&str> = (0..p)
        .filter(|&j| a[(j, j)] <= scale * 1e-14)
        .map(|j| columns[j].as_str())
        .collect();
    if !empty.is_empty() {
        return Err(GlmError::Aliased {
            terms: empty.join(", "),
            reason: "have no rows",
        });
    }
    // correlation scale, so the pivot test does not depend on units
    let d: Vec<f64> = (0..p).map(|j| a[(j, j)].sqrt()).collect();
    let r = DMatrix::from_fn(p, p, |i, j| a[(i, j)] / (d[i] * d[j]));
    let mut kept: Vec<usize> = Vec::new();
    let mut aliased: Vec<&str> = Vec::new();
    for j in 0..p {
        // the residual of column j after the kept ones: 1 − r_jK R_KK⁻¹ r_Kj
        let residual = if kept.is_empty() {
            1.0
        } else {
            let rkk = r.select_rows(&kept).select_columns(&kept);
            let rkj = DVector::from_iterator(kept.len(), kept.iter().map(|&k| r[(k, j)]));
            match Cholesky::new(rkk) {
                Some(c) => 1.0 - rkj.dot(&c.solve(&rkj)),
                None => 0.0,
            }
        };
        if residual > 1e-10 {
            kept.push(j);
        } else {
            aliased.push(&columns[j]);
        }
    }
    if !aliased.is_empty() {
        return Err(GlmError::Aliased {
            terms: aliased.join(", "),
            reason: "are collinear with earlier terms",
        });
    }
    Cholesky::new(a.clone()).ok_or_else(|| GlmError::Aliased {
        terms: columns.join(", "),
        reason: "are collinear with earlier terms",
    })
}
