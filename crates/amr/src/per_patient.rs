//! Privacy per person in the antibiogram: how much one patient can move the released table,
//! and the clipping that bounds it (`docs/privacy.md`).
//!
//! The unit of privacy is a patient. First-isolate rules (CLSI M39) already keep one isolate per
//! patient, species and period, but a patient can still have several first isolates (several
//! species, several years, several episodes). The antibiogram therefore counts at most
//! `k` = [`AntibiogramSpec::max_isolates_per_patient`](crate::AntibiogramSpec) first isolates
//! of one patient over the whole table: the patient's earliest ones (specimen date, then
//! organism, then isolate key, so the choice depends on the data only, never on input order).
//!
//! One counted isolate changes, per organism row it is counted under, one category (S, I, R,
//! SDD or NI) of each drug row and at most [`ORGANISM_ROW_CELLS`] organism counts. An isolate is
//! counted under every listed organism it belongs to (a species and the order containing it
//! when both are listed), at most [`organism_chain`] of them. So removing one patient changes
//! the table by at most [`sensitivity`]` = k × chain × (drug rows + ORGANISM_ROW_CELLS)` in L1.

use crate::isolate::Isolate;
use crate::reference::{MoId, Reference};
use std::collections::HashMap;

/// The number of first isolates of one patient counted when a spec does not say.
pub const DEFAULT_MAX_ISOLATES_PER_PATIENT: u32 = 2;

/// The largest `max_isolates_per_patient` a spec may ask for (the noise grows with it).
pub const MAX_ISOLATES_PER_PATIENT_LIMIT: u32 = 20;

/// The name of the spec field, for errors.
pub const FIELD: &str = "max_isolates_per_patient";

/// Organism counts one isolate can change in its organism row: `isolates`, one of MDR/XDR/PDR,
/// one of 3MRGN/4MRGN, and at most two of MRSA, VRE, 3GC-R and carbapenem-R (the organism
/// lists of `data/mdro.toml` overlap at most pairwise: Enterobacterales are both 3GC-R and
/// carbapenem-R candidates; a test checks every organism of the reference).
pub const ORGANISM_ROW_CELLS: u32 = 5;

/// A `max_isolates_per_patient` outside 1 to [`MAX_ISOLATES_PER_PATIENT_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{FIELD}: {}", self.problem())]
pub struct MaxIsolatesError {
    /// The value asked for.
    pub value: i64,
}

impl MaxIsolatesError {
    /// What is wrong, without the field's name.
    pub fn problem(&self) -> String {
        format!(
            "{} is not allowed; give a whole number from 1 to {MAX_ISOLATES_PER_PATIENT_LIMIT} (default {DEFAULT_MAX_ISOLATES_PER_PATIENT})",
            self.value
        )
    }
}

/// Checks a requested `max_isolates_per_patient`: a whole number from 1 to
/// [`MAX_ISOLATES_PER_PATIENT_LIMIT`]. The error names the field.
pub fn check_max_isolates(k: i64) -> Result<u32, MaxIsolatesError> {
    u32::try_from(k)
        .ok()
        .filter(|k| (1..=MAX_ISOLATES_PER_PATIENT_LIMIT).contains(k))
        .ok_or(MaxIsolatesError { value: k })
}

pub(crate) fn default_max_isolates() -> u32 {
    DEFAULT_MAX_ISOLATES_PER_PATIENT
}

/// Serde reader of the field: refuses zero, negative and too large values naming the field.
pub(crate) fn deserialize_max_isolates<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<u32, D::Error> {
    let v = <i64 as serde::Deserialize>::deserialize(d)?;
    check_max_isolates(v).map_err(serde::de::Error::custom)
}

/// Keeps at most `k` of the `chosen` isolates (indices into `isolates`) per patient: each
/// patient's earliest by specimen date, then organism, then isolate key. Returns the kept
/// indices in increasing order.
pub fn clip_per_patient(isolates: &[&Isolate], chosen: Vec<usize>, k: u32) -> Vec<usize> {
    let mut by_patient: HashMap<&str, Vec<usize>> = HashMap::new();
    for i in chosen {
        by_patient
            .entry(isolates[i].patient.as_str())
            .or_default()
            .push(i);
    }
    let mut keep = Vec::new();
    for (_, mut v) in by_patient {
        if v.len() > k as usize {
            v.sort_unstable_by(|&a, &b| {
                let (x, y) = (isolates[a], isolates[b]);
                (x.date, x.organism, &x.id).cmp(&(y.date, y.organism, &y.id))
            });
            v.truncate(k as usize);
        }
        keep.extend(v);
    }
    keep.sort_unstable();
    keep
}

/// Does the listed organism `o` contain the organism `mo` (itself or in its lineage)? An
/// isolate of `mo` is counted under `o` when it does.
pub fn contains(r: &Reference, o: MoId, mo: MoId) -> bool {
    o == mo || r.lineage(mo).iter().any(|(l, _)| *l == o)
}

/// The most listed organisms one isolate can be counted under: over every organism of the
/// reference, how many of `listed` contain it ([`contains`]); the longest chain of listed
/// organisms that contain one another. 1 when the list is empty (an isolate counts under its own
/// species only) or names one organism.
pub fn organism_chain(r: &Reference, listed: &[MoId]) -> u32 {
    if listed.len() <= 1 {
        return 1;
    }
    (0..r.organisms.len())
        .map(|i| {
            let mo = MoId(i as u32);
            let lineage = r.lineage(mo);
            listed
                .iter()
                .filter(|o| **o == mo || lineage.iter().any(|(l, _)| l == *o))
                .count() as u32
        })
        .max()
        .unwrap_or(1)
        .max(1)
}

/// How many released counts (L1) one patient can change: `k` isolates, each counted under at
/// most `chain` organism rows, each changing one category per drug row and at most
/// [`ORGANISM_ROW_CELLS`] organism counts.
pub fn sensitivity(k: u32, drug_rows: usize, chain: u32) -> u32 {
    let drugs = u32::try_from(drug_rows).unwrap_or(u32::MAX);
    k.saturating_mul(chain)
        .saturating_mul(drugs.saturating_add(ORGANISM_ROW_CELLS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(id: &str, patient: &str, mo: u32, date: &str) -> Isolate {
        Isolate {
            id: id.into(),
            patient: patient.into(),
            date: date.parse().unwrap(),
            organism: MoId(mo),
            specimen_type: None,
            tests: vec![],
        }
    }

    #[test]
    fn clipping_keeps_each_patients_earliest_k() {
        let v = [
            iso("a", "p1", 3, "2024-05-01"),
            iso("b", "p1", 1, "2024-01-10"),
            iso("c", "p2", 1, "2024-03-01"),
            iso("d", "p1", 2, "2024-01-10"), // same day as b: organism 1 before 2
            iso("e", "p1", 4, "2023-12-31"),
        ];
        let refs: Vec<&Isolate> = v.iter().collect();
        assert_eq!(
            clip_per_patient(&refs, vec![0, 1, 2, 3, 4], 2),
            vec![1, 2, 4]
        );
        assert_eq!(
            clip_per_patient(&refs, vec![0, 1, 2, 3, 4], 3),
            vec![1, 2, 3, 4]
        );
        assert_eq!(clip_per_patient(&refs, vec![0, 1, 2, 3, 4], 1), vec![2, 4]);
        // only the chosen ones compete
        assert_eq!(clip_per_patient(&refs, vec![0, 3], 1), vec![3]);
        // input order does not matter
        let rev: Vec<Isolate> = v.iter().rev().cloned().collect();
        let rrefs: Vec<&Isolate> = rev.iter().collect();
        let ids = |refs: &[&Isolate], keep: Vec<usize>| {
            let mut x: Vec<String> = keep.into_iter().map(|i| refs[i].id.clone()).collect();
            x.sort();
            x
        };
        assert_eq!(
            ids(&rrefs, clip_per_patient(&rrefs, (0..5).collect(), 2)),
            ids(&refs, clip_per_patient(&refs, (0..5).collect(), 2))
        );
        // a patient's isolates with equal date and organism: the isolate key decides
        let same = [
            iso("z", "p", 1, "2024-01-01"),
            iso("y", "p", 1, "2024-01-01"),
        ];
        let srefs: Vec<&Isolate> = same.iter().collect();
        assert_eq!(clip_per_patient(&srefs, vec![0, 1], 1), vec![1]);
    }

    #[test]
    fn the_field_is_checked_and_named() {
        assert_eq!(check_max_isolates(1), Ok(1));
        assert_eq!(
            check_max_isolates(i64::from(MAX_ISOLATES_PER_PATIENT_LIMIT)),
            Ok(MAX_ISOLATES_PER_PATIENT_LIMIT)
        );
        for bad in [
            0,
            -1,
            i64::from(MAX_ISOLATES_PER_PATIENT_LIMIT) + 1,
            i64::MIN,
        ] {
            let e = check_max_isolates(bad).unwrap_err();
            assert_eq!(e.value, bad);
            let e = e.to_string();
            assert!(e.starts_with(FIELD) && e.contains(&bad.to_string()), "{e}");
        }
    }

    #[test]
    fn sensitivity_multiplies_the_three_bounds() {
        assert_eq!(sensitivity(1, 0, 1), ORGANISM_ROW_CELLS);
        assert_eq!(sensitivity(2, 3, 1), 2 * (3 + ORGANISM_ROW_CELLS));
        assert_eq!(sensitivity(2, 3, 2), 4 * (3 + ORGANISM_ROW_CELLS));
        assert_eq!(sensitivity(u32::MAX, usize::MAX, 9), u32::MAX);
    }
}
