//! The network's catalogue page, `/catalogue`: a search form (words, material type, ICD-10
//! code, country) and the matching collections with their site, biobank and MIABIS
//! attributes; a link to the whole network's MIABIS JSON.

use crate::form::FieldErrors;
use serde::Serialize;

/// The search as typed (kept on error).
#[derive(Debug, Clone, Serialize, Default)]
pub struct CatalogueForm {
    /// Words.
    pub q: String,
    /// A material type code, or empty.
    pub material: String,
    /// An ICD-10 code, category or block, or empty.
    pub disease: String,
    /// A country code, or empty.
    pub country: String,
}

/// A collection as the page lists it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CollectionRow {
    /// The site publishing it.
    pub site: String,
    /// Its biobank's name.
    pub biobank: String,
    /// The biobank's country code.
    pub country: String,
    /// The collection's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its material types (MIABIS labels).
    pub materials: Vec<String>,
    /// Its diseases (ICD-10).
    pub diseases: Vec<String>,
    /// Declared number of donors.
    pub subjects: Option<u64>,
    /// Declared number of samples.
    pub samples: Option<u64>,
    /// Its use and access conditions (MIABIS labels).
    pub access: Vec<String>,
    /// The collection's contact address.
    pub contact: String,
}

/// The catalogue page.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CataloguePage {
    /// The search.
    pub form: CatalogueForm,
    /// Material types to choose from: (code, MIABIS label).
    pub materials: Vec<(String, String)>,
    /// Countries to choose from (ISO codes).
    pub countries: Vec<String>,
    /// Problems with the search, by field.
    pub errors: FieldErrors,
    /// The collections found.
    pub rows: Vec<CollectionRow>,
    /// How many sites have published a catalogue.
    pub sites: usize,
}
