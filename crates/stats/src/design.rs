//! Model matrices: a formula over a frame → X, y and the offset, complete cases only.
//!
//! Factors are coded by treatment contrasts: one indicator column per level but the first
//! (the reference). The levels of each factor are given (a federated model must code every
//! site alike: the dataset declares them, reference first) or, for a factor without given
//! levels, the levels seen in the rows used, sorted. An interaction's columns are the
//! products of its variables' columns, the first variable varying fastest (as R writes
//! them). Column names: `(Intercept)`, `age`, `sex[male]`, `age_band[40-59]:sex[male]`.

use crate::formula::Formula;
use crate::frame::{Column, Frame, FrameError};
use nalgebra::{DMatrix, DVector};
use std::collections::{BTreeMap, BTreeSet};

/// The levels of each factor, reference level first.
pub type Levels = BTreeMap<String, Vec<String>>;

/// The name of the intercept column.
pub const INTERCEPT: &str = "(Intercept)";

/// Why a model matrix cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DesignError {
    /// A variable the dataset does not have.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A factor with fewer than two levels: it cannot be contrasted.
    #[error(
        "factor {variable} has only one level ({level:?}) in the rows used; drop it from the formula"
    )]
    OneLevel {
        /// The factor.
        variable: String,
        /// Its one level (empty if none).
        level: String,
    },
    /// A value outside the factor's declared levels.
    #[error("factor {variable}: value {value:?} is not one of its declared levels ({levels})")]
    UnknownLevel {
        /// The factor.
        variable: String,
        /// The value.
        value: String,
        /// The declared levels, comma-separated.
        levels: String,
    },
    /// The response or the offset is categorical.
    #[error("{role} {variable} must be numeric, it is categorical")]
    NotNumeric {
        /// `response` or `offset`.
        role: &'static str,
        /// The variable.
        variable: String,
    },
    /// Declared levels with a level twice.
    #[error("factor {variable}: level {level:?} is declared twice")]
    DuplicateLevel {
        /// The factor.
        variable: String,
        /// The level.
        level: String,
    },
}

/// A model matrix with its response and offset.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// The column names, in the order of the columns of `x`.
    pub columns: Vec<String>,
    /// The model matrix, one row per complete case.
    pub x: DMatrix<f64>,
    /// The response variable's name.
    pub response: String,
    /// The response.
    pub y: DVector<f64>,
    /// The offset (zero if the formula has none).
    pub offset: DVector<f64>,
    /// Rows dropped because a variable of the model was missing.
    pub missing: usize,
    /// The levels used for each factor, reference first.
    pub levels: Levels,
}

impl Design {
    /// Builds the model matrix of `formula` over `frame`; `given` fixes the levels of the
    /// factors it names.
    pub fn build(frame: &Frame, formula: &Formula, given: &Levels) -> Result<Design, DesignError> {
        // every variable must exist before anything else is said
        let mut vars: Vec<(&str, &Column)> = Vec::new();
        for v in formula.variables() {
            vars.push((v, frame.get(v)?));
        }
        let n_all = frame.rows();
        let complete: Vec<usize> = (0..n_all)
            .filter(|&i| vars.iter().all(|(_, c)| !c.is_missing(i)))
            .collect();
        let numeric = |role: &'static str, name: &str| -> Result<Vec<f64>, DesignError> {
            match frame.get(name)? {
                Column::Numeric(v) => {
                    Ok(complete.iter().map(|&i| v[i].unwrap_or(f64::NAN)).collect())
                }
                Column::Factor(_) => Err(DesignError::NotNumeric {
                    role,
                    variable: name.into(),
                }),
            }
        };
        let y = numeric("response", &formula.response)?;
        let offset = match &formula.offset {
            Some(o) => numeric("offset", o)?,
            None => vec![0.0; complete.len()],
        };

        // levels of the factors the terms use
        let mut levels = Levels::new();
        for v in formula.terms.iter().flatten() {
            let Column::Factor(values) = frame.get(v)? else {
                continue;
            };
            if levels.contains_key(v) {
                continue;
            }
            let lv = match given.get(v) {
                Some(lv) => {
                    let mut seen = BTreeSet::new();
                    for l in lv {
                        if !seen.insert(l) {
                            return Err(DesignError::DuplicateLevel {
                                variable: v.clone(),
                                level: l.clone(),
                            });
                        }
                    }
                    for &i in &complete {
                        let value = values[i].as_deref().unwrap_or_default();
                        if !seen.contains(&value.to_owned()) {
                            return Err(DesignError::UnknownLevel {
                                variable: v.clone(),
                                value: value.into(),
                                levels: lv.join(", "),
                            });
                        }
                    }
                    lv.clone()
                }
                None => complete
                    .iter()
                    .filter_map(|&i| values[i].clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            };
            if lv.len() < 2 {
                return Err(DesignError::OneLevel {
                    variable: v.clone(),
                    level: lv.first().cloned().unwrap_or_default(),
                });
            }
            levels.insert(v.clone(), lv);
        }

        // columns: (name, values over the complete cases)
        let n = complete.len();
        let mut cols: Vec<(String, Vec<f64>)> = Vec::new();
        if formula.intercept {
            cols.push((INTERCEPT.into(), vec![1.0; n]));
        }
        for term in &formula.terms {
            let mut acc: Vec<(String, Vec<f64>)> = vec![(String::new(), vec![1.0; n])];
            for v in term {
                let parts: Vec<(String, Vec<f64>)> = match frame.get(v)? {
                    Column::Numeric(x) => {
                        vec![(
                            v.clone(),
                            complete.iter().map(|&i| x[i].unwrap_or(f64::NAN)).collect(),
                        )]
                    }
                    Column::Factor(x) => levels[v][1..]
                        .iter()
                        .map(|l| {
                            let ind = complete
                                .iter()
                                .map(|&i| f64::from(u8::from(x[i].as_deref() == Some(l.as_str()))))
                                .collect();
                            (format!("{v}[{l}]"), ind)
                        })
                        .collect(),
                };
                // the earlier variables vary fastest
                let mut next = Vec::with_capacity(acc.len() * parts.len());
                for (pname, pv) in &parts {
                    for (aname, av) in &acc {
                        let name = if aname.is_empty() {
                            pname.clone()
                        } else {
                            format!("{aname}:{pname}")
                        };
                        next.push((name, av.iter().zip(pv).map(|(a, b)| a * b).collect()));
                    }
                }
                acc = next;
            }
            cols.extend(acc);
        }
        let p = cols.len();
        let x = DMatrix::from_fn(n, p, |i, j| cols[j].1[i]);
        Ok(Design {
            columns: cols.into_iter().map(|c| c.0).collect(),
            x,
            response: formula.response.clone(),
            y: DVector::from_vec(y),
            offset: DVector::from_vec(offset),
            missing: n_all - n,
            levels,
        })
    }

    /// The number of complete cases.
    pub fn rows(&self) -> usize {
        self.x.nrows()
    }

    /// The number of coefficients.
    pub fn parameters(&self) -> usize {
        self.x.ncols()
    }

    /// The number of distinct covariate patterns (distinct rows of X).
    pub fn patterns(&self) -> usize {
        let mut seen: BTreeSet<Vec<u64>> = BTreeSet::new();
        for r in self.x.row_iter() {
            seen.insert(r.iter().map(|v| v.to_bits()).collect());
        }
        seen.len()
    }

    /// The numerical rank of X (singular values above 1e-6 of the largest).
    pub fn rank(&self) -> usize {
        if self.x.nrows() == 0 || self.x.ncols() == 0 {
            return 0;
        }
        let xtx = self.x.transpose() * &self.x;
        let ev = xtx.symmetric_eigenvalues();
        let max = ev.iter().cloned().fold(0.0_f64, f64::max);
        ev.iter().filter(|&&e| e > max * 1e-12 && e > 0.0).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        let f = |v: &[&str]| {
            Column::Factor(
                v.iter()
                    .map(|s| (!s.is_empty()).then(|| s.to_string()))
                    .collect(),
            )
        };
        Frame::new()
            .with(
                "y",
                Column::Numeric(vec![Some(1.0), Some(0.0), Some(1.0), None, Some(0.0)]),
            )
            .unwrap()
            .with("sex", f(&["m", "f", "m", "f", "f"]))
            .unwrap()
            .with("band", f(&["a", "b", "c", "a", ""]))
            .unwrap()
            .with(
                "age",
                Column::Numeric(vec![
                    Some(30.0),
                    Some(40.0),
                    Some(50.0),
                    Some(60.0),
                    Some(70.0),
                ]),
            )
            .unwrap()
    }

    #[test]
    fn treatment_contrasts_complete_cases() {
        let d = Design::build(
            &frame(),
            &Formula::parse("y ~ sex + band + age:sex").unwrap(),
            &Levels::new(),
        )
        .unwrap();
        assert_eq!(
            d.columns,
            ["(Intercept)", "sex[m]", "band[b]", "band[c]", "age:sex[m]"]
        );
        assert_eq!(d.rows(), 3);
        assert_eq!(d.missing, 2);
        assert_eq!(
            d.x.row(0).iter().copied().collect::<Vec<_>>(),
            [1.0, 1.0, 0.0, 0.0, 30.0]
        );
        assert_eq!(
            d.x.row(2).iter().copied().collect::<Vec<_>>(),
            [1.0, 1.0, 0.0, 1.0, 50.0]
        );
        assert_eq!(d.levels["band"], ["a", "b", "c"]);
    }

    #[test]
    fn declared_reference_and_interaction_order() {
        let mut given = Levels::new();
        given.insert("sex".into(), vec!["m".into(), "f".into()]);
        let d = Design::build(&frame(), &Formula::parse("y ~ sex:band").unwrap(), &given).unwrap();
        assert_eq!(
            d.columns,
            ["(Intercept)", "sex[f]:band[b]", "sex[f]:band[c]"]
        );
    }

    #[test]
    fn bad_input_is_named() {
        let e = Design::build(
            &frame(),
            &Formula::parse("y ~ weight").unwrap(),
            &Levels::new(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown variable \"weight\" (the dataset has: y, sex, band, age)"
        );
        let e = Design::build(
            &frame(),
            &Formula::parse("sex ~ age").unwrap(),
            &Levels::new(),
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                DesignError::NotNumeric {
                    role: "response",
                    ..
                }
            ),
            "{e}"
        );
        let one = frame()
            .with("unit", Column::Factor(vec![Some("icu".into()); 5]))
            .unwrap();
        let e =
            Design::build(&one, &Formula::parse("y ~ unit").unwrap(), &Levels::new()).unwrap_err();
        assert_eq!(
            e,
            DesignError::OneLevel {
                variable: "unit".into(),
                level: "icu".into()
            }
        );
        let mut given = Levels::new();
        given.insert("sex".into(), vec!["m".into(), "x".into()]);
        let e = Design::build(&frame(), &Formula::parse("y ~ sex").unwrap(), &given).unwrap_err();
        assert!(
            matches!(e, DesignError::UnknownLevel { ref value, .. } if value == "f"),
            "{e}"
        );
    }

    #[test]
    fn patterns_and_rank() {
        let d = Design::build(
            &frame(),
            &Formula::parse("y ~ sex + band").unwrap(),
            &Levels::new(),
        )
        .unwrap();
        assert_eq!(d.patterns(), 3);
        assert_eq!(d.rank(), 3);
    }
}
