//! Procedures and medications (`data/care.toml`): ventilation, ECMO and dialysis with OPS codes
//! in Germany and the MHLW 診療報酬点数表 section numbers in Japan; antivirals and antibiotics
//! as the MII module Medikation writes them (a `Medication` with the ATC code, referenced by
//! `MedicationAdministration`, `MedicationRequest` and `MedicationStatement`).

use crate::profile::ProfileError;
use crate::write::{self, Out};
use chrono::{Datelike, NaiveDateTime};
use rand::Rng;
use serde::Deserialize;
use std::fmt::Write as _;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    jp_procedure_system: String,
    procedure: Vec<ProcRow>,
    icu: Icu,
    chronic_dialysis: ChronicDialysis,
    drug: Vec<DrugRow>,
    treatment: Vec<TreatmentRow>,
    long_term: Vec<LongTermRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcRow {
    key: String,
    de: Option<(String, String)>,
    jp: Option<(String, String)>,
}

/// How often intensive-care stays get each procedure.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Icu {
    /// Share ventilated invasively.
    pub invasive_ventilation: f64,
    /// Of the others: non-invasive ventilation or high-flow oxygen.
    pub noninvasive: f64,
    /// Of the ventilated: ECMO.
    pub ecmo: f64,
    /// Renal replacement therapy.
    pub renal_replacement: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChronicDialysis {
    sessions_per_year: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DrugRow {
    atc: String,
    de: String,
    ja: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreatmentRow {
    situation: String,
    kind: String,
    share_de: f64,
    share_jp: f64,
    one_of_de: Vec<(String, f64)>,
    one_of_jp: Vec<(String, f64)>,
    #[serde(default)]
    from: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LongTermRow {
    prefixes: Vec<String>,
    de: Vec<(String, f64)>,
    jp: Vec<(String, f64)>,
}

/// How a drug is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// MedicationAdministration (inpatient).
    Administration,
    /// MedicationRequest (prescription).
    Request,
    /// MedicationStatement (long-term use).
    Statement,
}

#[derive(Debug, Clone)]
struct Treatment {
    situation: String,
    kind: Kind,
    share: f64,
    one_of: Vec<(String, f64)>,
    from: i32,
}

/// The situations a treatment row may name (the generator asks for these).
pub(crate) const SITUATIONS: [&str; 14] = [
    "influenza-outpatient",
    "influenza-inpatient",
    "covid-inpatient",
    "covid-severe",
    "covid-outpatient",
    "sfts",
    "pneumonia-ward",
    "pneumonia-atypical",
    "icu-empirical",
    "bacteraemia-susceptible",
    "bacteraemia-resistant-gram-negative",
    "bacteraemia-mrsa-or-vre",
    "urinary",
    "c-difficile",
];

/// Procedures and medications for one country.
#[derive(Debug, Clone, Default)]
pub(crate) struct Care {
    country: String,
    procedure_system: String,
    procedures: Vec<(String, String, String)>,
    /// Intensive-care procedure rates.
    pub icu: Icu,
    /// Chronic dialysis sessions recorded per patient-year.
    pub dialysis_per_year: f64,
    drugs: Vec<(String, String)>,
    treatments: Vec<Treatment>,
    long_term: Vec<LongTerm>,
}

/// Code prefixes and the drugs `[ATC, probability]` given for them long-term.
type LongTerm = (Vec<String>, Vec<(String, f64)>);

impl Care {
    /// Parses `data/care.toml` for `country`; errors name the file and the field.
    pub(crate) fn parse(source: &str, text: &str, country: &str) -> Result<Care, ProfileError> {
        let bad = |message: String| ProfileError::Invalid {
            name: source.to_owned(),
            message,
        };
        let f: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let de = country == "DE";
        let safe = |s: &str| !s.chars().any(|c| c == '"' || c == '\\' || c.is_control());
        let drugs: Vec<(String, String)> = f
            .drug
            .iter()
            .map(|d| (d.atc.clone(), if de { d.de.clone() } else { d.ja.clone() }))
            .collect();
        for (atc, name) in &drugs {
            if atc.len() != 7 || !atc.bytes().all(|b| b.is_ascii_alphanumeric()) || !safe(name) {
                return Err(bad(format!(
                    "drug `{atc}`: an ATC code has 7 letters and digits; names without quotes or backslashes"
                )));
            }
        }
        let known = |atc: &str, field: &str| -> Result<(), ProfileError> {
            if drugs.iter().any(|d| d.0 == atc) {
                Ok(())
            } else {
                Err(bad(format!("{field}: `{atc}` is not in the [[drug]] list")))
            }
        };
        let share = |v: f64, field: &str| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(bad(format!("{field}: {v} is not a share between 0 and 1")))
            }
        };
        let mut treatments = Vec::new();
        for t in &f.treatment {
            let field = format!("treatment `{}`", t.situation);
            if !SITUATIONS.contains(&t.situation.as_str()) {
                return Err(bad(format!(
                    "{field}: unknown situation (known: {})",
                    SITUATIONS.join(", ")
                )));
            }
            let kind = match t.kind.as_str() {
                "administration" => Kind::Administration,
                "request" => Kind::Request,
                "statement" => Kind::Statement,
                k => {
                    return Err(bad(format!(
                        "{field}: kind `{k}` must be administration, request or statement"
                    )));
                }
            };
            let (s, one_of) = if de {
                (t.share_de, &t.one_of_de)
            } else {
                (t.share_jp, &t.one_of_jp)
            };
            share(t.share_de, &field)?;
            share(t.share_jp, &field)?;
            for (atc, _) in t.one_of_de.iter().chain(&t.one_of_jp) {
                known(atc, &field)?;
            }
            treatments.push(Treatment {
                situation: t.situation.clone(),
                kind,
                share: s,
                one_of: one_of.clone(),
                from: t.from.unwrap_or(i32::MIN),
            });
        }
        let mut long_term = Vec::new();
        for l in &f.long_term {
            let field = format!("long_term {:?}", l.prefixes);
            for (atc, p) in l.de.iter().chain(&l.jp) {
                known(atc, &field)?;
                share(*p, &field)?;
            }
            long_term.push((
                l.prefixes.clone(),
                if de { l.de.clone() } else { l.jp.clone() },
            ));
        }
        let mut procedures = Vec::new();
        for p in &f.procedure {
            if let Some((code, display)) = if de { &p.de } else { &p.jp } {
                if !safe(code) || !safe(display) {
                    return Err(bad(format!(
                        "procedure `{}`: quotes, backslashes and control characters are not allowed",
                        p.key
                    )));
                }
                procedures.push((p.key.clone(), code.clone(), display.clone()));
            }
        }
        for (v, field) in [
            (f.icu.invasive_ventilation, "icu.invasive_ventilation"),
            (f.icu.noninvasive, "icu.noninvasive"),
            (f.icu.ecmo, "icu.ecmo"),
            (f.icu.renal_replacement, "icu.renal_replacement"),
        ] {
            share(v, field)?;
        }
        if !safe(&f.jp_procedure_system) {
            return Err(bad(
                "jp_procedure_system: quotes, backslashes and control characters are not allowed"
                    .into(),
            ));
        }
        Ok(Care {
            country: country.to_owned(),
            procedure_system: if de {
                "http://fhir.de/CodeSystem/bfarm/ops".into()
            } else {
                f.jp_procedure_system
            },
            procedures,
            icu: f.icu,
            dialysis_per_year: f.chronic_dialysis.sessions_per_year.max(0.0),
            drugs,
            treatments,
            long_term,
        })
    }

    fn atc_system(&self) -> &'static str {
        if self.country == "DE" {
            "http://fhir.de/CodeSystem/bfarm/atc"
        } else {
            "http://www.whocc.no/atc"
        }
    }

    /// The id of a drug's Medication resource at this site.
    fn medication_id(site: &str, atc: &str) -> String {
        format!("{site}-med-{atc}")
    }

    /// Writes one Medication resource per drug (once per site).
    pub(crate) fn write_medications(&self, site: &str, out: &mut Out) {
        let (profile, version) = if self.country == "DE" {
            (
                "https://www.medizininformatik-initiative.de/fhir/core/modul-medikation/StructureDefinition/Medication",
                r#","version":"2024""#,
            )
        } else {
            (
                "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Medication",
                "",
            )
        };
        for (atc, name) in &self.drugs {
            let s = format!(
                r#"{{"resourceType":"Medication","id":"{}",{},"code":{{"coding":[{{"system":"{}"{version},"code":"{atc}","display":"{name}"}}]}}}}"#,
                Self::medication_id(site, atc),
                write::meta(profile),
                self.atc_system()
            );
            out.line(write::MEDICATION, &s);
        }
    }

    /// Writes a procedure by key when this country records it; returns whether it did.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn procedure(
        &self,
        out: &mut Out,
        patient: &str,
        id: &str,
        encounter: &str,
        key: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> bool {
        let Some((_, code, display)) = self.procedures.iter().find(|p| p.0 == key) else {
            return false;
        };
        let (profile, version) = if self.country == "DE" {
            (
                "https://www.medizininformatik-initiative.de/fhir/core/modul-prozedur/StructureDefinition/Procedure",
                r#","version":"2024""#,
            )
        } else {
            (
                "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Procedure",
                "",
            )
        };
        let s = format!(
            r#"{{"resourceType":"Procedure","id":"{id}",{},"status":"completed","code":{{"coding":[{{"system":"{}"{version},"code":"{code}","display":"{display}"}}]}},"subject":{{"reference":"Patient/{patient}"}},"encounter":{{"reference":"Encounter/{encounter}"}},"performedPeriod":{{"start":"{}","end":"{}"}}}}"#,
            write::meta(profile),
            self.procedure_system,
            write::dt(start),
            write::dt(end)
        );
        out.line(write::PROCEDURE, &s);
        true
    }

    /// Draws whether `situation` is treated and with which drug; `None` when not.
    pub(crate) fn pick(
        &self,
        r: &mut impl Rng,
        situation: &str,
        at: NaiveDateTime,
    ) -> Option<(&str, Kind)> {
        let t = self.treatments.iter().find(|t| t.situation == situation)?;
        if at.year() < t.from || t.one_of.is_empty() || r.random::<f64>() >= t.share {
            return None;
        }
        Some((crate::pick(r, &t.one_of).as_str(), t.kind))
    }

    /// The long-term drugs of a diagnosis code: `[ATC, probability]`.
    pub(crate) fn long_term_for(&self, code: &str) -> impl Iterator<Item = &(String, f64)> {
        self.long_term
            .iter()
            .filter(move |(prefixes, _)| prefixes.iter().any(|p| code.starts_with(p.as_str())))
            .flat_map(|(_, drugs)| drugs.iter())
    }

    /// Writes a medication record of `kind` for drug `atc`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn medication(
        &self,
        out: &mut Out,
        site: &str,
        patient: &str,
        id: &str,
        encounter: &str,
        atc: &str,
        kind: Kind,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) {
        let mid = Self::medication_id(site, atc);
        let de = self.country == "DE";
        let mii = |r: &str| {
            format!(
                "https://www.medizininformatik-initiative.de/fhir/core/modul-medikation/StructureDefinition/{r}"
            )
        };
        let mut s = String::with_capacity(512);
        match kind {
            Kind::Administration => {
                let profile = if de {
                    mii("MedicationAdministration")
                } else {
                    "http://jpfhir.jp/fhir/core/StructureDefinition/JP_MedicationAdministration"
                        .into()
                };
                let _ = write!(
                    s,
                    r#"{{"resourceType":"MedicationAdministration","id":"{id}",{},"status":"completed","category":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/medication-admin-category","code":"inpatient"}}]}},"medicationReference":{{"reference":"Medication/{mid}"}},"subject":{{"reference":"Patient/{patient}"}},"context":{{"reference":"Encounter/{encounter}"}},"effectivePeriod":{{"start":"{}","end":"{}"}}}}"#,
                    write::meta(&profile),
                    write::dt(start),
                    write::dt(end)
                );
                out.line(write::MEDICATION_ADMINISTRATION, &s);
            }
            Kind::Request => {
                let profile = if de {
                    mii("MedicationRequest")
                } else {
                    "http://jpfhir.jp/fhir/core/StructureDefinition/JP_MedicationRequest".into()
                };
                let _ = write!(
                    s,
                    r#"{{"resourceType":"MedicationRequest","id":"{id}",{},"status":"completed","intent":"order","medicationReference":{{"reference":"Medication/{mid}"}},"subject":{{"reference":"Patient/{patient}"}},"encounter":{{"reference":"Encounter/{encounter}"}},"authoredOn":"{}"}}"#,
                    write::meta(&profile),
                    write::dt(start)
                );
                out.line(write::MEDICATION_REQUEST, &s);
            }
            Kind::Statement => {
                let meta = if de {
                    write::meta(&mii("MedicationStatement"))
                } else {
                    r#""meta":{"lastUpdated":"2026-07-01T00:00:00Z"}"#.to_owned()
                };
                let _ = write!(
                    s,
                    r#"{{"resourceType":"MedicationStatement","id":"{id}",{meta},"status":"active","medicationReference":{{"reference":"Medication/{mid}"}},"subject":{{"reference":"Patient/{patient}"}},"context":{{"reference":"Encounter/{encounter}"}},"effectivePeriod":{{"start":"{}"}},"dateAsserted":"{}"}}"#,
                    write::dt(start),
                    write::dt(start)
                );
                out.line(write::MEDICATION_STATEMENT, &s);
            }
        }
        let _ = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_file_loads_for_both_countries() {
        let text = include_str!("../data/care.toml");
        for c in ["DE", "JP"] {
            let care = Care::parse("care.toml", text, c).unwrap();
            assert!(
                care.procedures.iter().any(|p| p.0 == "ecmo")
                    && care.procedures.iter().any(|p| p.0 == "dialysis"),
                "{c}"
            );
            for s in SITUATIONS {
                assert!(
                    care.treatments.iter().any(|t| t.situation == s),
                    "{c}: no treatment row for {s}"
                );
            }
        }
        let de = Care::parse("care.toml", text, "DE").unwrap();
        assert_eq!(
            de.procedures
                .iter()
                .find(|p| p.0 == "intubation")
                .unwrap()
                .1,
            "8-701"
        );
    }

    #[test]
    fn a_drug_missing_from_the_list_is_named() {
        let text = include_str!("../data/care.toml").replace(
            r#"one_of_jp = [["J05AX27", 1.0]]"#,
            r#"one_of_jp = [["J05AX99", 1.0]]"#,
        );
        let e = Care::parse("care.toml", &text, "JP")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("care.toml") && e.contains("J05AX99") && e.contains("sfts"),
            "{e}"
        );
    }
}
