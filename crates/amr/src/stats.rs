//! Proportions with 95 % confidence intervals: Wilson score intervals, Newcombe's hybrid score
//! interval for a difference of two proportions, and the Cochran–Armitage test for trend.

use statrs::function::erf::erfc;

/// z for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for `k` of `n` (95 %). `None` when `n` is 0.
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

/// Newcombe's hybrid score interval (method 10) for p1 − p2 (95 %).
pub fn newcombe(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<(f64, f64)> {
    let (l1, u1) = wilson(k1, n1)?;
    let (l2, u2) = wilson(k2, n2)?;
    let p1 = k1.min(n1) as f64 / n1 as f64;
    let p2 = k2.min(n2) as f64 / n2 as f64;
    let d = p1 - p2;
    let lo = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let hi = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some((lo.max(-1.0), hi.min(1.0)))
}

/// Two-sided p-value of the Cochran–Armitage test for a linear trend in proportions over
/// ordered groups (scores = the given x, e.g. years). `None` when undefined (fewer than two
/// groups with isolates, or no variation).
pub fn cochran_armitage(groups: &[(f64, u64, u64)]) -> Option<f64> {
    let groups: Vec<&(f64, u64, u64)> = groups.iter().filter(|g| g.2 > 0).collect();
    if groups.len() < 2 {
        return None;
    }
    let n: f64 = groups.iter().map(|g| g.2 as f64).sum();
    let k: f64 = groups.iter().map(|g| g.1.min(g.2) as f64).sum();
    let p = k / n;
    if p <= 0.0 || p >= 1.0 {
        return None;
    }
    let xbar: f64 = groups.iter().map(|g| g.0 * g.2 as f64).sum::<f64>() / n;
    let t: f64 = groups
        .iter()
        .map(|g| (g.0 - xbar) * (g.1.min(g.2) as f64))
        .sum();
    let var: f64 = p
        * (1.0 - p)
        * groups
            .iter()
            .map(|g| g.2 as f64 * (g.0 - xbar).powi(2))
            .sum::<f64>();
    if var <= 0.0 {
        return None;
    }
    let z = t / var.sqrt();
    Some(erfc(z.abs() / std::f64::consts::SQRT_2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe (1998) Table I: 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605
        let (l, u) = wilson(81, 263).unwrap();
        assert!(
            (l - 0.2553).abs() < 5e-4 && (u - 0.3662).abs() < 5e-4,
            "{l} {u}"
        );
        let (l, u) = wilson(15, 148).unwrap();
        assert!(
            (l - 0.0624).abs() < 5e-4 && (u - 0.1605).abs() < 5e-4,
            "{l} {u}"
        );
        let (l, u) = wilson(0, 30).unwrap();
        assert_eq!(l, 0.0);
        assert!((u - 0.1135).abs() < 5e-4, "{u}");
        assert!(wilson(0, 0).is_none());
    }

    #[test]
    fn newcombe_matches_published_values() {
        // Newcombe (1998) Table II example (56/70 vs 48/80): 0.0524 to 0.3339
        let (l, u) = newcombe(56, 70, 48, 80).unwrap();
        assert!(
            (l - 0.0524).abs() < 5e-4 && (u - 0.3339).abs() < 5e-4,
            "{l} {u}"
        );
    }

    #[test]
    fn trend_test() {
        // rising share: 10/100, 20/100, 30/100 -> strongly significant
        let p =
            cochran_armitage(&[(2022.0, 10, 100), (2023.0, 20, 100), (2024.0, 30, 100)]).unwrap();
        assert!(p < 0.001, "{p}");
        let flat =
            cochran_armitage(&[(2022.0, 20, 100), (2023.0, 20, 100), (2024.0, 20, 100)]).unwrap();
        assert!(flat > 0.99, "{flat}");
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.959_964 / std::f64::consts::SQRT_2) - 0.05).abs() < 1e-6);
    }
}
