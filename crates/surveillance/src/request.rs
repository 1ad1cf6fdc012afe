//! What a surveillance series question means, for the disclosure gate's repeat key: its
//! canonical form and the reference data its answer depends on.

use crate::definition::SHIPPED;
use crate::series::{PATHOGENS_TOML, SeriesSpec};
use serde_json::json;

/// The canonical form of a series question: the case definition's name, the breakdowns as a
/// sorted set, the age bands (when broken down by age), and the first and last ISO week as
/// `YYYY-Www` (`2023W40` and `2023-W40` are one week). The definition's content is in the
/// reference versions ([`reference_data`]).
pub fn canonical(definition: &str, spec: &SeriesSpec) -> String {
    let mut by = spec.by.clone();
    by.sort();
    by.dedup();
    let bands = by
        .contains(&crate::series::Stratum::Age)
        .then_some(&spec.age_bands.lower);
    json!({
        "type": "surveillance_series",
        "definition": definition,
        "by": by,
        "age_bands": bands,
        "from": spec.from.map(|w| w.to_string()),
        "to": spec.to.map(|w| w.to_string()),
        "max_weeks_per_patient": spec.max_weeks_per_patient,
    })
    .to_string()
}

/// The reference data a series of `definition` depends on, by file name with its text
/// (compiled in): the definition, the pathogen panel and the terminology maps.
pub fn reference_data(definition: &str) -> Vec<(String, &'static str)> {
    let mut v: Vec<(String, &'static str)> = SHIPPED
        .iter()
        .filter(|(n, _)| *n == definition)
        .map(|(n, text)| (format!("definitions/{n}.toml"), *text))
        .collect();
    v.push(("pathogens.toml".into(), PATHOGENS_TOML));
    v.extend(
        kakehashi_terminology::shipped_tables()
            .into_iter()
            .map(|(n, t)| (n.to_owned(), t)),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::{AgeBands, Stratum};

    fn spec(by: Vec<Stratum>, from: &str, to: &str) -> SeriesSpec {
        SeriesSpec {
            by,
            age_bands: AgeBands::default(),
            from: Some(from.parse().unwrap()),
            to: Some(to.parse().unwrap()),
            max_weeks_per_patient: Some(2),
        }
    }

    #[test]
    fn the_same_series_written_differently_has_one_form_and_each_change_another() {
        let a = canonical(
            "sari-who",
            &spec(vec![Stratum::Age], "2023-W40", "2024-W20"),
        );
        let same = canonical(
            "sari-who",
            &spec(vec![Stratum::Age, Stratum::Age], "2023W40", " 2024-W20"),
        );
        assert_eq!(a, same);
        for other in [
            canonical("ili-who", &spec(vec![Stratum::Age], "2023-W40", "2024-W20")),
            canonical("sari-who", &spec(vec![], "2023-W40", "2024-W20")),
            canonical(
                "sari-who",
                &spec(vec![Stratum::Age], "2023-W41", "2024-W20"),
            ),
            canonical(
                "sari-who",
                &spec(vec![Stratum::Age], "2023-W40", "2024-W21"),
            ),
            canonical(
                "sari-who",
                &SeriesSpec {
                    age_bands: AgeBands::parse("0-14,15-59,60+").unwrap(),
                    ..spec(vec![Stratum::Age], "2023-W40", "2024-W20")
                },
            ),
        ] {
            assert_ne!(other, a);
        }
    }

    #[test]
    fn a_series_depends_on_its_own_definition_file_only() {
        let names: Vec<String> = reference_data("sari-who")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(names.contains(&"definitions/sari-who.toml".to_owned()));
        assert!(!names.iter().any(|n| n.contains("ili-who")));
        assert!(names.contains(&"pathogens.toml".to_owned()));
        assert!(names.contains(&"jlac10-loinc.tsv".to_owned()));
    }
}
