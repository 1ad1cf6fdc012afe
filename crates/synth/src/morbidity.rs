//! Background morbidity: which diagnoses a patient carries during the span, from the table in
//! `data/morbidity.tsv` (age- and sex-specific prevalences, each row with its source).
//!
//! Correlation comes from a liability-threshold model: each patient draws a few latent risks
//! (cardiometabolic, smoking, cancer, ...), standard normal; a diagnosis with loadings `λ_k` on
//! them is present when `Σ λ_k z_k + √(1 − Σ λ_k²) ε > t`, with `t` the normal quantile of
//! `1 − p`. The marginal prevalence stays `p` exactly; diagnoses on the same risk co-occur.

use crate::profile::ProfileError;

/// The latent risks, in the order of `z` (names as in the data file).
pub(crate) const FACTORS: [&str; 8] = ["cm", "sm", "ca", "im", "al", "mh", "fr", "pr"];

/// The age bands of the table: `[min, max]` of age at the span's start.
pub(crate) const BANDS: [(i32, i32); 5] = [(0, 14), (15, 34), (35, 59), (60, 79), (80, 200)];

/// Where a diagnosis is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setting {
    /// At an outpatient contact.
    Amb,
    /// As the reason for an inpatient stay.
    Imp,
    /// On the birth stay of a patient born during the span.
    Birth,
}

/// One row of the table, prepared for one country.
#[derive(Debug, Clone)]
pub(crate) struct Diagnosis {
    /// The code written at this site (ICD-10-GM in Germany, WHO ICD-10 in Japan).
    pub code: String,
    /// Its display in the site's language.
    pub display: String,
    /// Where it is recorded.
    pub setting: Setting,
    /// Loadings `(factor index, λ)`.
    pub factors: Vec<(usize, f64)>,
    /// `√(1 − Σ λ²)`.
    pub resid: f64,
    /// Prevalence by `[band][sex]` (sex 0 female, 1 male) as a probability, and its threshold.
    pub p: [[f64; 2]; 5],
    /// The threshold `t` for each `[band][sex]`.
    pub t: [[f64; 2]; 5],
}

impl Diagnosis {
    /// Whether a patient of this band and sex with latent risks `z` and uniform draw `u` has it.
    pub fn present(&self, band: usize, female: bool, z: &[f64; 8], u: f64) -> bool {
        let s = usize::from(!female);
        let p = self.p[band][s];
        if p <= 0.0 {
            return false;
        }
        if self.factors.is_empty() {
            return u < p;
        }
        let load: f64 = self.factors.iter().map(|(k, l)| l * z[*k]).sum();
        u < phi((load - self.t[band][s]) / self.resid)
    }
}

/// Parses the table for one country (`DE` or `JP`); `source` names the file in errors.
pub(crate) fn parse(
    source: &str,
    text: &str,
    country: &str,
) -> Result<Vec<Diagnosis>, ProfileError> {
    let bad = |line: usize, message: String| ProfileError::Invalid {
        name: source.to_owned(),
        message: format!("line {line}: {message}"),
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut header = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if !header {
            if f.first() != Some(&"code_gm") || f.len() != 16 {
                return Err(bad(n, "expected the header row code_gm, code_who, sex, p0_14 ... display_ja (16 columns)".into()));
            }
            header = true;
            continue;
        }
        if f.len() != 16 {
            return Err(bad(n, format!("{} columns, expected 16", f.len())));
        }
        let num = |k: usize, name: &str| -> Result<f64, ProfileError> {
            f[k].parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    bad(
                        n,
                        format!("{name}: `{}` is not a non-negative number", f[k]),
                    )
                })
        };
        let mut p = [0.0; 5];
        for (b, v) in p.iter_mut().enumerate() {
            *v = num(3 + b, ["p0_14", "p15_34", "p35_59", "p60_79", "p80"][b])? / 100.0;
            if *v > 1.0 {
                return Err(bad(
                    n,
                    format!(
                        "{}: {} % is more than 100 %",
                        ["p0_14", "p15_34", "p35_59", "p60_79", "p80"][b],
                        *v * 100.0
                    ),
                ));
            }
        }
        let male_rr = num(8, "male_rr")?;
        if male_rr <= 0.0 {
            return Err(bad(n, "male_rr must be above 0".into()));
        }
        let mut factors = Vec::new();
        if f[9] != "-" {
            for part in f[9].split('+') {
                let (name, l) = part
                    .split_once(':')
                    .ok_or_else(|| bad(n, format!("factors: `{part}` is not name:loading")))?;
                let k = FACTORS.iter().position(|x| *x == name).ok_or_else(|| {
                    bad(
                        n,
                        format!(
                            "factors: unknown risk `{name}` (known: {})",
                            FACTORS.join(", ")
                        ),
                    )
                })?;
                let l: f64 = l
                    .parse()
                    .ok()
                    .filter(|v: &f64| (0.0..1.0).contains(v))
                    .ok_or_else(|| bad(n, format!("factors: loading `{l}` must be in [0, 1)")))?;
                factors.push((k, l));
            }
        }
        let sum_sq: f64 = factors.iter().map(|(_, l)| l * l).sum();
        if sum_sq >= 0.99 {
            return Err(bad(
                n,
                format!("factors: the squared loadings sum to {sum_sq:.2}; keep them below 0.99"),
            ));
        }
        let mult = if country == "DE" {
            num(10, "de")?
        } else {
            num(11, "jp")?
        };
        let setting = match f[12] {
            "amb" => Setting::Amb,
            "imp" => Setting::Imp,
            "birth" => Setting::Birth,
            s => return Err(bad(n, format!("setting: `{s}` must be amb, imp or birth"))),
        };
        let (code, display) = if country == "DE" {
            (f[0], f[14])
        } else {
            (f[1], f[15])
        };
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
            return Err(bad(
                n,
                format!("code `{code}`: letters, digits and '.' only"),
            ));
        }
        if display.is_empty()
            || display
                .chars()
                .any(|c| c == '"' || c == '\\' || c.is_control())
        {
            return Err(bad(
                n,
                "display: empty, or holds quotes, backslashes or control characters".into(),
            ));
        }
        if !seen.insert((f[0], f[1])) {
            return Err(bad(n, format!("code {} / {} listed twice", f[0], f[1])));
        }
        if mult == 0.0 {
            continue;
        }
        let mut pb = [[0.0; 2]; 5];
        let mut t = [[0.0; 2]; 5];
        for b in 0..5 {
            for (s, female) in [(0, true), (1, false)] {
                let sexed = match f[2] {
                    "a" => {
                        if female {
                            p[b] * 2.0 / (1.0 + male_rr)
                        } else {
                            p[b] * 2.0 * male_rr / (1.0 + male_rr)
                        }
                    }
                    "f" => {
                        if female {
                            p[b]
                        } else {
                            0.0
                        }
                    }
                    "m" => {
                        if female {
                            0.0
                        } else {
                            p[b]
                        }
                    }
                    x => return Err(bad(n, format!("sex: `{x}` must be a, f or m"))),
                };
                let v = (sexed * mult).min(1.0);
                pb[b][s] = v;
                t[b][s] = if v > 0.0 {
                    inv_phi(1.0 - v)
                } else {
                    f64::INFINITY
                };
            }
        }
        out.push(Diagnosis {
            code: code.to_owned(),
            display: display.to_owned(),
            setting,
            factors,
            resid: (1.0 - sum_sq).sqrt(),
            p: pb,
            t,
        });
    }
    if !header {
        return Err(bad(0, "no header row".into()));
    }
    Ok(out)
}

/// The band index of an age at the span's start (patients born during the span count as 0–14).
pub(crate) fn band_of(age: i32) -> usize {
    BANDS
        .iter()
        .position(|(lo, hi)| age >= *lo && age <= *hi)
        .unwrap_or(0)
}

/// Standard normal CDF, via the complementary error function (Numerical Recipes' Chebyshev
/// fit, relative error below 1.2e-7: ample for drawing). Kept instead of statrs's `erfc`: a
/// different approximation moves `phi` in the 8th digit, which can flip a draw and so change
/// the bytes a seed has always produced.
pub(crate) fn phi(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9);
/// hand-written for the same reason as `phi` (a seed's bytes must not move).
pub(crate) fn inv_phi(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let lo = 0.024_25;
    if p < lo {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - lo {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_functions_invert() {
        for p in [0.001, 0.02, 0.3, 0.5, 0.77, 0.99] {
            assert!((phi(inv_phi(p)) - p).abs() < 1e-6, "{p}");
        }
        assert!((phi(1.959_964) - 0.975).abs() < 1e-6);
    }

    #[test]
    fn bad_rows_are_named_by_line() {
        let head = "code_gm\tcode_who\tsex\tp0_14\tp15_34\tp35_59\tp60_79\tp80\tmale_rr\tfactors\tde\tjp\tsetting\tsrc\tdisplay_de\tdisplay_ja\n";
        let row = |s: &str| format!("{head}# c\n{s}\n");
        let e = parse(
            "m.tsv",
            &row("I10\tI10\ta\t0\t1\t2\t3\t4\t1\tcm:0.7\t1\t1\tamb\tX\tHypertonie\t高血圧"),
            "DE",
        )
        .unwrap();
        assert_eq!(e.len(), 1);
        let e = parse(
            "m.tsv",
            &row("I10\tI10\tx\t0\t1\t2\t3\t4\t1\t-\t1\t1\tamb\tX\tH\tH"),
            "DE",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("m.tsv") && e.contains("line 3") && e.contains("sex"),
            "{e}"
        );
        let e = parse(
            "m.tsv",
            &row("I10\tI10\ta\t0\t1\t2\t300\t4\t1\t-\t1\t1\tamb\tX\tH\tH"),
            "DE",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("p60_79"), "{e}");
        let e = parse(
            "m.tsv",
            &row("I10\tI10\ta\t0\t1\t2\t3\t4\t1\tzz:0.5\t1\t1\tamb\tX\tH\tH"),
            "DE",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown risk `zz`"), "{e}");
        let e = parse(
            "m.tsv",
            &row("I10\tI10\ta\t0\t1\t2\t3\t4\t1\tcm:0.8+sm:0.7\t1\t1\tamb\tX\tH\tH"),
            "DE",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("squared loadings"), "{e}");
        let e = parse("m.tsv", &format!("{head}I10\tI10\ta\t0\t1\t2\t3\t4\t1\t-\t1\t1\tamb\tX\tH\tH\nI10\tI10\ta\t0\t1\t2\t3\t4\t1\t-\t1\t1\tamb\tX\tH\tH\n"), "DE").unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("twice"), "{e}");
        assert!(
            parse("m.tsv", "# nothing\n", "DE")
                .unwrap_err()
                .to_string()
                .contains("header")
        );
    }

    #[test]
    fn shared_risk_keeps_the_margin_and_correlates() {
        use rand::{Rng, SeedableRng};
        let head = "code_gm\tcode_who\tsex\tp0_14\tp15_34\tp35_59\tp60_79\tp80\tmale_rr\tfactors\tde\tjp\tsetting\tsrc\tdisplay_de\tdisplay_ja\n";
        let t = format!(
            "{head}A\tA\ta\t20\t20\t20\t20\t20\t1\tcm:0.8\t1\t1\tamb\tX\tA\tA\nB\tB\ta\t10\t10\t10\t10\t10\t1\tcm:0.8\t1\t1\tamb\tX\tB\tB\n"
        );
        let d = parse("t", &t, "DE").unwrap();
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let (mut a, mut b, mut ab, n) = (0.0, 0.0, 0.0, 100_000);
        for _ in 0..n {
            let mut z = [0.0; 8];
            z[0] = crate::normal(&mut r);
            let x = d[0].present(2, true, &z, r.random());
            let y = d[1].present(2, true, &z, r.random());
            a += f64::from(u8::from(x));
            b += f64::from(u8::from(y));
            ab += f64::from(u8::from(x && y));
        }
        let (pa, pb, pab) = (a / n as f64, b / n as f64, ab / n as f64);
        assert!(
            (pa - 0.2).abs() < 0.01 && (pb - 0.1).abs() < 0.01,
            "{pa} {pb}"
        );
        assert!(
            pab > 2.0 * pa * pb,
            "co-occurrence {pab} against independence {}",
            pa * pb
        );
    }
}
