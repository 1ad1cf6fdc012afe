//! A site's catalogue file (TOML or JSON) → a checked [`Catalogue`].
//!
//! The file is read as text fields first so that every value is checked with the entry and the
//! field it sits in: an unknown material type, a code that is not ICD-10 or a missing contact
//! is a [`Problem`] naming the entry (`collection "de-sera"`, its line), the field and the
//! MIABIS attribute. Nothing partial is returned: a file with a problem gives no catalogue.

use super::Catalogue;
use super::check::{Problem, check};
use serde::Deserialize;

/// A catalogue file that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatalogueError {
    /// Not TOML/JSON of the catalogue's shape (the parser's message has the line).
    #[error("{file}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// The parser's message.
        message: String,
    },
    /// Entries breaking MIABIS attribute rules.
    #[error("{file}: {} problem(s):\n{}", problems.len(), list(problems))]
    Invalid {
        /// The file.
        file: String,
        /// Every problem found, in file order.
        problems: Vec<Problem>,
    },
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Contact information as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawContact {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub zip: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub department: Option<String>,
    pub orcid: Option<String>,
}

/// A biobank as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBiobank {
    pub id: Option<String>,
    pub acronym: Option<String>,
    pub name: Option<String>,
    pub url: Option<String>,
    pub juristic_person: Option<String>,
    pub country: Option<String>,
    pub contact: Option<RawContact>,
    pub description: Option<String>,
    #[serde(default)]
    pub infrastructural_capabilities: Vec<String>,
    #[serde(default)]
    pub organisational_capabilities: Vec<String>,
    #[serde(default)]
    pub bioprocessing_capabilities: Vec<String>,
    #[serde(default)]
    pub quality_standards: Vec<String>,
}

/// A collection as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCollection {
    pub id: Option<String>,
    pub biobank: Option<String>,
    pub acronym: Option<String>,
    pub name: Option<String>,
    pub url: Option<String>,
    pub contact: Option<RawContact>,
    pub description: Option<String>,
    pub sample_source: Option<String>,
    #[serde(default)]
    pub sex: Vec<String>,
    pub age_low: Option<u32>,
    pub age_high: Option<u32>,
    pub age_unit: Option<String>,
    #[serde(default)]
    pub dataset_types: Vec<String>,
    #[serde(default)]
    pub material_types: Vec<String>,
    #[serde(default)]
    pub storage_temperatures: Vec<String>,
    #[serde(default)]
    pub diseases: Vec<String>,
    #[serde(default)]
    pub settings: Vec<String>,
    #[serde(default)]
    pub designs: Vec<String>,
    #[serde(default)]
    pub access_conditions: Vec<String>,
    pub status: Option<String>,
    pub number_of_subjects: Option<u64>,
    pub number_of_samples: Option<u64>,
    #[serde(default)]
    pub inclusion_criteria: Vec<String>,
    #[serde(default)]
    pub publications: Vec<String>,
}

/// The file as written: `[[biobank]]` and `[[collection]]` tables in TOML, or `biobank` and
/// `collection` arrays in JSON.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCatalogue {
    #[serde(default)]
    pub biobank: Vec<RawBiobank>,
    #[serde(default)]
    pub collection: Vec<RawCollection>,
}

/// Reads and checks a catalogue file's `text`; `file` names it in errors, and a name ending
/// in `.json` (or a text starting with `{`) is read as JSON, anything else as TOML.
pub fn parse_catalogue(file: &str, text: &str) -> Result<Catalogue, CatalogueError> {
    let json = file.ends_with(".json") || text.trim_start().starts_with('{');
    let raw: RawCatalogue = if json {
        serde_json::from_str(text).map_err(|e| CatalogueError::Syntax {
            file: file.to_owned(),
            message: e.to_string(),
        })?
    } else {
        toml::from_str(text).map_err(|e| CatalogueError::Syntax {
            file: file.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?
    };
    check(&raw, text).map_err(|problems| CatalogueError::Invalid {
        file: file.to_owned(),
        problems,
    })
}
