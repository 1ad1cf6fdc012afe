//! Study-level meta-analysis: per-site estimates of one coefficient pooled by fixed effect
//! (inverse variance), or by random effects with the between-site variance τ² by
//! DerSimonian–Laird or REML (Fisher scoring, as R's metafor).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// One site's estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Study {
    /// The site.
    pub name: String,
    /// Its estimate.
    pub estimate: f64,
    /// Its standard error.
    pub std_error: f64,
}

/// How the studies are pooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Inverse-variance fixed effect.
    Fixed,
    /// Random effects, τ² by DerSimonian–Laird.
    DerSimonianLaird,
    /// Random effects, τ² by restricted maximum likelihood.
    Reml,
}

/// Why studies cannot be pooled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetaError {
    /// Fewer than two studies.
    #[error("{0} studies: pooling needs at least two")]
    TooFew(usize),
    /// A standard error that is not a positive number.
    #[error("study {name}: standard error {std_error} is not a positive number")]
    StdError {
        /// The study.
        name: String,
        /// Its standard error.
        std_error: f64,
    },
    /// REML did not converge.
    #[error("REML: τ² did not converge in 100 iterations")]
    NotConverged,
}

/// A pooled estimate with its heterogeneity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pooled {
    /// The method.
    pub method: Method,
    /// The pooled estimate.
    pub estimate: f64,
    /// Its standard error.
    pub std_error: f64,
    /// Lower 95 % limit.
    pub ci_low: f64,
    /// Upper 95 % limit.
    pub ci_high: f64,
    /// Two-sided p-value (normal).
    pub p_value: f64,
    /// Between-site variance (0 for the fixed effect).
    pub tau2: f64,
    /// Cochran's Q.
    pub q: f64,
    /// Its p-value (χ², k − 1 df).
    pub q_p_value: f64,
    /// I² = max(0, (Q − df) / Q).
    pub i2: f64,
}

/// Pools the studies by `method`.
pub fn pool(studies: &[Study], method: Method) -> Result<Pooled, MetaError> {
    let k = studies.len();
    if k < 2 {
        return Err(MetaError::TooFew(k));
    }
    for s in studies {
        if !(s.std_error.is_finite() && s.std_error > 0.0 && s.estimate.is_finite()) {
            return Err(MetaError::StdError {
                name: s.name.clone(),
                std_error: s.std_error,
            });
        }
    }
    let y: Vec<f64> = studies.iter().map(|s| s.estimate).collect();
    let v: Vec<f64> = studies.iter().map(|s| s.std_error * s.std_error).collect();
    // weighted mean and its variance for a between-site variance t
    let at = |t: f64| {
        let w: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + t)).collect();
        let sw: f64 = w.iter().sum();
        let theta = w.iter().zip(&y).map(|(w, y)| w * y).sum::<f64>() / sw;
        (theta, w, sw)
    };
    let (fe, w, sw) = at(0.0);
    let q: f64 = w.iter().zip(&y).map(|(w, y)| w * (y - fe).powi(2)).sum();
    let df = (k - 1) as f64;
    let tau2 = match method {
        Method::Fixed => 0.0,
        Method::DerSimonianLaird => {
            let c = sw - w.iter().map(|w| w * w).sum::<f64>() / sw;
            ((q - df) / c).max(0.0)
        }
        Method::Reml => {
            let mut t = ((q - df) / (sw - w.iter().map(|w| w * w).sum::<f64>() / sw)).max(0.0);
            let mut converged = false;
            for _ in 0..100 {
                let (theta, w, sw) = at(t);
                let sw2: f64 = w.iter().map(|w| w * w).sum();
                let num: f64 = w
                    .iter()
                    .zip(&y)
                    .zip(&v)
                    .map(|((w, y), v)| w * w * ((y - theta).powi(2) - v))
                    .sum();
                let next = (num / sw2 + 1.0 / sw).max(0.0);
                let done = (next - t).abs() <= 1e-14 * (1.0 + t);
                t = next;
                if done {
                    converged = true;
                    break;
                }
            }
            if !converged {
                return Err(MetaError::NotConverged);
            }
            t
        }
    };
    let (theta, _, swt) = at(tau2);
    let se = 1.0 / swt.sqrt();
    let z = 1.959963984540054;
    let normal = Normal::standard();
    let q_p_value = ChiSquared::new(df).map_or(f64::NAN, |c| 1.0 - c.cdf(q));
    Ok(Pooled {
        method,
        estimate: theta,
        std_error: se,
        ci_low: theta - z * se,
        ci_high: theta + z * se,
        p_value: 2.0 * (1.0 - normal.cdf((theta / se).abs())),
        tau2,
        q,
        q_p_value,
        i2: if q > 0.0 {
            ((q - df) / q).max(0.0)
        } else {
            0.0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn studies() -> Vec<Study> {
        [
            (0.10, 0.12),
            (0.35, 0.15),
            (-0.05, 0.10),
            (0.42, 0.20),
            (0.20, 0.09),
        ]
        .iter()
        .enumerate()
        .map(|(i, &(estimate, std_error))| Study {
            name: format!("s{i}"),
            estimate,
            std_error,
        })
        .collect()
    }

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / a.abs().max(b.abs())
    }

    /// Expected: statsmodels 0.15 `combine_effects` (fixed effect; random effects with
    /// method_re="chi2", DerSimonian–Laird) and, for REML, the restricted likelihood minimised
    /// by scipy (bounded, xatol 1e-14) on the same five studies.
    #[test]
    fn fixed_dl_and_reml_match_the_references() {
        let s = studies();
        let fe = pool(&s, Method::Fixed).unwrap();
        assert!(rel(fe.estimate, 0.14541737649063033) < 1e-12);
        assert!(rel(fe.std_error, 0.05253375648760011) < 1e-12);
        assert!(rel(fe.q, 8.07492144614802) < 1e-12);
        let dl = pool(&s, Method::DerSimonianLaird).unwrap();
        assert!(rel(dl.tau2, 0.01497040037551502) < 1e-12);
        assert!(rel(dl.estimate, 0.16666263445624477) < 1e-12);
        assert!(rel(dl.std_error, 0.07848988295527436) < 1e-12);
        let reml = pool(&s, Method::Reml).unwrap();
        assert!(rel(reml.tau2, 0.015072857182658935) < 1e-6, "{}", reml.tau2);
        assert!(rel(reml.estimate, 0.16675563314218325) < 1e-8);
        assert!(rel(reml.std_error, 0.07863055632602498) < 1e-8);
        assert!((fe.i2 - (8.07492144614802 - 4.0) / 8.07492144614802).abs() < 1e-12);
    }

    #[test]
    fn too_few_or_bad_studies_are_refused() {
        let s = studies();
        assert_eq!(pool(&s[..1], Method::Reml), Err(MetaError::TooFew(1)));
        let mut bad = s.clone();
        bad[2].std_error = 0.0;
        assert!(matches!(
            pool(&bad, Method::Fixed),
            Err(MetaError::StdError { ref name, .. }) if name == "s2"
        ));
    }
}
