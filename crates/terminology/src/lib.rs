//! Code systems, hierarchies and cross-country concept maps over shipped tables.
//!
//! - Maps are versioned data files with source, licence and version in a header ([`codemap`]):
//!   `data/icd10gm-who.tsv` (ICD-10-GM 2025/2026 ↔ WHO ICD-10 2019 and the code Japan uses),
//!   `data/jlac10-loinc.tsv` (JLAC10 → LOINC, with the surveillance panel's pathogen tests) and
//!   `data/icd11-icd10.tsv` (ICD-11 ↔ ICD-10, for Japan's move to ICD-11 in 2027).
//! - ICD-10: the German modification (ICD-10-GM, also under its older DIMDI URI), the ICD-10
//!   as used in Japan (JP Core `JP_ICD10`) and WHO ICD-10 are one family; a code matches its
//!   children (`J18` matches `J18.0` … `J18.9`), and across the family as the map says ([`icd`]).
//! - Laboratory: JLAC10 (Japan, under any of its system URIs) maps to LOINC both ways ([`lab`]).
//! - Units: UCUM conversions for the units lab criteria use ([`ucum`]).

pub mod codemap;
pub mod icd;
pub mod lab;
pub mod ucum;

pub use codemap::{CodeMap, MapError, MapRow, MapType};
pub use icd::{ICD10_GM_DIMDI, icd10_descends, icd10_family, icd10_map, icd11_map, is_icd10};
pub use lab::{JLAC10_SYSTEMS, is_jlac10, jlac10_map, jlac10_to_loinc, loinc_to_jlac10};

use kakehashi_model::systems;

/// The German (BfArM) URI of ATC, used by MII alongside the WHO one.
pub const ATC_DE: &str = "http://fhir.de/CodeSystem/bfarm/atc";

/// The shipped map files by name, with their text (compiled in): what a site's answers
/// depend on, for the repeat key's reference versions.
pub fn shipped_tables() -> [(&'static str, &'static str); 3] {
    [
        ("icd10gm-who.tsv", icd::ICD10GM_WHO_TSV),
        ("icd11-icd10.tsv", icd::ICD11_ICD10_TSV),
        ("jlac10-loinc.tsv", lab::JLAC10_LOINC_TSV),
    ]
}

/// Parses a shipped map (its text is compiled in; the tests parse every shipped file).
pub(crate) fn shipped(file: &str, text: &str) -> CodeMap {
    match CodeMap::parse(file, text) {
        Ok(m) => m,
        Err(e) => panic!("shipped map is invalid (caught by the terminology tests): {e}"),
    }
}

/// The codings a (system, code) stands for at German and Japanese sites alike: itself, its
/// equivalents in the other country's systems, and whether descendants match too (ICD-10).
/// `None` when the system is not one the network maps across countries (the code is then
/// matched as written).
///
/// ICD-10 follows `data/icd10gm-who.tsv`: a counterpart is included where its meaning lies
/// within the code's (mapping `equal` or `narrower`), and left out where the other system has
/// no such code or uses the same code for something else (`none`, e.g. GM `U82` vs WHO `U82`).
pub fn equivalents(system: &str, code: &str) -> Option<Vec<(String, String)>> {
    if is_icd10(system) {
        return Some(
            icd10_family(system, code)
                .into_iter()
                .map(|(s, c)| (s.to_owned(), c))
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
        for j in loinc_to_jlac10(code) {
            v.extend(JLAC10_SYSTEMS.iter().map(|s| ((*s).to_owned(), j.clone())));
        }
        return Some(v);
    }
    if is_jlac10(system) {
        let mut jl = vec![code.to_owned()];
        let mut v = Vec::new();
        if let Some(l) = jlac10_to_loinc(code) {
            v.push((systems::LOINC.to_owned(), l.to_owned()));
            jl.extend(loinc_to_jlac10(l).iter().filter(|j| *j != code).cloned());
        }
        for j in jl {
            v.extend(JLAC10_SYSTEMS.iter().map(|s| ((*s).to_owned(), j.clone())));
        }
        return Some(v);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_codes_map_both_ways() {
        assert_eq!(jlac10_to_loinc("2A050000001930901"), Some("777-3"));
        assert!(
            loinc_to_jlac10("777-3")
                .iter()
                .any(|j| j == "2A050000001930901")
        );
        let eq = equivalents(systems::LOINC, "777-3").unwrap();
        assert!(eq.contains(&(systems::JLAC10.to_owned(), "2A050000001930901".to_owned())));
        assert!(eq.contains(&(
            "http://medis.or.jp/CodeSystem/master-JLAC10-17digits".to_owned(),
            "2A050000001930901".to_owned()
        )));
        let eq = equivalents(
            "http://medis.or.jp/CodeSystem/master-JLAC10-17digits",
            "2A050000001930901",
        )
        .unwrap();
        assert!(eq.contains(&(systems::LOINC.to_owned(), "777-3".to_owned())));
        let eq = equivalents(systems::ICD10_GM, "J18").unwrap();
        assert!(eq.contains(&(systems::ICD10_JP.to_owned(), "J18".to_owned())));
        assert!(equivalents("http://snomed.info/sct", "1").is_none());
    }
}
