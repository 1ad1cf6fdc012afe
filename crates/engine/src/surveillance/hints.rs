//! The filters the series' reads push into the Parquet decoder (only hints: the row loops still
//! check every row), and the count of ICD-10 rows by system that tells a site's country.

use super::{SurveillanceError, TableSource, columns::strings, each};
use datafusion::functions::expr_fn::{regexp_like, starts_with};
use datafusion::prelude::{Expr, col, lit};
use kakehashi_model::{View, systems};
use kakehashi_surveillance::PathogenPanel;
use kakehashi_surveillance::series::ICD10_SYSTEMS;
use std::collections::HashSet;

/// Characters [`normalize_icd`] drops: a code matches a prefix when the prefix's characters
/// follow each other with only these between them.
const ICD_MARKS: &str = ".!*+† ";

/// What a diagnosis row must satisfy to be of use: an ICD-10 system, and a code that may
/// normalise to one starting with one of `prefixes` (a case-insensitive regular expression
/// allowing the marks [`normalize_icd`] drops anywhere; no code condition when a prefix is
/// empty). The row loop still normalises and checks each code.
pub(super) fn diagnosis_hint(prefixes: &[String]) -> Expr {
    let systems =
        col("code_system").in_list(ICD10_SYSTEMS.iter().map(|s| lit(*s)).collect(), false);
    if prefixes.is_empty() || prefixes.iter().any(String::is_empty) {
        return systems;
    }
    let marks = format!("[{}]*", regex_escape_class(ICD_MARKS));
    let alternatives: Vec<String> = prefixes
        .iter()
        .map(|p| {
            p.chars()
                .map(|c| format!("{marks}{}", regex_escape(c)))
                .collect::<String>()
        })
        .collect();
    let pattern = format!("^(?:{})", alternatives.join("|"));
    systems.and(regexp_like(col("code"), lit(pattern), Some(lit("i"))))
}

fn regex_escape(c: char) -> String {
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else {
        format!("\\x{{{:x}}}", c as u32)
    }
}

fn regex_escape_class(chars: &str) -> String {
    chars.chars().map(regex_escape).collect()
}

/// What an observation row must satisfy to be of use: a code the definition or the panel
/// names, or a code starting with a pathogen's JLAC10 analyte (checked in full in the loop).
pub(super) fn observation_hint(codes: &HashSet<&str>, panel: &PathogenPanel) -> Expr {
    let mut listed: Vec<&str> = codes.iter().copied().collect();
    listed.sort_unstable();
    let mut keep = col("code").in_list(listed.into_iter().map(lit).collect(), false);
    for a in panel.pathogens.iter().flat_map(|p| &p.jlac10_analytes) {
        keep = keep.or(starts_with(col("code"), lit(a.as_str())));
    }
    keep
}

/// Rows coded in ICD-10-GM and in JP ICD-10 (with a patient and a code), to tell a site's
/// country when no patient address says it.
pub(super) fn icd_rows(src: &dyn TableSource) -> Result<(u64, u64), SurveillanceError> {
    let (mut gm, mut jp) = (0u64, 0u64);
    let keep =
        col("code_system").in_list(vec![lit(systems::ICD10_GM), lit(systems::ICD10_JP)], false);
    each(
        src,
        View::Condition,
        &["patient_id", "code_system", "code"],
        Some(&keep),
        |b| {
            let v = View::Condition;
            let pid = strings(b, v, "patient_id")?;
            let sys = strings(b, v, "code_system")?;
            let code = strings(b, v, "code")?;
            for i in 0..b.num_rows() {
                if pid.value(i).is_none() || code.value(i).is_none() {
                    continue;
                }
                match sys.value(i) {
                    Some(systems::ICD10_GM) => gm += 1,
                    Some(systems::ICD10_JP) => jp += 1,
                    _ => {}
                }
            }
            Ok(())
        },
    )?;
    Ok((gm, jp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;
    use kakehashi_surveillance::definition::{CaseDefinition, normalize_icd};
    use std::sync::Arc;

    /// The codes of `rows` (system, code) that pass `keep` when DataFusion evaluates it.
    fn passing(rows: &[(&str, &str)], keep: Expr) -> Vec<String> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("code_system", DataType::Utf8, true),
            Field::new("code", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            ],
        )
        .unwrap();
        let rt = crate::snapshot::runtime().unwrap();
        rt.block_on(async {
            let ctx = SessionContext::new();
            ctx.register_table(
                "t",
                Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap()),
            )
            .unwrap();
            let out = ctx.table("t").await.unwrap().filter(keep).unwrap();
            let mut codes = Vec::new();
            for b in out.collect().await.unwrap() {
                let c = b.column_by_name("code").unwrap().as_string::<i32>().clone();
                codes.extend((0..c.len()).map(|i| c.value(i).to_string()));
            }
            codes.sort();
            codes
        })
    }

    #[test]
    fn the_diagnosis_filter_keeps_every_code_the_definition_can_match() {
        // the shipped SARI and COVID-SARI definitions: prefixes `J` and `U071`
        let mut prefixes = Vec::new();
        for name in ["sari-icosari", "sari-icosari-covid"] {
            let def = CaseDefinition::shipped(name).unwrap();
            prefixes.extend(def.diagnosis_patterns().iter().map(|p| p.scan_prefix()));
        }
        assert!(prefixes.iter().any(|p| p == "U071"), "{prefixes:?}");
        let gm = systems::ICD10_GM;
        let rows = [
            (gm, "J18.9"),
            (gm, "j18.9"),
            (gm, " J21.0"),
            (gm, "U07.1!"),
            (gm, "u 07.1"),
            (gm, "U07.2"),
            (gm, "I10.00"),
            (gm, "XJ18"),
            (systems::ICD10_JP, "J10.1"),
            (systems::ICD10_WHO, "J22"),
            ("http://snomed.info/sct", "J18.9"),
        ];
        let kept = passing(&rows, diagnosis_hint(&prefixes));
        let mut wanted: Vec<String> = rows
            .iter()
            .filter(|(s, c)| {
                ICD10_SYSTEMS.contains(s)
                    && prefixes
                        .iter()
                        .any(|p| normalize_icd(c).starts_with(p.as_str()))
            })
            .map(|r| r.1.to_string())
            .collect();
        wanted.sort();
        assert_eq!(kept, wanted);
        assert_eq!(wanted.len(), 7, "{wanted:?}");
    }

    #[test]
    fn the_observation_filter_keeps_listed_codes_and_pathogen_analytes() {
        let panel = PathogenPanel::shipped();
        let listed: HashSet<&str> = ["92142-9", "94500-6"].into_iter().collect();
        let rows = [
            (systems::LOINC, "92142-9"),
            (systems::LOINC, "94500-6"),
            (systems::LOINC, "718-7"),
            (systems::JLAC10, "5F625145001987511"),
            (systems::JLAC10, "3A015000002327101"),
        ];
        let kept = passing(&rows, observation_hint(&listed, &panel));
        assert_eq!(kept, ["5F625145001987511", "92142-9", "94500-6"]);
    }
}
