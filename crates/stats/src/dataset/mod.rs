//! The variables of an analysis dataset, declared: what a site computes for each patient of
//! a cohort, relative to the patient's index stay. No free SQL: every variable is one of the
//! kinds below, which the engine compiles against the site's own tables.
//!
//! JSON (one object per variable; fields a kind does not use are refused):
//!
//! | kind | fields | value |
//! |---|---|---|
//! | `age_at_index` | | years at the index stay's start (numeric) |
//! | `age_band` | `breaks` (ascending years) | `<18`, `18-39`, …, `80+` (factor) |
//! | `sex` | `levels` (default `female`, `male`) | administrative gender (factor; others missing) |
//! | `country` | `levels` (required) | the patient's address country (factor) |
//! | `site` | `levels` (optional) | the site's name (factor) |
//! | `condition` | `codes` (ICD-10 `J09-J22` or `E11`), `days_before`, `days_after` | 1 if coded in the window around the index start, else 0 |
//! | `lab` | `codes` (`system\|code`, LOINC or JLAC10), `pick` (`first`, `last`, `min`, `max`), `unit` (UCUM), `days_before`, `days_after` | the value in the window, in `unit` |
//! | `icu_stay` | | 1 if the index stay or a stay within it is an ICU stay, else 0 |
//! | `length_of_stay` | | days from the index stay's start to its end |
//! | `in_hospital_death` | | 1 if the patient died during the index stay, else 0 |
//! | `log` | `of` (an earlier numeric variable) | its natural log (missing unless > 0) |
//!
//! The index stay is the patient's first encounter of one of `index.classes` (default `IMP`)
//! with a diagnosis in `index.diagnosis` (any stay if empty).

mod codes;
mod parse;

pub use codes::{CodePattern, normalize_icd};

use crate::design::Levels;
use serde::{Deserialize, Serialize};

/// A problem in a dataset's variables, naming the field (`variables[2].breaks`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    /// The field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError {
        field: field.into(),
        message: message.into(),
    }
}

/// Which value of a lab in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    /// The earliest.
    First,
    /// The latest.
    Last,
    /// The smallest.
    Min,
    /// The largest.
    Max,
}

/// A window around the index stay's start, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Days before the start that count (`None`: any time before).
    pub days_before: Option<u32>,
    /// Days after the start that count (`None`: until the stay's end).
    pub days_after: Option<u32>,
}

/// What a variable is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Age in years at the index start.
    AgeAtIndex,
    /// Age band with these lower bounds (ascending).
    AgeBand(Vec<u32>),
    /// Administrative gender.
    Sex,
    /// The patient's address country.
    Country,
    /// The site.
    Site,
    /// A diagnosis coded in the window.
    Condition {
        /// ICD-10 patterns, as written and read.
        codes: Vec<(String, CodePattern)>,
        /// The window.
        window: Window,
    },
    /// A lab value in the window.
    Lab {
        /// `system|code` pairs.
        codes: Vec<(String, String)>,
        /// Which value.
        pick: Pick,
        /// The UCUM unit values are converted to.
        unit: String,
        /// The window.
        window: Window,
    },
    /// ICU during the index stay.
    IcuStay,
    /// Days of the index stay.
    LengthOfStay,
    /// Death during the index stay.
    InHospitalDeath,
    /// The log of an earlier numeric variable.
    Log(String),
}

impl Kind {
    /// Whether the variable is a factor (else numeric).
    pub fn is_factor(&self) -> bool {
        matches!(
            self,
            Kind::AgeBand(_) | Kind::Sex | Kind::Country | Kind::Site
        )
    }
}

/// One declared variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// Its name in formulas and exported columns.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// A factor's levels, reference first (`None`: seen at the site, sorted).
    pub levels: Option<Vec<String>>,
}

/// How the index stay is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexStay {
    /// Encounter classes (v3 ActCode: `IMP`, `EMER`, `AMB`); default `IMP`.
    #[serde(default = "default_classes")]
    pub classes: Vec<String>,
    /// ICD-10 patterns one of whose codes the stay must carry (linked to it, or with onset
    /// within it); empty: any stay of the classes.
    #[serde(default)]
    pub diagnosis: Vec<String>,
}

impl Default for IndexStay {
    /// The first inpatient stay.
    fn default() -> IndexStay {
        IndexStay {
            classes: default_classes(),
            diagnosis: Vec::new(),
        }
    }
}

fn default_classes() -> Vec<String> {
    vec!["IMP".into()]
}

/// A variable as written in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableWire {
    /// The name.
    pub name: String,
    /// The kind (`age_band`, `lab`, ...).
    pub kind: String,
    /// Factor levels, reference first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<String>>,
    /// Age band lower bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaks: Option<Vec<u32>>,
    /// Codes (ICD-10 patterns for a condition, `system|code` for a lab).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codes: Option<Vec<String>>,
    /// Window: days before the index start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_before: Option<u32>,
    /// Window: days after the index start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_after: Option<u32>,
    /// Which lab value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pick: Option<Pick>,
    /// A lab's UCUM unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The variable a `log` is taken of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
}

/// The index stay and variables of a dataset, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSpec {
    /// The index stay.
    pub index: IndexStay,
    /// Its ICD-10 patterns, read.
    pub index_patterns: Vec<CodePattern>,
    /// The variables, in order.
    pub variables: Vec<Variable>,
    /// The variables as written (kept for the wire).
    pub wire: Vec<VariableWire>,
}

/// The most variables one dataset may declare.
pub const MAX_VARIABLES: usize = 200;

impl DatasetSpec {
    /// Checks the index and the variables; errors name the field (`variables[1].breaks`).
    pub fn new(index: IndexStay, wire: Vec<VariableWire>) -> Result<DatasetSpec, SpecError> {
        if index.classes.is_empty() {
            return Err(err(
                "index.classes",
                "name at least one encounter class (IMP)",
            ));
        }
        let index_patterns = index
            .diagnosis
            .iter()
            .enumerate()
            .map(|(i, p)| {
                CodePattern::parse(p)
                    .map_err(|m| err(format!("index.diagnosis[{i}]"), m.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if wire.is_empty() {
            return Err(err("variables", "declare at least one variable"));
        }
        if wire.len() > MAX_VARIABLES {
            return Err(err(
                "variables",
                format!("{} variables; at most {MAX_VARIABLES}", wire.len()),
            ));
        }
        let mut variables: Vec<Variable> = Vec::new();
        for (i, w) in wire.iter().enumerate() {
            let v = parse::variable(i, w, &variables)?;
            variables.push(v);
        }
        Ok(DatasetSpec {
            index,
            index_patterns,
            variables,
            wire,
        })
    }

    /// A variable by name.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }

    /// The declared levels of the factors that have them (a model codes every site alike),
    /// and `0`, `1` for the indicators (so every site's table has both).
    pub fn levels(&self) -> Levels {
        self.variables
            .iter()
            .filter_map(|v| {
                let indicator = matches!(
                    v.kind,
                    Kind::Condition { .. } | Kind::IcuStay | Kind::InHospitalDeath
                );
                let l = if indicator {
                    Some(vec!["0".to_owned(), "1".to_owned()])
                } else {
                    v.levels.clone()
                };
                l.map(|l| (v.name.clone(), l))
            })
            .collect()
    }
}

/// The labels of age bands with these lower bounds: `<18`, `18-39`, …, `80+`.
pub fn age_band_labels(breaks: &[u32]) -> Vec<String> {
    let mut out = Vec::with_capacity(breaks.len() + 1);
    if let Some(first) = breaks.first() {
        out.push(format!("<{first}"));
    }
    for w in breaks.windows(2) {
        out.push(format!("{}-{}", w[0], w[1] - 1));
    }
    if let Some(last) = breaks.last() {
        out.push(format!("{last}+"));
    }
    out
}

/// The band label of an age in whole years.
pub fn age_band_of(breaks: &[u32], age: f64) -> Option<String> {
    if !age.is_finite() || age < 0.0 {
        return None;
    }
    let labels = age_band_labels(breaks);
    let k = breaks.iter().take_while(|&&b| age >= f64::from(b)).count();
    labels.get(k).cloned()
}

#[cfg(test)]
mod tests;
