//! Pre-fill from a site's own data: which study items a site may propose values for, and
//! where in its store each value comes from ([`PrefillItem`]: a field and a [`Source`]:
//! the patient's age or sex, the admission date, a lab value by LOINC or JLAC10 code with a
//! unit, a pick and a window relative to admission, or a pathogen PCR result). A study
//! declares them (`Study::prefill`); [`check`] refuses an unknown field, a field of the wrong
//! type, an unknown choice code or a malformed code, naming the item. The site compiles the
//! declaration against its store itself; the hub only carries it.

use crate::Study;
use crate::dictionary::{Field, FieldType, Validation};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One item a site may propose a value for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefillItem {
    /// The study field (variable) the value is for.
    pub field: String,
    /// Where the site reads the value.
    pub source: Source,
}

/// Where a value comes from in the site's store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum Source {
    /// Age in whole years on the admission day (`Patient.birthDate`).
    Age,
    /// Administrative sex (`Patient.gender`), as the field's choice codes.
    Sex {
        /// FHIR gender (`male`, `female`, `other`, `unknown`) → the field's choice code.
        codes: BTreeMap<String, String>,
    },
    /// The admission day: the start of the latest inpatient stay that began on or before
    /// the request (`Encounter.period.start`).
    AdmissionDate,
    /// A lab value (`Observation.valueQuantity`).
    Lab(LabSource),
    /// A pathogen test's result (`Observation` value code, interpretation or text), as the
    /// field's choice codes.
    Pcr(PcrSource),
}

/// Which of the values in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    /// The earliest.
    First,
    /// The latest.
    Last,
    /// The smallest.
    Min,
    /// The largest.
    Max,
}

impl Pick {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Pick::First => "first",
            Pick::Last => "last",
            Pick::Min => "min",
            Pick::Max => "max",
        }
    }
}

/// A lab value: its codes (JLAC10 ↔ LOINC equivalents of the shipped map are read too), the
/// unit it is proposed in (UCUM; values in other units are converted or left out), the pick
/// and the window in days relative to the admission day (day 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabSource {
    /// LOINC codes.
    #[serde(default)]
    pub loinc: Vec<String>,
    /// JLAC10 17-character codes.
    #[serde(default)]
    pub jlac10: Vec<String>,
    /// The UCUM unit of the field.
    pub unit: String,
    /// Which value.
    pub pick: Pick,
    /// First and last day, relative to the admission day (inclusive).
    pub window_days: [i32; 2],
}

/// A pathogen test: its codes and the field's choice codes for a positive and a negative
/// result; the latest readable result in the window is proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PcrSource {
    /// LOINC codes.
    #[serde(default)]
    pub loinc: Vec<String>,
    /// JLAC10 17-character codes.
    #[serde(default)]
    pub jlac10: Vec<String>,
    /// The choice code of a positive (detected) result.
    pub positive: String,
    /// The choice code of a negative (not detected) result.
    pub negative: String,
    /// First and last day, relative to the admission day (inclusive).
    pub window_days: [i32; 2],
}

/// A pre-fill declaration that cannot be used: the item (`prefill[3]` and its field) and
/// what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("prefill[{index}] ({field}): {problem}")]
pub struct PrefillError {
    /// The item's position.
    pub index: usize,
    /// Its field.
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

/// The most items a study may declare (and a request may carry).
pub const MAX_ITEMS: usize = 200;

/// Whether `s` looks like a LOINC code (digits, a hyphen and a check digit).
pub fn is_loinc(s: &str) -> bool {
    let Some((num, check)) = s.split_once('-') else {
        return false;
    };
    (1..=7).contains(&num.len())
        && num.bytes().all(|b| b.is_ascii_digit())
        && check.len() == 1
        && check.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` looks like a JLAC10 17-character code (digits and upper-case letters).
pub fn is_jlac10(s: &str) -> bool {
    s.len() == 17
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

fn is_choice(f: &Field, code: &str) -> bool {
    f.options().iter().any(|c| c.code == code)
}

fn check_codes(loinc: &[String], jlac10: &[String]) -> Result<(), String> {
    if loinc.is_empty() && jlac10.is_empty() {
        return Err("no LOINC or JLAC10 code".into());
    }
    if let Some(c) = loinc.iter().find(|c| !is_loinc(c)) {
        return Err(format!("loinc: {c:?} is not a LOINC code (e.g. 777-3)"));
    }
    if let Some(c) = jlac10.iter().find(|c| !is_jlac10(c)) {
        return Err(format!(
            "jlac10: {c:?} is not a JLAC10 code (17 digits and capitals)"
        ));
    }
    Ok(())
}

fn check_window(w: [i32; 2]) -> Result<(), String> {
    if w[0] > w[1] || w[0] < -3650 || w[1] > 3650 {
        return Err(format!(
            "window_days: [{}, {}] is not a window (first ≤ last, within ten years of admission)",
            w[0], w[1]
        ));
    }
    Ok(())
}

fn is_number(f: &Field) -> bool {
    f.field_type == FieldType::Text && f.validation.is_some_and(|v| v.is_numeric())
}

fn is_date(f: &Field) -> bool {
    f.field_type == FieldType::Text
        && f.validation.is_some_and(|v| {
            matches!(
                v,
                Validation::DateYmd | Validation::DateDmy | Validation::DateMdy
            )
        })
}

fn check_item(f: &Field, source: &Source) -> Result<(), String> {
    if f.identifier {
        return Err("the field is marked identifying: its value stays at the site".into());
    }
    match source {
        Source::Age | Source::Lab(_) if !is_number(f) => Err(format!(
            "the field is {} without a number validation; age and lab values go into number fields",
            f.field_type.as_str()
        )),
        Source::AdmissionDate if !is_date(f) => {
            Err("the admission date goes into a date field (date_ymd, date_dmy, date_mdy)".into())
        }
        Source::Sex { codes } => {
            if !matches!(f.field_type, FieldType::Radio | FieldType::Dropdown) {
                return Err("sex goes into a radio or dropdown field".into());
            }
            for (gender, code) in codes {
                if !matches!(gender.as_str(), "male" | "female" | "other" | "unknown") {
                    return Err(format!(
                        "codes: {gender:?} is not a FHIR gender (male, female, other, unknown)"
                    ));
                }
                if !is_choice(f, code) {
                    return Err(format!(
                        "codes.{gender}: {code:?} is not a choice of the field"
                    ));
                }
            }
            if codes.is_empty() {
                return Err("codes: none given".into());
            }
            Ok(())
        }
        Source::Lab(l) => {
            check_codes(&l.loinc, &l.jlac10)?;
            check_window(l.window_days)?;
            if l.unit.trim().is_empty() || l.unit.chars().any(char::is_whitespace) {
                return Err(format!("unit: {:?} is not a UCUM unit", l.unit));
            }
            Ok(())
        }
        Source::Pcr(p) => {
            if !matches!(
                f.field_type,
                FieldType::Radio | FieldType::Dropdown | FieldType::Yesno
            ) {
                return Err("a PCR result goes into a radio, dropdown or yes/no field".into());
            }
            check_codes(&p.loinc, &p.jlac10)?;
            check_window(p.window_days)?;
            for (what, code) in [("positive", &p.positive), ("negative", &p.negative)] {
                if !is_choice(f, code) {
                    return Err(format!("{what}: {code:?} is not a choice of the field"));
                }
            }
            Ok(())
        }
        Source::Age | Source::AdmissionDate => Ok(()),
    }
}

/// Checks a study's pre-fill items against its fields: each field known, of a type the
/// source fits, not identifying, declared once; codes and windows well-formed.
pub fn check(study: &Study) -> Result<(), PrefillError> {
    check_items(&study.fields, &study.prefill)
}

/// Checks pre-fill items against fields (see [`check`]).
pub fn check_items(fields: &[Field], items: &[PrefillItem]) -> Result<(), PrefillError> {
    let err = |index: usize, field: &str, problem: String| PrefillError {
        index,
        field: field.to_owned(),
        problem,
    };
    if items.len() > MAX_ITEMS {
        return Err(err(
            MAX_ITEMS,
            "",
            format!("{} items; at most {MAX_ITEMS}", items.len()),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let Some(f) = fields.iter().find(|f| f.variable == item.field) else {
            return Err(err(i, &item.field, "the study has no such field".into()));
        };
        if !seen.insert(item.field.as_str()) {
            return Err(err(i, &item.field, "declared twice".into()));
        }
        check_item(f, &item.source).map_err(|p| err(i, &item.field, p))?;
    }
    Ok(())
}

/// Drops the items whose field the study no longer has (a study made `--like` another from a
/// new dictionary keeps the base's items for the fields both have); the fields dropped.
pub fn retain_known(study: &mut Study) -> Vec<String> {
    let fields = &study.fields;
    let mut dropped = Vec::new();
    study.prefill.retain(|i| {
        let known = fields.iter().any(|f| f.variable == i.field);
        if !known {
            dropped.push(i.field.clone());
        }
        known
    });
    dropped
}

/// The items of a study on one form, in declaration order.
pub fn items_on_form<'a>(study: &'a Study, form: &str) -> Vec<&'a PrefillItem> {
    study
        .prefill
        .iter()
        .filter(|i| {
            study
                .fields
                .iter()
                .any(|f| f.variable == i.field && f.form == form)
        })
        .collect()
}

/// The shipped declaration of the registries (`data/prefill.toml`).
pub const REGISTRY_PREFILL: &str = include_str!("../data/prefill.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Shipped {
    item: Vec<ShippedItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShippedItem {
    /// Only these studies (default: every registry).
    #[serde(default)]
    studies: Vec<String>,
    field: String,
    source: Source,
}

/// The shipped items for the registry `study` (`data/prefill.toml`), checked against its
/// fields. An item whose field the registry lacks (removed by the SFTS derivation) is an
/// error: the file names its studies.
pub fn registry_items(study: &str, fields: &[Field]) -> Result<Vec<PrefillItem>, PrefillError> {
    let s: Shipped = toml::from_str(REGISTRY_PREFILL).map_err(|e| PrefillError {
        index: 0,
        field: String::new(),
        problem: format!("data/prefill.toml: {e}"),
    })?;
    let items: Vec<PrefillItem> = s
        .item
        .into_iter()
        .filter(|i| i.studies.is_empty() || i.studies.iter().any(|s| s == study))
        .map(|i| PrefillItem {
            field: i.field,
            source: i.source,
        })
        .collect();
    check_items(fields, &items)?;
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arc::registry;

    #[test]
    fn the_registries_declare_checked_items() {
        let vhf = registry::vhf_study().unwrap();
        let sfts = registry::sfts_study().unwrap();
        for s in [&vhf, &sfts] {
            check(s).unwrap();
            let fields: Vec<&str> = s.prefill.iter().map(|i| i.field.as_str()).collect();
            for f in [
                "demog_age",
                "demog_sex",
                "pres_date",
                "labs_platelets_109l",
                "labs_altsgpt",
                "labs_astsgot",
                "labs_creatineki",
                "labs_ldh",
            ] {
                assert!(fields.contains(&f), "{}: {f} missing", s.id);
            }
        }
        assert!(
            items_on_form(&vhf, "daily")
                .iter()
                .any(|i| i.field == "labs_ldh")
        );
        // round trip through the study's JSON
        let back = Study::from_json("s", &sfts.to_json()).unwrap();
        assert_eq!(back.prefill, sfts.prefill);
    }

    #[test]
    fn bad_items_are_refused_naming_the_item() {
        let mut s = registry::vhf_study().unwrap();
        let lab = |field: &str, loinc: &str| PrefillItem {
            field: field.into(),
            source: Source::Lab(LabSource {
                loinc: vec![loinc.into()],
                jlac10: vec![],
                unit: "U/L".into(),
                pick: Pick::First,
                window_days: [0, 1],
            }),
        };
        s.prefill = vec![lab("no_such_field", "1742-6")];
        let e = check(&s).unwrap_err().to_string();
        assert!(e.contains("prefill[0] (no_such_field)"), "{e}");
        s.prefill = vec![lab("labs_altsgpt", "ALT")];
        let e = check(&s).unwrap_err().to_string();
        assert!(e.contains("\"ALT\" is not a LOINC code"), "{e}");
        s.prefill = vec![lab("demog_sex", "1742-6")];
        assert!(check(&s).unwrap_err().to_string().contains("number"));
        s.prefill = vec![PrefillItem {
            field: "demog_sex".into(),
            source: Source::Sex {
                codes: [("male".to_owned(), "7".to_owned())].into(),
            },
        }];
        let e = check(&s).unwrap_err().to_string();
        assert!(e.contains("codes.male: \"7\" is not a choice"), "{e}");
        s.prefill = vec![lab("labs_altsgpt", "1742-6"), lab("labs_altsgpt", "1742-6")];
        assert!(check(&s).unwrap_err().to_string().contains("twice"));
        s.prefill = vec![lab("no_such_field", "1742-6"), lab("labs_ldh", "2532-0")];
        assert_eq!(retain_known(&mut s), ["no_such_field"]);
        check(&s).unwrap();
        let j = r#"{"field":"labs_ldh","source":{"kind":"lab","loinc":["2532-0"],"unit":"U/L","pick":"first","window_days":[0,1],"extra":1}}"#;
        assert!(serde_json::from_str::<PrefillItem>(j).is_err());
    }
}
