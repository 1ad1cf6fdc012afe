//! Matching a criterion's term codes against a site's codings: exact pairs, cross-country
//! equivalents (ICD-10-GM ↔ Japanese ICD-10, LOINC ↔ JLAC10, both ATC URIs) and code
//! hierarchies (ICD-10, ATC and OPS: a code matches its descendants).

use crate::ccdl::TermCode;
use kakehashi_model::systems;
use kakehashi_terminology as term;
use serde::Serialize;
use std::collections::BTreeSet;

/// The German OPS procedure classification.
pub const OPS: &str = "http://fhir.de/CodeSystem/bfarm/ops";

/// Whether `system` is ATC (the WHO or the German BfArM URI).
pub fn is_atc(system: &str) -> bool {
    system == systems::ATC || system == term::ATC_DE
}

/// Whether ATC `code` is `parent` or below it. ATC levels have fixed lengths (1, 3, 4, 5, 7
/// characters), so a class's members are exactly the codes that begin with it (`J05AB` →
/// `J05AB14`), as in the MII concept tree.
pub fn atc_descends(code: &str, parent: &str) -> bool {
    !parent.is_empty() && code.starts_with(parent)
}

/// Whether OPS `code` is `parent` or below it (`5-39` → `5-390`, `5-390.0`; `8-810` →
/// `8-810.w`): OPS codes extend their parent's code, with a dot before the fifth character.
pub fn ops_descends(code: &str, parent: &str) -> bool {
    // a parent is at least a three-character group (`5-39`), never a bare chapter (`5-`)
    parent.len() >= 4 && code.starts_with(parent)
}

/// Matches codings: exact (system, code) pairs and hierarchy parents (ICD-10 in any ICD-10
/// family system, ATC in either ATC system, OPS).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CodeMatcher {
    /// Exact pairs.
    pub exact: BTreeSet<(String, String)>,
    /// ICD-10 (system, parent) pairs whose descendants in that system match (the family's
    /// counterparts from the versioned ICD-10 map, `kakehashi_terminology::icd10_family`).
    pub icd10_parents: BTreeSet<(String, String)>,
    /// ATC classes whose members match.
    pub atc_parents: BTreeSet<String>,
    /// OPS codes whose descendants match.
    pub ops_parents: BTreeSet<String>,
}

impl CodeMatcher {
    /// Whether a coding matches.
    pub fn matches(&self, system: &str, code: &str) -> bool {
        self.exact.contains(&(system.to_owned(), code.to_owned()))
            || (term::is_icd10(system)
                && self
                    .icd10_parents
                    .iter()
                    .any(|(s, p)| s == system && term::icd10_descends(code, p)))
            || (is_atc(system) && self.atc_parents.iter().any(|p| atc_descends(code, p)))
            || (system == OPS && self.ops_parents.iter().any(|p| ops_descends(code, p)))
    }

    /// Adds a term code (with its equivalents and, in a hierarchy, its descendants).
    pub fn add(&mut self, tc: &TermCode) {
        match term::equivalents(&tc.system, &tc.code) {
            Some(eq) => {
                if term::is_icd10(&tc.system) {
                    self.icd10_parents.extend(eq.iter().cloned());
                }
                if is_atc(&tc.system) {
                    self.atc_parents.insert(tc.code.clone());
                }
                self.exact.extend(eq);
            }
            None => {
                if tc.system == OPS {
                    self.ops_parents.insert(tc.code.clone());
                }
                self.exact.insert((tc.system.clone(), tc.code.clone()));
            }
        }
    }

    /// The codes, for `explain`.
    pub fn describe(&self) -> Vec<String> {
        let mut v: Vec<String> = self.exact.iter().map(|(s, c)| format!("{s}|{c}")).collect();
        let mut parents: Vec<(&str, Vec<&str>)> = Vec::new();
        for (s, p) in &self.icd10_parents {
            let label = match s.as_str() {
                systems::ICD10_JP => "Japanese",
                systems::ICD10_WHO => "WHO",
                _ => "German",
            };
            match parents.iter_mut().find(|(c, _)| *c == p.as_str()) {
                Some((_, l)) if !l.contains(&label) => l.push(label),
                Some(_) => {}
                None => parents.push((p, vec![label])),
            }
        }
        v.extend(
            parents
                .into_iter()
                .map(|(p, l)| format!("ICD-10 {p} and its subcodes ({} ICD-10)", l.join(", "))),
        );
        v.extend(
            self.atc_parents
                .iter()
                .map(|p| format!("ATC {p} and the substances in it (BfArM and WHO ATC)")),
        );
        v.extend(
            self.ops_parents
                .iter()
                .map(|p| format!("OPS {p} and its subcodes")),
        );
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc(system: &str, code: &str) -> TermCode {
        TermCode {
            system: system.into(),
            code: code.into(),
            display: String::new(),
        }
    }

    #[test]
    fn atc_classes_match_their_substances_under_both_uris() {
        let mut m = CodeMatcher::default();
        m.add(&tc(term::ATC_DE, "J05AB"));
        assert!(m.matches(term::ATC_DE, "J05AB14"));
        assert!(m.matches(systems::ATC, "J05AB14"), "the WHO URI too");
        assert!(m.matches(systems::ATC, "J05AB"));
        assert!(!m.matches(term::ATC_DE, "J05AH02"), "another class");
        assert!(!m.matches(term::ATC_DE, "J05A"), "the parent of the class");
        assert!(!m.matches(OPS, "J05AB14"), "another system");
        let mut m = CodeMatcher::default();
        m.add(&tc(systems::ATC, "B01AB01"));
        assert!(m.matches(term::ATC_DE, "B01AB01") && !m.matches(term::ATC_DE, "B01AB05"));
    }

    #[test]
    fn ops_codes_match_their_subcodes() {
        let mut m = CodeMatcher::default();
        m.add(&tc(OPS, "5-39"));
        m.add(&tc(OPS, "8-810"));
        assert!(m.matches(OPS, "5-390.0") && m.matches(OPS, "5-39") && m.matches(OPS, "8-810.w"));
        assert!(!m.matches(OPS, "5-40") && !m.matches(OPS, "8-81") && !m.matches(OPS, "5-3"));
        assert!(!ops_descends("5-100", "5-"), "a chapter is not a parent");
    }
}
