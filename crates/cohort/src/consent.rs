//! MII broad consent: the combined consent codes of the FDPG feasibility portal (system
//! `fdpg.consent.combined`, e.g. `yes-yes-no-no`) and the consent provisions each stands for,
//! read from the shipped table `data/consent_combined.toml` (source in its header).

use serde::Deserialize;
use std::sync::OnceLock;

/// One combined consent code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combined {
    /// The code, e.g. `yes-yes-no-no`.
    pub code: String,
    /// What it means, in German as the portal shows it.
    pub display: String,
    /// The provision codes (MII consent policy code system) that must all be permitted.
    pub provisions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    system: String,
    provision_system: String,
    code: Vec<Combined>,
}

/// The text of `data/consent_combined.toml`.
pub(crate) const CONSENT_TOML: &str = include_str!("../data/consent_combined.toml");

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        toml::from_str(CONSENT_TOML).expect("the shipped combined consent table is valid (tested)")
    })
}

/// The code system of the combined codes (`fdpg.consent.combined`).
pub fn combined_system() -> &'static str {
    &table().system
}

/// The code system of the provisions (`urn:oid:2.16.840.1.113883.3.1937.777.24.5.3`).
pub fn provision_system() -> &'static str {
    &table().provision_system
}

/// The combined code `code`, if it is one.
pub fn combined(code: &str) -> Option<&'static Combined> {
    table().code.iter().find(|c| c.code == code)
}

/// Every combined code, in the table's order.
pub fn combined_codes() -> &'static [Combined] {
    &table().code
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_table_is_sixteen_distinct_answers_each_to_distinct_mii_provisions() {
        let codes = combined_codes();
        assert_eq!(codes.len(), 16, "four yes/no answers");
        let mut seen = HashSet::new();
        for c in codes {
            assert!(seen.insert(c.code.as_str()), "{} twice", c.code);
            let answers: Vec<&str> = c.code.split('-').collect();
            assert!(
                answers.len() == 4 && answers.iter().all(|a| *a == "yes" || *a == "no"),
                "{}",
                c.code
            );
            assert!(!c.provisions.is_empty(), "{}", c.code);
            let distinct: HashSet<&String> = c.provisions.iter().collect();
            assert_eq!(
                distinct.len(),
                c.provisions.len(),
                "{}: a provision twice",
                c.code
            );
            for p in &c.provisions {
                let prefix = provision_system().trim_start_matches("urn:oid:");
                assert!(
                    p.starts_with(prefix) && p[prefix.len()..].starts_with('.'),
                    "{}: {p} is not in {}",
                    c.code,
                    provision_system()
                );
            }
            // re-contact adds the seven re-contact provisions, insurance data one
            assert_eq!(
                answers[3] == "yes",
                c.provisions.iter().any(|p| p.ends_with(".37")),
                "{}",
                c.code
            );
            assert_eq!(
                answers[2] == "yes",
                c.provisions.iter().any(|p| p.ends_with(".10")),
                "{}",
                c.code
            );
        }
        assert_eq!(
            combined("yes-yes-no-no").map(|c| c.provisions.len()),
            Some(2)
        );
        assert!(combined("yes-yes-no").is_none());
    }
}
