//! Code systems, hierarchies and cross-country concept maps over shipped tables.
//!
//! - ICD-10: the German modification (ICD-10-GM, also under its older DIMDI URI), the ICD-10
//!   as used in Japan (JP Core `JP_ICD10`) and WHO ICD-10 share their codes for every category
//!   the network uses; a code matches its children (`J18` matches `J18.0` … `J18.9`).
//! - Laboratory: JLAC10 (Japan) maps to LOINC through `data/jlac10-loinc.tsv`, both ways.
//! - Units: UCUM conversions for the units lab criteria use ([`ucum`]).

pub mod ucum;

use kakehashi_model::systems;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The older DIMDI URI of ICD-10-GM, still in MII examples.
pub const ICD10_GM_DIMDI: &str = "http://fhir.de/CodeSystem/dimdi/icd-10-gm";

/// The German (BfArM) URI of ATC, used by MII alongside the WHO one.
pub const ATC_DE: &str = "http://fhir.de/CodeSystem/bfarm/atc";

/// Whether `system` is one of the ICD-10 family (German, Japanese, WHO).
pub fn is_icd10(system: &str) -> bool {
    matches!(
        system,
        systems::ICD10_GM | ICD10_GM_DIMDI | systems::ICD10_JP | systems::ICD10_WHO
    )
}

/// Whether ICD-10 `code` is `parent` or one of its descendants (`J18` → `J18.9`, `J18.-`).
pub fn icd10_descends(code: &str, parent: &str) -> bool {
    let parent = parent.trim_end_matches(".-").trim_end_matches('-');
    code == parent
        || (code.starts_with(parent)
            && (parent.contains('.') || code[parent.len()..].starts_with('.')))
}

/// A JLAC10 ↔ LOINC map row.
struct LabMap {
    to_loinc: HashMap<String, String>,
    from_loinc: HashMap<String, Vec<String>>,
}

fn lab_map() -> &'static LabMap {
    static M: OnceLock<LabMap> = OnceLock::new();
    M.get_or_init(|| {
        let mut m = LabMap {
            to_loinc: HashMap::new(),
            from_loinc: HashMap::new(),
        };
        for line in include_str!("../data/jlac10-loinc.tsv").lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() >= 2 && !f[0].is_empty() && !f[1].is_empty() {
                m.to_loinc.insert(f[0].to_owned(), f[1].to_owned());
                m.from_loinc
                    .entry(f[1].to_owned())
                    .or_default()
                    .push(f[0].to_owned());
            }
        }
        m
    })
}

/// The LOINC code a JLAC10 code maps to.
pub fn jlac10_to_loinc(jlac10: &str) -> Option<&'static str> {
    lab_map().to_loinc.get(jlac10).map(String::as_str)
}

/// The JLAC10 codes that map to a LOINC code.
pub fn loinc_to_jlac10(loinc: &str) -> &'static [String] {
    lab_map()
        .from_loinc
        .get(loinc)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The codings a (system, code) stands for at German and Japanese sites alike: itself, its
/// equivalents in the other country's systems, and whether descendants match too (ICD-10).
/// `None` when the system is not one the network maps across countries (the code is then
/// matched as written).
pub fn equivalents(system: &str, code: &str) -> Option<Vec<(String, String)>> {
    if is_icd10(system) {
        return Some(
            [
                systems::ICD10_GM,
                ICD10_GM_DIMDI,
                systems::ICD10_JP,
                systems::ICD10_WHO,
            ]
            .iter()
            .map(|s| ((*s).to_owned(), code.to_owned()))
            .collect(),
        );
    }
    if system == systems::ATC || system == ATC_DE {
        return Some(vec![
            (systems::ATC.to_owned(), code.to_owned()),
            (ATC_DE.to_owned(), code.to_owned()),
        ]);
    }
    if system == systems::LOINC {
        let mut v = vec![(systems::LOINC.to_owned(), code.to_owned())];
        v.extend(
            loinc_to_jlac10(code)
                .iter()
                .map(|j| (systems::JLAC10.to_owned(), j.clone())),
        );
        return Some(v);
    }
    if system == systems::JLAC10 {
        let mut v = vec![(systems::JLAC10.to_owned(), code.to_owned())];
        if let Some(l) = jlac10_to_loinc(code) {
            v.push((systems::LOINC.to_owned(), l.to_owned()));
            v.extend(
                loinc_to_jlac10(l)
                    .iter()
                    .filter(|j| *j != code)
                    .map(|j| (systems::JLAC10.to_owned(), j.clone())),
            );
        }
        return Some(v);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icd10_parents_match_their_children_only() {
        assert!(icd10_descends("J18.9", "J18"));
        assert!(icd10_descends("J18", "J18"));
        assert!(icd10_descends("J18.9", "J18.-"));
        assert!(!icd10_descends("J180", "J18"));
        assert!(!icd10_descends("J19.0", "J1"));
        assert!(!icd10_descends("J18.9", "J18.1"));
        assert!(icd10_descends("U07.1", "U07.1"));
    }

    #[test]
    fn lab_codes_map_both_ways() {
        assert_eq!(jlac10_to_loinc("2A050000001930101"), Some("777-3"));
        assert!(
            loinc_to_jlac10("777-3")
                .iter()
                .any(|j| j == "2A050000001930101")
        );
        let eq = equivalents(systems::LOINC, "777-3").unwrap();
        assert!(eq.contains(&(systems::JLAC10.to_owned(), "2A050000001930101".to_owned())));
        let eq = equivalents(systems::ICD10_GM, "J18").unwrap();
        assert!(eq.contains(&(systems::ICD10_JP.to_owned(), "J18".to_owned())));
        assert!(equivalents("http://snomed.info/sct", "1").is_none());
    }
}
