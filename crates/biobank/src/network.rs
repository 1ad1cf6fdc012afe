//! The network's catalogue: every site's checked catalogue side by side, as the hub holds
//! them. A search ([`Search`]: words, a material type, an ICD-10 code, a country) gives the
//! matching collections with their site and biobank; [`merged`] is the whole network as one
//! catalogue (for the MIABIS JSON export); [`clashes`] finds ids a site would publish that
//! another site already publishes (the network's ids must be unique: a request names a
//! collection by its id).

use crate::catalogue::{Biobank, Catalogue, Collection};
use crate::icd10::{Icd10, NotIcd10};
use crate::vocab::{MaterialType, ValueSet};
use serde::Serialize;

/// One site's catalogue at the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteCatalogue {
    /// The site's id.
    pub site: String,
    /// When the hub received it (RFC 3339).
    pub received: String,
    /// The SHA-256 of the file the site sent (hex).
    pub sha256: String,
    /// The checked catalogue.
    pub catalogue: Catalogue,
}

/// A search over the network's catalogue; each criterion given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    /// Words that must each appear in the collection's ids, names, description, biobank
    /// name, material types or disease codes (case-insensitive).
    pub text: String,
    /// A material type the collection holds.
    pub material: Option<MaterialType>,
    /// An ICD-10 code, category or block overlapping one of the collection's diseases.
    pub disease: Option<Icd10>,
    /// The biobank's country (ISO 3166 alpha-2, any case).
    pub country: Option<String>,
}

/// A search criterion that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// Not a MIABIS material type.
    #[error("material: unknown material type {value:?}; allowed: {allowed}")]
    Material {
        /// The value given.
        value: String,
        /// The codes allowed.
        allowed: String,
    },
    /// Not an ICD-10 code.
    #[error("disease: {0}")]
    Disease(#[from] NotIcd10),
    /// Not a two-letter country code.
    #[error("country: {value:?} is not a two-letter ISO 3166 country code (DE, JP)")]
    Country {
        /// The value given.
        value: String,
    },
}

impl Search {
    /// A search from its text parameters (blank ones are no criterion).
    pub fn parse(
        text: Option<&str>,
        material: Option<&str>,
        disease: Option<&str>,
        country: Option<&str>,
    ) -> Result<Search, SearchError> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|s| !s.is_empty())
        }
        let material = given(material)
            .map(|m| {
                MaterialType::parse(m).ok_or_else(|| SearchError::Material {
                    value: m.to_owned(),
                    allowed: MaterialType::codes(),
                })
            })
            .transpose()?;
        let disease = given(disease).map(Icd10::parse).transpose()?;
        let country = given(country)
            .map(|c| {
                if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
                    Ok(c.to_ascii_uppercase())
                } else {
                    Err(SearchError::Country {
                        value: c.to_owned(),
                    })
                }
            })
            .transpose()?;
        Ok(Search {
            text: given(text).unwrap_or("").to_owned(),
            material,
            disease,
            country,
        })
    }
}

/// A collection found, with where it is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The site that publishes it.
    pub site: String,
    /// Its biobank.
    pub biobank: Biobank,
    /// The collection.
    pub collection: Collection,
}

/// Whether two ICD-10 entries overlap: either covers the other's code, category or block.
fn overlaps(a: &Icd10, b: &Icd10) -> bool {
    let head = |c: &Icd10| {
        let s = c.as_str();
        // a category `J18.-` or a block `A00-B99` stands for its first code here
        s.split('-')
            .next()
            .unwrap_or(s)
            .trim_end_matches('.')
            .to_owned()
    };
    a.covers(&head(b)) || b.covers(&head(a))
}

/// The collections matching `search`, by site and collection id.
pub fn search(catalogues: &[SiteCatalogue], search: &Search) -> Vec<Hit> {
    let mut hits = Vec::new();
    for sc in catalogues {
        let cat = &sc.catalogue;
        for c in cat.search(&search.text) {
            let Some(bank) = cat.biobanks.iter().find(|b| b.id == c.biobank) else {
                continue;
            };
            if search
                .material
                .is_some_and(|m| !c.material_types.contains(&m))
            {
                continue;
            }
            if search
                .disease
                .as_ref()
                .is_some_and(|d| !c.diseases.iter().any(|x| overlaps(x, d)))
            {
                continue;
            }
            if search
                .country
                .as_deref()
                .is_some_and(|k| !bank.country.eq_ignore_ascii_case(k))
            {
                continue;
            }
            hits.push(Hit {
                site: sc.site.clone(),
                biobank: bank.clone(),
                collection: c.clone(),
            });
        }
    }
    hits.sort_by(|a, b| (&a.site, &a.collection.id).cmp(&(&b.site, &b.collection.id)));
    hits
}

/// The whole network as one catalogue, sites in the order given.
pub fn merged(catalogues: &[SiteCatalogue]) -> Catalogue {
    let mut all = Catalogue::default();
    for sc in catalogues {
        all.biobanks.extend(sc.catalogue.biobanks.iter().cloned());
        all.collections
            .extend(sc.catalogue.collections.iter().cloned());
    }
    all
}

/// An id a site's catalogue shares with another site's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{kind} id {id:?} is already published by site {site:?}; ids must be unique in the network"
)]
pub struct Clash {
    /// `biobank` or `collection`.
    pub kind: &'static str,
    /// The id.
    pub id: String,
    /// The other site.
    pub site: String,
}

/// The biobank and collection ids of `incoming` (from site `site`) that another site of
/// `others` already publishes (the site's own earlier catalogue is no clash).
pub fn clashes(site: &str, incoming: &Catalogue, others: &[SiteCatalogue]) -> Vec<Clash> {
    let mut out = Vec::new();
    for o in others.iter().filter(|o| o.site != site) {
        for b in &incoming.biobanks {
            if o.catalogue.biobanks.iter().any(|x| x.id == b.id) {
                out.push(Clash {
                    kind: "biobank",
                    id: b.id.clone(),
                    site: o.site.clone(),
                });
            }
        }
        for c in &incoming.collections {
            if o.catalogue.collection(&c.id).is_some() {
                out.push(Clash {
                    kind: "collection",
                    id: c.id.clone(),
                    site: o.site.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_catalogue;

    fn site(
        id: &str,
        country: &str,
        bank: &str,
        coll: &str,
        material: &str,
        icd: &str,
    ) -> SiteCatalogue {
        let text = format!(
            r#"
[[biobank]]
id = "{bank}"
name = "Biobank {bank}"
juristic_person = "Hospital {id}"
country = "{country}"
description = "A biobank"
contact = {{ email = "bank@{id}.example" }}

[[collection]]
id = "{coll}"
biobank = "{bank}"
name = "Sera {coll}"
description = "Sera of patients"
contact = {{ email = "coll@{id}.example" }}
sex = ["Female", "Male"]
dataset_types = ["Other"]
material_types = ["{material}"]
diseases = ["{icd}"]
"#
        );
        SiteCatalogue {
            site: id.into(),
            received: "2026-12-07T00:00:00Z".into(),
            sha256: "00".into(),
            catalogue: parse_catalogue("t.toml", &text).unwrap(),
        }
    }

    fn net() -> Vec<SiteCatalogue> {
        vec![
            site("de-a", "DE", "bb-a", "c-a", "Serum", "A98.0"),
            site("jp-b", "JP", "bb-b", "c-b", "DNA", "J18.-"),
        ]
    }

    fn ids(h: &[Hit]) -> Vec<&str> {
        h.iter().map(|h| h.collection.id.as_str()).collect()
    }

    #[test]
    fn each_criterion_narrows_the_hits() {
        let n = net();
        let all = Search::default();
        assert_eq!(ids(&search(&n, &all)), ["c-a", "c-b"]);
        let s = |t, m, d, c| Search::parse(t, m, d, c).unwrap();
        assert_eq!(
            ids(&search(&n, &s(Some("sera c-b"), None, None, None))),
            ["c-b"]
        );
        assert_eq!(
            ids(&search(&n, &s(None, Some("Serum"), None, None))),
            ["c-a"]
        );
        assert_eq!(ids(&search(&n, &s(None, Some("DNA"), None, None))), ["c-b"]);
        // a category finds its codes, a code finds the category holding it
        assert_eq!(ids(&search(&n, &s(None, None, Some("A98"), None))), ["c-a"]);
        assert_eq!(
            ids(&search(&n, &s(None, None, Some("J18.9"), None))),
            ["c-b"]
        );
        assert_eq!(
            ids(&search(&n, &s(None, None, Some("A00-B99"), None))),
            ["c-a"]
        );
        assert!(search(&n, &s(None, None, Some("U07.1"), None)).is_empty());
        assert_eq!(ids(&search(&n, &s(None, None, None, Some("jp")))), ["c-b"]);
        assert!(search(&n, &s(None, Some("DNA"), None, Some("DE"))).is_empty());
    }

    #[test]
    fn bad_criteria_are_named() {
        let e = Search::parse(None, Some("Plasmaa"), None, None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("material: unknown material type \"Plasmaa\"; allowed: Blood"),
            "{e}"
        );
        let e = Search::parse(None, None, Some("X1"), None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("disease: \"X1\" is not an ICD-10 code"),
            "{e}"
        );
        let e = Search::parse(None, None, None, Some("Germany")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "country: \"Germany\" is not a two-letter ISO 3166 country code (DE, JP)"
        );
    }

    #[test]
    fn ids_published_by_another_site_clash_and_the_merge_keeps_all() {
        let n = net();
        let again = site("jp-c", "JP", "bb-a", "c-b", "DNA", "J18.-");
        let c = clashes("jp-c", &again.catalogue, &n);
        assert_eq!(
            c.iter()
                .map(|c| (c.kind, c.id.as_str(), c.site.as_str()))
                .collect::<Vec<_>>(),
            [("biobank", "bb-a", "de-a"), ("collection", "c-b", "jp-b")]
        );
        assert!(
            c[0].to_string()
                .contains("already published by site \"de-a\"")
        );
        // a site replacing its own catalogue clashes with nothing
        assert!(clashes("jp-b", &n[1].catalogue, &n).is_empty());
        let m = merged(&n);
        assert_eq!(m.collections.len(), 2);
        assert_eq!(m.biobanks.len(), 2);
    }
}
