//! Lab codes a site holds that the terminology tables do not know: Observations coded in JLAC10
//! with a code the JLAC10 → LOINC map (`crates/terminology/data/jlac10-loinc.tsv`) has no row
//! for, counted per code. No question reads them as a known test (surveillance counts a
//! pathogen test among them only through its analyte, as "unmapped"), so `kakehashi ingest`
//! reports them after each load instead of letting them drop silently.

use crate::sql::{SqlError, run};
use arrow::array::AsArray;
use arrow::datatypes::DataType;
use std::collections::BTreeMap;
use std::path::Path;

/// Lab results whose JLAC10 code is not in the map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnmappedJlac10 {
    /// Observations with at least one such code.
    pub results: u64,
    /// Observations per unknown code.
    pub by_code: BTreeMap<String, u64>,
}

/// The lab results of the current snapshot at `site_dir` coded in JLAC10 (under its MEDIS URI
/// or OID) with a code the shipped JLAC10 → LOINC map does not list.
pub fn unmapped_jlac10(site_dir: &Path) -> Result<UnmappedJlac10, SqlError> {
    let systems: Vec<String> = kakehashi_terminology::lab::JLAC10_SYSTEMS
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect();
    let batches = run(
        site_dir,
        &format!(
            "SELECT id, code FROM observation WHERE code_system IN ({}) AND code IS NOT NULL",
            systems.join(", ")
        ),
    )?;
    let mut out = UnmappedJlac10::default();
    let mut seen = std::collections::HashSet::new();
    let text = |a: &arrow::array::ArrayRef| {
        arrow::compute::cast(a, &DataType::Utf8).map_err(|e| {
            SqlError::Query(Box::new(datafusion::error::DataFusionError::ArrowError(
                Box::new(e),
                None,
            )))
        })
    };
    for b in &batches {
        let (ids, codes) = (text(b.column(0))?, text(b.column(1))?);
        for (id, code) in ids.as_string::<i32>().iter().zip(codes.as_string::<i32>()) {
            let (Some(id), Some(code)) = (id, code) else {
                continue;
            };
            if kakehashi_terminology::jlac10_map().get(code).is_some() {
                continue;
            }
            *out.by_code.entry(code.to_owned()).or_default() += 1;
            if seen.insert(id.to_owned()) {
                out.results += 1;
            }
        }
    }
    Ok(out)
}
