//! Deriving one form set from another by a data file (TOML): fields removed, changed and
//! added. The SFTS registry is the VHF registry with `data/sfts.toml` applied.

use crate::dictionary::{
    self, ChoicesError, DictionaryErrors, Field, FieldType, Validation, parse_choices,
};
use serde::Deserialize;

/// A derivation file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derivation {
    /// The derived study's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its acronym.
    pub acronym: String,
    /// Variables removed.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Fields changed.
    #[serde(default)]
    pub change: Vec<Change>,
    /// Fields added.
    #[serde(default)]
    pub add: Vec<Addition>,
}

/// Changes to one field; what is not given stays.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// The field.
    pub variable: String,
    /// New label.
    pub label: Option<String>,
    /// New section header.
    pub section_header: Option<String>,
    /// New field note.
    pub note: Option<String>,
    /// New choices (`code, label | …`).
    pub choices: Option<String>,
    /// New branching logic.
    pub branching: Option<String>,
    /// Required or not.
    pub required: Option<bool>,
    /// New minimum.
    pub min: Option<String>,
    /// New maximum.
    pub max: Option<String>,
}

/// A field added after another.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Addition {
    /// The field it follows (its form is the new field's form).
    pub after: String,
    /// The variable.
    pub variable: String,
    /// REDCap field type.
    #[serde(rename = "type")]
    pub field_type: String,
    /// Label.
    pub label: String,
    /// Choices (`code, label | …`).
    #[serde(default)]
    pub choices: String,
    /// Calculation of a calc field.
    #[serde(default)]
    pub calculation: String,
    /// Text validation type.
    #[serde(default)]
    pub validation: String,
    /// Minimum.
    #[serde(default)]
    pub min: String,
    /// Maximum.
    #[serde(default)]
    pub max: String,
    /// Branching logic.
    #[serde(default)]
    pub branching: String,
    /// Required.
    #[serde(default)]
    pub required: bool,
    /// Section header.
    #[serde(default)]
    pub section_header: String,
    /// Field note.
    #[serde(default)]
    pub note: String,
    /// Field annotation (e.g. a SNOMED CT or LOINC code).
    #[serde(default)]
    pub annotation: String,
}

/// A derivation that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DerivationError {
    /// The file does not read.
    #[error("{file}: {message}")]
    Toml {
        /// The file.
        file: String,
        /// What toml says (with line and column).
        message: String,
    },
    /// A step names a field the base lacks.
    #[error("{file}: {step} '{variable}': no such field in the base form set")]
    Unknown {
        /// The file.
        file: String,
        /// remove / change / add after.
        step: &'static str,
        /// The field.
        variable: String,
    },
    /// An added field that exists already.
    #[error("{file}: add '{variable}': the field exists already")]
    Exists {
        /// The file.
        file: String,
        /// The field.
        variable: String,
    },
    /// A bad field type or validation type.
    #[error("{file}: add '{variable}': unknown {what} '{value}'")]
    Type {
        /// The file.
        file: String,
        /// The field.
        variable: String,
        /// field type / validation type.
        what: &'static str,
        /// As written.
        value: String,
    },
    /// Bad choices.
    #[error("{file}: '{variable}': bad choices: {error}")]
    Choices {
        /// The file.
        file: String,
        /// The field.
        variable: String,
        /// What is wrong.
        error: ChoicesError,
    },
    /// The result is not a valid dictionary (e.g. logic still names a removed field).
    #[error(transparent)]
    Dictionary(#[from] DictionaryErrors),
}

impl Derivation {
    /// Reads a derivation file.
    pub fn parse(file: &str, text: &str) -> Result<Self, DerivationError> {
        toml::from_str(text).map_err(|e| DerivationError::Toml {
            file: file.into(),
            message: e.to_string(),
        })
    }
}

/// Applies a derivation to a base form set; the result is checked as a dictionary.
pub fn derive(file: &str, base: &[Field], d: &Derivation) -> Result<Vec<Field>, DerivationError> {
    let mut fields = base.to_vec();
    let pos = |fields: &[Field], v: &str| fields.iter().position(|f| f.variable == v);
    let unknown = |step, v: &str| DerivationError::Unknown {
        file: file.into(),
        step,
        variable: v.into(),
    };
    for v in &d.remove {
        let i = pos(&fields, v).ok_or_else(|| unknown("remove", v))?;
        let removed = fields.remove(i);
        // A section header moves to the next field of the same form.
        if !removed.section_header.is_empty()
            && let Some(next) = fields.get_mut(i)
            && next.form == removed.form
            && next.section_header.is_empty()
        {
            next.section_header = removed.section_header;
        }
    }
    for c in &d.change {
        let i = pos(&fields, &c.variable).ok_or_else(|| unknown("change", &c.variable))?;
        let f = &mut fields[i];
        if let Some(x) = &c.label {
            f.label = x.clone();
        }
        if let Some(x) = &c.section_header {
            f.section_header = x.clone();
        }
        if let Some(x) = &c.note {
            f.note = x.clone();
        }
        if let Some(x) = &c.branching {
            f.branching = x.clone();
        }
        if let Some(x) = c.required {
            f.required = x;
        }
        if let Some(x) = &c.min {
            f.min = x.clone();
        }
        if let Some(x) = &c.max {
            f.max = x.clone();
        }
        if let Some(x) = &c.choices {
            f.choices = parse_choices(x).map_err(|error| DerivationError::Choices {
                file: file.into(),
                variable: c.variable.clone(),
                error,
            })?;
        }
    }
    for a in &d.add {
        if pos(&fields, &a.variable).is_some() {
            return Err(DerivationError::Exists {
                file: file.into(),
                variable: a.variable.clone(),
            });
        }
        let i = pos(&fields, &a.after).ok_or_else(|| unknown("add after", &a.after))?;
        let ty = FieldType::parse(&a.field_type).ok_or_else(|| DerivationError::Type {
            file: file.into(),
            variable: a.variable.clone(),
            what: "field type",
            value: a.field_type.clone(),
        })?;
        let mut f = Field::new(&a.variable, &fields[i].form.clone(), ty, &a.label);
        if ty.has_choices() {
            f.choices = parse_choices(&a.choices).map_err(|error| DerivationError::Choices {
                file: file.into(),
                variable: a.variable.clone(),
                error,
            })?;
        }
        f.calculation = a.calculation.clone();
        if !a.validation.is_empty() {
            f.validation =
                Some(
                    Validation::parse(&a.validation).ok_or_else(|| DerivationError::Type {
                        file: file.into(),
                        variable: a.variable.clone(),
                        what: "validation type",
                        value: a.validation.clone(),
                    })?,
                );
        }
        f.min = a.min.clone();
        f.max = a.max.clone();
        f.branching = a.branching.clone();
        f.required = a.required;
        f.section_header = a.section_header.clone();
        f.note = a.note.clone();
        f.annotation = a.annotation.clone();
        fields.insert(i + 1, f);
    }
    dictionary::check_fields(file, &fields)?;
    Ok(fields)
}
