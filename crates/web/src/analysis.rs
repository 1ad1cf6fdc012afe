//! The analysis page, `/analysis`: a researcher picks a project, an analysis dataset (a shipped
//! example or pasted JSON), a model (summary, table, GLM, Kaplan–Meier, Cox, meta-analysis)
//! and its variables; the hub runs it over the network and the page shows each site's part,
//! the result table with CIs, a forest plot (per site and pooled) for a GLM or a
//! meta-analysis, and the result as CSV and as R and Python snippets that re-create the numbers
//! from the released aggregates. A plain HTML form: it works without JavaScript.

use crate::chart::{CsvText, esc};
use crate::form::FieldErrors;
use serde::Serialize;
use std::fmt::Write as _;

/// The form as typed (kept on error).
#[derive(Debug, Clone, Serialize, Default)]
pub struct AnalysisForm {
    /// The project.
    pub project: String,
    /// A shipped example's name, or empty for the pasted JSON.
    pub example: String,
    /// The pasted dataset JSON.
    pub dataset: String,
    /// `summary`, `table`, `glm`, `km`, `cox` or `meta`.
    pub model: String,
    /// The GLM's or meta-analysis's formula.
    pub formula: String,
    /// The family.
    pub family: String,
    /// The summary's variable.
    pub variable: String,
    /// The summary's grouping variable.
    pub by: String,
    /// The table's variables, comma-separated.
    pub variables: String,
    /// Survival: the time variable.
    pub time: String,
    /// Survival: the event variable.
    pub event: String,
    /// Cox: the covariates.
    pub covariates: String,
    /// Survival: the interval breaks, comma-separated.
    pub breaks: String,
}

/// One site's part in the run.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SiteRow {
    /// The site.
    pub site: String,
    /// `answered`, `refused`, `failed`, ...
    pub state: String,
    /// Rows it used.
    pub rows: Option<u64>,
    /// Why it did not answer.
    pub reason: Option<String>,
}

/// One row of the forest plot: a label, the estimate and its 95 % interval.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ForestRow {
    /// Site or method (`pooled (REML)`).
    pub label: String,
    /// The estimate.
    pub estimate: f64,
    /// Lower limit.
    pub low: f64,
    /// Upper limit.
    pub high: f64,
    /// A pooled estimate (drawn as a diamond).
    pub pooled: bool,
}

/// What the page shows of a run.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AnalysisResult {
    /// One line: model, rows, sites, iterations, time.
    pub headline: String,
    /// Each site's part.
    pub sites: Vec<SiteRow>,
    /// Why there is no result (absent when complete).
    pub problem: Option<String>,
    /// The result table's header.
    pub columns: Vec<String>,
    /// Its rows, formatted.
    pub rows: Vec<Vec<String>>,
    /// The forest plot (SVG), for a GLM or meta-analysis.
    pub forest: Option<String>,
    /// The message key of its caption (`analysis-forest` per site and pooled,
    /// `analysis-forest-glm` for a GLM's pooled terms).
    pub forest_caption: String,
    /// The result table as CSV.
    pub csv: String,
    /// R code re-creating the numbers from the released aggregates.
    pub r: String,
    /// Python code doing the same.
    pub python: String,
}

/// The analysis page.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AnalysisPage {
    /// The user's projects: (id, title).
    pub projects: Vec<(String, String)>,
    /// The shipped example datasets' names.
    pub examples: Vec<String>,
    /// The form.
    pub form: AnalysisForm,
    /// Problems with the form, by field.
    pub errors: FieldErrors,
    /// The run's result, after a submit.
    pub result: Option<AnalysisResult>,
}

/// The result table as CSV.
pub fn csv(columns: &[String], rows: &[Vec<String>]) -> String {
    let mut w = CsvText::new();
    w.row(columns);
    for r in rows {
        w.row(r);
    }
    w.finish()
}

/// A number as R and Python read it (full precision).
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        "NaN".into()
    }
}

fn vector(xs: &[f64]) -> String {
    xs.iter().map(|x| num(*x)).collect::<Vec<_>>().join(", ")
}

fn quoted(xs: &[String]) -> String {
    xs.iter()
        .map(|x| format!("\"{}\"", x.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// R and Python re-creating Wald SEs, z, p and 95 % CIs of a GLM from its released estimates
/// and covariance (the inverse of the pooled XᵀWX, times the dispersion).
pub fn glm_snippets(terms: &[String], estimate: &[f64], covariance: &[f64]) -> (String, String) {
    let p = terms.len();
    let r = format!(
        "# the pooled estimates and their covariance as the hub released them\n\
         beta <- c({})\nnames(beta) <- c({})\n\
         V <- matrix(c({}), {p}, {p})\n\
         se <- sqrt(diag(V)); z <- beta / se\n\
         data.frame(estimate = beta, std_error = se, z = z, p = 2 * pnorm(-abs(z)),\n\
         \x20          ci_low = beta - qnorm(0.975) * se, ci_high = beta + qnorm(0.975) * se)\n",
        vector(estimate),
        quoted(terms),
        vector(covariance)
    );
    let python = format!(
        "# the pooled estimates and their covariance as the hub released them\n\
         import numpy as np\nfrom scipy.stats import norm\n\
         terms = [{}]\nbeta = np.array([{}])\n\
         V = np.array([{}]).reshape({p}, {p}, order=\"F\")\n\
         se = np.sqrt(np.diag(V)); z = beta / se; q = norm.ppf(0.975)\n\
         for t, b, s, zz in zip(terms, beta, se, z):\n\
         \x20   print(t, b, s, zz, 2 * norm.sf(abs(zz)), b - q * s, b + q * s)\n",
        quoted(terms),
        vector(estimate),
        vector(covariance)
    );
    (r, python)
}

/// R (metafor) and Python (statsmodels) pooling the sites' released estimates and SEs.
pub fn meta_snippets(sites: &[String], estimate: &[f64], std_error: &[f64]) -> (String, String) {
    let r = format!(
        "# each site's own estimate and standard error as the sites released them\n\
         library(metafor)\nyi <- c({})\nsei <- c({})\nslab <- c({})\n\
         rma(yi = yi, sei = sei, method = \"FE\", slab = slab)\n\
         rma(yi = yi, sei = sei, method = \"DL\", slab = slab)\n\
         rma(yi = yi, sei = sei, method = \"REML\", slab = slab)\n",
        vector(estimate),
        vector(std_error),
        quoted(sites)
    );
    let python = format!(
        "# each site's own estimate and standard error as the sites released them\n\
         import numpy as np\nfrom statsmodels.stats.meta_analysis import combine_effects\n\
         y = np.array([{}])\nse = np.array([{}])\n\
         print(combine_effects(y, se ** 2, method_re=\"chi2\", row_names=[{}]).summary_frame())\n",
        vector(estimate),
        vector(std_error),
        quoted(sites)
    );
    (r, python)
}

/// R and Python re-creating hazard ratios and their CIs from released Cox estimates and SEs.
pub fn cox_snippets(terms: &[String], estimate: &[f64], std_error: &[f64]) -> (String, String) {
    let r = format!(
        "beta <- c({})\nse <- c({})\nnames(beta) <- c({})\n\
         data.frame(hazard_ratio = exp(beta), ci_low = exp(beta - qnorm(0.975) * se),\n\
         \x20          ci_high = exp(beta + qnorm(0.975) * se), p = 2 * pnorm(-abs(beta / se)))\n",
        vector(estimate),
        vector(std_error),
        quoted(terms)
    );
    let python = format!(
        "import numpy as np\nfrom scipy.stats import norm\n\
         beta = np.array([{}]); se = np.array([{}]); q = norm.ppf(0.975)\n\
         print(np.exp(beta), np.exp(beta - q * se), np.exp(beta + q * se), 2 * norm.sf(abs(beta / se)))\n",
        vector(estimate),
        vector(std_error)
    );
    (r, python)
}

/// R and Python re-creating an actuarial life table from the pooled counts (intervals with a
/// suppressed count left out, as the hub withholds them).
pub fn km_snippets(at_risk: &[u64], events: &[u64], censored: &[u64]) -> (String, String) {
    let ints = |xs: &[u64]| xs.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    let r = format!(
        "n <- c({})\nd <- c({})\nc <- c({})\nexposed <- n - c / 2\n\
         s <- cumprod(1 - d / exposed)\ns * sqrt(cumsum(d / (exposed * (exposed - d))))  # Greenwood SE\ns\n",
        ints(at_risk),
        ints(events),
        ints(censored)
    );
    let python = format!(
        "import numpy as np\nn = np.array([{}]); d = np.array([{}]); c = np.array([{}])\n\
         exposed = n - c / 2\ns = np.cumprod(1 - d / exposed)\n\
         print(s, s * np.sqrt(np.cumsum(d / (exposed * (exposed - d)))))\n",
        ints(at_risk),
        ints(events),
        ints(censored)
    );
    (r, python)
}

/// R and Python re-creating a pooled table's χ² from its released counts (rows of the first
/// variable's levels).
pub fn table_snippets(rows: usize, counts: &[u64]) -> (String, String) {
    let list = counts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let cols = counts.len() / rows.max(1);
    let r = format!(
        "m <- matrix(c({list}), nrow = {rows}, byrow = TRUE)\nchisq.test(m, correct = FALSE)\nif (all(dim(m) == 2)) fisher.test(m)\n"
    );
    let python = format!(
        "import numpy as np\nfrom scipy.stats import chi2_contingency, fisher_exact\n\
         m = np.array([{list}]).reshape({rows}, {cols})\nprint(chi2_contingency(m, correction=False))\n\
         if m.shape == (2, 2):\n    print(fisher_exact(m))\n"
    );
    (r, python)
}

/// A forest plot: one line per row with its 95 % interval, pooled rows as diamonds, a
/// vertical line at `null` (0 for coefficients). `title` names it for screen readers.
pub fn forest_svg(title: &str, rows: &[ForestRow], null: f64) -> String {
    const W: f64 = 640.0;
    const LABEL: f64 = 190.0;
    const RIGHT: f64 = 150.0;
    const ROW: f64 = 26.0;
    const TOP: f64 = 30.0;
    let finite: Vec<f64> = rows
        .iter()
        .flat_map(|r| [r.low, r.high, r.estimate])
        .chain([null])
        .filter(|x| x.is_finite())
        .collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| LABEL + (v.clamp(lo, hi) - lo) / (hi - lo) * (W - LABEL - RIGHT);
    let h = TOP + ROW * rows.len() as f64 + 34.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-labelledby="forest-title forest-desc" class="forest"><title id="forest-title">{}</title><desc id="forest-desc">{}</desc>"#,
        esc(title),
        esc(&rows
            .iter()
            .map(|r| format!(
                "{}: {:.3} [{:.3}, {:.3}]",
                r.label, r.estimate, r.low, r.high
            ))
            .collect::<Vec<_>>()
            .join("; "))
    );
    let _ = write!(
        s,
        r##"<line x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2:.1}" stroke="#777" stroke-dasharray="4 3"/>"##,
        x(null),
        TOP - 10.0,
        h - 30.0
    );
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        let _ = write!(
            s,
            r#"<text x="4" y="{:.1}" font-size="13"{}>{}</text>"#,
            y + 4.0,
            if r.pooled {
                r#" font-weight="bold""#
            } else {
                ""
            },
            esc(&r.label)
        );
        let (a, b, m) = (x(r.low), x(r.high), x(r.estimate));
        if r.pooled {
            let _ = write!(
                s,
                r##"<polygon points="{a:.1},{y:.1} {m:.1},{:.1} {b:.1},{y:.1} {m:.1},{:.1}" fill="#D55E00"/>"##,
                y - 7.0,
                y + 7.0
            );
        } else {
            let _ = write!(
                s,
                r##"<line x1="{a:.1}" x2="{b:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#0072B2" stroke-width="2"/><rect x="{:.1}" y="{:.1}" width="10" height="10" fill="#0072B2"/>"##,
                m - 5.0,
                y - 5.0
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="12">{:.3} [{:.3}, {:.3}]</text>"#,
            W - RIGHT + 8.0,
            y + 4.0,
            r.estimate,
            r.low,
            r.high
        );
    }
    for v in [lo + pad, null, hi - pad] {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{v:.2}</text>"#,
            x(v),
            h - 12.0
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forest_plot_draws_each_site_and_the_pooled_diamond() {
        let rows = [
            ForestRow {
                label: "de-berlin".into(),
                estimate: 0.1,
                low: -0.4,
                high: 0.6,
                pooled: false,
            },
            ForestRow {
                label: "pooled (REML) <b>".into(),
                estimate: -0.2,
                low: -0.7,
                high: 0.3,
                pooled: true,
            },
        ];
        let svg = forest_svg("sex[male]", &rows, 0.0);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<polygon").count(), 1);
        assert_eq!(svg.matches("<rect").count(), 1);
        assert!(svg.contains("pooled (REML) &lt;b&gt;"), "escaped");
        assert!(svg.contains("<title id=\"forest-title\">sex[male]</title>"));
    }

    #[test]
    fn snippets_carry_the_released_numbers_at_full_precision() {
        let (r, py) = glm_snippets(
            &["(Intercept)".into(), "sex[male]".into()],
            &[-1.25, 0.1],
            &[0.04, 0.001, 0.001, 0.09],
        );
        assert!(
            r.contains("beta <- c(-1.25, 0.1)")
                && r.contains("matrix(c(0.04, 0.001, 0.001, 0.09), 2, 2)")
        );
        assert!(py.contains("reshape(2, 2, order=\"F\")"));
        let (r, _) = meta_snippets(&["a".into(), "b".into()], &[0.1, 0.2], &[0.3, 0.4]);
        assert!(r.contains("method = \"REML\""));
        assert_eq!(csv(&["a".into()], &[vec!["x,y".into()]]), "a\n\"x,y\"\n");
    }
}
