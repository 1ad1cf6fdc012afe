//! MIABIS Core 3 attribute rules: required attributes, closed value sets, ICD-10 diseases,
//! country codes, the age range, unique ids and known biobanks.

use super::read::{RawCatalogue, RawContact};
use super::{AgeRange, Biobank, Catalogue, Collection, Contact};
use crate::icd10::Icd10;
use crate::vocab::*;
use std::collections::HashSet;

/// One broken rule, naming the entry, its line (where the id is written), the field and the
/// MIABIS attribute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entry}{}, {field} ({attribute}): {kind}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
pub struct Problem {
    /// `biobank "id"` or `collection "id"` (`biobank #2` without an id).
    pub entry: String,
    /// The line of the entry's id in the file, if found.
    pub line: Option<usize>,
    /// The field, with an index in a list (`material_types[1]`, `contact.email`).
    pub field: String,
    /// The MIABIS attribute code.
    pub attribute: &'static str,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    /// A required attribute is absent or blank.
    #[error("required")]
    Missing,
    /// A value outside its MIABIS value set.
    #[error("unknown {set} {value:?}; allowed: {allowed}")]
    UnknownValue {
        /// The value set.
        set: &'static str,
        /// The value given.
        value: String,
        /// The set's codes.
        allowed: String,
    },
    /// A disease code that is not ICD-10.
    #[error("{0}")]
    NotIcd10(#[from] crate::icd10::NotIcd10),
    /// Not an ISO 3166 alpha-2 code.
    #[error("{value:?} is not a two-letter ISO 3166 country code (DE, JP)")]
    Country {
        /// The value given.
        value: String,
    },
    /// Not an e-mail address.
    #[error("{value:?} is not an e-mail address")]
    Email {
        /// The value given.
        value: String,
    },
    /// Not an http(s) address.
    #[error("{value:?} is not an http:// or https:// address")]
    Url {
        /// The value given.
        value: String,
    },
    /// The youngest donor older than the oldest.
    #[error("age_low {low} is above age_high {high}")]
    AgeRange {
        /// age_low.
        low: u32,
        /// age_high.
        high: u32,
    },
    /// An id used twice.
    #[error("id {id:?} is used by an earlier entry")]
    DuplicateId {
        /// The id.
        id: String,
    },
    /// A collection naming a biobank the file does not describe.
    #[error("no biobank {id:?} in this catalogue")]
    UnknownBiobank {
        /// The id given.
        id: String,
    },
}

struct Checker<'t> {
    text: &'t str,
    problems: Vec<Problem>,
    entry: String,
    line: Option<usize>,
}

impl Checker<'_> {
    fn enter(&mut self, kind: &str, index: usize, id: Option<&str>) {
        match id.map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) => {
                self.entry = format!("{kind} {id:?}");
                let quoted = format!("\"{id}\"");
                self.line = self
                    .text
                    .lines()
                    .position(|l| l.contains(&quoted) && l.contains("id"))
                    .map(|i| i + 1);
            }
            None => {
                self.entry = format!("{kind} #{}", index + 1);
                self.line = None;
            }
        }
    }

    fn fail(&mut self, field: impl Into<String>, attribute: &'static str, kind: ProblemKind) {
        self.problems.push(Problem {
            entry: self.entry.clone(),
            line: self.line,
            field: field.into(),
            attribute,
            kind,
        });
    }

    fn required(&mut self, field: &str, attribute: &'static str, v: &Option<String>) -> String {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => s.to_owned(),
            None => {
                self.fail(field, attribute, ProblemKind::Missing);
                String::new()
            }
        }
    }

    fn url(&mut self, field: &str, attribute: &'static str, v: &Option<String>) -> Option<String> {
        let u = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        if !(u.starts_with("https://") || u.starts_with("http://")) || u.contains(' ') {
            self.fail(
                field,
                attribute,
                ProblemKind::Url {
                    value: u.to_owned(),
                },
            );
        }
        Some(u.to_owned())
    }

    fn country(&mut self, field: &str, attribute: &'static str, c: &str) {
        let two_letters = c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase());
        if !c.is_empty() && !two_letters {
            self.fail(
                field,
                attribute,
                ProblemKind::Country {
                    value: c.to_owned(),
                },
            );
        }
    }

    fn values<V: ValueSet>(
        &mut self,
        field: &str,
        attribute: &'static str,
        raw: &[String],
    ) -> Vec<V> {
        let mut out = Vec::new();
        for (i, r) in raw.iter().enumerate() {
            match V::parse(r) {
                Some(v) if !out.contains(&v) => out.push(v),
                Some(_) => {}
                None => self.fail(
                    format!("{field}[{i}]"),
                    attribute,
                    ProblemKind::UnknownValue {
                        set: V::NAME,
                        value: r.clone(),
                        allowed: V::codes(),
                    },
                ),
            }
        }
        out
    }

    fn value<V: ValueSet>(
        &mut self,
        field: &str,
        attribute: &'static str,
        raw: &Option<String>,
    ) -> Option<V> {
        let r = raw.as_deref()?;
        let v = V::parse(r);
        if v.is_none() {
            self.fail(
                field,
                attribute,
                ProblemKind::UnknownValue {
                    set: V::NAME,
                    value: r.to_owned(),
                    allowed: V::codes(),
                },
            );
        }
        v
    }

    fn contact(&mut self, attribute: &'static str, c: &Option<RawContact>) -> Contact {
        let Some(c) = c else {
            self.fail("contact", attribute, ProblemKind::Missing);
            return Contact {
                first_name: None,
                last_name: None,
                email: String::new(),
                phone: None,
                address: None,
                zip: None,
                city: None,
                country: None,
                department: None,
                orcid: None,
            };
        };
        let email = self.required("contact.email", attribute, &c.email);
        if !email.is_empty() {
            let ok = email.split_once('@').is_some_and(|(u, d)| {
                !u.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
            }) && !email.contains(char::is_whitespace);
            if !ok {
                self.fail(
                    "contact.email",
                    attribute,
                    ProblemKind::Email {
                        value: email.clone(),
                    },
                );
            }
        }
        if let Some(country) = &c.country {
            self.country("contact.country", attribute, country.trim());
        }
        let t = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Contact {
            first_name: t(&c.first_name),
            last_name: t(&c.last_name),
            email,
            phone: t(&c.phone),
            address: t(&c.address),
            zip: t(&c.zip),
            city: t(&c.city),
            country: t(&c.country),
            department: t(&c.department),
            orcid: t(&c.orcid),
        }
    }
}

/// Checks the file as written; every problem, or the catalogue.
pub(crate) fn check(raw: &RawCatalogue, text: &str) -> Result<Catalogue, Vec<Problem>> {
    let mut k = Checker {
        text,
        problems: Vec::new(),
        entry: String::new(),
        line: None,
    };
    let mut ids = HashSet::new();
    let mut biobanks = Vec::new();
    for (i, b) in raw.biobank.iter().enumerate() {
        k.enter("biobank", i, b.id.as_deref());
        let id = k.required("id", "MIABIS-BIOBANK-01", &b.id);
        if !id.is_empty() && !ids.insert(id.clone()) {
            k.fail(
                "id",
                "MIABIS-BIOBANK-01",
                ProblemKind::DuplicateId { id: id.clone() },
            );
        }
        let name = k.required("name", "MIABIS-BIOBANK-03", &b.name);
        let url = k.url("url", "MIABIS-BIOBANK-04", &b.url);
        let juristic_person =
            k.required("juristic_person", "MIABIS-BIOBANK-05", &b.juristic_person);
        let country = k.required("country", "MIABIS-BIOBANK-06", &b.country);
        k.country("country", "MIABIS-BIOBANK-06", &country);
        let contact = k.contact("MIABIS-BIOBANK-07", &b.contact);
        let description = k.required("description", "MIABIS-BIOBANK-08", &b.description);
        biobanks.push(Biobank {
            id,
            acronym: b.acronym.clone(),
            name,
            url,
            juristic_person,
            country,
            contact,
            description,
            infrastructural_capabilities: k.values(
                "infrastructural_capabilities",
                "MIABIS-BIOBANK-09",
                &b.infrastructural_capabilities,
            ),
            organisational_capabilities: k.values(
                "organisational_capabilities",
                "MIABIS-BIOBANK-10",
                &b.organisational_capabilities,
            ),
            bioprocessing_capabilities: k.values(
                "bioprocessing_capabilities",
                "MIABIS-BIOBANK-11",
                &b.bioprocessing_capabilities,
            ),
            quality_standards: k.values(
                "quality_standards",
                "MIABIS-BIOBANK-12",
                &b.quality_standards,
            ),
        });
    }
    let mut collections = Vec::new();
    for (i, c) in raw.collection.iter().enumerate() {
        k.enter("collection", i, c.id.as_deref());
        let id = k.required("id", "MIABIS-COLLECTION-01", &c.id);
        if !id.is_empty() && !ids.insert(id.clone()) {
            k.fail(
                "id",
                "MIABIS-COLLECTION-01",
                ProblemKind::DuplicateId { id: id.clone() },
            );
        }
        let biobank = k.required("biobank", "MIABIS-COLLECTION-01", &c.biobank);
        if !biobank.is_empty() && !biobanks.iter().any(|b| b.id == biobank) {
            k.fail(
                "biobank",
                "MIABIS-COLLECTION-01",
                ProblemKind::UnknownBiobank {
                    id: biobank.clone(),
                },
            );
        }
        let name = k.required("name", "MIABIS-COLLECTION-03", &c.name);
        let url = k.url("url", "MIABIS-COLLECTION-04", &c.url);
        let contact = k.contact("MIABIS-COLLECTION-05", &c.contact);
        let description = k.required("description", "MIABIS-COLLECTION-06", &c.description);
        let sample_source = k.value("sample_source", "MIABIS-COLLECTION-07", &c.sample_source);
        let sex = k.values("sex", "MIABIS-COLLECTION-08", &c.sex);
        if c.sex.is_empty() {
            k.fail("sex", "MIABIS-COLLECTION-08", ProblemKind::Missing);
        }
        let age = match (c.age_low, c.age_high) {
            (None, None) => None,
            (low, high) => {
                if let (Some(l), Some(h)) = (low, high)
                    && l > h
                {
                    k.fail(
                        "age_low",
                        "MIABIS-COLLECTION-09",
                        ProblemKind::AgeRange { low: l, high: h },
                    );
                }
                match k.value::<AgeUnit>("age_unit", "MIABIS-COLLECTION-11", &c.age_unit) {
                    Some(unit) => Some(AgeRange { low, high, unit }),
                    None => {
                        if c.age_unit.is_none() {
                            k.fail("age_unit", "MIABIS-COLLECTION-11", ProblemKind::Missing);
                        }
                        None
                    }
                }
            }
        };
        let dataset_types = k.values("dataset_types", "MIABIS-COLLECTION-13", &c.dataset_types);
        if c.dataset_types.is_empty() {
            k.fail(
                "dataset_types",
                "MIABIS-COLLECTION-13",
                ProblemKind::Missing,
            );
        }
        let material_types = k.values("material_types", "MIABIS-COLLECTION-14", &c.material_types);
        if c.material_types.is_empty() {
            k.fail(
                "material_types",
                "MIABIS-COLLECTION-14",
                ProblemKind::Missing,
            );
        }
        let storage_temperatures = k.values(
            "storage_temperatures",
            "MIABIS-COLLECTION-15",
            &c.storage_temperatures,
        );
        let mut diseases = Vec::new();
        for (j, d) in c.diseases.iter().enumerate() {
            match Icd10::parse(d) {
                Ok(code) => diseases.push(code),
                Err(e) => k.fail(format!("diseases[{j}]"), "MIABIS-COLLECTION-16", e.into()),
            }
        }
        collections.push(Collection {
            id,
            biobank,
            acronym: c.acronym.clone(),
            name,
            url,
            contact,
            description,
            sample_source,
            sex,
            age,
            dataset_types,
            material_types,
            storage_temperatures,
            diseases,
            settings: k.values("settings", "MIABIS-COLLECTION-17", &c.settings),
            designs: k.values("designs", "MIABIS-COLLECTION-18", &c.designs),
            access_conditions: k.values(
                "access_conditions",
                "MIABIS-COLLECTION-19",
                &c.access_conditions,
            ),
            status: k.value("status", "MIABIS-COLLECTION-20", &c.status),
            number_of_subjects: c.number_of_subjects,
            number_of_samples: c.number_of_samples,
            inclusion_criteria: k.values(
                "inclusion_criteria",
                "MIABIS-COLLECTION-22",
                &c.inclusion_criteria,
            ),
            publications: c.publications.clone(),
        });
    }
    if k.problems.is_empty() {
        Ok(Catalogue {
            biobanks,
            collections,
        })
    } else {
        Err(k.problems)
    }
}
