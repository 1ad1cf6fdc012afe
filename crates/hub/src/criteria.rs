//! The criteria the feasibility page's search offers, from `data/criteria.tsv`: CCDL context,
//! code and display names in English, German and Japanese.

use kakehashi_web::pages::CriterionHit;
use std::sync::OnceLock;

struct Entry {
    context: String,
    system: String,
    code: String,
    names: [String; 3],
}

fn catalog() -> &'static [Entry] {
    static C: OnceLock<Vec<Entry>> = OnceLock::new();
    C.get_or_init(|| {
        include_str!("../data/criteria.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() == 6).then(|| Entry {
                    context: f[0].into(),
                    system: f[1].into(),
                    code: f[2].into(),
                    names: [f[3].into(), f[4].into(), f[5].into()],
                })
            })
            .collect()
    })
}

fn lang_index(lang: &str) -> usize {
    match lang {
        "de" => 1,
        "ja" => 2,
        _ => 0,
    }
}

/// Criteria whose code or any display name contains `text` (case-insensitive), displayed in
/// `lang`; codes that start with the text first.
pub fn search(text: &str, lang: &str) -> Vec<CriterionHit> {
    let needle = text.trim().to_lowercase();
    let li = lang_index(lang);
    let mut hits: Vec<(bool, &Entry)> = catalog()
        .iter()
        .filter(|e| {
            e.code.to_lowercase().contains(&needle)
                || e.names.iter().any(|n| n.to_lowercase().contains(&needle))
        })
        .map(|e| (e.code.to_lowercase().starts_with(&needle), e))
        .collect();
    hits.sort_by_key(|(prefix, e)| (!prefix, e.code.clone()));
    hits.into_iter()
        .take(30)
        .map(|(_, e)| CriterionHit {
            display: e.names[li].clone(),
            system: e.system.clone(),
            code: e.code.clone(),
            context: e.context.clone(),
        })
        .collect()
}

/// The display of a code in `lang`, if the catalog has it.
pub fn display(system: &str, code: &str, lang: &str) -> Option<String> {
    catalog()
        .iter()
        .find(|e| e.system == system && e.code == code)
        .map(|e| e.names[lang_index(lang)].clone())
}

#[cfg(test)]
mod tests {
    #[test]
    fn search_finds_by_code_and_by_name_in_each_language() {
        assert_eq!(super::search("J18", "en")[0].code, "J18");
        assert!(
            super::search("platelet", "en")
                .iter()
                .any(|h| h.code == "777-3")
        );
        assert!(
            super::search("Thrombozyten", "de")
                .iter()
                .any(|h| h.code == "777-3")
        );
        assert_eq!(super::search("血小板", "ja")[0].display, "血小板数");
        assert!(super::search("zzzz", "en").is_empty());
        // encounters (MII context Fall), by their class
        let inpatient = super::search("stationär", "de");
        assert!(
            inpatient.iter().any(|h| h.code == "IMP"
                && h.context == "Fall"
                && h.system == "http://terminology.hl7.org/CodeSystem/v3-ActCode"),
            "{inpatient:?}"
        );
        assert_eq!(super::search("入院", "ja")[0].code, "IMP");
    }
}
