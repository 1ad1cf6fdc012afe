//! What a researcher asks of the specimens of a cohort (the locator's specimen criteria), and
//! whether one specimen meets them.

use crate::icd10::Icd10;
use crate::vocab::{MaterialType, StorageTemperature};
use serde::{Deserialize, Serialize};

/// Longest window around a diagnosis, in days each side.
pub const MAX_WINDOW_DAYS: i64 = 3660;

/// Collected within a window around the first diagnosis of a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisWindow {
    /// The diagnosis (a code, category or block).
    pub icd10: Icd10,
    /// Days before the diagnosis a specimen may have been collected.
    pub days_before: i64,
    /// Days after the diagnosis.
    pub days_after: i64,
}

/// Specimen criteria; an empty list means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecimenCriteria {
    /// Material types, any of.
    #[serde(default)]
    pub material_types: Vec<MaterialType>,
    /// Storage temperatures, any of.
    #[serde(default)]
    pub storage_temperatures: Vec<StorageTemperature>,
    /// Collected within a window around a diagnosis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<DiagnosisWindow>,
    /// A donor counts only with at least this many matching aliquots (0 or 1: any).
    #[serde(default)]
    pub min_aliquots: u32,
}

/// Specimen criteria that cannot be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriteriaError {
    /// A window with a negative or too long side.
    #[error("{field}: {value} days is outside 0..={MAX_WINDOW_DAYS}")]
    Window {
        /// `window.days_before` or `window.days_after`.
        field: &'static str,
        /// The value given.
        value: i64,
    },
    /// More aliquots than any donor has.
    #[error("min_aliquots: {value} is above 1000")]
    Aliquots {
        /// The value given.
        value: u32,
    },
}

impl SpecimenCriteria {
    /// Checks the bounds; sorts and deduplicates the lists (the canonical form).
    pub fn checked(mut self) -> Result<SpecimenCriteria, CriteriaError> {
        if let Some(w) = &self.window {
            for (field, value) in [
                ("window.days_before", w.days_before),
                ("window.days_after", w.days_after),
            ] {
                if !(0..=MAX_WINDOW_DAYS).contains(&value) {
                    return Err(CriteriaError::Window { field, value });
                }
            }
        }
        if self.min_aliquots > 1000 {
            return Err(CriteriaError::Aliquots {
                value: self.min_aliquots,
            });
        }
        self.material_types.sort();
        self.material_types.dedup();
        self.storage_temperatures.sort();
        self.storage_temperatures.dedup();
        Ok(self)
    }

    /// Whether a specimen of this material and storage, collected `days_from_diagnosis` days
    /// after the donor's first matching diagnosis (negative: before; `None`: no such
    /// diagnosis), meets the criteria.
    pub fn admits(
        &self,
        material: Option<MaterialType>,
        storage: Option<StorageTemperature>,
        days_from_diagnosis: Option<i64>,
    ) -> bool {
        fn in_list<T: PartialEq>(list: &[T], v: Option<T>) -> bool {
            list.is_empty() || v.is_some_and(|v| list.contains(&v))
        }
        in_list(&self.material_types, material)
            && in_list(&self.storage_temperatures, storage)
            && match &self.window {
                None => true,
                Some(w) => {
                    days_from_diagnosis.is_some_and(|d| -w.days_before <= d && d <= w.days_after)
                }
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(before: i64, after: i64) -> SpecimenCriteria {
        SpecimenCriteria {
            material_types: vec![MaterialType::Serum],
            storage_temperatures: vec![],
            window: Some(DiagnosisWindow {
                icd10: Icd10::parse("A98.0").unwrap(),
                days_before: before,
                days_after: after,
            }),
            min_aliquots: 2,
        }
    }

    #[test]
    fn admits_within_the_window_only() {
        let c = window(3, 30).checked().unwrap();
        let serum = Some(MaterialType::Serum);
        assert!(c.admits(serum, None, Some(0)));
        assert!(c.admits(serum, None, Some(-3)));
        assert!(c.admits(serum, None, Some(30)));
        assert!(!c.admits(serum, None, Some(31)));
        assert!(!c.admits(serum, None, Some(-4)));
        assert!(!c.admits(serum, None, None));
        assert!(!c.admits(Some(MaterialType::Plasma), None, Some(1)));
        assert!(!c.admits(None, None, Some(1)));
    }

    #[test]
    fn bounds_are_checked() {
        assert_eq!(
            window(-1, 3).checked().unwrap_err(),
            CriteriaError::Window {
                field: "window.days_before",
                value: -1
            }
        );
        assert!(window(0, MAX_WINDOW_DAYS + 1).checked().is_err());
        let c = SpecimenCriteria {
            min_aliquots: 5000,
            ..Default::default()
        };
        assert_eq!(
            c.checked().unwrap_err(),
            CriteriaError::Aliquots { value: 5000 }
        );
    }

    #[test]
    fn json_refuses_unknown_fields_and_values() {
        assert!(
            serde_json::from_str::<SpecimenCriteria>(r#"{"material_types":["Blut"]}"#).is_err()
        );
        assert!(serde_json::from_str::<SpecimenCriteria>(r#"{"colour":"red"}"#).is_err());
        let c: SpecimenCriteria = serde_json::from_str(
            r#"{"material_types":["Serum","DNA"],"storage_temperatures":["-60to-85"]}"#,
        )
        .unwrap();
        assert_eq!(
            c.material_types,
            vec![MaterialType::Serum, MaterialType::Dna]
        );
    }
}
