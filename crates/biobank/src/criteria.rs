//! What a researcher asks of the specimens of a cohort (the locator's specimen criteria), and
//! whether one specimen meets them.

use crate::icd10::Icd10;
use crate::vocab::{MaterialType, StorageTemperature};
use serde::{Deserialize, Serialize};

/// Longest window around a diagnosis, in days each side.
pub const MAX_WINDOW_DAYS: i64 = 3660;

/// Longest code of a test a window names.
pub const MAX_TEST_CODE_LEN: usize = 64;

/// The code system of a laboratory test an anchor names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TestSystem {
    /// LOINC.
    #[serde(rename = "http://loinc.org")]
    Loinc,
    /// JLAC10, the Japanese laboratory code (the OID FHIR uses for it).
    #[serde(rename = "urn:oid:1.2.392.200119.4.504")]
    Jlac10,
}

impl TestSystem {
    /// The system URI as FHIR writes it.
    pub fn uri(self) -> &'static str {
        match self {
            TestSystem::Loinc => "http://loinc.org",
            TestSystem::Jlac10 => "urn:oid:1.2.392.200119.4.504",
        }
    }
}

/// A laboratory test (for example a pathogen RT-PCR) by its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCode {
    /// LOINC or JLAC10.
    pub system: TestSystem,
    /// The test's code in that system.
    pub code: String,
}

/// What a collection window is counted from, per donor: the first diagnosis of an ICD-10 code,
/// or the first positive result of a test (a result read as positive: SNOMED CT Detected or
/// Positive, interpretation POS/DET, or the text "positive"/"detected"/"陽性").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor<'a> {
    /// The first diagnosis covered by this code (category and block included).
    Diagnosis(&'a Icd10),
    /// The first positive result of this test.
    PositiveTest(&'a TestCode),
}

/// Collected within a window around the first diagnosis of a code, or around the first
/// positive result of a test: exactly one of `icd10` and `positive_test`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisWindow {
    /// The diagnosis (a code, category or block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icd10: Option<Icd10>,
    /// The test whose first positive result the window is counted from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_test: Option<TestCode>,
    /// Days before the anchor a specimen may have been collected.
    pub days_before: i64,
    /// Days after the anchor.
    pub days_after: i64,
}

impl DiagnosisWindow {
    /// What the window is counted from (the diagnosis when, unchecked, both are given).
    pub fn anchor(&self) -> Option<Anchor<'_>> {
        match (&self.icd10, &self.positive_test) {
            (Some(c), _) => Some(Anchor::Diagnosis(c)),
            (None, Some(t)) => Some(Anchor::PositiveTest(t)),
            (None, None) => None,
        }
    }
}

/// One specimen as the criteria judge it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Candidate {
    /// Its MIABIS material, if its type maps to one.
    pub material: Option<MaterialType>,
    /// Its current storage range, if recorded.
    pub storage: Option<StorageTemperature>,
    /// Days from the donor's anchor (diagnosis or positive test) to its collection; negative:
    /// before; `None`: no anchor or no collection date.
    pub days_from_anchor: Option<i64>,
    /// Its volume per aliquot in microlitres, if recorded in a volume unit.
    pub volume_ul: Option<u64>,
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
    /// A specimen counts only with at least this volume per aliquot, in microlitres (0: any;
    /// a specimen without a recorded volume does not count when a minimum is set).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_volume_ul: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Largest minimum volume a question may ask, in microlitres (100 mL).
pub const MAX_VOLUME_UL: u32 = 100_000;

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
    /// A window naming no anchor or two.
    #[error(
        "window: name exactly one of icd10 (a diagnosis) and positive_test (a test's first positive result)"
    )]
    Anchor,
    /// A test code that is blank or too long.
    #[error(
        "window.positive_test.code: {value:?} is not a test code (1 to {MAX_TEST_CODE_LEN} characters, no spaces)"
    )]
    TestCode {
        /// The value given.
        value: String,
    },
    /// A minimum volume above any tube's.
    #[error("min_volume_ul: {value} µL is above {MAX_VOLUME_UL} µL")]
    Volume {
        /// The value given.
        value: u32,
    },
}

impl CriteriaError {
    /// The field of the criteria the problem is in (`window.days_before`, `min_volume_ul`, …).
    pub fn field(&self) -> &'static str {
        match self {
            CriteriaError::Window { field, .. } => field,
            CriteriaError::Aliquots { .. } => "min_aliquots",
            CriteriaError::Anchor => "window",
            CriteriaError::TestCode { .. } => "window.positive_test.code",
            CriteriaError::Volume { .. } => "min_volume_ul",
        }
    }
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
            if w.icd10.is_some() == w.positive_test.is_some() {
                return Err(CriteriaError::Anchor);
            }
            if let Some(t) = &w.positive_test {
                let c = t.code.as_str();
                if c.is_empty() || c.len() > MAX_TEST_CODE_LEN || c.chars().any(char::is_whitespace)
                {
                    return Err(CriteriaError::TestCode {
                        value: t.code.clone(),
                    });
                }
            }
        }
        if self.min_volume_ul > MAX_VOLUME_UL {
            return Err(CriteriaError::Volume {
                value: self.min_volume_ul,
            });
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

    /// Whether a specimen meets the criteria (the per-donor minimum of aliquots aside).
    pub fn admits(&self, c: &Candidate) -> bool {
        fn in_list<T: PartialEq>(list: &[T], v: Option<T>) -> bool {
            list.is_empty() || v.is_some_and(|v| list.contains(&v))
        }
        in_list(&self.material_types, c.material)
            && in_list(&self.storage_temperatures, c.storage)
            && match &self.window {
                None => true,
                Some(w) => c
                    .days_from_anchor
                    .is_some_and(|d| -w.days_before <= d && d <= w.days_after),
            }
            && (self.min_volume_ul == 0
                || c.volume_ul
                    .is_some_and(|v| v >= u64::from(self.min_volume_ul)))
    }
}

/// A volume in microlitres from a FHIR quantity's value and unit (UCUM code or the usual
/// human spellings of L, dL, mL and µL); `None` for other units or a negative value.
pub fn volume_ul(value: f64, unit: &str) -> Option<u64> {
    let factor = match unit.trim() {
        "L" | "l" => 1e6,
        "dL" | "dl" => 1e5,
        "mL" | "ml" | "ML" | "cm3" => 1e3,
        "uL" | "ul" | "µL" | "μL" | "µl" | "μl" | "mm3" => 1.0,
        _ => return None,
    };
    let v = value * factor;
    (0.0..1e12).contains(&v).then(|| v.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(before: i64, after: i64) -> SpecimenCriteria {
        SpecimenCriteria {
            material_types: vec![MaterialType::Serum],
            storage_temperatures: vec![],
            window: Some(DiagnosisWindow {
                icd10: Some(Icd10::parse("A98.0").unwrap()),
                positive_test: None,
                days_before: before,
                days_after: after,
            }),
            min_aliquots: 2,
            min_volume_ul: 0,
        }
    }

    fn cand(material: Option<MaterialType>, days: Option<i64>) -> Candidate {
        Candidate {
            material,
            storage: None,
            days_from_anchor: days,
            volume_ul: None,
        }
    }

    #[test]
    fn admits_within_the_window_only() {
        let c = window(3, 30).checked().unwrap();
        let serum = Some(MaterialType::Serum);
        assert!(c.admits(&cand(serum, Some(0))));
        assert!(c.admits(&cand(serum, Some(-3))));
        assert!(c.admits(&cand(serum, Some(30))));
        assert!(!c.admits(&cand(serum, Some(31))));
        assert!(!c.admits(&cand(serum, Some(-4))));
        assert!(!c.admits(&cand(serum, None)));
        assert!(!c.admits(&cand(Some(MaterialType::Plasma), Some(1))));
        assert!(!c.admits(&cand(None, Some(1))));
    }

    #[test]
    fn a_minimum_volume_admits_recorded_volumes_at_or_above_it() {
        let c = SpecimenCriteria {
            min_volume_ul: 500,
            ..Default::default()
        }
        .checked()
        .unwrap();
        let with = |v: Option<u64>| Candidate {
            volume_ul: v,
            ..Default::default()
        };
        assert!(c.admits(&with(Some(500))));
        assert!(c.admits(&with(Some(1800))));
        assert!(!c.admits(&with(Some(499))));
        assert!(
            !c.admits(&with(None)),
            "an unknown volume does not meet a minimum"
        );
        assert!(SpecimenCriteria::default().admits(&with(None)));
        assert_eq!(volume_ul(0.5, "mL"), Some(500));
        assert_eq!(volume_ul(1.8, "ml"), Some(1800));
        assert_eq!(volume_ul(50.0, "uL"), Some(50));
        assert_eq!(volume_ul(0.002, "L"), Some(2000));
        assert_eq!(volume_ul(3.0, "g"), None);
        assert_eq!(volume_ul(-1.0, "mL"), None);
    }

    #[test]
    fn a_window_names_exactly_one_anchor() {
        let test = TestCode {
            system: TestSystem::Loinc,
            code: "94500-6".into(),
        };
        let mut c = window(0, 14);
        c.window.as_mut().unwrap().positive_test = Some(test.clone());
        assert_eq!(c.clone().checked().unwrap_err(), CriteriaError::Anchor);
        let w = c.window.as_mut().unwrap();
        w.icd10 = None;
        assert_eq!(w.anchor(), Some(Anchor::PositiveTest(&test)));
        assert!(c.clone().checked().is_ok());
        c.window.as_mut().unwrap().positive_test = None;
        assert_eq!(c.clone().checked().unwrap_err(), CriteriaError::Anchor);
        let mut blank = window(0, 14);
        let w = blank.window.as_mut().unwrap();
        w.icd10 = None;
        w.positive_test = Some(TestCode {
            system: TestSystem::Jlac10,
            code: " ".into(),
        });
        assert!(matches!(
            blank.checked().unwrap_err(),
            CriteriaError::TestCode { .. }
        ));
    }

    #[test]
    fn the_wire_form_of_a_diagnosis_window_is_unchanged() {
        // questions asked before the positive-test anchor keep their canonical form (and so
        // their repeat key)
        let c = window(3, 30).checked().unwrap();
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"material_types":["Serum"],"storage_temperatures":[],"window":{"icd10":"A98.0","days_before":3,"days_after":30},"min_aliquots":2}"#
        );
        let t: SpecimenCriteria = serde_json::from_str(
            r#"{"window":{"positive_test":{"system":"http://loinc.org","code":"94500-6"},"days_before":0,"days_after":7},"min_volume_ul":250}"#,
        )
        .unwrap();
        assert_eq!(t.min_volume_ul, 250);
        assert!(serde_json::from_str::<SpecimenCriteria>(
            r#"{"window":{"positive_test":{"system":"http://snomed.info/sct","code":"1"},"days_before":0,"days_after":7}}"#
        )
        .is_err());
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
