//! Summaries of a numeric variable, per group: n, missing, mean, sd and quartiles at a site
//! (moments and quartiles only for a group with at least the site's minimum of values),
//! pooled over sites from n, mean and the sum of squared deviations (Chan et al.'s parallel
//! update), so the pooled mean and sd equal those of the pooled rows.

use crate::frame::{Column, Frame, FrameError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The group of rows whose grouping value is missing.
pub const MISSING_GROUP: &str = "(missing)";

/// Why a summary cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SummaryError {
    /// A variable the dataset does not have.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A categorical variable asked for a mean.
    #[error("variable {variable} is categorical: ask for a table, not a summary")]
    NotNumeric {
        /// The variable.
        variable: String,
    },
    /// A numeric variable given to group by.
    #[error(
        "variable {variable} is numeric: group by a categorical variable (an age band, not the age)"
    )]
    NotCategorical {
        /// The variable.
        variable: String,
    },
}

/// Mean and spread, released only for a group at or above the site's minimum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// The mean.
    pub mean: f64,
    /// The sum of squared deviations from the mean (sd² × (n − 1)).
    pub m2: f64,
}

/// Quartiles (R's type 7, as numpy's default), released only at or above the site's minimum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quartiles {
    /// The 25th percentile.
    pub q1: f64,
    /// The median.
    pub median: f64,
    /// The 75th percentile.
    pub q3: f64,
}

/// One group's summary at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSummary {
    /// The group's level (`None`: all rows).
    pub group: Option<String>,
    /// Rows with a value.
    pub n: u64,
    /// Rows without one.
    pub missing: u64,
    /// Mean and spread (`None`: suppressed, fewer than the minimum).
    pub moments: Option<Moments>,
    /// Quartiles (`None`: suppressed).
    pub quartiles: Option<Quartiles>,
}

/// Summarises `variable` over a site's rows, per level of `by` if given; groups with fewer
/// than `min_values` values keep only their counts.
pub fn site_summary(
    frame: &Frame,
    variable: &str,
    by: Option<&str>,
    min_values: u64,
) -> Result<Vec<SiteSummary>, SummaryError> {
    let Column::Numeric(values) = frame.get(variable)? else {
        return Err(SummaryError::NotNumeric {
            variable: variable.into(),
        });
    };
    let groups: Vec<Option<String>> = match by {
        None => vec![None; values.len()],
        Some(g) => match frame.get(g)? {
            Column::Factor(v) => v
                .iter()
                .map(|l| Some(l.clone().unwrap_or_else(|| MISSING_GROUP.to_owned())))
                .collect(),
            Column::Numeric(_) => {
                return Err(SummaryError::NotCategorical { variable: g.into() });
            }
        },
    };
    let mut by_group: BTreeMap<Option<String>, (Vec<f64>, u64)> = BTreeMap::new();
    for (v, g) in values.iter().zip(groups) {
        let e = by_group.entry(g).or_default();
        match v {
            Some(x) if x.is_finite() => e.0.push(*x),
            _ => e.1 += 1,
        }
    }
    Ok(by_group
        .into_iter()
        .map(|(group, (mut xs, missing))| {
            let n = xs.len() as u64;
            let released = n >= min_values.max(1);
            xs.sort_by(f64::total_cmp);
            SiteSummary {
                group,
                n,
                missing,
                moments: released.then(|| moments(&xs)),
                quartiles: released.then(|| Quartiles {
                    q1: quantile(&xs, 0.25),
                    median: quantile(&xs, 0.5),
                    q3: quantile(&xs, 0.75),
                }),
            }
        })
        .collect())
}

fn moments(xs: &[f64]) -> Moments {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let m2 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    Moments { mean, m2 }
}

/// Type-7 quantile of sorted values.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// One group's summary over all sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledSummary {
    /// The group's level (`None`: all rows).
    pub group: Option<String>,
    /// Rows with a value, all sites.
    pub n: u64,
    /// Rows without one, all sites.
    pub missing: u64,
    /// The pooled mean (`None` if any site with values in the group suppressed its moments:
    /// a mean over some sites is not the pooled mean).
    pub mean: Option<f64>,
    /// The pooled standard deviation (n − 1), under the same condition.
    pub sd: Option<f64>,
    /// Sites that had values in the group but too few to release them.
    pub suppressed_sites: usize,
}

/// A group's running totals: n, missing, (values, mean, m2) while every site released its
/// moments, sites that suppressed them.
type Running = (u64, u64, Option<(f64, f64, f64)>, usize);

/// Pools the sites' summaries group by group.
pub fn pool(sites: &[Vec<SiteSummary>]) -> Vec<PooledSummary> {
    let mut acc: BTreeMap<Option<String>, Running> = BTreeMap::new();
    for s in sites.iter().flatten() {
        let e = acc
            .entry(s.group.clone())
            .or_insert((0, 0, Some((0.0, 0.0, 0.0)), 0));
        e.0 += s.n;
        e.1 += s.missing;
        match s.moments {
            None if s.n > 0 => {
                e.2 = None;
                e.3 += 1;
            }
            None => {}
            Some(m) => {
                if let Some((na, mean, m2)) = &mut e.2 {
                    let nb = s.n as f64;
                    let n = *na + nb;
                    let delta = m.mean - *mean;
                    *m2 += m.m2 + delta * delta * *na * nb / n;
                    *mean += delta * nb / n;
                    *na = n;
                }
            }
        }
    }
    acc.into_iter()
        .map(|(group, (n, missing, m, suppressed_sites))| {
            let m = m.filter(|&(na, _, _)| na > 0.0);
            PooledSummary {
                group,
                n,
                missing,
                mean: m.map(|(_, mean, _)| mean),
                sd: m.and_then(|(na, _, m2)| (na > 1.0).then(|| (m2 / (na - 1.0)).sqrt())),
                suppressed_sites,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(xs: &[Option<f64>], gs: &[&str]) -> Frame {
        Frame::new()
            .with("age", Column::Numeric(xs.to_vec()))
            .and_then(|f| {
                f.with(
                    "sex",
                    Column::Factor(
                        gs.iter()
                            .map(|g| (!g.is_empty()).then(|| g.to_string()))
                            .collect(),
                    ),
                )
            })
            .unwrap()
    }

    #[test]
    fn site_summary_suppresses_small_groups() {
        let f = frame(
            &[Some(1.0), Some(2.0), Some(3.0), Some(4.0), None, Some(10.0)],
            &["f", "f", "f", "f", "f", "m"],
        );
        let s = site_summary(&f, "age", Some("sex"), 3).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].n, s[0].missing), (4, 1));
        let m = s[0].moments.unwrap();
        assert_eq!(m.mean, 2.5);
        assert_eq!(m.m2, 5.0);
        assert_eq!(
            s[0].quartiles,
            Some(Quartiles {
                q1: 1.75,
                median: 2.5,
                q3: 3.25
            })
        );
        assert_eq!((s[1].n, s[1].moments, s[1].quartiles), (1, None, None));
        let all = site_summary(&f, "age", None, 3).unwrap();
        assert_eq!((all[0].group.clone(), all[0].n), (None, 5));
    }

    #[test]
    fn pooled_equals_the_pooled_rows() {
        let a: Vec<Option<f64>> = [3.0, 7.5, 1.25, 9.0].iter().map(|&x| Some(x)).collect();
        let b: Vec<Option<f64>> = [2.0, 4.0, 8.0, 16.0, 32.0]
            .iter()
            .map(|&x| Some(x))
            .collect();
        let all: Vec<Option<f64>> = a.iter().chain(&b).copied().collect();
        let sa = site_summary(&frame(&a, &["x"; 4]), "age", None, 3).unwrap();
        let sb = site_summary(&frame(&b, &["x"; 5]), "age", None, 3).unwrap();
        let pooled = pool(&[sa, sb]);
        let direct = site_summary(&frame(&all, &["x"; 9]), "age", None, 3).unwrap();
        let m = direct[0].moments.unwrap();
        assert_eq!(pooled[0].n, 9);
        assert!((pooled[0].mean.unwrap() - m.mean).abs() < 1e-12);
        assert!((pooled[0].sd.unwrap() - (m.m2 / 8.0).sqrt()).abs() < 1e-12);
        assert_eq!(pooled[0].suppressed_sites, 0);
    }

    #[test]
    fn a_suppressed_site_makes_the_pooled_mean_unknown() {
        let a: Vec<Option<f64>> = [3.0, 7.5, 1.25, 9.0].iter().map(|&x| Some(x)).collect();
        let b = [Some(2.0)];
        let pooled = pool(&[
            site_summary(&frame(&a, &["x"; 4]), "age", None, 3).unwrap(),
            site_summary(&frame(&b, &["x"]), "age", None, 3).unwrap(),
        ]);
        assert_eq!(
            (
                pooled[0].n,
                pooled[0].mean,
                pooled[0].sd,
                pooled[0].suppressed_sites
            ),
            (5, None, None, 1)
        );
    }

    #[test]
    fn errors_name_the_variable() {
        let f = frame(&[Some(1.0)], &["f"]);
        assert_eq!(
            site_summary(&f, "sex", None, 3).unwrap_err(),
            SummaryError::NotNumeric {
                variable: "sex".into()
            }
        );
        assert!(matches!(
            site_summary(&f, "age", Some("age"), 3),
            Err(SummaryError::NotCategorical { .. })
        ));
        assert!(matches!(
            site_summary(&f, "bmi", None, 3),
            Err(SummaryError::Frame(FrameError::Unknown { .. }))
        ));
    }
}
