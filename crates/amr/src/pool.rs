//! Hub side: pooling sites' antibiogram counts and deriving the statistics.
//!
//! Counts arrive per site as released by its disclosure gate: possibly rounded or noised, and
//! any count may be absent (suppressed: below the site's minimum). A suppressed count is
//! carried as the interval `[0, min_count − 1]`, so every pooled count is an interval
//! `[lo, hi]` (exact when `lo == hi`). Shares are derived on demand, never stored:
//! %R = R / (S + I + R + SDD) (EUCAST reporting; I never lumped with R) and
//! %S = S / (S + I + R + SDD) (CLSI M39 reporting); NI is left out of both. With suppressed
//! counts the share becomes a range and its 95 % interval runs from the Wilson lower bound at
//! the smallest possible share to the Wilson upper bound at the largest. A cell is reportable
//! when it certainly holds at least 30 interpreted isolates (CLSI M39).

use crate::antibiogram::{AntibiogramCounts, CellCounts, MdroCounts};
use crate::stats::{cochran_armitage, newcombe, wilson};
use std::collections::BTreeMap;

/// The minimum number of isolates for a reportable share (CLSI M39).
pub const MIN_ISOLATES: u64 = 30;

/// One released cell of a site (absent count = suppressed).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ReleasedCell {
    /// Calendar year, when by year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Organism code.
    pub organism: String,
    /// Antimicrobial code.
    pub antimicrobial: String,
    /// Isolates tested.
    pub tested: Option<u64>,
    /// S.
    pub s: Option<u64>,
    /// I.
    pub i: Option<u64>,
    /// R.
    pub r: Option<u64>,
    /// SDD.
    pub sdd: Option<u64>,
    /// NI.
    pub ni: Option<u64>,
}

/// One released organism row of a site (absent count = suppressed).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ReleasedOrganism {
    /// Calendar year, when by year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Organism code.
    pub organism: String,
    /// Counts by name: `isolates`, `mdr`, `xdr`, `pdr`, `mrgn3`, `mrgn4`, `mrsa`, `vre`,
    /// `g3cr`, `carbapenem_r`.
    pub counts: BTreeMap<String, Option<u64>>,
}

/// What one site released.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SiteCounts {
    /// Site name.
    pub site: String,
    /// Country code (`DE`, `JP`).
    pub country: String,
    /// Suppressed counts were below this (0 or 1: nothing suppressed).
    pub min_count: u64,
    /// Variance of the noise and rounding on each released count (0: exact counts). See
    /// [`release_variance`].
    #[serde(default)]
    pub count_variance: f64,
    /// Cells.
    pub cells: Vec<ReleasedCell>,
    /// Organism rows.
    pub organisms: Vec<ReleasedOrganism>,
}

/// The names of the MDRO counts, in [`MdroCounts`] order.
pub const MDRO_MEASURES: [&str; 10] = [
    "isolates",
    "mdr",
    "xdr",
    "pdr",
    "mrgn3",
    "mrgn4",
    "mrsa",
    "vre",
    "g3cr",
    "carbapenem_r",
];

fn mdro_values(m: &MdroCounts) -> [u64; 10] {
    [
        m.isolates,
        m.mdr,
        m.xdr,
        m.pdr,
        m.mrgn3,
        m.mrgn4,
        m.mrsa,
        m.vre,
        m.g3cr,
        m.carbapenem_r,
    ]
}

impl SiteCounts {
    /// A site's exact counts (nothing suppressed), e.g. for a single-site report.
    pub fn exact(site: &str, country: &str, c: &AntibiogramCounts) -> SiteCounts {
        SiteCounts {
            site: site.into(),
            country: country.into(),
            min_count: 0,
            count_variance: 0.0,
            cells: c
                .cells
                .iter()
                .map(|x: &CellCounts| ReleasedCell {
                    year: x.year,
                    organism: x.organism.clone(),
                    antimicrobial: x.antimicrobial.clone(),
                    tested: Some(x.tested),
                    s: Some(x.s),
                    i: Some(x.i),
                    r: Some(x.r),
                    sdd: Some(x.sdd),
                    ni: Some(x.ni),
                })
                .collect(),
            organisms: c
                .organisms
                .iter()
                .map(|m| ReleasedOrganism {
                    year: m.year,
                    organism: m.organism.clone(),
                    counts: MDRO_MEASURES
                        .iter()
                        .zip(mdro_values(m))
                        .map(|(k, v)| (k.to_string(), Some(v)))
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The variance a site's release adds to each count: discrete Laplace noise of scale
/// `sensitivity / ε` (variance `2e^(−1/b) / (1 − e^(−1/b))²`) and rounding to a step
/// (`step² / 12`, a uniform error). 0 for exact counts.
pub fn release_variance(epsilon: Option<f64>, sensitivity: u32, rounding: u64) -> f64 {
    let noise = match epsilon {
        Some(e) if e > 0.0 => {
            let q = (-e / f64::from(sensitivity.max(1))).exp();
            2.0 * q / ((1.0 - q) * (1.0 - q))
        }
        _ => 0.0,
    };
    let round = if rounding > 1 {
        (rounding * rounding) as f64 / 12.0
    } else {
        0.0
    };
    noise + round
}

/// A count known to lie in `[lo, hi]`, apart from the sites' noise and rounding, whose
/// variance is `variance`.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Bounds {
    /// Smallest possible value.
    pub lo: u64,
    /// Largest possible value.
    pub hi: u64,
    /// Variance of the noise and rounding in the released values summed here (0: exact).
    #[serde(default)]
    pub variance: f64,
}

impl Bounds {
    fn add(&mut self, v: Option<u64>, min_count: u64, variance: f64) {
        match v {
            Some(v) => {
                self.lo += v;
                self.hi += v;
                self.variance += variance;
            }
            None => self.hi += min_count.saturating_sub(1),
        }
    }

    /// Exactly known?
    pub fn exact(&self) -> Option<u64> {
        (self.lo == self.hi).then_some(self.lo)
    }
}

/// A share with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Share {
    /// The share, when every count behind it is known.
    pub value: Option<f64>,
    /// Smallest possible share (equals `value` when known).
    pub min: f64,
    /// Largest possible share.
    pub max: f64,
    /// Lower end of the 95 % interval (Wilson).
    pub ci_low: f64,
    /// Upper end of the 95 % interval.
    pub ci_high: f64,
}

/// Pooled counts and derived shares of one cell.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CellStats {
    /// Group: a site, a country, or `all`.
    pub group: String,
    /// Year, when by year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Organism code.
    pub organism: String,
    /// Antimicrobial code.
    pub antimicrobial: String,
    /// Sites contributing.
    pub sites: u32,
    /// Sites with at least one suppressed count in this cell.
    pub sites_suppressed: u32,
    /// Isolates tested.
    pub tested: Bounds,
    /// S+I+R+SDD: the denominator of the shares.
    pub interpreted: Bounds,
    /// S.
    pub s: Bounds,
    /// I.
    pub i: Bounds,
    /// R.
    pub r: Bounds,
    /// SDD.
    pub sdd: Bounds,
    /// NI.
    pub ni: Bounds,
    /// %R (as a fraction).
    pub resistant: Option<Share>,
    /// %S (as a fraction).
    pub susceptible: Option<Share>,
    /// At least 30 interpreted isolates for certain (CLSI M39).
    pub reportable: bool,
}

fn share(num: Bounds, rest: Bounds) -> Option<Share> {
    // smallest share: numerator low, the other categories high; largest: the reverse
    let n_min = num.lo + rest.hi;
    let n_max = num.hi + rest.lo;
    if num.hi + rest.hi == 0 {
        return None;
    }
    let min = if n_min == 0 {
        0.0
    } else {
        num.lo as f64 / n_min as f64
    };
    let max = if n_max == 0 {
        1.0
    } else {
        num.hi as f64 / n_max as f64
    };
    let wl = wilson(num.lo, n_min).map(|w| w.0).unwrap_or(0.0);
    let wh = wilson(num.hi, n_max).map(|w| w.1).unwrap_or(1.0);
    // the sites' noise and rounding widen the sampling interval (combined as independent errors)
    let ci_low = (min - (min - wl).hypot(Z95 * noise_sd(min, n_min, num, rest))).max(0.0);
    let ci_high = (max + (wh - max).hypot(Z95 * noise_sd(max, n_max, num, rest))).min(1.0);
    let value = (num.exact().is_some() && rest.exact().is_some() && n_min > 0).then_some(min);
    Some(Share {
        value,
        min,
        max,
        ci_low,
        ci_high,
    })
}

/// The normal quantile of a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Standard deviation of a share `p = num / (num + rest)` over `n` due to the released counts'
/// noise and rounding (delta method: `∂p/∂num = (1 − p)/n`, `∂p/∂rest = −p/n`).
fn noise_sd(p: f64, n: u64, num: Bounds, rest: Bounds) -> f64 {
    if n == 0 {
        return 0.0;
    }
    (((1.0 - p) * (1.0 - p) * num.variance + p * p * rest.variance).sqrt()) / n as f64
}

type CellKey = (Option<i32>, String, String);

/// Pools cells by group (`group` maps a site to its group: its name, its country, or `all`)
/// and derives the shares.
pub fn pool_cells(sites: &[SiteCounts], group: impl Fn(&SiteCounts) -> String) -> Vec<CellStats> {
    #[derive(Default)]
    struct Acc {
        sites: u32,
        suppressed: u32,
        b: [Bounds; 6],
    }
    let mut acc: BTreeMap<(String, CellKey), Acc> = BTreeMap::new();
    for site in sites {
        let g = group(site);
        for c in &site.cells {
            let a = acc
                .entry((
                    g.clone(),
                    (c.year, c.organism.clone(), c.antimicrobial.clone()),
                ))
                .or_default();
            a.sites += 1;
            let vals = [c.tested, c.s, c.i, c.r, c.sdd, c.ni];
            if vals.iter().any(Option::is_none) {
                a.suppressed += 1;
            }
            for (b, v) in a.b.iter_mut().zip(vals) {
                b.add(v, site.min_count, site.count_variance);
            }
        }
    }
    acc.into_iter()
        .map(|((group, (year, organism, antimicrobial)), a)| {
            let [tested, s, i, r, sdd, ni] = a.b;
            let sum = |xs: &[Bounds]| Bounds {
                lo: xs.iter().map(|x| x.lo).sum(),
                hi: xs.iter().map(|x| x.hi).sum(),
                variance: xs.iter().map(|x| x.variance).sum(),
            };
            let interpreted = sum(&[s, i, r, sdd]);
            CellStats {
                group,
                year,
                organism,
                antimicrobial,
                sites: a.sites,
                sites_suppressed: a.suppressed,
                tested,
                interpreted,
                s,
                i,
                r,
                sdd,
                ni,
                resistant: share(r, sum(&[s, i, sdd])),
                susceptible: share(s, sum(&[i, r, sdd])),
                reportable: interpreted.lo >= MIN_ISOLATES,
            }
        })
        .collect()
}

/// Pooled MDRO counts of one organism and group.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MdroStats {
    /// Group.
    pub group: String,
    /// Year, when by year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Organism code.
    pub organism: String,
    /// Sites contributing.
    pub sites: u32,
    /// Each measure's pooled count and its share of the isolates.
    pub measures: BTreeMap<String, (Bounds, Option<Share>)>,
}

/// Sites reporting a group's MDRO row, and its bounds by class.
type MdroTally = (u32, BTreeMap<String, Bounds>);

/// Pools the MDRO rows by group.
pub fn pool_mdro(sites: &[SiteCounts], group: impl Fn(&SiteCounts) -> String) -> Vec<MdroStats> {
    let mut acc: BTreeMap<(String, Option<i32>, String), MdroTally> = BTreeMap::new();
    for site in sites {
        let g = group(site);
        for o in &site.organisms {
            let a = acc
                .entry((g.clone(), o.year, o.organism.clone()))
                .or_default();
            a.0 += 1;
            for (k, v) in &o.counts {
                a.1.entry(k.clone())
                    .or_default()
                    .add(*v, site.min_count, site.count_variance);
            }
        }
    }
    acc.into_iter()
        .map(|((group, year, organism), (sites, m))| {
            let iso = m.get("isolates").copied().unwrap_or_default();
            let measures = m
                .iter()
                .map(|(k, b)| {
                    let sh = (k != "isolates")
                        .then(|| {
                            share(
                                *b,
                                Bounds {
                                    lo: iso.lo.saturating_sub(b.hi),
                                    hi: iso.hi.saturating_sub(b.lo),
                                    variance: iso.variance + b.variance,
                                },
                            )
                        })
                        .flatten();
                    (k.clone(), (*b, sh))
                })
                .collect();
            MdroStats {
                group,
                year,
                organism,
                sites,
                measures,
            }
        })
        .collect()
}

/// %R in one country against another for one cell.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    /// Year, when by year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Organism code.
    pub organism: String,
    /// Antimicrobial code.
    pub antimicrobial: String,
    /// First country's pooled cell (e.g. DE).
    pub a: CellStats,
    /// Second country's (e.g. JP).
    pub b: CellStats,
    /// %R(a) − %R(b) with Newcombe's 95 % interval, when both are reportable. With suppressed
    /// counts the first value is the middle of the possible range and the interval runs from
    /// the lower Newcombe bound at the smallest possible difference to the upper bound at the
    /// largest (so it covers every value the suppressed counts could take).
    pub difference: Option<(f64, f64, f64)>,
    /// Every count behind the difference is known (the first value is the estimate itself).
    pub difference_exact: bool,
}

/// R and the denominator at the smallest (`false`) or largest (`true`) possible %R of a cell.
fn extreme(c: &CellStats, largest: bool) -> (u64, u64) {
    let rest_lo = c.s.lo + c.i.lo + c.sdd.lo;
    let rest_hi = c.s.hi + c.i.hi + c.sdd.hi;
    if largest {
        (c.r.hi, c.r.hi + rest_lo)
    } else {
        (c.r.lo, c.r.lo + rest_hi)
    }
}

/// %R(a) − %R(b) over the range the counts allow, with a conservative 95 % interval.
fn difference(a: &CellStats, b: &CellStats) -> Option<(f64, f64, f64, bool)> {
    if !(a.reportable && b.reportable) {
        return None;
    }
    let ((r1l, n1l), (r1h, n1h)) = (extreme(a, false), extreme(a, true));
    let ((r2l, n2l), (r2h, n2h)) = (extreme(b, false), extreme(b, true));
    // smallest difference: a at its least, b at its most; largest: the reverse
    let (lo, _) = newcombe(r1l, n1l, r2h, n2h)?;
    let (_, hi) = newcombe(r1h, n1h, r2l, n2l)?;
    let d_min = r1l as f64 / n1l as f64 - r2h as f64 / n2h as f64;
    let d_max = r1h as f64 / n1h as f64 - r2l as f64 / n2l as f64;
    // widened by the noise of both countries' released counts
    let rest = |c: &CellStats| Bounds {
        lo: 0,
        hi: 0,
        variance: c.s.variance + c.i.variance + c.sdd.variance,
    };
    let sd = |c: &CellStats, (r, n): (u64, u64)| {
        if n == 0 {
            0.0
        } else {
            noise_sd(r as f64 / n as f64, n, c.r, rest(c))
        }
    };
    let lo = d_min - (d_min - lo).hypot(Z95 * sd(a, (r1l, n1l)).hypot(sd(b, (r2h, n2h))));
    let hi = d_max + (hi - d_max).hypot(Z95 * sd(a, (r1h, n1h)).hypot(sd(b, (r2l, n2l))));
    let exact = a.r.exact().is_some()
        && a.interpreted.exact().is_some()
        && b.r.exact().is_some()
        && b.interpreted.exact().is_some();
    Some(((d_min + d_max) / 2.0, lo, hi, exact))
}

/// Per-site, per-country and total statistics, and the comparison of two countries.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// Each site's cells.
    pub sites: Vec<CellStats>,
    /// Each country's pooled cells.
    pub countries: Vec<CellStats>,
    /// All sites pooled.
    pub total: Vec<CellStats>,
    /// MDRO per country.
    pub mdro: Vec<MdroStats>,
    /// Country `a` against country `b` for every cell both have.
    pub comparison: Vec<Comparison>,
}

/// Builds the hub's report: per site, per country, total, MDRO per country, and `a` vs `b`
/// (e.g. `"DE"`, `"JP"`).
pub fn report(sites: &[SiteCounts], a: &str, b: &str) -> Report {
    let per_site = pool_cells(sites, |s| s.site.clone());
    let countries = pool_cells(sites, |s| s.country.clone());
    let total = pool_cells(sites, |_| "all".into());
    let mdro = pool_mdro(sites, |s| s.country.clone());
    let find = |g: &str, k: &CellStats| {
        countries
            .iter()
            .find(|c| {
                c.group == g
                    && c.year == k.year
                    && c.organism == k.organism
                    && c.antimicrobial == k.antimicrobial
            })
            .cloned()
    };
    let mut comparison = Vec::new();
    for ca in countries.iter().filter(|c| c.group == a) {
        let Some(cb) = find(b, ca) else { continue };
        let d = difference(ca, &cb);
        comparison.push(Comparison {
            year: ca.year,
            organism: ca.organism.clone(),
            antimicrobial: ca.antimicrobial.clone(),
            difference: d.map(|(d, lo, hi, _)| (d, lo, hi)),
            difference_exact: d.is_some_and(|d| d.3),
            a: ca.clone(),
            b: cb,
        });
    }
    Report {
        sites: per_site,
        countries,
        total,
        mdro,
        comparison,
    }
}

/// %R of one cell over the years, with the Cochran–Armitage test for trend.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Trend {
    /// Group.
    pub group: String,
    /// Organism code.
    pub organism: String,
    /// Antimicrobial code.
    pub antimicrobial: String,
    /// (year, %R share) for every year with a share.
    pub years: Vec<(i32, Share)>,
    /// Two-sided p-value for a linear trend in %R (exact, reportable years only).
    pub p_trend: Option<f64>,
}

/// Trends in %R from by-year pooled cells.
pub fn trends(cells: &[CellStats]) -> Vec<Trend> {
    let mut by: BTreeMap<(String, String, String), Vec<&CellStats>> = BTreeMap::new();
    for c in cells {
        if c.year.is_some() {
            by.entry((c.group.clone(), c.organism.clone(), c.antimicrobial.clone()))
                .or_default()
                .push(c);
        }
    }
    by.into_iter()
        .map(|((group, organism, antimicrobial), mut v)| {
            v.sort_by_key(|c| c.year);
            let years = v
                .iter()
                .filter_map(|c| Some((c.year?, c.resistant?)))
                .collect();
            let exact: Vec<(f64, u64, u64)> = v
                .iter()
                .filter(|c| c.reportable)
                .filter_map(|c| Some((c.year? as f64, c.r.exact()?, c.interpreted.exact()?)))
                .collect();
            Trend {
                group,
                organism,
                antimicrobial,
                years,
                p_trend: cochran_armitage(&exact),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(org: &str, s: Option<u64>, i: Option<u64>, r: Option<u64>) -> ReleasedCell {
        let t = match (s, i, r) {
            (Some(a), Some(b), Some(c)) => Some(a + b + c),
            _ => None,
        };
        ReleasedCell {
            year: None,
            organism: org.into(),
            antimicrobial: "MEM".into(),
            tested: t,
            s,
            i,
            r,
            sdd: Some(0),
            ni: Some(0),
        }
    }

    fn site(name: &str, country: &str, min: u64, cells: Vec<ReleasedCell>) -> SiteCounts {
        SiteCounts {
            site: name.into(),
            country: country.into(),
            min_count: min,
            count_variance: 0.0,
            cells,
            organisms: vec![],
        }
    }

    #[test]
    fn exact_pooling_and_shares() {
        let sites = vec![
            site(
                "a",
                "DE",
                0,
                vec![cell("B_KLBSL_PNMN", Some(80), Some(5), Some(15))],
            ),
            site(
                "b",
                "DE",
                0,
                vec![cell("B_KLBSL_PNMN", Some(40), Some(0), Some(10))],
            ),
            site(
                "c",
                "JP",
                0,
                vec![cell("B_KLBSL_PNMN", Some(95), Some(0), Some(5))],
            ),
        ];
        let rep = report(&sites, "DE", "JP");
        let de = rep.countries.iter().find(|c| c.group == "DE").unwrap();
        assert_eq!(
            (de.r.exact(), de.interpreted.exact(), de.sites),
            (Some(25), Some(150), 2)
        );
        let r = de.resistant.unwrap();
        assert!((r.value.unwrap() - 25.0 / 150.0).abs() < 1e-12);
        let (lo, hi) = wilson(25, 150).unwrap();
        assert_eq!((r.ci_low, r.ci_high), (lo, hi));
        assert!((de.susceptible.unwrap().value.unwrap() - 120.0 / 150.0).abs() < 1e-12);
        assert!(de.reportable);
        let cmp = &rep.comparison[0];
        let (d, lo, hi) = cmp.difference.unwrap();
        assert!((d - (25.0 / 150.0 - 0.05)).abs() < 1e-12);
        assert!(
            lo < d && d < hi && lo > 0.0,
            "DE has more resistance: {lo}..{hi}"
        );
        assert_eq!(rep.total[0].interpreted.exact(), Some(250));
    }

    #[test]
    fn suppressed_counts_widen_the_share() {
        // site b's R is suppressed (below 5): R in [0, 4]
        let sites = vec![
            site(
                "a",
                "DE",
                5,
                vec![cell("B_ESCHR_COLI", Some(50), Some(10), Some(20))],
            ),
            site(
                "b",
                "DE",
                5,
                vec![cell("B_ESCHR_COLI", Some(30), Some(6), None)],
            ),
        ];
        let c = &pool_cells(&sites, |s| s.country.clone())[0];
        assert_eq!(
            c.r,
            Bounds {
                lo: 20,
                hi: 24,
                variance: 0.0
            }
        );
        assert_eq!(c.sites_suppressed, 1);
        let r = c.resistant.unwrap();
        assert!(r.value.is_none());
        assert!((r.min - 20.0 / 116.0).abs() < 1e-12 && (r.max - 24.0 / 120.0).abs() < 1e-12);
        assert!(r.ci_low < r.min && r.ci_high > r.max);
        assert!(c.reportable);
    }

    #[test]
    fn a_difference_with_suppressed_counts_covers_every_possible_value() {
        // DE: R = 20 + [0, 4] of 116..120 interpreted; JP exact 5 / 100
        let sites = vec![
            site(
                "a",
                "DE",
                5,
                vec![cell("B_ESCHR_COLI", Some(50), Some(10), Some(20))],
            ),
            site(
                "b",
                "DE",
                5,
                vec![cell("B_ESCHR_COLI", Some(30), Some(6), None)],
            ),
            site(
                "c",
                "JP",
                0,
                vec![cell("B_ESCHR_COLI", Some(95), Some(0), Some(5))],
            ),
        ];
        let rep = report(&sites, "DE", "JP");
        let cmp = &rep.comparison[0];
        assert!(!cmp.difference_exact);
        let (mid, lo, hi) = cmp.difference.unwrap();
        let (d_min, d_max) = (20.0 / 116.0 - 0.05, 24.0 / 120.0 - 0.05);
        assert!((mid - (d_min + d_max) / 2.0).abs() < 1e-12);
        // the interval covers the exact interval at every value R could take
        for r in 20..=24u64 {
            let (l, h) = newcombe(r, 116 + r - 20, 5, 100).unwrap();
            assert!(
                lo <= l + 1e-12 && h <= hi + 1e-12,
                "R = {r}: [{l}, {h}] inside [{lo}, {hi}]"
            );
        }
        let exact = report(
            &sites[..1]
                .iter()
                .chain(&sites[2..])
                .cloned()
                .collect::<Vec<_>>(),
            "DE",
            "JP",
        );
        assert!(exact.comparison[0].difference_exact);
    }

    #[test]
    fn the_sites_noise_widens_the_intervals() {
        let mut sites = vec![
            site(
                "a",
                "DE",
                0,
                vec![cell("B_ESCHR_COLI", Some(300), Some(0), Some(100))],
            ),
            site(
                "c",
                "JP",
                0,
                vec![cell("B_ESCHR_COLI", Some(350), Some(0), Some(50))],
            ),
        ];
        let exact = report(&sites, "DE", "JP");
        for s in &mut sites {
            s.count_variance = release_variance(Some(1.0), 14, 10);
        }
        let noisy = report(&sites, "DE", "JP");
        let (e, n) = (
            exact.countries[0].resistant.unwrap(),
            noisy.countries[0].resistant.unwrap(),
        );
        assert_eq!(e.value, n.value);
        assert!(
            n.ci_low < e.ci_low && n.ci_high > e.ci_high,
            "{e:?} vs {n:?}"
        );
        let (de, dn) = (
            exact.comparison[0].difference.unwrap(),
            noisy.comparison[0].difference.unwrap(),
        );
        assert!(dn.1 < de.1 && dn.2 > de.2);
        // variance of discrete Laplace with b = 14 is close to 2b², rounding to 10 adds 100/12
        let v = release_variance(Some(1.0), 14, 10);
        assert!((v - (2.0 * 14.0 * 14.0 + 100.0 / 12.0)).abs() < 1.0, "{v}");
        assert_eq!(release_variance(None, 14, 1), 0.0);
    }

    #[test]
    fn thirty_isolate_rule() {
        let few = vec![site(
            "a",
            "JP",
            0,
            vec![cell("B_ESCHR_COLI", Some(20), Some(0), Some(9))],
        )];
        assert!(!pool_cells(&few, |_| "all".into())[0].reportable);
        let enough = vec![site(
            "a",
            "JP",
            0,
            vec![cell("B_ESCHR_COLI", Some(21), Some(0), Some(9))],
        )];
        assert!(pool_cells(&enough, |_| "all".into())[0].reportable);
        // 29 known + a suppressed count that may be 0: not certainly 30
        let unsure = vec![site(
            "a",
            "JP",
            5,
            vec![cell("B_ESCHR_COLI", Some(29), None, Some(0))],
        )];
        assert!(!pool_cells(&unsure, |_| "all".into())[0].reportable);
    }

    #[test]
    fn trend_over_years() {
        let mk = |y, r| ReleasedCell {
            year: Some(y),
            organism: "X".into(),
            antimicrobial: "CIP".into(),
            tested: Some(100),
            s: Some(100 - r),
            i: Some(0),
            r: Some(r),
            sdd: Some(0),
            ni: Some(0),
        };
        let sites = vec![site(
            "a",
            "JP",
            0,
            vec![mk(2022, 10), mk(2023, 20), mk(2024, 30)],
        )];
        let t = trends(&pool_cells(&sites, |_| "all".into()));
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].years.len(), 3);
        assert!(t[0].p_trend.unwrap() < 0.001);
    }
}
