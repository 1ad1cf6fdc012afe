//! The families, each with its canonical link.

use super::GlmError;
use crate::design::Design;
use serde::{Deserialize, Serialize};
use statrs::function::gamma::ln_gamma;
use std::fmt;

/// A GLM family with its canonical link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Normal errors, identity link (least squares).
    Gaussian,
    /// 0/1 response, logit link.
    Binomial,
    /// Counts, log link (with an offset for rates).
    Poisson,
}

/// Fitted values closer than this to the boundary (0 for binomial and poisson, 1 for
/// binomial) mean separation: the estimates are diverging.
const BOUNDARY: f64 = 1e-10;

impl Family {
    /// The family's name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Family::Gaussian => "gaussian",
            Family::Binomial => "binomial",
            Family::Poisson => "poisson",
        }
    }

    /// Reads a family's name.
    pub fn from_name(name: &str) -> Option<Family> {
        match name {
            "gaussian" => Some(Family::Gaussian),
            "binomial" => Some(Family::Binomial),
            "poisson" => Some(Family::Poisson),
            _ => None,
        }
    }

    /// Whether the dispersion is estimated (gaussian) rather than fixed at 1.
    pub fn estimates_dispersion(self) -> bool {
        self == Family::Gaussian
    }

    pub(crate) fn inverse_link(self, eta: f64) -> f64 {
        match self {
            Family::Gaussian => eta,
            Family::Binomial => {
                // numerically stable logistic
                if eta >= 0.0 {
                    1.0 / (1.0 + (-eta).exp())
                } else {
                    let e = eta.exp();
                    e / (1.0 + e)
                }
            }
            Family::Poisson => eta.exp(),
        }
    }

    pub(crate) fn variance(self, mu: f64) -> f64 {
        match self {
            Family::Gaussian => 1.0,
            Family::Binomial => mu * (1.0 - mu),
            Family::Poisson => mu,
        }
    }

    pub(crate) fn at_boundary(self, mu: f64) -> bool {
        match self {
            Family::Gaussian => false,
            Family::Binomial => !(BOUNDARY..=1.0 - BOUNDARY).contains(&mu),
            Family::Poisson => !(mu >= BOUNDARY && mu.is_finite()),
        }
    }

    pub(crate) fn unit_deviance(self, y: f64, mu: f64) -> f64 {
        match self {
            Family::Gaussian => (y - mu) * (y - mu),
            Family::Binomial => 2.0 * (ylogy(y, mu) + ylogy(1.0 - y, 1.0 - mu)),
            Family::Poisson => 2.0 * (ylogy(y, mu) - (y - mu)),
        }
    }

    /// The row's log-likelihood (gaussian: 0, computed from the pooled deviance instead).
    pub(crate) fn log_likelihood(self, y: f64, mu: f64) -> f64 {
        match self {
            Family::Gaussian => 0.0,
            Family::Binomial => {
                if y > 0.5 {
                    mu.ln()
                } else {
                    (1.0 - mu).ln()
                }
            }
            Family::Poisson => y * mu.ln() - mu - ln_gamma(y + 1.0),
        }
    }

    /// Checks every response value: binomial needs 0 or 1, poisson a count.
    pub(crate) fn check_response(self, design: &Design) -> Result<(), GlmError> {
        let (ok, needs): (fn(f64) -> bool, &'static str) = match self {
            Family::Gaussian => (|y| y.is_finite(), "a finite number"),
            Family::Binomial => (|y| y == 0.0 || y == 1.0, "0 or 1"),
            Family::Poisson => (
                |y| y >= 0.0 && y.fract() == 0.0 && y.is_finite(),
                "a count (0, 1, 2, ...)",
            ),
        };
        match design.y.iter().position(|&y| !ok(y)) {
            None => Ok(()),
            Some(i) => Err(GlmError::Response {
                variable: design.response.clone(),
                row: i + 1,
                value: design.y[i],
                family: self,
                needs,
            }),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// y·ln(y/μ), 0 where y is 0.
fn ylogy(y: f64, mu: f64) -> f64 {
    if y > 0.0 { y * (y / mu).ln() } else { 0.0 }
}
