//! Survival: Kaplan–Meier as a grouped life table with suppression ([`life_table`]), and Cox
//! proportional hazards by federated Newton (Breslow ties), equal to the pooled fit.
//!
//! Breslow's partial likelihood needs, at every event time t, the sums over the *pooled* risk
//! set R(t) = {j : Tⱼ ≥ t}: S0 = Σ exp(xβ), S1 = Σ x exp(xβ), S2 = Σ x xᵀ exp(xβ). Those sums
//! are additive over sites, so sites that share a time grid can each return them per grid
//! time, with their event counts dₜ and the covariate sum of their events, and the driver
//! gets the pooled log partial likelihood, gradient and information exactly:
//!
//! ℓ = Σₑᵥₑₙₜₛ xβ − Σₜ dₜ log S0(t), U = Σₑᵥₑₙₜₛ x − Σₜ dₜ S1/S0,
//! I = Σₜ dₜ (S2/S0 − S1 S1ᵀ/S0²).
//!
//! The grid is declared, not read from data: times are whole days cut at the grid's `breaks`
//! (a time in [bₖ, bₖ₊₁) counts as bₖ), so no site's event times are shared. The fit equals the
//! pooled fit on the same grid (with one break per day, the fit on the days themselves).
//! Consecutive risk-set sums differ by the patients who left in between, so a site refuses
//! when any interval has between 1 and `m − 1` leavers or its risk set falls below `m` before
//! the last interval with an event ([`CoxRefusal`]).

pub mod life_table;
mod newton;

pub use newton::{CoxCoefficient, CoxSummary, MAX_ITERATIONS, Newton, fit};

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// Why a site does not answer a Cox round.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum CoxRefusal {
    /// Fewer rows than the minimum.
    #[error("too few rows: {rows} at the site, the site's minimum is {min}")]
    TooFewRows {
        /// Rows.
        rows: u64,
        /// The minimum.
        min: u64,
    },
    /// An interval whose leavers could be told apart by differencing the risk-set sums.
    #[error(
        "interval from day {from}: {leavers} patients leave the risk set, fewer than the site's minimum of {min} (the difference of two released sums would describe them); use wider intervals"
    )]
    FewLeavers {
        /// The interval's first day.
        from: u32,
        /// Patients who had their event or were censored in it.
        leavers: u64,
        /// The minimum.
        min: u64,
    },
}

/// Why a Cox model cannot be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoxError {
    /// A site's rule refuses.
    #[error("refused: {0}")]
    Refused(#[from] CoxRefusal),
    /// Inputs of different lengths or a grid that is not ascending.
    #[error("{0}")]
    Input(String),
    /// The information matrix is singular.
    #[error("the information matrix is singular: a covariate is constant or collinear")]
    Singular,
    /// No convergence.
    #[error("no convergence after {0} iterations")]
    NotConverged(u32),
}

/// One site's sums at a round's coefficients, per grid time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoxSums {
    /// Rows at the site.
    pub n: u64,
    /// Σ x over the site's events.
    pub event_x: Vec<f64>,
    /// Events per grid time.
    pub d: Vec<u64>,
    /// S0 per grid time.
    pub s0: Vec<f64>,
    /// S1 per grid time, p each.
    pub s1: Vec<f64>,
    /// S2 per grid time, p × p each.
    pub s2: Vec<f64>,
}

/// The grid interval of a day: the last break at or before it (`None` before the first).
fn interval(breaks: &[u32], day: u32) -> Option<usize> {
    breaks.iter().rposition(|&b| b <= day)
}

/// A site's sums for `beta` over its rows (`x` n × p, `time` in days, `event`), on the grid
/// `breaks` (ascending first days of the intervals), under the minimum `min`.
pub fn site_sums(
    x: &DMatrix<f64>,
    time: &[u32],
    event: &[bool],
    breaks: &[u32],
    beta: &[f64],
    min: u64,
) -> Result<CoxSums, CoxError> {
    let (n, p) = x.shape();
    if time.len() != n || event.len() != n || beta.len() != p {
        return Err(CoxError::Input(format!(
            "{n} rows, {} times, {} events, {} coefficients for {p} columns",
            time.len(),
            event.len(),
            beta.len()
        )));
    }
    if breaks.is_empty() || breaks.windows(2).any(|w| w[0] >= w[1]) {
        return Err(CoxError::Input("breaks: give ascending days".into()));
    }
    if (n as u64) < min {
        return Err(CoxRefusal::TooFewRows {
            rows: n as u64,
            min,
        }
        .into());
    }
    let g = breaks.len();
    // rows before the first break never enter a risk set of the grid
    let at: Vec<Option<usize>> = time.iter().map(|&t| interval(breaks, t)).collect();
    let mut leavers = vec![0u64; g];
    for k in at.iter().flatten() {
        leavers[*k] += 1;
    }
    for (k, &l) in leavers.iter().enumerate() {
        if l > 0 && l < min {
            return Err(CoxRefusal::FewLeavers {
                from: breaks[k],
                leavers: l,
                min,
            }
            .into());
        }
    }
    let b = DVector::from_column_slice(beta);
    let eta = x * &b;
    let mut out = CoxSums {
        n: n as u64,
        event_x: vec![0.0; p],
        d: vec![0; g],
        s0: vec![0.0; g],
        s1: vec![0.0; g * p],
        s2: vec![0.0; g * p * p],
    };
    // each row adds to the sums of every interval up to its own (it is at risk at their starts)
    for i in 0..n {
        let Some(last) = at[i] else { continue };
        let w = eta[i].exp();
        if event[i] {
            out.d[last] += 1;
            for a in 0..p {
                out.event_x[a] += x[(i, a)];
            }
        }
        for k in 0..=last {
            out.s0[k] += w;
            for a in 0..p {
                out.s1[k * p + a] += w * x[(i, a)];
                for c in 0..p {
                    out.s2[(k * p + a) * p + c] += w * x[(i, a)] * x[(i, c)];
                }
            }
        }
    }
    Ok(out)
}

/// The pooled log partial likelihood, gradient and information from the sites' sums.
pub fn pool(
    sites: &[CoxSums],
    beta: &[f64],
) -> Result<(f64, DVector<f64>, DMatrix<f64>), CoxError> {
    let p = beta.len();
    let Some(first) = sites.first() else {
        return Err(CoxError::Input("no site answered".into()));
    };
    let g = first.d.len();
    let mut ex = DVector::zeros(p);
    let mut d = vec![0u64; g];
    let mut s0 = vec![0.0; g];
    let mut s1 = vec![0.0; g * p];
    let mut s2 = vec![0.0; g * p * p];
    for s in sites {
        if s.d.len() != g || s.s1.len() != g * p || s.s2.len() != g * p * p || s.event_x.len() != p
        {
            return Err(CoxError::Input("site answers of different shapes".into()));
        }
        ex += DVector::from_column_slice(&s.event_x);
        for k in 0..g {
            d[k] += s.d[k];
            s0[k] += s.s0[k];
        }
        s1.iter_mut().zip(&s.s1).for_each(|(a, b)| *a += b);
        s2.iter_mut().zip(&s.s2).for_each(|(a, b)| *a += b);
    }
    let b = DVector::from_column_slice(beta);
    let mut ll = ex.dot(&b);
    let mut u = ex;
    let mut info = DMatrix::zeros(p, p);
    for k in 0..g {
        if d[k] == 0 {
            continue;
        }
        let dk = d[k] as f64;
        let m1 = DVector::from_column_slice(&s1[k * p..(k + 1) * p]) / s0[k];
        let m2 = DMatrix::from_column_slice(p, p, &s2[k * p * p..(k + 1) * p * p]) / s0[k];
        ll -= dk * s0[k].ln();
        u -= &m1 * dk;
        info += (m2 - &m1 * m1.transpose()) * dk;
    }
    Ok((ll, u, info))
}

/// A fitted Cox model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoxFit {
    /// The coefficients.
    pub beta: Vec<f64>,
    /// Their standard errors (inverse information).
    pub std_error: Vec<f64>,
    /// The log partial likelihood at the estimate.
    pub log_likelihood: f64,
    /// At β = 0.
    pub null_log_likelihood: f64,
    /// Newton iterations.
    pub iterations: u32,
}

/// A site's survival rows: covariates (n × p), time in days, event.
pub type SurvivalRows = (DMatrix<f64>, Vec<u32>, Vec<bool>);

/// A site's survival rows from a model design `event ~ covariates + offset(time)`: the
/// covariate columns without the intercept (the baseline hazard takes its place), the time in
/// whole days (the offset, rounded down) and the event (response 1).
pub fn rows_of(design: &crate::Design) -> Result<SurvivalRows, CoxError> {
    let skip =
        usize::from(design.columns.first().map(String::as_str) == Some(crate::design::INTERCEPT));
    let x = design.x.columns(skip, design.x.ncols() - skip).into_owned();
    let mut time = Vec::with_capacity(design.rows());
    for (i, t) in design.offset.iter().enumerate() {
        if !(t.is_finite() && *t >= 0.0) {
            return Err(CoxError::Input(format!(
                "row {}: time {t} is not a number of days",
                i + 1
            )));
        }
        time.push(t.floor() as u32);
    }
    let mut event = Vec::with_capacity(design.rows());
    for (i, y) in design.y.iter().enumerate() {
        if *y != 0.0 && *y != 1.0 {
            return Err(CoxError::Input(format!(
                "row {}: event {y} is not 0 or 1",
                i + 1
            )));
        }
        event.push(*y == 1.0);
    }
    Ok((x, time, event))
}

#[cfg(test)]
mod tests;
