//! Laboratory codes: JLAC10 (Japan) and LOINC, through `data/jlac10-loinc.tsv`.

use crate::codemap::{CodeMap, MapType};
use kakehashi_model::systems;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The system URIs JLAC10 17-digit codes arrive under: the OID (older JP Core, SS-MIX2, the
/// synthetic sites), MEDIS's URL (JP Core 1.x `JP_ObservationLabResultCode_CS`), a JP Core style
/// URL some exporters write, and the JP-CLINS code sets (subsets of JLAC10 with the same codes).
pub const JLAC10_SYSTEMS: [&str; 5] = [
    systems::JLAC10,
    "http://medis.or.jp/CodeSystem/master-JLAC10-17digits",
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_JLAC10",
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS",
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS",
];

/// Whether `system` is JLAC10 under any of its URIs.
pub fn is_jlac10(system: &str) -> bool {
    JLAC10_SYSTEMS.contains(&system)
}

/// The text of `data/jlac10-loinc.tsv`.
pub(crate) const JLAC10_LOINC_TSV: &str = include_str!("../data/jlac10-loinc.tsv");

/// The shipped JLAC10 → LOINC map (`data/jlac10-loinc.tsv`).
pub fn jlac10_map() -> &'static CodeMap {
    static M: OnceLock<CodeMap> = OnceLock::new();
    M.get_or_init(|| crate::shipped("crates/terminology/data/jlac10-loinc.tsv", JLAC10_LOINC_TSV))
}

fn from_loinc() -> &'static HashMap<String, Vec<String>> {
    static M: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    M.get_or_init(|| {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for r in &jlac10_map().rows {
            if let (Some(l), true) = (r.target(), r.mapping != MapType::None) {
                m.entry(l.to_owned())
                    .or_default()
                    .push(r.source().to_owned());
            }
        }
        m
    })
}

/// The LOINC code a JLAC10 code maps to (any mapping but `none`).
pub fn jlac10_to_loinc(jlac10: &str) -> Option<&'static str> {
    jlac10_map()
        .get(jlac10)
        .filter(|r| r.mapping != MapType::None)
        .and_then(|r| r.target())
}

/// The JLAC10 codes that map to a LOINC code.
pub fn loinc_to_jlac10(loinc: &str) -> &'static [String] {
    from_loinc().get(loinc).map(Vec::as_slice).unwrap_or(&[])
}

/// A pathogen test of the JLAC10 table (rows with a `pathogen`).
#[derive(Debug, Clone, PartialEq)]
pub struct PathogenTest {
    /// The JLAC10 code.
    pub jlac10: &'static str,
    /// Its LOINC code, if it maps to one.
    pub loinc: Option<&'static str>,
    /// The surveillance panel's pathogen name.
    pub pathogen: &'static str,
    /// The kind of test (`naa`, `antigen`).
    pub test: &'static str,
    /// Whether the full code was found in the cited public source.
    pub verified: bool,
}

/// Every pathogen test of the JLAC10 table.
pub fn pathogen_tests() -> Vec<PathogenTest> {
    let m = jlac10_map();
    m.rows
        .iter()
        .filter_map(|r| {
            Some(PathogenTest {
                jlac10: r.source(),
                loinc: r.target().filter(|_| r.mapping != MapType::None),
                pathogen: m.cell(r, "pathogen")?,
                test: m.cell(r, "test").unwrap_or(""),
                verified: m.cell(r, "verified") == Some("yes"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_is_complete_and_cited() {
        let m = jlac10_map();
        for key in ["map", "version", "source", "licence"] {
            assert!(m.header(key).is_some_and(|v| !v.is_empty()), "{key}");
        }
        for r in &m.rows {
            let code = r.source();
            assert!(
                code.len() == 17 && code.chars().all(|c| c.is_ascii_alphanumeric()),
                "line {}: {code}",
                r.line
            );
            assert!(
                matches!(m.cell(r, "verified"), Some("yes" | "no")),
                "line {}",
                r.line
            );
            assert!(m.cell(r, "source").is_some(), "line {}: no source", r.line);
        }
        // The published SARS-CoV-2 codes (MHLW 2024 antigen example; a lab's RT-PCR code).
        assert_eq!(jlac10_to_loinc("5F625141006319011"), Some("94558-4"));
        assert_eq!(jlac10_to_loinc("5F625145006387511"), Some("94500-6"));
        // The influenza A/B antigen code has no single LOINC but is a pathogen test.
        assert_eq!(jlac10_to_loinc("5F399141009919011"), None);
        let t = pathogen_tests();
        assert!(t.iter().any(|p| p.jlac10 == "5F399141009919011"
            && p.pathogen == "influenza"
            && p.test == "antigen"
            && p.verified));
        assert!(t.iter().any(|p| p.pathogen == "rsv"));
    }
}
