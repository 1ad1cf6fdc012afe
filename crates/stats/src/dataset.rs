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

use crate::design::Levels;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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

/// An ICD-10 code pattern: a range of three-character categories (`J09-J22`) or a code
/// prefix (`U07.1`, `E11`); codes compare without dots, in upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodePattern {
    /// Categories from the first to the second, inclusive.
    Range(String, String),
    /// Codes starting with this.
    Prefix(String),
}

/// An ICD-10 code without dots and marks, upper case.
pub fn normalize_icd(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '.' | '!' | '*' | '+' | '†' | ' '))
        .flat_map(char::to_uppercase)
        .collect()
}

impl CodePattern {
    /// Reads `J09-J22` or `E11.9`.
    pub fn parse(text: &str) -> Result<CodePattern, String> {
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric())
        };
        match text.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (normalize_icd(lo), normalize_icd(hi));
                if lo.len() != 3 || hi.len() != 3 || !ok(&lo) || !ok(&hi) || lo > hi {
                    return Err(format!(
                        "{text:?} is not a range of three-character ICD-10 categories (J09-J22)"
                    ));
                }
                Ok(CodePattern::Range(lo, hi))
            }
            None => {
                let p = normalize_icd(text);
                if !ok(&p) {
                    return Err(format!(
                        "{text:?} is not an ICD-10 code or prefix (E11, U07.1)"
                    ));
                }
                Ok(CodePattern::Prefix(p))
            }
        }
    }

    /// Whether a normalised code matches.
    pub fn matches(&self, normalized: &str) -> bool {
        match self {
            CodePattern::Range(lo, hi) => normalized
                .get(..3)
                .is_some_and(|c| c >= lo.as_str() && c <= hi.as_str()),
            CodePattern::Prefix(p) => normalized.starts_with(p.as_str()),
        }
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
                CodePattern::parse(p).map_err(|m| err(format!("index.diagnosis[{i}]"), m))
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
            let v = variable(i, w, &variables)?;
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

fn variable(i: usize, w: &VariableWire, before: &[Variable]) -> Result<Variable, SpecError> {
    let at = |f: &str| format!("variables[{i}].{f}");
    let name_ok = w
        .name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && w.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'));
    if !name_ok || w.name == "offset" {
        return Err(err(
            at("name"),
            format!(
                "{:?} is not a variable name (letters, digits, _ and ., not starting with a digit)",
                w.name
            ),
        ));
    }
    if before.iter().any(|v| v.name == w.name) {
        return Err(err(at("name"), format!("{} is declared twice", w.name)));
    }
    let allowed: &[&str] = match w.kind.as_str() {
        "age_band" => &["breaks"],
        "sex" | "country" | "site" => &["levels"],
        "condition" => &["codes", "days_before", "days_after"],
        "lab" => &["codes", "pick", "unit", "days_before", "days_after"],
        "log" => &["of"],
        _ => &[],
    };
    let given = [
        ("levels", w.levels.is_some()),
        ("breaks", w.breaks.is_some()),
        ("codes", w.codes.is_some()),
        ("days_before", w.days_before.is_some()),
        ("days_after", w.days_after.is_some()),
        ("pick", w.pick.is_some()),
        ("unit", w.unit.is_some()),
        ("of", w.of.is_some()),
    ];
    if let Some((f, _)) = given.iter().find(|(f, g)| *g && !allowed.contains(f)) {
        return Err(err(
            at(f),
            format!("not used by a variable of kind {}", w.kind),
        ));
    }
    let window = Window {
        days_before: w.days_before,
        days_after: w.days_after,
    };
    let codes = |what: &str| -> Result<&Vec<String>, SpecError> {
        match &w.codes {
            Some(c) if !c.is_empty() && c.len() <= 1_000 => Ok(c),
            Some(c) if !c.is_empty() => {
                Err(err(at("codes"), format!("{} codes; at most 1000", c.len())))
            }
            _ => Err(err(at("codes"), format!("list at least one {what}"))),
        }
    };
    let kind = match w.kind.as_str() {
        "age_at_index" => Kind::AgeAtIndex,
        "age_band" => {
            let b = w.breaks.clone().unwrap_or_default();
            if b.is_empty() || b.windows(2).any(|p| p[0] >= p[1]) || b[0] == 0 {
                return Err(err(
                    at("breaks"),
                    "give ascending lower bounds in years, above 0 (18, 40, 60, 80)",
                ));
            }
            Kind::AgeBand(b)
        }
        "sex" => Kind::Sex,
        "country" => {
            if w.levels.as_ref().is_none_or(|l| l.len() < 2) {
                return Err(err(
                    at("levels"),
                    "declare the countries (DE, JP), the reference first",
                ));
            }
            Kind::Country
        }
        "site" => Kind::Site,
        "condition" => Kind::Condition {
            codes: codes("ICD-10 code or range")?
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    CodePattern::parse(c)
                        .map(|p| (c.clone(), p))
                        .map_err(|m| err(format!("variables[{i}].codes[{k}]"), m))
                })
                .collect::<Result<_, _>>()?,
            window,
        },
        "lab" => Kind::Lab {
            codes: codes("system|code")?
                .iter()
                .enumerate()
                .map(|(k, c)| match c.split_once('|') {
                    Some((s, v)) if !s.is_empty() && !v.is_empty() => {
                        Ok((s.to_owned(), v.to_owned()))
                    }
                    _ => Err(err(
                        format!("variables[{i}].codes[{k}]"),
                        format!("{c:?} is not system|code (http://loinc.org|1988-5)"),
                    )),
                })
                .collect::<Result<_, _>>()?,
            pick: w
                .pick
                .ok_or_else(|| err(at("pick"), "say which value: first, last, min or max"))?,
            unit: match &w.unit {
                Some(u) if !u.is_empty() => u.clone(),
                _ => {
                    return Err(err(
                        at("unit"),
                        "give the UCUM unit values are converted to (mg/L)",
                    ));
                }
            },
            window,
        },
        "icu_stay" => Kind::IcuStay,
        "length_of_stay" => Kind::LengthOfStay,
        "in_hospital_death" => Kind::InHospitalDeath,
        "log" => {
            let of = w.of.clone().unwrap_or_default();
            match before.iter().find(|v| v.name == of) {
                Some(v) if !v.kind.is_factor() => Kind::Log(of),
                Some(_) => return Err(err(at("of"), format!("{of} is categorical"))),
                None => {
                    return Err(err(
                        at("of"),
                        format!("{of:?} is not a variable declared before this one"),
                    ));
                }
            }
        }
        other => {
            return Err(err(
                at("kind"),
                format!(
                    "unknown kind {other:?} (age_at_index, age_band, sex, country, site, condition, lab, icu_stay, length_of_stay, in_hospital_death, log)"
                ),
            ));
        }
    };
    let levels = match (&kind, &w.levels) {
        (Kind::AgeBand(b), _) => Some(age_band_labels(b)),
        (Kind::Sex, None) => Some(vec!["female".into(), "male".into()]),
        (_, Some(l)) => {
            let mut seen = BTreeSet::new();
            if let Some(d) = l.iter().find(|x| !seen.insert(x.as_str())) {
                return Err(err(at("levels"), format!("{d:?} is listed twice")));
            }
            if l.len() < 2 {
                return Err(err(at("levels"), "a factor needs at least two levels"));
            }
            Some(l.clone())
        }
        (_, None) => None,
    };
    Ok(Variable {
        name: w.name.clone(),
        kind,
        levels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(json: &str) -> Vec<VariableWire> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn reads_the_sari_variables() {
        let s = DatasetSpec::new(
            IndexStay {
                classes: vec!["IMP".into()],
                diagnosis: vec!["J09-J22".into()],
            },
            wire(
                r#"[{"name": "died", "kind": "in_hospital_death"},
                    {"name": "age_band", "kind": "age_band", "breaks": [18, 40, 60, 80]},
                    {"name": "sex", "kind": "sex"},
                    {"name": "country", "kind": "country", "levels": ["DE", "JP"]},
                    {"name": "crp", "kind": "lab", "codes": ["http://loinc.org|1988-5"], "pick": "max", "unit": "mg/L", "days_after": 2},
                    {"name": "log_crp", "kind": "log", "of": "crp"}]"#,
            ),
        )
        .unwrap();
        let l = s.levels();
        assert_eq!(l["age_band"], ["<18", "18-39", "40-59", "60-79", "80+"]);
        assert_eq!(l["sex"], ["female", "male"]);
        assert_eq!(l["country"], ["DE", "JP"]);
        assert!(s.index_patterns[0].matches("J18"));
        assert!(!s.index_patterns[0].matches("J23"));
        assert_eq!(
            age_band_of(&[18, 40, 60, 80], 39.99).as_deref(),
            Some("18-39")
        );
        assert_eq!(age_band_of(&[18, 40, 60, 80], 80.0).as_deref(), Some("80+"));
        assert_eq!(age_band_of(&[18, 40, 60, 80], 3.0).as_deref(), Some("<18"));
    }

    #[test]
    fn errors_name_the_field() {
        let e = |json: &str| {
            DatasetSpec::new(IndexStay::default(), wire(json))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e(r#"[{"name": "x", "kind": "sex", "breaks": [1]}]"#),
            "variables[0].breaks: not used by a variable of kind sex"
        );
        assert!(
            e(r#"[{"name": "x", "kind": "age_band", "breaks": [40, 18]}]"#)
                .starts_with("variables[0].breaks: give ascending")
        );
        assert!(
            e(r#"[{"name": "x", "kind": "country"}]"#)
                .starts_with("variables[0].levels: declare the countries")
        );
        assert!(
            e(r#"[{"name": "x", "kind": "condition", "codes": ["J9-J22"]}]"#)
                .starts_with("variables[0].codes[0]:")
        );
        assert!(e(r#"[{"name": "x", "kind": "lab", "codes": ["1988-5"], "pick": "max", "unit": "mg/L"}]"#).starts_with("variables[0].codes[0]: \"1988-5\" is not system|code"));
        assert!(
            e(r#"[{"name": "x", "kind": "lab", "codes": ["a|b"], "unit": "mg/L"}]"#)
                .starts_with("variables[0].pick:")
        );
        assert!(e(r#"[{"name": "x", "kind": "log", "of": "y"}]"#).starts_with("variables[0].of:"));
        assert!(
            e(r#"[{"name": "x", "kind": "weight"}]"#)
                .starts_with("variables[0].kind: unknown kind \"weight\"")
        );
        assert!(
            e(r#"[{"name": "x", "kind": "sex"}, {"name": "x", "kind": "site"}]"#)
                .contains("declared twice")
        );
        assert!(e(r#"[{"name": "2x", "kind": "sex"}]"#).starts_with("variables[0].name:"));
        assert!(e("[]").starts_with("variables: declare"));
    }
}
