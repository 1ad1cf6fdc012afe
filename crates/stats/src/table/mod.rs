//! Contingency tables of one to three categorical variables: counted at a site under a cell
//! rule, added over sites, with Pearson's χ² (two-way tables, where the expected counts
//! allow it) and Fisher's exact test (2 × 2).

use crate::design::Levels;
use crate::frame::{Column, Frame, FrameError};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};
use statrs::function::factorial::ln_factorial;
use std::collections::BTreeSet;

/// Why a table cannot be made or released.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    /// A variable the dataset does not have.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// Not one to three variables.
    #[error("a table has 1 to 3 variables, {got} given")]
    Ways {
        /// Variables given.
        got: usize,
    },
    /// A numeric variable with values that are not whole numbers.
    #[error(
        "variable {variable} is continuous ({value} is not a whole number): tabulate a band of it"
    )]
    Continuous {
        /// The variable.
        variable: String,
        /// The first such value.
        value: f64,
    },
    /// A value outside the declared levels.
    #[error("variable {variable}: value {value:?} is not one of its declared levels ({levels})")]
    UnknownLevel {
        /// The variable.
        variable: String,
        /// The value.
        value: String,
        /// The declared levels.
        levels: String,
    },
    /// Tables over different variables or levels cannot be added.
    #[error("tables differ in their variables or levels and cannot be added")]
    Mismatch,
    /// The cell rule refuses the table.
    #[error(
        "refused: cell {cell} has {count} rows, fewer than the site's minimum of {min} (a table is released whole or not at all); merge levels or use fewer variables"
    )]
    SmallCell {
        /// The cell, `sex=male, died=1`.
        cell: String,
        /// Its count.
        count: u64,
        /// The minimum.
        min: u64,
    },
}

/// Counts over the combinations of 1–3 variables' levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// The variables.
    pub variables: Vec<String>,
    /// Each variable's levels.
    pub levels: Vec<Vec<String>>,
    /// The counts, the last variable varying fastest.
    pub counts: Vec<u64>,
    /// Rows left out because a variable was missing.
    pub missing: u64,
}

/// A numeric value as a level: whole numbers only (`0`, `1`, `12`).
fn numeric_level(variable: &str, x: f64) -> Result<String, TableError> {
    if x.fract() != 0.0 || !x.is_finite() {
        return Err(TableError::Continuous {
            variable: variable.into(),
            value: x,
        });
    }
    Ok(format!("{x:.0}"))
}

/// Counts the rows of `frame` over `variables`; `given` fixes the levels of those it names
/// (every site must use the same to be added), the others take the levels seen, sorted
/// (numbers by value).
pub fn tabulate(frame: &Frame, variables: &[&str], given: &Levels) -> Result<Table, TableError> {
    if variables.is_empty() || variables.len() > 3 {
        return Err(TableError::Ways {
            got: variables.len(),
        });
    }
    let rows = frame.rows();
    let mut labels: Vec<Vec<Option<String>>> = Vec::new();
    let mut levels: Vec<Vec<String>> = Vec::new();
    for &v in variables {
        let (lab, seen): (Vec<Option<String>>, Vec<String>) = match frame.get(v)? {
            Column::Factor(x) => {
                let seen: BTreeSet<String> = x.iter().flatten().cloned().collect();
                (x.clone(), seen.into_iter().collect())
            }
            Column::Numeric(x) => {
                let mut lab = Vec::with_capacity(rows);
                let mut nums: Vec<f64> = Vec::new();
                for value in x {
                    match value {
                        Some(y) if y.is_finite() => {
                            lab.push(Some(numeric_level(v, *y)?));
                            nums.push(*y);
                        }
                        _ => lab.push(None),
                    }
                }
                nums.sort_by(f64::total_cmp);
                nums.dedup();
                (lab, nums.iter().map(|y| format!("{y:.0}")).collect())
            }
        };
        let lv = match given.get(v) {
            Some(lv) => {
                if let Some(bad) = lab.iter().flatten().find(|l| !lv.contains(l)) {
                    return Err(TableError::UnknownLevel {
                        variable: v.into(),
                        value: bad.clone(),
                        levels: lv.join(", "),
                    });
                }
                lv.clone()
            }
            None => seen,
        };
        labels.push(lab);
        levels.push(lv);
    }
    let size: usize = levels.iter().map(Vec::len).product();
    let mut counts = vec![0u64; size];
    let mut missing = 0;
    'rows: for i in 0..rows {
        let mut cell = 0;
        for (lab, lv) in labels.iter().zip(&levels) {
            let Some(l) = &lab[i] else {
                missing += 1;
                continue 'rows;
            };
            // levels were checked above: every label has its index
            let k = lv.iter().position(|x| x == l).unwrap_or_default();
            cell = cell * lv.len() + k;
        }
        counts[cell] += 1;
    }
    Ok(Table {
        variables: variables.iter().map(|v| v.to_string()).collect(),
        levels,
        counts,
        missing,
    })
}

impl Table {
    /// A cell's levels, `sex=male, died=1`.
    pub fn cell_name(&self, mut index: usize) -> String {
        let mut parts = Vec::new();
        for (v, lv) in self.variables.iter().zip(&self.levels).rev() {
            parts.push(format!("{v}={}", lv[index % lv.len()]));
            index /= lv.len();
        }
        parts.reverse();
        parts.join(", ")
    }

    /// The cell rule: no count between 1 and `min − 1` (DataSHIELD's `nfilter.tab`); the
    /// table is refused whole, naming the first such cell.
    pub fn check_cells(&self, min: u64) -> Result<(), TableError> {
        match self.counts.iter().position(|&c| c > 0 && c < min) {
            None => Ok(()),
            Some(i) => Err(TableError::SmallCell {
                cell: self.cell_name(i),
                count: self.counts[i],
                min,
            }),
        }
    }

    /// The total count.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Adds the sites' tables (same variables and levels).
pub fn pool(tables: &[Table]) -> Result<Table, TableError> {
    let Some(first) = tables.first() else {
        return Err(TableError::Mismatch);
    };
    let mut out = first.clone();
    for t in &tables[1..] {
        if t.variables != out.variables || t.levels != out.levels {
            return Err(TableError::Mismatch);
        }
        for (a, b) in out.counts.iter_mut().zip(&t.counts) {
            *a += b;
        }
        out.missing += t.missing;
    }
    Ok(out)
}

/// Pearson's χ² test of independence of a two-way table (no continuity correction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    /// The statistic.
    pub statistic: f64,
    /// Degrees of freedom, (rows − 1)(columns − 1).
    pub df: u64,
    /// The upper-tail p-value.
    pub p_value: f64,
}

/// Why a test is not given.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum TestNotValid {
    /// Not a two-way table.
    #[error("χ² is given for two-way tables; this one has {ways}")]
    Ways {
        /// Its variables.
        ways: usize,
    },
    /// An empty row or column.
    #[error("level {level} has no rows; drop it")]
    EmptyMargin {
        /// `variable=level`.
        level: String,
    },
    /// Expected counts too small (Cochran: none below 1, at most 20 % below 5).
    #[error(
        "expected counts too small for χ² ({below_five} of {cells} cells below 5, smallest {smallest:.2}); use Fisher's exact test (2 × 2) or merge levels"
    )]
    SmallExpected {
        /// Cells with an expected count below 5.
        below_five: usize,
        /// All cells.
        cells: usize,
        /// The smallest expected count.
        smallest: f64,
    },
    /// Fisher's test is given for 2 × 2 tables only.
    #[error("Fisher's exact test is given for 2 × 2 tables")]
    NotTwoByTwo,
}

fn two_way(t: &Table) -> Result<(usize, usize), TestNotValid> {
    if t.variables.len() != 2 {
        return Err(TestNotValid::Ways {
            ways: t.variables.len(),
        });
    }
    Ok((t.levels[0].len(), t.levels[1].len()))
}

/// Pearson's χ² where Cochran's rule allows it.
pub fn chi_square(t: &Table) -> Result<ChiSquare, TestNotValid> {
    let (r, c) = two_way(t)?;
    let at = |i: usize, j: usize| t.counts[i * c + j] as f64;
    let rows: Vec<f64> = (0..r).map(|i| (0..c).map(|j| at(i, j)).sum()).collect();
    let cols: Vec<f64> = (0..c).map(|j| (0..r).map(|i| at(i, j)).sum()).collect();
    let n: f64 = rows.iter().sum();
    for (v, sums) in [(0, &rows), (1, &cols)] {
        if let Some(k) = sums.iter().position(|&s| s == 0.0) {
            return Err(TestNotValid::EmptyMargin {
                level: format!("{}={}", t.variables[v], t.levels[v][k]),
            });
        }
    }
    let mut statistic = 0.0;
    let mut below_five = 0;
    let mut smallest = f64::INFINITY;
    for (i, row) in rows.iter().enumerate() {
        for (j, col) in cols.iter().enumerate() {
            let e = row * col / n;
            smallest = smallest.min(e);
            below_five += usize::from(e < 5.0);
            statistic += (at(i, j) - e).powi(2) / e;
        }
    }
    if smallest < 1.0 || below_five * 5 > r * c {
        return Err(TestNotValid::SmallExpected {
            below_five,
            cells: r * c,
            smallest,
        });
    }
    let df = ((r - 1) * (c - 1)) as u64;
    let p_value = ChiSquared::new(df as f64).map_or(f64::NAN, |d| d.sf(statistic));
    Ok(ChiSquare {
        statistic,
        df,
        p_value,
    })
}

/// Fisher's exact test of a 2 × 2 table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fisher {
    /// Two-sided p-value: the probability of tables no more likely than the one seen (as R's
    /// `fisher.test`).
    pub p_value: f64,
    /// The sample odds ratio (a·d)/(b·c) (infinite or NaN when a cell is 0).
    pub odds_ratio: f64,
}

/// Fisher's exact test of a 2 × 2 table.
pub fn fisher(t: &Table) -> Result<Fisher, TestNotValid> {
    if two_way(t)? != (2, 2) {
        return Err(TestNotValid::NotTwoByTwo);
    }
    let [a, b, c, d] = [t.counts[0], t.counts[1], t.counts[2], t.counts[3]];
    let (r1, c1, n) = (a + b, a + c, a + b + c + d);
    let ln_p = |x: u64| {
        // hypergeometric: C(r1, x) C(n − r1, c1 − x) / C(n, c1)
        let lnc = |n: u64, k: u64| ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k);
        lnc(r1, x) + lnc(n - r1, c1 - x) - lnc(n, c1)
    };
    let lo = c1.saturating_sub(n - r1);
    let hi = r1.min(c1);
    let observed = ln_p(a);
    let p_value: f64 = (lo..=hi)
        .map(ln_p)
        .filter(|&lp| lp <= observed + 1e-7)
        .map(f64::exp)
        .sum::<f64>()
        .min(1.0);
    Ok(Fisher {
        p_value,
        odds_ratio: (a as f64 * d as f64) / (b as f64 * c as f64),
    })
}

#[cfg(test)]
mod tests;
