//! The Moving Epidemic Method (MEM): epidemic and intensity thresholds from past seasons.
//!
//! Implemented from Vega et al. 2013 (Influenza Other Respir Viruses 7(4):546–558), Vega et al.
//! 2015 (IRV 9(5):234–246) and the documented behaviour and defaults of the R package `mem`
//! (`memmodel`, `memtiming`, `memsurveillance`; version 2.19):
//!
//! 1. **Timing per season** (`memtiming`, method 2, the default). For each window length
//!    `s = 1..n` the *maximum accumulated rate percentage* (MAP) is the largest sum of `s`
//!    consecutive weekly values as a percentage of the season's total. The MAP curve (with a
//!    leading 0 at `s = 0`) is smoothed with a local-linear Gaussian kernel regression of
//!    bandwidth 1 (`sm.regression(h = 1)`); the optimal epidemic length is one less than the first
//!    `s` at which the smoothed curve gains less than `delta` percentage points (default 2.8),
//!    and at least 1. The epidemic is the first window of that length with the maximum sum.
//! 2. **Epidemic thresholds**. From every season take the `n` highest pre-epidemic values (and,
//!    separately, the `n` highest post-epidemic values); `n` defaults to `round(30 / seasons)`,
//!    at least 1 (R's `round`, half to even). The pre-epidemic threshold is the upper limit of a
//!    one-sided 95% *point* interval of their arithmetic mean, `mean + z(0.95) · sd` (`mem`'s
//!    `i.type.threshold = 5`); the post-epidemic threshold likewise from the post values.
//! 3. **Intensity thresholds**. From every season the `n` highest epidemic values; medium, high
//!    and very high are upper limits of one-sided geometric point intervals at 40%, 90% and
//!    97.5%: `exp(mean(log x) + z(level) · sd(log x))` (`i.type.intensity = 6`; when any value is
//!    0, `log(x + 1)` and subtract 1 at the end, as `mem` does).
//! 4. **Current season** (`memsurveillance`). The epidemic starts in the first week above the
//!    pre-epidemic threshold and ends in the first week after both the start and the peak that
//!    falls below the post-epidemic threshold. Each week gets a level: baseline (below the
//!    epidemic threshold), low, medium, high, very high (at or above each intensity threshold).
//!
//! Missing values inside a season are filled as `mem` fills them (local-linear kernel smoother,
//! bandwidth with 6 approximate degrees of freedom); missing values at a season's start or end
//! stay missing. Differences from `mem`, stated: the median-based and
//! bootstrap interval types (`mem`'s 3 and 4) are not offered for thresholds; the epidemic
//! length and start are summarised by their medians without a confidence interval.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use std::fmt;

/// Weekly values of several seasons, one column per season, as `mem` takes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemInput {
    /// Row labels: the week numbers (e.g. "40" .. "52", "1" .. "20") or 1..n.
    pub weeks: Vec<String>,
    /// The seasons, oldest first; every season has one value (or none) per row.
    pub seasons: Vec<SeasonSeries>,
}

/// One season's weekly values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonSeries {
    /// Season name, e.g. "2008/2009".
    pub name: String,
    /// One value per week row; `None` where missing.
    pub values: Vec<Option<f64>>,
}

/// How an interval around a set of values is formed (`mem`'s `i.type.*` codes 1, 2, 5, 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntervalMethod {
    /// 1: arithmetic mean and the confidence interval of the mean (`z · sd / √n`).
    ArithmeticMean,
    /// 2: geometric mean and the confidence interval of the mean, on the log scale.
    GeometricMean,
    /// 5: arithmetic mean and point interval (`z · sd`). `mem`'s default for epidemic thresholds.
    ArithmeticPoint,
    /// 6: geometric mean and point interval, on the log scale. `mem`'s default for intensity.
    GeometricPoint,
}

impl IntervalMethod {
    /// `mem`'s numeric code of the method.
    pub fn mem_code(self) -> u8 {
        match self {
            IntervalMethod::ArithmeticMean => 1,
            IntervalMethod::GeometricMean => 2,
            IntervalMethod::ArithmeticPoint => 5,
            IntervalMethod::GeometricPoint => 6,
        }
    }

    /// The method of a `mem` code (1, 2, 5 or 6), or a name such as `arithmetic-point`.
    pub fn parse(s: &str) -> Result<Self, MemError> {
        Ok(match s.trim() {
            "1" | "arithmetic-mean" => IntervalMethod::ArithmeticMean,
            "2" | "geometric-mean" => IntervalMethod::GeometricMean,
            "5" | "arithmetic-point" => IntervalMethod::ArithmeticPoint,
            "6" | "geometric-point" => IntervalMethod::GeometricPoint,
            "3" | "4" => {
                return Err(MemError::Param(format!(
                    "interval method {s} (median / bootstrap) is not offered; use 1, 2, 5 or 6"
                )));
            }
            other => {
                return Err(MemError::Param(format!(
                    "unknown interval method {other:?}: expected 1, 2, 5, 6 or arithmetic-mean, \
                     geometric-mean, arithmetic-point, geometric-point"
                )));
            }
        })
    }
}

/// How many values per season feed the thresholds (`mem`'s `i.n.max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NMax {
    /// `round(30 / seasons)`, at least 1 (`i.n.max = -1`, the default).
    Auto,
    /// Every value (`i.n.max = 0`).
    All,
    /// A fixed number.
    Fixed(usize),
}

/// MEM parameters; [`Default`] gives `mem`'s defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemParams {
    /// Use at most this many of the most recent seasons (`i.seasons`, default 10); `None`: all.
    pub max_seasons: Option<usize>,
    /// Slope criterion of the timing method in percentage points (`i.param`, default 2.8).
    pub delta: f64,
    /// Values per season for thresholds (`i.n.max`, default automatic).
    pub n_max: NMax,
    /// Interval method of the epidemic thresholds (default 5, arithmetic point).
    pub threshold_method: IntervalMethod,
    /// Level of the epidemic thresholds (default 0.95).
    pub threshold_level: f64,
    /// Tails of the epidemic threshold interval (default 1).
    pub threshold_tails: u8,
    /// Interval method of the intensity thresholds (default 6, geometric point).
    pub intensity_method: IntervalMethod,
    /// Levels of the medium, high and very high thresholds (default 0.40, 0.90, 0.975).
    pub intensity_levels: [f64; 3],
    /// Tails of the intensity intervals (default 1).
    pub intensity_tails: u8,
    /// Student's t instead of the normal quantile (default false).
    pub use_t: bool,
}

impl Default for MemParams {
    fn default() -> Self {
        Self {
            max_seasons: Some(10),
            delta: 2.8,
            n_max: NMax::Auto,
            threshold_method: IntervalMethod::ArithmeticPoint,
            threshold_level: 0.95,
            threshold_tails: 1,
            intensity_method: IntervalMethod::GeometricPoint,
            intensity_levels: [0.40, 0.90, 0.975],
            intensity_tails: 1,
            use_t: false,
        }
    }
}

/// Errors of the MEM computation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MemError {
    /// Fewer than two seasons with a positive total.
    #[error("MEM needs at least two seasons with values above zero; {0} given")]
    TooFewSeasons(usize),
    /// Seasons of different lengths.
    #[error("season {season:?} has {got} values but there are {expected} week rows")]
    Ragged {
        /// Season name.
        season: String,
        /// Its number of values.
        got: usize,
        /// Number of week rows.
        expected: usize,
    },
    /// A parameter out of range.
    #[error("{0}")]
    Param(String),
}

/// The epidemic period MEM found in one season.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeasonTiming {
    /// Season name.
    pub season: String,
    /// Index (0-based) of the first epidemic week row.
    pub start: usize,
    /// Index (0-based) of the last epidemic week row.
    pub end: usize,
    /// Label of the first epidemic week.
    pub start_week: String,
    /// Label of the last epidemic week.
    pub end_week: String,
    /// Epidemic length in weeks.
    pub length: usize,
    /// Share of the season's total inside the epidemic, in percent.
    pub percentage: f64,
    /// The `n` highest pre-epidemic values (fewer when the pre-epidemic period is shorter).
    pub pre_values: Vec<f64>,
    /// The `n` highest epidemic values.
    pub epidemic_values: Vec<f64>,
    /// The `n` highest post-epidemic values.
    pub post_values: Vec<f64>,
}

/// The thresholds of a MEM model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Pre-epidemic (epidemic) threshold: a week above it starts the epidemic.
    pub epidemic: Option<f64>,
    /// Post-epidemic threshold: the first week below it after the peak ends the epidemic.
    pub post_epidemic: Option<f64>,
    /// Medium intensity threshold (40% by default).
    pub medium: Option<f64>,
    /// High intensity threshold (90%).
    pub high: Option<f64>,
    /// Very high intensity threshold (97.5%).
    pub very_high: Option<f64>,
}

/// A fitted MEM model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemModel {
    /// The parameters used.
    pub params: MemParams,
    /// Seasons used, oldest first (after dropping all-zero seasons and keeping the most recent).
    pub seasons: Vec<String>,
    /// Values per season that fed the thresholds.
    pub n_max: usize,
    /// Timing of each season.
    pub timings: Vec<SeasonTiming>,
    /// The thresholds.
    pub thresholds: Thresholds,
    /// Median epidemic length in weeks, rounded (`mem`'s `mean.length`).
    pub typical_length: usize,
    /// Median epidemic start as a week row index (0-based), rounded.
    pub typical_start: usize,
    /// Label of that week.
    pub typical_start_week: String,
    /// Median share of the season inside the epidemic, in percent.
    pub typical_percentage: f64,
}

/// The intensity level of a week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Below the epidemic threshold.
    Baseline,
    /// Above the epidemic threshold, below medium.
    Low,
    /// At or above medium, below high.
    Medium,
    /// At or above high, below very high.
    High,
    /// At or above very high.
    VeryHigh,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Baseline => "baseline",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::VeryHigh => "very high",
        })
    }
}

/// Where a week stands in the epidemic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Before the epidemic started.
    PreEpidemic,
    /// From the start week until the week before the end.
    Epidemic,
    /// From the end week on.
    PostEpidemic,
}

/// One week of the current season judged against a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekAssessment {
    /// Week label.
    pub week: String,
    /// The value, if reported.
    pub value: Option<f64>,
    /// Intensity level, if the value is reported and the thresholds exist.
    pub level: Option<Level>,
    /// Epidemic phase.
    pub phase: Phase,
}

/// Fits MEM to historical seasons.
pub fn mem_model(input: &MemInput, params: &MemParams) -> Result<MemModel, MemError> {
    check_params(params)?;
    let rows = input.weeks.len();
    for s in &input.seasons {
        if s.values.len() != rows {
            return Err(MemError::Ragged {
                season: s.name.clone(),
                got: s.values.len(),
                expected: rows,
            });
        }
    }
    // Seasons whose total is not positive carry no epidemic (mem drops them).
    let mut seasons: Vec<&SeasonSeries> = input
        .seasons
        .iter()
        .filter(|s| {
            s.values
                .iter()
                .flatten()
                .filter(|v| v.is_finite())
                .sum::<f64>()
                > 0.0
        })
        .collect();
    if seasons.len() < 2 {
        return Err(MemError::TooFewSeasons(seasons.len()));
    }
    if let Some(m) = params.max_seasons.filter(|&m| m > 0) {
        let skip = seasons.len().saturating_sub(m);
        seasons.drain(..skip);
    }
    let k = seasons.len();
    let n_max = match params.n_max {
        NMax::Auto => ((30.0 / k as f64).round_ties_even() as usize).max(1),
        NMax::All => rows,
        NMax::Fixed(n) => n.max(1),
    };

    let mut timings = Vec::with_capacity(k);
    for s in &seasons {
        let data = fill_inside_missing(&s.values);
        let t = timing(&data, params.delta);
        let pre = top_n(&data[..t.start], n_max);
        let epi = top_n(&data[t.start..=t.end], n_max);
        let post = top_n(&data[t.end + 1..], n_max);
        timings.push(SeasonTiming {
            season: s.name.clone(),
            start: t.start,
            end: t.end,
            start_week: input.weeks[t.start].clone(),
            end_week: input.weeks[t.end].clone(),
            length: t.end - t.start + 1,
            percentage: t.percentage,
            pre_values: pre,
            epidemic_values: epi,
            post_values: post,
        });
    }

    let pre: Vec<f64> = timings
        .iter()
        .flat_map(|t| t.pre_values.iter().copied())
        .collect();
    let post: Vec<f64> = timings
        .iter()
        .flat_map(|t| t.post_values.iter().copied())
        .collect();
    let epi: Vec<f64> = timings
        .iter()
        .flat_map(|t| t.epidemic_values.iter().copied())
        .collect();
    let upper =
        |x: &[f64], m, level, tails| interval(x, m, level, tails, params.use_t).map(|(_, _, u)| u);
    let [l1, l2, l3] = params.intensity_levels;
    let thresholds = Thresholds {
        epidemic: upper(
            &pre,
            params.threshold_method,
            params.threshold_level,
            params.threshold_tails,
        ),
        post_epidemic: upper(
            &post,
            params.threshold_method,
            params.threshold_level,
            params.threshold_tails,
        ),
        medium: upper(&epi, params.intensity_method, l1, params.intensity_tails),
        high: upper(&epi, params.intensity_method, l2, params.intensity_tails),
        very_high: upper(&epi, params.intensity_method, l3, params.intensity_tails),
    };

    let lengths: Vec<f64> = timings.iter().map(|t| t.length as f64).collect();
    let starts: Vec<f64> = timings.iter().map(|t| t.start as f64).collect();
    let pcts: Vec<f64> = timings.iter().map(|t| t.percentage).collect();
    let typical_start = median(&starts).round_ties_even().max(0.0) as usize;
    Ok(MemModel {
        params: params.clone(),
        seasons: seasons.iter().map(|s| s.name.clone()).collect(),
        n_max,
        timings,
        thresholds,
        typical_length: median(&lengths).round_ties_even() as usize,
        typical_start,
        typical_start_week: input.weeks.get(typical_start).cloned().unwrap_or_default(),
        typical_percentage: median(&pcts),
    })
}

fn check_params(p: &MemParams) -> Result<(), MemError> {
    let level_ok = |l: f64| l > 0.0 && l < 1.0;
    if !(p.delta.is_finite() && p.delta > 0.0) {
        return Err(MemError::Param(format!(
            "delta must be a positive number, got {}",
            p.delta
        )));
    }
    if !level_ok(p.threshold_level) {
        return Err(MemError::Param(format!(
            "threshold level must be in (0, 1), got {}",
            p.threshold_level
        )));
    }
    for l in p.intensity_levels {
        if !level_ok(l) {
            return Err(MemError::Param(format!(
                "intensity levels must be in (0, 1), got {l}"
            )));
        }
    }
    if !p.intensity_levels.windows(2).all(|w| w[0] < w[1]) {
        return Err(MemError::Param(
            "intensity levels must increase (medium < high < very high)".into(),
        ));
    }
    for t in [p.threshold_tails, p.intensity_tails] {
        if t != 1 && t != 2 {
            return Err(MemError::Param(format!("tails must be 1 or 2, got {t}")));
        }
    }
    Ok(())
}

/// Epidemic period of one season.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// First epidemic row (0-based).
    pub start: usize,
    /// Last epidemic row (0-based).
    pub end: usize,
    /// Percentage of the season's total inside it.
    pub percentage: f64,
}

/// The MAP curve of a season: for each window length `s = 1..=n`, (percentage, start index) of
/// the first window with the largest sum. Missing values count as 0 in sums (as `mem`'s
/// `sum(na.rm = TRUE)`).
pub fn map_curve(data: &[Option<f64>]) -> Vec<(f64, usize)> {
    let x: Vec<f64> = data
        .iter()
        .map(|v| v.filter(|v| v.is_finite()).unwrap_or(0.0))
        .collect();
    let n = x.len();
    let total: f64 = x.iter().sum();
    let mut prefix = vec![0.0; n + 1];
    for i in 0..n {
        prefix[i + 1] = prefix[i] + x[i];
    }
    (1..=n)
        .map(|s| {
            let mut best = f64::NEG_INFINITY;
            let mut at = 0;
            for i in 0..=(n - s) {
                // Sum the window directly: prefix differences can tie-break differently by rounding.
                let sum: f64 = x[i..i + s].iter().sum();
                if sum > best {
                    best = sum;
                    at = i;
                }
            }
            let pct = if total == 0.0 {
                0.0
            } else {
                100.0 * best / total
            };
            (pct, at)
        })
        .collect()
}

/// MEM timing (method 2) of one season with slope criterion `delta`.
pub fn timing(data: &[Option<f64>], delta: f64) -> Timing {
    let n = data.len();
    let curve = map_curve(data);
    // The curve with its leading zero at s = 0, smoothed with bandwidth 1.
    let mut y = Vec::with_capacity(n + 1);
    y.push(0.0);
    y.extend(curve.iter().map(|c| c.0));
    let ys = local_linear_smooth(&y, 1.0);
    // Slope from s-1 to s, for s = 1..n; the optimum is one before the first s below delta.
    let optimum = (1..=n)
        .find(|&s| ys[s] - ys[s - 1] < delta)
        .map(|s| (s - 1).max(1))
        .unwrap_or(n);
    let (percentage, start) = curve[optimum - 1];
    Timing {
        start,
        end: start + optimum - 1,
        percentage,
    }
}

/// Local-linear regression with a Gaussian kernel of standard deviation `h`, evaluated at each
/// index, of values observed at indices 0..n (what `sm::sm.regression(x, y, h)` computes for
/// equally spaced `x` without binning). Negative estimates become 0, as in `mem`.
pub fn local_linear_smooth(y: &[f64], h: f64) -> Vec<f64> {
    let n = y.len();
    (0..n)
        .map(|e| {
            let (mut s0, mut s1, mut s2, mut t0, mut t1) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (i, &yi) in y.iter().enumerate() {
                let d = i as f64 - e as f64;
                let w = (-0.5 * (d / h).powi(2)).exp();
                s0 += w;
                s1 += w * d;
                s2 += w * d * d;
                t0 += w * yi;
                t1 += w * d * yi;
            }
            let den = s0 * s2 - s1 * s1;
            let est = if den.abs() < 1e-300 {
                t0 / s0
            } else {
                (s2 * t0 - s1 * t1) / den
            };
            est.max(0.0)
        })
        .collect()
}

/// Fills missing values that lie between two reported ones, as `mem`'s `fill.missing` does: a
/// local-linear Gaussian kernel regression over the reported weeks, evaluated at the missing
/// ones, with the bandwidth `sm::h.select` picks by default (the one whose smoother matrix has
/// trace 6, "approximate degrees of freedom" = 6); negative estimates become 0. With 6 or fewer
/// reported weeks no such bandwidth exists and the gap is interpolated linearly. Missing values
/// before the first or after the last reported week stay missing.
pub fn fill_inside_missing(values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut out: Vec<Option<f64>> = values.iter().map(|v| v.filter(|x| x.is_finite())).collect();
    let known: Vec<usize> = (0..out.len()).filter(|&i| out[i].is_some()).collect();
    let (Some(&first), Some(&last)) = (known.first(), known.last()) else {
        return out;
    };
    let gaps: Vec<usize> = (first..=last).filter(|&i| out[i].is_none()).collect();
    if gaps.is_empty() {
        return out;
    }
    let xs: Vec<f64> = known.iter().map(|&i| i as f64).collect();
    let ys: Vec<f64> = known.iter().map(|&i| out[i].unwrap_or(0.0)).collect();
    match df_bandwidth(&xs, 6.0) {
        Some(h) => {
            for i in gaps {
                out[i] = Some(local_linear_at(&xs, &ys, i as f64, h).max(0.0));
            }
        }
        None => {
            for w in known.windows(2) {
                let (a, b) = (w[0], w[1]);
                let (va, vb) = (out[a].unwrap_or(0.0), out[b].unwrap_or(0.0));
                for (i, slot) in out.iter_mut().enumerate().take(b).skip(a + 1) {
                    *slot = Some(va + (vb - va) * (i - a) as f64 / (b - a) as f64);
                }
            }
        }
    }
    out
}

/// Weights of the local-linear Gaussian estimate at `e` over points `xs`.
fn local_linear_weights(xs: &[f64], e: f64, h: f64) -> Vec<f64> {
    let w: Vec<f64> = xs
        .iter()
        .map(|x| (-0.5 * ((x - e) / h).powi(2)).exp())
        .collect();
    let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
    for (wi, x) in w.iter().zip(xs) {
        let d = x - e;
        s0 += wi;
        s1 += wi * d;
        s2 += wi * d * d;
    }
    let den = s0 * s2 - s1 * s1;
    w.iter()
        .zip(xs)
        .map(|(wi, x)| {
            if den.abs() < 1e-300 {
                wi / s0
            } else {
                wi * (s2 - (x - e) * s1) / den
            }
        })
        .collect()
}

fn local_linear_at(xs: &[f64], ys: &[f64], e: f64, h: f64) -> f64 {
    local_linear_weights(xs, e, h)
        .iter()
        .zip(ys)
        .map(|(w, y)| w * y)
        .sum()
}

/// The bandwidth at which the local-linear smoother over `xs` has trace `df` (its approximate
/// degrees of freedom; `sm::h.select`'s default criterion for regression, with df = 6). The trace
/// falls from `n` towards 2 as the bandwidth grows, so it is found by bisection on log h.
pub fn df_bandwidth(xs: &[f64], df: f64) -> Option<f64> {
    if xs.len() as f64 <= df {
        return None;
    }
    let trace = |h: f64| {
        xs.iter()
            .enumerate()
            .map(|(i, &e)| local_linear_weights(xs, e, h)[i])
            .sum::<f64>()
    };
    let (mut lo, mut hi) = (1e-3f64.ln(), 1e4f64.ln());
    if trace(hi.exp()) > df {
        return None;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if trace(mid.exp()) > df {
            lo = mid
        } else {
            hi = mid
        }
    }
    Some((0.5 * (lo + hi)).exp())
}

/// The `n` largest reported values, largest first.
fn top_n(values: &[Option<f64>], n: usize) -> Vec<f64> {
    let mut v: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    v.sort_by(|a, b| b.total_cmp(a));
    v.truncate(n);
    v
}

fn median(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Quantile multiplier `mem` uses: `qnorm(1 - (1 - level) / tails)`, or with `use_t`
/// `qt(…, n - 1) · √(1 + 1/n)`.
fn multiplier(level: f64, tails: u8, n: usize, use_t: bool) -> Option<f64> {
    let p = 1.0 - (1.0 - level) / tails as f64;
    if use_t {
        if n < 2 {
            return None;
        }
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).ok()?;
        Some(t.inverse_cdf(p) * (1.0 + 1.0 / n as f64).sqrt())
    } else {
        Some(Normal::standard().inverse_cdf(p))
    }
}

/// (lower, centre, upper) of an interval of `method` at `level` over `x`; `None` when fewer than
/// two values (the standard deviation is undefined, as in R).
pub fn interval(
    x: &[f64],
    method: IntervalMethod,
    level: f64,
    tails: u8,
    use_t: bool,
) -> Option<(f64, f64, f64)> {
    let x: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    let n = x.len();
    if n < 2 {
        return None;
    }
    let z = multiplier(level, tails, n, use_t)?;
    let arith = |v: &[f64], point: bool| {
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let half = if point {
            z * var.sqrt()
        } else {
            z * var.sqrt() / (n as f64).sqrt()
        };
        (mean - half, mean, mean + half)
    };
    let geo = |point: bool| {
        let shift = if x.iter().all(|&v| v != 0.0) {
            0.0
        } else {
            1.0
        };
        let logs: Vec<f64> = x.iter().map(|v| (v + shift).ln()).collect();
        let (l, c, u) = arith(&logs, point);
        (l.exp() - shift, c.exp() - shift, u.exp() - shift)
    };
    let r = match method {
        IntervalMethod::ArithmeticMean => arith(&x, false),
        IntervalMethod::ArithmeticPoint => arith(&x, true),
        IntervalMethod::GeometricMean => geo(false),
        IntervalMethod::GeometricPoint => geo(true),
    };
    (r.0.is_finite() && r.2.is_finite()).then_some(r)
}

impl Thresholds {
    /// The intensity level of a value.
    pub fn level(&self, v: f64) -> Option<Level> {
        let e = self.epidemic?;
        if v < e {
            return Some(Level::Baseline);
        }
        let clamp = |t: Option<f64>| t.map(|t| t.max(0.0));
        Some(
            match (clamp(self.medium), clamp(self.high), clamp(self.very_high)) {
                (Some(_), Some(_), Some(vh)) if v >= vh => Level::VeryHigh,
                (Some(_), Some(h), _) if v >= h => Level::High,
                (Some(m), _, _) if v >= m => Level::Medium,
                _ => Level::Low,
            },
        )
    }

    /// Judges a season week by week (`memsurveillance`): start, end and each week's level.
    pub fn assess(&self, weeks: &[String], values: &[Option<f64>]) -> Vec<WeekAssessment> {
        let pre = self.epidemic;
        let post = self.post_epidemic.or(self.epidemic);
        let start = pre.and_then(|t| values.iter().position(|v| v.is_some_and(|v| v > t)));
        let peak = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, v)))
            .fold(None::<(usize, f64)>, |b, (i, v)| match b {
                Some((_, bv)) if bv >= v => b,
                _ => Some((i, v)),
            })
            .map(|p| p.0);
        let end = match (start, post) {
            (Some(s), Some(t)) => {
                let from = s.max(peak.unwrap_or(s));
                (from + 1..values.len()).find(|&i| values[i].is_some_and(|v| v < t))
            }
            _ => None,
        };
        weeks
            .iter()
            .zip(values)
            .enumerate()
            .map(|(i, (w, &v))| WeekAssessment {
                week: w.clone(),
                value: v,
                level: v.and_then(|v| self.level(v)),
                phase: match (start, end) {
                    (Some(s), _) if i < s => Phase::PreEpidemic,
                    (None, _) => Phase::PreEpidemic,
                    (Some(_), Some(e)) if i >= e => Phase::PostEpidemic,
                    _ => Phase::Epidemic,
                },
            })
            .collect()
    }
}

/// Error reading a `mem` table (CSV or TSV): names the line and column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    /// A cell that is not a number.
    #[error("line {line}, column {column} ({header}): {value:?} is not a number")]
    NotANumber {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The column's header.
        header: String,
        /// The cell text.
        value: String,
    },
    /// A row with a different number of cells than the header.
    #[error("line {line}: {got} cells, but the header has {expected}")]
    Width {
        /// 1-based line.
        line: usize,
        /// Cells found.
        got: usize,
        /// Cells expected.
        expected: usize,
    },
    /// A negative rate.
    #[error("line {line}, column {column} ({header}): negative value {value}")]
    Negative {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The column's header.
        header: String,
        /// The value.
        value: f64,
    },
    /// Structure problems (no header, no data, duplicate season names).
    #[error("{0}")]
    Shape(String),
    /// The CSV reader failed.
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line.
        line: usize,
        /// What went wrong.
        message: String,
    },
}

/// Reads a `mem`-style table: a header of season names, one row per week, one column per season.
/// A first column named `week` (or whose values are all week numbers 1..53) labels the rows.
/// Empty cells and `NA` are missing. Comma, semicolon or tab separated (sniffed from the header).
pub fn parse_table(text: &str) -> Result<MemInput, TableError> {
    let header_line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| TableError::Shape("empty table".into()))?;
    let delim = [b'\t', b',', b';']
        .into_iter()
        .max_by_key(|d| header_line.bytes().filter(|b| b == d).count())
        .unwrap_or(b',');
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| TableError::Csv {
            line: 1,
            message: e.to_string(),
        })?
        .iter()
        .map(|h| h.trim().trim_matches('"').to_string())
        .collect();
    if headers.len() < 2 {
        return Err(TableError::Shape(format!(
            "the header has {} column(s); expected a week column and at least two season columns, or at least two seasons",
            headers.len()
        )));
    }
    let mut cells: Vec<(usize, Vec<String>)> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| TableError::Csv {
            line: e.position().map(|p| p.line() as usize).unwrap_or(0),
            message: e.to_string(),
        })?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rec.len() != headers.len() {
            return Err(TableError::Width {
                line,
                got: rec.len(),
                expected: headers.len(),
            });
        }
        cells.push((line, rec.iter().map(|c| c.trim().to_string()).collect()));
    }
    if cells.is_empty() {
        return Err(TableError::Shape(
            "the table has a header but no week rows".into(),
        ));
    }
    let first = headers[0].to_ascii_lowercase();
    let week_col = first == "week"
        || first == "weeks"
        || first.is_empty()
        || cells
            .iter()
            .all(|(_, r)| r[0].parse::<u32>().is_ok_and(|w| (1..=53).contains(&w)));
    let first_season = usize::from(week_col);
    let weeks: Vec<String> = if week_col {
        cells.iter().map(|(_, r)| r[0].clone()).collect()
    } else {
        (1..=cells.len()).map(|i| i.to_string()).collect()
    };
    let mut seasons = Vec::new();
    for (c, name) in headers.iter().enumerate().skip(first_season) {
        if name.is_empty() {
            return Err(TableError::Shape(format!(
                "column {} has no season name in the header",
                c + 1
            )));
        }
        if seasons.iter().any(|s: &SeasonSeries| &s.name == name) {
            return Err(TableError::Shape(format!(
                "season {name:?} appears twice in the header"
            )));
        }
        let mut values = Vec::with_capacity(cells.len());
        for (line, r) in &cells {
            let cell = r[c].as_str();
            let v = if cell.is_empty() || cell.eq_ignore_ascii_case("na") {
                None
            } else {
                let v: f64 = cell.parse().map_err(|_| TableError::NotANumber {
                    line: *line,
                    column: c + 1,
                    header: name.clone(),
                    value: cell.to_string(),
                })?;
                if !v.is_finite() {
                    return Err(TableError::NotANumber {
                        line: *line,
                        column: c + 1,
                        header: name.clone(),
                        value: cell.to_string(),
                    });
                }
                if v < 0.0 {
                    return Err(TableError::Negative {
                        line: *line,
                        column: c + 1,
                        header: name.clone(),
                        value: v,
                    });
                }
                Some(v)
            };
            values.push(v);
        }
        seasons.push(SeasonSeries {
            name: name.clone(),
            values,
        });
    }
    Ok(MemInput { weeks, seasons })
}
