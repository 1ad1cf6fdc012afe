//! The ICD-10 family (ICD-10-GM, WHO ICD-10, the ICD-10 Japan uses) and the ICD-11 map, read
//! from `data/icd10gm-who.tsv` and `data/icd11-icd10.tsv`.

use crate::codemap::{CodeMap, MapRow, MapType};
use kakehashi_model::systems;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The older DIMDI URI of ICD-10-GM, still in MII examples.
pub const ICD10_GM_DIMDI: &str = "http://fhir.de/CodeSystem/dimdi/icd-10-gm";

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

/// The text of `data/icd10gm-who.tsv`.
pub(crate) const ICD10GM_WHO_TSV: &str = include_str!("../data/icd10gm-who.tsv");
/// The text of `data/icd11-icd10.tsv`.
pub(crate) const ICD11_ICD10_TSV: &str = include_str!("../data/icd11-icd10.tsv");

/// The shipped ICD-10-GM ↔ WHO ICD-10 (and Japan) map (`data/icd10gm-who.tsv`).
pub fn icd10_map() -> &'static CodeMap {
    static M: OnceLock<CodeMap> = OnceLock::new();
    M.get_or_init(|| crate::shipped("crates/terminology/data/icd10gm-who.tsv", ICD10GM_WHO_TSV))
}

/// The shipped ICD-11 ↔ ICD-10 map (`data/icd11-icd10.tsv`, a sample until WHO's tables are
/// loaded; `CodeMap::load` reads a fuller file of the same format).
pub fn icd11_map() -> &'static CodeMap {
    static M: OnceLock<CodeMap> = OnceLock::new();
    M.get_or_init(|| crate::shipped("crates/terminology/data/icd11-icd10.tsv", ICD11_ICD10_TSV))
}

/// Rows by their WHO and their Japanese code.
struct Reverse {
    who: HashMap<String, Vec<usize>>,
    jp: HashMap<String, Vec<usize>>,
}

fn reverse() -> &'static Reverse {
    static R: OnceLock<Reverse> = OnceLock::new();
    R.get_or_init(|| {
        let m = icd10_map();
        let mut r = Reverse {
            who: HashMap::new(),
            jp: HashMap::new(),
        };
        for (i, row) in m.rows.iter().enumerate() {
            if let Some(t) = row.target() {
                r.who.entry(t.to_owned()).or_default().push(i);
            }
            if let Some(j) = m.cell(row, "jp_icd10") {
                r.jp.entry(j.to_owned()).or_default().push(i);
            }
        }
        r
    })
}

/// The map row of a GM code: its own, or a parent's when the parent is GM-only (`none`, e.g.
/// `U69` for `U69.00`).
fn gm_row(code: &str) -> Option<&'static MapRow> {
    let m = icd10_map();
    if let Some(r) = m.get(code) {
        return Some(r);
    }
    let mut c = code;
    while let Some(p) = parent(c) {
        if let Some(r) = m.get(p).filter(|r| r.mapping == MapType::None) {
            return Some(r);
        }
        c = p;
    }
    None
}

/// `E11.90` → `E11.9` → `E11`.
fn parent(code: &str) -> Option<&str> {
    match code.find('.') {
        Some(dot) if code.len() > dot + 2 => Some(&code[..code.len() - 1]),
        Some(dot) => Some(&code[..dot]),
        None => None,
    }
}

/// The (system, code) pairs an ICD-10 criterion reaches across the family; each code also
/// matches its descendants in its system. A counterpart is included where its meaning lies
/// within the criterion's (the map's `equal`/`narrower` from GM; `equal`/`broader` GM codes for
/// a WHO or Japanese code) and left out where the map says the other system has no such code or
/// gives the same code another meaning (`none`). Codes the map does not list keep today's rule:
/// the same code in every system of the family.
pub fn icd10_family(system: &str, code: &str) -> Vec<(&'static str, String)> {
    let key = code
        .trim_end_matches(['!', '*', '†'])
        .trim_end_matches(".-")
        .trim_end_matches('-');
    let m = icd10_map();
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let push = |out: &mut Vec<(&'static str, String)>, s: &'static str, c: &str| {
        if !out.iter().any(|(s2, c2)| *s2 == s && c2 == c) {
            out.push((s, c.to_owned()));
        }
    };
    let gm = [systems::ICD10_GM, ICD10_GM_DIMDI];
    if system == systems::ICD10_GM || system == ICD10_GM_DIMDI {
        gm.iter().for_each(|s| push(&mut out, s, code));
        match gm_row(key) {
            None => {
                push(&mut out, systems::ICD10_WHO, code);
                push(&mut out, systems::ICD10_JP, code);
            }
            Some(r) => {
                if let Some(t) = r.target().filter(|_| r.mapping.target_within_source()) {
                    push(&mut out, systems::ICD10_WHO, t);
                }
                if let (Some(j), Some(true)) = (
                    m.cell(r, "jp_icd10"),
                    m.mapping_in(r, "jp_mapping")
                        .map(MapType::target_within_source),
                ) {
                    push(&mut out, systems::ICD10_JP, j);
                }
            }
        }
        return out;
    }
    // A WHO or Japanese code: the GM codes whose meaning lies within it, and the same code in
    // GM unless GM gives it another meaning (or has no such code).
    let jp = system == systems::ICD10_JP;
    push(&mut out, systems::ICD10_WHO, code);
    push(&mut out, systems::ICD10_JP, code);
    let (rev, col) = if jp {
        (&reverse().jp, "jp_mapping")
    } else {
        (&reverse().who, "mapping")
    };
    for &i in rev.get(key).map(Vec::as_slice).unwrap_or(&[]) {
        let r = &m.rows[i];
        let t = if jp {
            m.mapping_in(r, col)
        } else {
            Some(r.mapping)
        };
        if matches!(t, Some(MapType::Equal | MapType::Broader)) {
            gm.iter().for_each(|s| push(&mut out, s, r.source()));
        }
    }
    let gm_differs = gm_row(key).is_some_and(|r| r.mapping == MapType::None);
    if !gm_differs {
        gm.iter().for_each(|s| push(&mut out, s, code));
    }
    if !jp {
        // A WHO 2019 code Japan's 2013 version lacks (e.g. A97 dengue): no Japanese counterpart.
        let jp_lacks = rev.get(key).is_some_and(|v| {
            v.iter()
                .all(|&i| m.mapping_in(&m.rows[i], "jp_mapping") == Some(MapType::None))
        });
        if jp_lacks {
            out.retain(|(s, _)| *s != systems::ICD10_JP);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codemap::REQUIRED_HEADER;

    fn has(v: &[(&str, String)], s: &str, c: &str) -> bool {
        v.iter().any(|(s2, c2)| *s2 == s && c2 == c)
    }

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
    fn shipped_icd_maps_carry_their_header() {
        for m in [icd10_map(), icd11_map()] {
            for key in REQUIRED_HEADER {
                assert!(
                    m.header(key).is_some_and(|v| !v.is_empty()),
                    "{}: {key}",
                    m.file
                );
            }
            assert!(
                m.rows.iter().all(|r| m.cell(r, "source").is_some()),
                "{}: a row without source",
                m.file
            );
        }
        assert_eq!(
            icd11_map().get("RA01.0").and_then(MapRow::target),
            Some("U07.1")
        );
    }

    #[test]
    fn the_map_decides_across_the_family() {
        // Same code, same meaning: everywhere.
        let v = icd10_family(systems::ICD10_GM, "J18");
        assert!(
            has(&v, systems::ICD10_JP, "J18")
                && has(&v, systems::ICD10_WHO, "J18")
                && has(&v, ICD10_GM_DIMDI, "J18")
        );
        // GM-only resistance code: WHO's U82 means something else, so no counterpart either way.
        let v = icd10_family(systems::ICD10_GM, "U82");
        assert!(
            !v.iter()
                .any(|(s, _)| *s == systems::ICD10_JP || *s == systems::ICD10_WHO),
            "{v:?}"
        );
        let v = icd10_family(systems::ICD10_JP, "U82");
        assert!(!v.iter().any(|(s, _)| *s == systems::ICD10_GM), "{v:?}");
        // A GM-only subcode under a GM-only parent (U69 → U69.00).
        assert!(
            !icd10_family(systems::ICD10_GM, "U69.00")
                .iter()
                .any(|(s, _)| *s == systems::ICD10_JP)
        );
        // GM fifth character: Japan's E11.9 means more, so a GM E11.90 criterion does not take it;
        // a Japanese E11.9 criterion takes GM E11.90 and E11.91.
        assert!(!has(
            &icd10_family(systems::ICD10_GM, "E11.90"),
            systems::ICD10_JP,
            "E11.9"
        ));
        let v = icd10_family(systems::ICD10_JP, "E11.9");
        assert!(
            has(&v, systems::ICD10_GM, "E11.90")
                && has(&v, systems::ICD10_GM, "E11.91")
                && has(&v, systems::ICD10_GM, "E11.9")
        );
        // WHO 2019 dengue A97 is not in Japan's 2013 version.
        assert!(
            !icd10_family(systems::ICD10_WHO, "A97.1")
                .iter()
                .any(|(s, _)| *s == systems::ICD10_JP)
        );
        assert!(
            !icd10_family(systems::ICD10_GM, "A97.1")
                .iter()
                .any(|(s, _)| *s == systems::ICD10_JP)
        );
        // Secondary-code marks are read through.
        assert!(has(
            &icd10_family(systems::ICD10_GM, "U07.1!"),
            systems::ICD10_JP,
            "U07.1"
        ));
        // Codes the map does not list keep the same code everywhere.
        assert!(has(
            &icd10_family(systems::ICD10_WHO, "K35.8"),
            systems::ICD10_GM,
            "K35.8"
        ));
    }
}
