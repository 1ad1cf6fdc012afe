//! Hub side: weekly counts as sites release them, pooled per country, and what is derived from
//! them: pathogen positivity (share of tests positive) with a 95 % interval, rates per 100,000,
//! and the season a date falls in.
//!
//! A released count may carry noise (discrete Laplace, variance known from the site's ε and the
//! task's sensitivity) and rounding (variance `step² / 12`), and may be withheld (below the
//! site's minimum: the true count is in `[0, min − 1]`). A pooled count is therefore an
//! interval `[lo, hi]` of sums of released values plus the variance of the noise and rounding
//! in it ([`Bounds`]). A share's interval is Wilson's score interval at the ends of that range,
//! widened by the noise as an independent error (delta method), as the AMR pooling does.

use crate::week::{IsoWeek, ReportingConvention};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The normal quantile of a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A share is drawn only when at least this many tests are certain (fewer: shown as a gap, the
/// counts stay in the table and CSV).
pub const MIN_TESTS: u64 = 10;

/// The variance a site's release adds to each count: discrete Laplace noise of scale
/// `b = sensitivity / ε` (variance `2q / (1 − q)²`, `q = e^(−1/b)`) and rounding to a step
/// (`step² / 12`). 0 for exact counts.
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

/// A pooled count: the true value lies in `[lo, hi]` apart from the sites' noise and rounding,
/// whose variance is `variance`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Bounds {
    /// Smallest possible value (withheld counts as 0).
    pub lo: u64,
    /// Largest possible value (withheld counts as their site's minimum − 1).
    pub hi: u64,
    /// Variance of the noise and rounding in the released values summed here (0: exact).
    pub variance: f64,
}

impl Bounds {
    /// Adds one site's released count: a value with its release variance, or a withheld count
    /// (`None`) below `min_count`.
    pub fn add(&mut self, released: Option<u64>, min_count: u64, variance: f64) {
        match released {
            Some(v) => {
                self.lo += v;
                self.hi += v;
                self.variance += variance;
            }
            None => self.hi += min_count.saturating_sub(1),
        }
    }

    /// The value when no count behind it was withheld.
    pub fn exact(&self) -> Option<u64> {
        (self.lo == self.hi).then_some(self.lo)
    }

    /// The middle of the range (the value itself when exact).
    pub fn mid(&self) -> f64 {
        (self.lo + self.hi) as f64 / 2.0
    }

    /// Standard deviation of the noise and rounding.
    pub fn sd(&self) -> f64 {
        self.variance.max(0.0).sqrt()
    }
}

/// A share (e.g. of tests positive) with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// The share, when no count behind it was withheld.
    pub value: Option<f64>,
    /// Smallest possible share (equals `value` when known).
    pub min: f64,
    /// Largest possible share.
    pub max: f64,
    /// Lower end of the 95 % interval.
    pub ci_low: f64,
    /// Upper end of the 95 % interval.
    pub ci_high: f64,
}

/// Wilson's score interval (95 %) for `k` of `n`.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k.min(n) as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * ((p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt()) / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Positivity: the share of `tests` that were `positive`, with Wilson's interval at the ends of
/// the possible range, each end widened by the sites' noise and rounding (delta method for
/// `p = P / T` with independent errors on `P` and `T`: `sd = √(var P + p² var T) / T`). A
/// released `positives` above `tests` (noise on both) is read as all positive. `None` when no
/// test can have been done.
pub fn positivity(positives: Bounds, tests: Bounds) -> Option<Share> {
    if tests.hi == 0 {
        return None;
    }
    // smallest share: fewest positives over most tests; largest: the reverse
    let (p_lo, t_hi) = (positives.lo.min(tests.hi), tests.hi);
    let t_lo = tests.lo.max(positives.hi.min(tests.hi)).max(1);
    let p_hi = positives.hi.min(t_lo);
    let min = p_lo as f64 / t_hi as f64;
    let max = p_hi as f64 / t_lo as f64;
    let wl = wilson(p_lo, t_hi).map_or(0.0, |w| w.0);
    let wh = wilson(p_hi, t_lo).map_or(1.0, |w| w.1);
    let noise = |p: f64, t: u64| {
        (positives.variance + p * p * tests.variance)
            .max(0.0)
            .sqrt()
            / t as f64
    };
    let ci_low = (min - (min - wl).hypot(Z95 * noise(min, t_hi))).max(0.0);
    let ci_high = (max + (wh - max).hypot(Z95 * noise(max, t_lo))).min(1.0);
    let value = (positives.exact().is_some() && tests.exact().is_some()).then_some(min);
    Some(Share {
        value,
        min,
        max: max.max(min),
        ci_low,
        ci_high,
    })
}

/// A count per `per` of a population (e.g. cases per 100,000 patients); `None` without a
/// population.
pub fn rate(count: f64, population: u64, per: f64) -> Option<f64> {
    (population > 0).then(|| count * per / population as f64)
}

/// The season a date falls in under a country's convention, named by its first year (2025 =
/// 2025/26); summer weeks belong to the season that starts next ([`ReportingConvention::season_of`]).
pub fn season_of_date(conv: &ReportingConvention, date: NaiveDate) -> i32 {
    conv.season_of(IsoWeek::of(date))
}

/// The weeks a season's chart covers: from its first week to the week before the next season
/// starts (a whole year of weeks, so the summer between seasons is shown too).
pub fn season_weeks(conv: &ReportingConvention, season: i32) -> (IsoWeek, IsoWeek) {
    let first = IsoWeek::new(season, conv.season_start_week).unwrap_or_else(|_| {
        IsoWeek::of(NaiveDate::from_ymd_opt(season, 10, 1).unwrap_or_default())
    });
    let next = IsoWeek::new(season + 1, conv.season_start_week).unwrap_or(first);
    (first, next.pred())
}

/// The season whose chart ([`season_weeks`]) holds a week: weeks from the season's start week
/// on belong to that year's season, earlier ones (including the summer after the previous
/// season's end) to the previous year's.
pub fn chart_season(conv: &ReportingConvention, w: IsoWeek) -> i32 {
    if w.week() >= conv.season_start_week {
        w.year()
    } else {
        w.year() - 1
    }
}

/// A season's name as both countries' reports write it: `2025/26`.
pub fn season_label(season: i32) -> String {
    format!("{season}/{:02}", (season + 1).rem_euclid(100))
}

/// The season to show: the asked one, else the current one by `today` (a local date) in the
/// country's convention; when it has no data (`with_data`: seasons with any), the latest season
/// with data before it (else the earliest), and `true` to say the shown one is not the asked one.
pub fn shown_season(
    conv: &ReportingConvention,
    today: NaiveDate,
    asked: Option<i32>,
    with_data: &[i32],
) -> (i32, bool) {
    let want = asked.unwrap_or_else(|| season_of_date(conv, today));
    if with_data.is_empty() || with_data.contains(&want) {
        return (want, false);
    }
    match with_data
        .iter()
        .copied()
        .filter(|s| *s < want)
        .max()
        .or_else(|| with_data.iter().copied().min())
    {
        Some(s) => (s, true),
        None => (want, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kakehashi_model::Country;

    fn exact(n: u64, variance: f64) -> Bounds {
        Bounds {
            lo: n,
            hi: n,
            variance,
        }
    }

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe 1998, table I: 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605
        let (l, h) = wilson(81, 263).unwrap();
        assert!(
            (l - 0.2553).abs() < 5e-4 && (h - 0.3662).abs() < 5e-4,
            "{l} {h}"
        );
        let (l, h) = wilson(15, 148).unwrap();
        assert!(
            (l - 0.0624).abs() < 5e-4 && (h - 0.1605).abs() < 5e-4,
            "{l} {h}"
        );
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn exact_counts_give_wilsons_interval_and_noise_widens_it() {
        let s = positivity(exact(81, 0.0), exact(263, 0.0)).unwrap();
        assert_eq!(s.value, Some(81.0 / 263.0));
        let (l, h) = wilson(81, 263).unwrap();
        assert!((s.ci_low - l).abs() < 1e-12 && (s.ci_high - h).abs() < 1e-12);
        let v = release_variance(Some(1.0), 9, 1);
        let noisy = positivity(exact(81, 2.0 * v), exact(263, 2.0 * v)).unwrap();
        assert_eq!(noisy.value, s.value, "the share itself is the released one");
        assert!(
            noisy.ci_low < s.ci_low && noisy.ci_high > s.ci_high,
            "{noisy:?} vs {s:?}"
        );
    }

    #[test]
    fn withheld_counts_make_a_range_and_noise_above_the_tests_reads_as_all_positive() {
        let mut p = Bounds::default();
        p.add(Some(20), 10, 0.0);
        p.add(None, 10, 0.0);
        let t = exact(100, 0.0);
        let s = positivity(p, t).unwrap();
        assert_eq!(s.value, None);
        assert!(
            (s.min - 0.20).abs() < 1e-12 && (s.max - 0.29).abs() < 1e-12,
            "{s:?}"
        );
        assert!(s.ci_low < s.min && s.ci_high > s.max);
        let over = positivity(exact(12, 1.0), exact(10, 1.0)).unwrap();
        assert_eq!((over.min, over.max), (1.0, 1.0));
        assert_eq!(positivity(exact(0, 0.0), exact(0, 0.0)), None);
    }

    #[test]
    fn release_variance_is_laplace_plus_rounding() {
        assert_eq!(release_variance(None, 9, 1), 0.0);
        assert!((release_variance(None, 1, 10) - 100.0 / 12.0).abs() < 1e-12);
        // b = 9 → variance ≈ 2b² − 1/6 for large b
        let v = release_variance(Some(1.0), 9, 1);
        assert!((v - (2.0 * 81.0 - 1.0 / 6.0)).abs() < 0.05, "{v}");
    }

    #[test]
    fn seasons_follow_each_countrys_convention() {
        let de = ReportingConvention::of(Country::Germany);
        let jp = ReportingConvention::of(Country::Japan);
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(season_of_date(&de, d(2026, 12, 6)), 2026);
        assert_eq!(season_of_date(&de, d(2026, 3, 1)), 2025);
        // Germany: week 21–39 is summer, given to the coming season; Japan's season starts week 36
        assert_eq!(season_of_date(&de, d(2026, 9, 1)), 2026);
        assert_eq!(season_of_date(&jp, d(2026, 8, 20)), 2025);
        assert_eq!(season_of_date(&jp, d(2026, 9, 1)), 2026);
        let (a, b) = season_weeks(&de, 2025);
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2025-W40".to_owned(), "2026-W39".to_owned())
        );
        let (a, b) = season_weeks(&jp, 2026);
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2026-W36".to_owned(), "2027-W35".to_owned())
        );
        assert_eq!(
            chart_season(&de, IsoWeek::new(2026, 27).unwrap()),
            2025,
            "summer weeks close the season's chart"
        );
        assert_eq!(chart_season(&de, IsoWeek::new(2026, 40).unwrap()), 2026);
        assert_eq!(chart_season(&jp, IsoWeek::new(2026, 35).unwrap()), 2025);
        assert_eq!(season_label(2025), "2025/26");
        assert_eq!(season_label(2099), "2099/00");
        assert_eq!(rate(15.0, 30_000, 100_000.0), Some(50.0));
        assert_eq!(rate(15.0, 0, 100_000.0), None);
    }

    #[test]
    fn the_shown_season_is_todays_else_the_latest_with_data() {
        let de = ReportingConvention::of(Country::Germany);
        let jp = ReportingConvention::of(Country::Japan);
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(
            shown_season(&de, d(2026, 2, 1), None, &[2024, 2025]),
            (2025, false)
        );
        assert_eq!(
            shown_season(&de, d(2026, 12, 6), None, &[2024, 2025]),
            (2025, true),
            "no data yet for 2026/27"
        );
        assert_eq!(
            shown_season(&jp, d(2026, 8, 1), None, &[2025]),
            (2025, false),
            "Japan's 2025/26 runs to week 35"
        );
        assert_eq!(
            shown_season(&de, d(2026, 12, 6), Some(2022), &[2021, 2022]),
            (2022, false)
        );
        assert_eq!(
            shown_season(&de, d(2026, 12, 6), Some(2018), &[2021, 2022]),
            (2021, true)
        );
        assert_eq!(shown_season(&de, d(2026, 12, 6), None, &[]), (2026, false));
    }
}
