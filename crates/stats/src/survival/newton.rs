//! The driver of a federated Cox fit: Newton's method over the sites' pooled sums, one round
//! at a time ([`Newton`], as the hub drives it) or in one loop ([`fit`]), and the fit as shown
//! ([`CoxSummary`]).

use super::{CoxError, CoxFit, CoxSums, pool};
use serde::{Deserialize, Serialize};

/// Newton's method from β = 0: `round` gives every site's sums at β (a federated round, or
/// one local call), until the step is below 1e-10 relative.
pub fn fit(
    p: usize,
    mut round: impl FnMut(&[f64]) -> Result<Vec<CoxSums>, CoxError>,
) -> Result<CoxFit, CoxError> {
    let mut newton = Newton::new(p);
    loop {
        let sums = round(newton.beta())?;
        if let Some(fit) = newton.absorb(&sums)? {
            return Ok(fit);
        }
    }
}

/// The iteration limit of [`Newton`].
pub const MAX_ITERATIONS: u32 = 50;

/// Federated Newton for the Cox model, one round at a time (the hub's driver): send
/// [`Newton::beta`] to every site, give their sums to [`Newton::absorb`], until it returns the
/// fit. After the last step one more round gives the log partial likelihood and the
/// information at the estimate.
#[derive(Debug, Clone)]
pub struct Newton {
    beta: Vec<f64>,
    null: Option<f64>,
    iteration: u32,
    finishing: bool,
}

impl Newton {
    /// Starts at β = 0 for `p` covariates.
    pub fn new(p: usize) -> Newton {
        Newton {
            beta: vec![0.0; p],
            null: None,
            iteration: 0,
            finishing: false,
        }
    }

    /// The coefficients the next round asks about.
    pub fn beta(&self) -> &[f64] {
        &self.beta
    }

    /// Rounds absorbed so far.
    pub fn iteration(&self) -> u32 {
        self.iteration
    }

    /// Adds one round's sums: `None` to ask again at the new [`Newton::beta`], or the fit.
    pub fn absorb(&mut self, sums: &[CoxSums]) -> Result<Option<CoxFit>, CoxError> {
        let (ll, u, info) = pool(sums, &self.beta)?;
        if self.finishing {
            let p = self.beta.len();
            let cov = info.try_inverse().ok_or(CoxError::Singular)?;
            return Ok(Some(CoxFit {
                std_error: (0..p).map(|j| cov[(j, j)].sqrt()).collect(),
                beta: self.beta.clone(),
                log_likelihood: ll,
                null_log_likelihood: self.null.unwrap_or(ll),
                iterations: self.iteration,
            }));
        }
        self.iteration += 1;
        self.null.get_or_insert(ll);
        let chol = info.cholesky().ok_or(CoxError::Singular)?;
        let step = chol.solve(&u);
        if step.iter().any(|s| !s.is_finite()) {
            return Err(CoxError::Singular);
        }
        let done = step
            .iter()
            .zip(&self.beta)
            .all(|(s, b)| s.abs() <= 1e-10 * (1.0 + b.abs()));
        self.beta
            .iter_mut()
            .zip(step.iter())
            .for_each(|(b, s)| *b += s);
        if done {
            self.finishing = true;
        } else if self.iteration >= MAX_ITERATIONS {
            return Err(CoxError::NotConverged(MAX_ITERATIONS));
        }
        Ok(None)
    }
}

/// A Cox coefficient with its Wald inference and hazard ratio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoxCoefficient {
    /// The covariate column (`sex[male]`).
    pub term: String,
    /// The log hazard ratio.
    pub estimate: f64,
    /// Its standard error.
    pub std_error: f64,
    /// estimate / std_error.
    pub z: f64,
    /// Two-sided p-value (normal).
    pub p_value: f64,
    /// exp(estimate).
    pub hazard_ratio: f64,
    /// Lower 95 % limit of the hazard ratio.
    pub ci_low: f64,
    /// Upper 95 % limit of the hazard ratio.
    pub ci_high: f64,
}

/// A fitted Cox model as shown: rows, events, the grid and each coefficient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoxSummary {
    /// Rows, all sites.
    pub n: u64,
    /// Events in the grid, all sites.
    pub events: u64,
    /// Always `breslow`.
    pub ties: String,
    /// The grid's first days.
    pub breaks: Vec<u32>,
    /// The log partial likelihood at the estimate.
    pub log_likelihood: f64,
    /// At β = 0.
    pub null_log_likelihood: f64,
    /// Newton iterations.
    pub iterations: u32,
    /// The coefficients.
    pub coefficients: Vec<CoxCoefficient>,
}

impl CoxSummary {
    /// The fit with its Wald inference per term.
    pub fn new(fit: &CoxFit, terms: &[String], n: u64, events: u64, breaks: &[u32]) -> CoxSummary {
        use statrs::distribution::{ContinuousCDF, Normal};
        let normal = Normal::standard();
        let q = 1.959963984540054;
        let coefficients = terms
            .iter()
            .zip(fit.beta.iter().zip(&fit.std_error))
            .map(|(term, (&b, &se))| {
                let z = b / se;
                CoxCoefficient {
                    term: term.clone(),
                    estimate: b,
                    std_error: se,
                    z,
                    p_value: 2.0 * (1.0 - normal.cdf(z.abs())),
                    hazard_ratio: b.exp(),
                    ci_low: (b - q * se).exp(),
                    ci_high: (b + q * se).exp(),
                }
            })
            .collect();
        CoxSummary {
            n,
            events,
            ties: "breslow".into(),
            breaks: breaks.to_vec(),
            log_likelihood: fit.log_likelihood,
            null_log_likelihood: fit.null_log_likelihood,
            iterations: fit.iterations,
            coefficients,
        }
    }
}
