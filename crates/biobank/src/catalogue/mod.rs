//! The MIABIS Core 3 catalogue: biobanks and their collections as a site describes them.
//! [`read`] reads a site's catalogue file (TOML or JSON) and checks it against the MIABIS
//! attribute rules; the values here are checked ones.

mod check;
pub mod read;

pub use check::{Problem, ProblemKind};
pub use read::{CatalogueError, parse_catalogue};

use crate::icd10::Icd10;
use crate::vocab::*;
use serde::{Deserialize, Serialize};

/// MIABIS structured contact information (MIABIS-BIOBANK-07, MIABIS-COLLECTION-05).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// E-mail address (required here: requests are answered through it).
    pub email: String,
    /// Phone with the international prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Street and number or PO box.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// ISO 3166 alpha-2 country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// ORCID iD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orcid: Option<String>,
}

/// A biobank (MIABIS-BIOBANK-01..12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Biobank {
    /// MIABIS-BIOBANK-01.
    pub id: String,
    /// MIABIS-BIOBANK-02.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acronym: Option<String>,
    /// MIABIS-BIOBANK-03.
    pub name: String,
    /// MIABIS-BIOBANK-04.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// MIABIS-BIOBANK-05.
    pub juristic_person: String,
    /// MIABIS-BIOBANK-06, ISO 3166 alpha-2.
    pub country: String,
    /// MIABIS-BIOBANK-07.
    pub contact: Contact,
    /// MIABIS-BIOBANK-08.
    pub description: String,
    /// MIABIS-BIOBANK-09.
    #[serde(default)]
    pub infrastructural_capabilities: Vec<InfrastructuralCapability>,
    /// MIABIS-BIOBANK-10.
    #[serde(default)]
    pub organisational_capabilities: Vec<OrganisationalCapability>,
    /// MIABIS-BIOBANK-11.
    #[serde(default)]
    pub bioprocessing_capabilities: Vec<BioprocessingCapability>,
    /// MIABIS-BIOBANK-12.
    #[serde(default)]
    pub quality_standards: Vec<QualityStandard>,
}

/// The donors' age range (MIABIS-COLLECTION-09..12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeRange {
    /// Youngest donor at donation.
    pub low: Option<u32>,
    /// Oldest donor at donation.
    pub high: Option<u32>,
    /// The unit of both.
    pub unit: AgeUnit,
}

/// A collection (MIABIS-COLLECTION-01..23), plus the number of samples (kakehashi's
/// addition; MIABIS Core 3 counts subjects only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// MIABIS-COLLECTION-01.
    pub id: String,
    /// The biobank holding it (its `id`).
    pub biobank: String,
    /// MIABIS-COLLECTION-02.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acronym: Option<String>,
    /// MIABIS-COLLECTION-03.
    pub name: String,
    /// MIABIS-COLLECTION-04.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// MIABIS-COLLECTION-05.
    pub contact: Contact,
    /// MIABIS-COLLECTION-06.
    pub description: String,
    /// MIABIS-COLLECTION-07.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_source: Option<SampleSource>,
    /// MIABIS-COLLECTION-08 (1..n).
    pub sex: Vec<Sex>,
    /// MIABIS-COLLECTION-09..12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<AgeRange>,
    /// MIABIS-COLLECTION-13 (1..n).
    pub dataset_types: Vec<DatasetType>,
    /// MIABIS-COLLECTION-14 (1..n).
    pub material_types: Vec<MaterialType>,
    /// MIABIS-COLLECTION-15.
    #[serde(default)]
    pub storage_temperatures: Vec<StorageTemperature>,
    /// MIABIS-COLLECTION-16, as ICD-10.
    #[serde(default)]
    pub diseases: Vec<Icd10>,
    /// MIABIS-COLLECTION-17.
    #[serde(default)]
    pub settings: Vec<CollectionSetting>,
    /// MIABIS-COLLECTION-18 (the collection's type).
    #[serde(default)]
    pub designs: Vec<CollectionDesign>,
    /// MIABIS-COLLECTION-19.
    #[serde(default)]
    pub access_conditions: Vec<AccessCondition>,
    /// MIABIS-COLLECTION-20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CollectionStatus>,
    /// MIABIS-COLLECTION-21.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_subjects: Option<u64>,
    /// The number of samples (not in MIABIS Core 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_samples: Option<u64>,
    /// MIABIS-COLLECTION-22.
    #[serde(default)]
    pub inclusion_criteria: Vec<InclusionCriterion>,
    /// MIABIS-COLLECTION-23.
    #[serde(default)]
    pub publications: Vec<String>,
}

/// A site's catalogue: its biobanks and their collections, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    /// The biobanks.
    pub biobanks: Vec<Biobank>,
    /// The collections, each naming its biobank.
    pub collections: Vec<Collection>,
}

impl Catalogue {
    /// The collection with this id.
    pub fn collection(&self, id: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.id == id)
    }

    /// Collections whose name, acronym, description, biobank name, material types or disease
    /// codes contain every word of `query` (case-insensitive); all when `query` is blank.
    pub fn search<'a>(&'a self, query: &str) -> Vec<&'a Collection> {
        let words: Vec<String> = query.split_whitespace().map(|w| w.to_lowercase()).collect();
        self.collections
            .iter()
            .filter(|c| {
                let bank = self.biobanks.iter().find(|b| b.id == c.biobank);
                let mut hay = format!(
                    "{} {} {} {} {}",
                    c.id,
                    c.name,
                    c.acronym.as_deref().unwrap_or(""),
                    c.description,
                    bank.map(|b| b.name.as_str()).unwrap_or("")
                );
                for m in &c.material_types {
                    hay.push(' ');
                    hay.push_str(m.code());
                    hay.push(' ');
                    hay.push_str(m.label());
                }
                for d in &c.diseases {
                    hay.push(' ');
                    hay.push_str(d.as_str());
                }
                let hay = hay.to_lowercase();
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .collect()
    }
}
