//! Case definitions as data: criteria over coded diagnoses, observations and encounters.
//!
//! Each definition is a TOML file under `crates/surveillance/data/definitions/` with its source.
//! A definition says which encounters count (their class, e.g. inpatient `IMP` for the
//! hospitalisation that SARI requires) and a list of criteria that must all hold; a criterion
//! holds when any of its evidence items is found for the encounter: a diagnosis whose ICD-10 code
//! falls in a listed range (`J09-J22`) or starts with a listed code (`U07.1`, `R50`), or an
//! observation with a listed code whose value reaches a bound (body temperature ≥ 38 °C).
//! Evidence belongs to an encounter when it references it (or an encounter that is part of it),
//! or, when it references none, when it is the patient's and dated inside the encounter's window.

use serde::{Deserialize, Serialize};

/// The shipped definitions: (file name, TOML text).
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "sari-who",
        include_str!("../data/definitions/sari-who.toml"),
    ),
    (
        "sari-icosari",
        include_str!("../data/definitions/sari-icosari.toml"),
    ),
    (
        "sari-icosari-covid",
        include_str!("../data/definitions/sari-icosari-covid.toml"),
    ),
    (
        "ari-ecdc",
        include_str!("../data/definitions/ari-ecdc.toml"),
    ),
    (
        "ili-ecdc",
        include_str!("../data/definitions/ili-ecdc.toml"),
    ),
    ("ili-who", include_str!("../data/definitions/ili-who.toml")),
    ("ari-jp", include_str!("../data/definitions/ari-jp.toml")),
];

/// A case definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseDefinition {
    /// Short name used on the command line (`sari-icosari`).
    pub name: String,
    /// One-line title.
    pub title: String,
    /// Bibliographic source of the definition, with the quoted wording.
    pub source: String,
    /// What one case is and which date places it in a week.
    pub counts: String,
    /// How the definition is read from coded data, and where that departs from the source.
    #[serde(default)]
    pub notes: String,
    /// Which encounters can be cases.
    pub encounter: EncounterRule,
    /// Criteria, all of which must hold.
    pub criteria: Vec<Criterion>,
}

/// Which encounters can be cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncounterRule {
    /// Allowed v3 ActCode classes (`IMP` inpatient, `AMB`, `EMER`); empty: any class.
    pub classes: Vec<String>,
}

/// One criterion: any of its evidence items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// What the criterion stands for.
    pub name: String,
    /// Evidence dated more than this many days before the encounter starts does not count
    /// (the onset window, e.g. 10 days for WHO SARI). `None`: no limit before.
    #[serde(default)]
    pub days_before_admission: Option<u32>,
    /// Evidence dated more than this many days after the encounter starts does not count.
    /// `None`: up to the encounter's end.
    #[serde(default)]
    pub days_after_admission: Option<u32>,
    /// Evidence items, any of which satisfies the criterion.
    pub any: Vec<Evidence>,
}

/// One kind of evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Evidence {
    /// A diagnosis with an ICD-10 code in one of the patterns.
    Diagnosis {
        /// Patterns: a range of three-character categories `J09-J22`, or a code prefix `U07.1`.
        diagnosis: Vec<String>,
        /// Whether the diagnosis must be the main diagnosis of the stay.
        #[serde(default)]
        position: Position,
    },
    /// An observation with one of the codes and a numeric value at or above a bound.
    Observation {
        /// Codes as `system|code`.
        observation: Vec<String>,
        /// Lower bound (inclusive) of the value.
        at_least: Option<f64>,
        /// UCUM unit of the bound (`Cel`); values in `[degF]` are converted.
        unit: Option<String>,
    },
}

/// Where in the stay's diagnoses a code must appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    /// Any diagnosis of the stay.
    #[default]
    Any,
    /// The main (principal) diagnosis.
    Main,
}

/// A definition that does not load.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DefinitionError {
    /// The TOML is malformed or has unknown fields.
    #[error("case definition {file}: {message}")]
    Toml {
        /// File or name.
        file: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A code pattern or bound is invalid.
    #[error("case definition {file}, criterion {criterion:?}: {message}")]
    Invalid {
        /// File or name.
        file: String,
        /// The criterion.
        criterion: String,
        /// What is wrong.
        message: String,
    },
    /// No definition of that name.
    #[error("no case definition named {name:?}; known: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The shipped names.
        known: String,
    },
}

impl CaseDefinition {
    /// Parses and checks a definition from TOML; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, DefinitionError> {
        let def: CaseDefinition = toml::from_str(text).map_err(|e| DefinitionError::Toml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let invalid = |c: &Criterion, m: String| DefinitionError::Invalid {
            file: file.to_string(),
            criterion: c.name.clone(),
            message: m,
        };
        if def.criteria.is_empty() {
            return Err(DefinitionError::Toml {
                file: file.to_string(),
                message: "no criteria".into(),
            });
        }
        for c in &def.criteria {
            if c.any.is_empty() {
                return Err(invalid(c, "no evidence items".into()));
            }
            for e in &c.any {
                match e {
                    Evidence::Diagnosis { diagnosis, .. } => {
                        if diagnosis.is_empty() {
                            return Err(invalid(c, "empty diagnosis list".into()));
                        }
                        for p in diagnosis {
                            CodePattern::parse(p).map_err(|m| invalid(c, m.to_string()))?;
                        }
                    }
                    Evidence::Observation {
                        observation,
                        at_least,
                        unit,
                    } => {
                        if observation.is_empty() {
                            return Err(invalid(c, "empty observation code list".into()));
                        }
                        for o in observation {
                            if o.split_once('|')
                                .is_none_or(|(s, c)| s.is_empty() || c.is_empty())
                            {
                                return Err(invalid(
                                    c,
                                    format!("observation code {o:?} is not system|code"),
                                ));
                            }
                        }
                        if at_least.is_some_and(|v| !v.is_finite()) {
                            return Err(invalid(c, "at_least must be a number".into()));
                        }
                        if let Some(u) = unit
                            && !matches!(u.as_str(), "Cel" | "[degF]")
                        {
                            return Err(invalid(
                                c,
                                format!("unit {u:?} is not supported (Cel or [degF])"),
                            ));
                        }
                    }
                }
            }
        }
        Ok(def)
    }

    /// A shipped definition by name.
    pub fn shipped(name: &str) -> Result<Self, DefinitionError> {
        match SHIPPED.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Self::from_toml(&format!("{n}.toml"), text),
            None => Err(DefinitionError::Unknown {
                name: name.to_string(),
                known: SHIPPED
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Every shipped definition.
    pub fn all_shipped() -> Result<Vec<Self>, DefinitionError> {
        SHIPPED.iter().map(|(n, _)| Self::shipped(n)).collect()
    }

    /// Whether any criterion asks for the main diagnosis (which the site tables cannot tell).
    pub fn needs_diagnosis_rank(&self) -> bool {
        self.criteria.iter().flat_map(|c| &c.any).any(|e| {
            matches!(
                e,
                Evidence::Diagnosis {
                    position: Position::Main,
                    ..
                }
            )
        })
    }

    /// Every diagnosis pattern the definition uses (for pushing a filter into the store scan).
    pub fn diagnosis_patterns(&self) -> Vec<CodePattern> {
        self.criteria
            .iter()
            .flat_map(|c| &c.any)
            .filter_map(|e| match e {
                Evidence::Diagnosis { diagnosis, .. } => Some(diagnosis),
                _ => None,
            })
            .flatten()
            .filter_map(|p| CodePattern::parse(p).ok())
            .collect()
    }

    /// Every observation code (`system|code`) the definition uses.
    pub fn observation_codes(&self) -> Vec<(String, String)> {
        self.criteria
            .iter()
            .flat_map(|c| &c.any)
            .filter_map(|e| match e {
                Evidence::Observation { observation, .. } => Some(observation),
                _ => None,
            })
            .flatten()
            .filter_map(|o| {
                o.split_once('|')
                    .map(|(s, c)| (s.to_string(), c.to_string()))
            })
            .collect()
    }
}

/// An ICD-10 code pattern: a range of three-character categories or a code prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodePattern {
    /// Categories from `lo` to `hi` inclusive (normalised, e.g. `J09`..`J22`).
    Range(String, String),
    /// Codes starting with this (normalised, e.g. `U071`).
    Prefix(String),
}

/// Text that is not an ICD-10 range or code prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodePatternError {
    /// `A-B` where A or B is not a three-character category, or A is after B.
    #[error("diagnosis range {text:?} is not of the form A00-B99 (low to high)")]
    Range {
        /// The text read.
        text: String,
    },
    /// Not an ICD-10 code or prefix.
    #[error("diagnosis code {text:?} is not an ICD-10 code or prefix such as J12 or U07.1")]
    Code {
        /// The text read.
        text: String,
    },
}

impl CodePattern {
    /// Parses `J09-J22` or `U07.1`.
    pub fn parse(p: &str) -> Result<Self, CodePatternError> {
        let cat = |s: &str| {
            let n = normalize_icd(s);
            let b = n.as_bytes();
            (n.len() == 3
                && b[0].is_ascii_uppercase()
                && b[1].is_ascii_digit()
                && b[2].is_ascii_digit())
            .then_some(n)
        };
        if let Some((a, b)) = p.split_once('-') {
            match (cat(a), cat(b)) {
                (Some(a), Some(b)) if a <= b => Ok(CodePattern::Range(a, b)),
                _ => Err(CodePatternError::Range { text: p.to_owned() }),
            }
        } else {
            let n = normalize_icd(p);
            let b = n.as_bytes();
            if n.len() >= 3
                && b[0].is_ascii_uppercase()
                && b[1].is_ascii_digit()
                && b[2].is_ascii_digit()
            {
                Ok(CodePattern::Prefix(n))
            } else {
                Err(CodePatternError::Code { text: p.to_owned() })
            }
        }
    }

    /// Whether a normalised code matches.
    pub fn matches(&self, normalized: &str) -> bool {
        match self {
            CodePattern::Range(lo, hi) => {
                // `get`, not indexing: a site's code may hold a multi-byte character within
                // its first three bytes, which is no ICD-10 code and matches nothing
                normalized
                    .get(..3)
                    .is_some_and(|c| c >= lo.as_str() && c <= hi.as_str())
            }
            CodePattern::Prefix(p) => normalized.starts_with(p.as_str()),
        }
    }

    /// The shortest code prefix every match starts with, for a coarse scan filter (`J`, `U071`).
    pub fn scan_prefix(&self) -> String {
        match self {
            CodePattern::Range(lo, hi) => lo
                .chars()
                .zip(hi.chars())
                .take_while(|(a, b)| a == b)
                .map(|p| p.0)
                .collect(),
            CodePattern::Prefix(p) => p.clone(),
        }
    }
}

/// Normalises an ICD-10 code for matching: upper case, without the dot and without the
/// ICD-10-GM marks `!` (secondary code), `*` (manifestation), `+` (aetiology) and `†`.
pub fn normalize_icd(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '.' | '!' | '*' | '+' | '†' | ' '))
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_with_a_multi_byte_character_matches_nothing_and_does_not_panic() {
        let range = CodePattern::parse("J09-J22").unwrap();
        assert!(range.matches("J10"));
        for code in ["Jé1", "J1é", "日本語", "J\u{200b}9", "é", ""] {
            assert!(!range.matches(code), "{code:?}");
        }
        assert!(!CodePattern::parse("U07.1").unwrap().matches("U0é"));
    }

    #[test]
    fn every_shipped_definition_loads_and_names_its_source() {
        let all = CaseDefinition::all_shipped().unwrap();
        assert_eq!(all.len(), SHIPPED.len());
        for (d, (n, _)) in all.iter().zip(SHIPPED) {
            assert_eq!(&d.name, n, "file name and name field agree");
            assert!(d.source.len() > 40, "{} has a real source", d.name);
        }
        let sari = CaseDefinition::shipped("sari-who").unwrap();
        assert_eq!(sari.encounter.classes, vec!["IMP"]);
        assert_eq!(sari.criteria[0].days_before_admission, Some(10));
        assert!(
            CaseDefinition::shipped("sari-icosari")
                .unwrap()
                .needs_diagnosis_rank()
        );
        assert!(
            !CaseDefinition::shipped("ili-who")
                .unwrap()
                .needs_diagnosis_rank()
        );
    }

    #[test]
    fn icd_patterns() {
        let r = CodePattern::parse("J09-J22").unwrap();
        for c in ["J09.0", "J10.1", "J12.8", "J18.9", "J22", "j21.0"] {
            assert!(r.matches(&normalize_icd(c)), "{c}");
        }
        for c in ["J06.9", "J23", "J44.0", "U07.1!", "I10"] {
            assert!(!r.matches(&normalize_icd(c)), "{c}");
        }
        let u = CodePattern::parse("U07.1").unwrap();
        assert!(u.matches(&normalize_icd("U07.1!")));
        assert!(u.matches(&normalize_icd("U071")));
        assert!(!u.matches(&normalize_icd("U07.2!")));
        assert_eq!(r.scan_prefix(), "J");
        assert_eq!(CodePattern::parse("J00-J22").unwrap().scan_prefix(), "J");
        assert_eq!(u.scan_prefix(), "U071");
        assert_eq!(
            CodePattern::parse("J22-J09"),
            Err(CodePatternError::Range {
                text: "J22-J09".into()
            })
        );
        assert_eq!(
            CodePattern::parse("fever"),
            Err(CodePatternError::Code {
                text: "fever".into()
            })
        );
    }

    #[test]
    fn bad_definitions_are_refused_with_the_place_named() {
        let e = CaseDefinition::from_toml("x.toml", "name = \"x\"\ntitle = 1\n").unwrap_err();
        assert!(e.to_string().contains("x.toml"), "{e}");
        let text = r#"
name = "x"
title = "t"
source = "s"
counts = "c"
[encounter]
classes = ["IMP"]
[[criteria]]
name = "bad"
any = [{ diagnosis = ["J22-J09"] }]
"#;
        let e = CaseDefinition::from_toml("x.toml", text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad") && e.contains("J22-J09"), "{e}");
        let e = CaseDefinition::shipped("sari").unwrap_err().to_string();
        assert!(e.contains("sari-icosari"), "{e}");
    }
}
