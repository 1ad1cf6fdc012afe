//! Differencing between analyses: two answers over row sets that differ by a few patients
//! describe those patients (a summary's mean with and without one patient gives their value;
//! a GLM round's XᵀWz likewise). A site keeps the row sets it has released statistics over
//! (as fingerprints of the patients, [`RowSet`]) and refuses an analysis whose rows differ from
//! an earlier one's by between 1 and `m − 1` patients (the rule `differencing`). Identical row
//! sets (the rounds of one GLM, or several analyses of one dataset) pass.

use super::{Analysis, Rule, survival_formula};
use crate::formula::Formula;
use crate::frame::{Frame, FrameError};

/// The patients of an analysis's rows: sorted, distinct fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowSet(Vec<u64>);

impl RowSet {
    /// The set of the given fingerprints.
    pub fn new(mut ids: Vec<u64>) -> RowSet {
        ids.sort_unstable();
        ids.dedup();
        RowSet(ids)
    }

    /// The fingerprints, sorted.
    pub fn ids(&self) -> &[u64] {
        &self.0
    }

    /// Patients in exactly one of the two sets.
    pub fn difference(&self, other: &RowSet) -> u64 {
        let (a, b) = (&self.0, &other.0);
        let (mut i, mut j, mut same) = (0, 0, 0u64);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    same += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        (a.len() + b.len()) as u64 - 2 * same
    }
}

/// The dataset variables an analysis reads.
pub fn variables(analysis: &Analysis) -> Vec<String> {
    let of = |f: &str| {
        Formula::parse(f)
            .map(|f| f.variables().into_iter().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    match analysis {
        Analysis::Summary { variable, by } => {
            let mut v = vec![variable.clone()];
            v.extend(by.clone());
            v
        }
        Analysis::Table { variables } => variables.clone(),
        Analysis::GlmRound { formula, .. } | Analysis::SiteFit { formula, .. } => of(formula),
        Analysis::LifeTable { time, event, .. } => vec![time.clone(), event.clone()],
        Analysis::CoxRound {
            time,
            event,
            covariates,
            ..
        } => of(&survival_formula(time, event, covariates)),
    }
}

/// The rows an analysis uses: those with none of its variables missing.
pub fn rows_used(frame: &Frame, analysis: &Analysis) -> Result<Vec<usize>, FrameError> {
    let names = variables(analysis);
    let mut columns = Vec::with_capacity(names.len());
    for n in &names {
        columns.push(frame.get(n)?);
    }
    Ok((0..frame.rows())
        .filter(|&i| columns.iter().all(|c| !c.is_missing(i)))
        .collect())
}

/// Refuses `current` if it differs from any `earlier` set by 1 to `min − 1` patients.
pub fn check_differencing<'a>(
    earlier: impl IntoIterator<Item = &'a RowSet>,
    current: &RowSet,
    min: u64,
) -> Result<(), Rule> {
    for e in earlier {
        let d = e.difference(current);
        if d > 0 && d < min {
            return Err(Rule {
                rule: "differencing",
                message: format!(
                    "differencing: the rows of this analysis differ from those of an analysis this site answered before by {d} patient{}, fewer than the site's minimum of {min}; the difference of the two answers would describe {}",
                    if d == 1 { "" } else { "s" },
                    if d == 1 { "that patient" } else { "them" }
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Column;

    #[test]
    fn sets_differing_by_fewer_than_the_minimum_are_refused() {
        let a = RowSet::new((0..100).collect());
        let mut without_one: Vec<u64> = (0..100).collect();
        without_one.retain(|&x| x != 42);
        let b = RowSet::new(without_one);
        assert_eq!(a.difference(&b), 1);
        let e = check_differencing([&a], &b, 3).unwrap_err();
        assert_eq!(e.rule, "differencing");
        assert!(e.message.contains("by 1 patient,"), "{}", e.message);
        // the same rows again, and rows differing by the minimum, pass
        assert_eq!(check_differencing([&a], &a.clone(), 3), Ok(()));
        let c = RowSet::new((3..100).collect());
        assert_eq!(check_differencing([&a], &c, 3), Ok(()));
        // swapping one patient for another is a difference of two
        let d = RowSet::new((1..101).collect());
        assert_eq!(a.difference(&d), 2);
        assert!(check_differencing([&c, &a], &d, 3).is_err());
    }

    #[test]
    fn an_analysis_uses_the_rows_where_its_variables_are_present() {
        let f = Frame::new()
            .with("y", Column::Numeric(vec![Some(1.0), None, Some(2.0)]))
            .and_then(|f| f.with("x", Column::Numeric(vec![Some(1.0), Some(1.0), None])))
            .unwrap();
        let s = Analysis::Summary {
            variable: "y".into(),
            by: None,
        };
        assert_eq!(rows_used(&f, &s).unwrap(), [0, 2]);
        let g = Analysis::SiteFit {
            formula: "y ~ x".into(),
            family: crate::Family::Gaussian,
        };
        assert_eq!(rows_used(&f, &g).unwrap(), [0]);
    }
}
