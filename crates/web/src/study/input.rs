//! A data-entry form as the browser posts it, read into the changes `FormData::save` takes.
//!
//! Names: `v_VAR` a field's value (`v_VAR___CODE` = `1` a ticked checkbox option), `m_VAR` its
//! missing-data code, `shown` once per field the page showed (so an unticked checkbox or an
//! unanswered radio on the page clears its value, while fields the page hid by branching logic
//! keep theirs), `status` (`incomplete`, `unverified`, `complete`) and `reason`.

use kakehashi_edc::entry::FormStatus;
use kakehashi_edc::{FieldType, Study};
use std::collections::{BTreeMap, BTreeSet};

/// A posted form that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    /// The status is none of the three.
    #[error("status: '{0}' is not incomplete, unverified or complete")]
    Status(String),
}

/// A form status by its name in the page (`incomplete`, `unverified`, `complete`).
pub fn status_of(name: &str) -> Option<FormStatus> {
    match name {
        "incomplete" => Some(FormStatus::Incomplete),
        "unverified" => Some(FormStatus::Unverified),
        "complete" => Some(FormStatus::Complete),
        _ => None,
    }
}

/// A form status's name in the page.
pub fn status_name(s: FormStatus) -> &'static str {
    match s {
        FormStatus::Incomplete => "incomplete",
        FormStatus::Unverified => "unverified",
        FormStatus::Complete => "complete",
    }
}

/// What the user entered on one form page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FormInput {
    /// Values by variable (`var___code` for checkbox options), as typed.
    pub values: BTreeMap<String, String>,
    /// Missing-data codes chosen, by variable.
    pub missing: BTreeMap<String, String>,
    /// The fields the page showed.
    pub shown: BTreeSet<String>,
    /// The status chosen.
    pub status: Option<FormStatus>,
    /// The reason for the change.
    pub reason: String,
}

impl FormInput {
    /// Reads the posted pairs (other names, such as `csrf`, are left to the caller).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<FormInput, InputError> {
        let mut i = FormInput::default();
        for (k, v) in pairs {
            if let Some(var) = k.strip_prefix("v_") {
                i.values.insert(var.to_owned(), v.clone());
            } else if let Some(var) = k.strip_prefix("m_") {
                if !v.is_empty() {
                    i.missing.insert(var.to_owned(), v.clone());
                }
            } else if k == "shown" {
                i.shown.insert(v.clone());
            } else if k == "status" {
                i.status = Some(status_of(v).ok_or_else(|| InputError::Status(v.clone()))?);
            } else if k == "reason" {
                i.reason = v.clone();
            }
        }
        Ok(i)
    }

    /// The value a field shows after this input: its missing-data code if one was chosen,
    /// else what was typed (checkbox options: `1` ticked, empty not).
    fn entered(&self, study: &Study, var: &str) -> Vec<(String, String)> {
        let Some(f) = study.fields.iter().find(|f| f.variable == var) else {
            // not a field of the study: passed on, for the save to refuse by name
            let v = self.values.get(var).cloned().unwrap_or_default();
            return vec![(var.to_owned(), v)];
        };
        match f.field_type {
            FieldType::Descriptive | FieldType::Calc | FieldType::File | FieldType::Sql => {
                Vec::new()
            }
            FieldType::Checkbox => {
                let chosen = self.missing.get(var);
                let mut out: Vec<(String, String)> = f
                    .choices
                    .iter()
                    .map(|c| {
                        let k = format!("{var}___{}", c.code);
                        let ticked = self.values.get(&k).is_some_and(|v| v == "1");
                        (k, if ticked { "1".into() } else { String::new() })
                    })
                    .collect();
                // a missing-data code: its extra option `var___ni` ticked, the others not
                for m in &study.missing_codes {
                    let on = chosen.is_some_and(|c| c == m.code());
                    out.push((
                        format!("{var}___{}", m.code().to_ascii_lowercase()),
                        if on { "1".into() } else { String::new() },
                    ));
                }
                out
            }
            _ => {
                let v = match self.missing.get(var) {
                    Some(code) => code.clone(),
                    None => self.values.get(var).cloned().unwrap_or_default(),
                };
                vec![(var.to_owned(), v)]
            }
        }
    }

    /// The changes to save: every field the page showed, in dictionary order (the save
    /// records only values that differ, and refuses variables not on the form).
    pub fn changes(&self, study: &Study) -> Vec<(String, String)> {
        let order = |v: &String| {
            study
                .fields
                .iter()
                .position(|f| &f.variable == v)
                .unwrap_or(usize::MAX)
        };
        let mut vars: Vec<&String> = self.shown.iter().collect();
        vars.sort_by_key(|v| order(v));
        vars.into_iter()
            .flat_map(|v| self.entered(study, v))
            .collect()
    }

    /// The values the page shows after this input: the stored ones with what was entered
    /// laid over them (so that nothing typed is lost when a save is refused).
    pub fn overlay(
        &self,
        study: &Study,
        stored: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut out = stored.clone();
        for (k, v) in self.changes(study) {
            if v.is_empty() {
                out.remove(&k);
            } else {
                out.insert(k, v);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kakehashi_edc::dictionary::read_csv;

    pub(crate) fn study() -> Study {
        let csv = "\"Variable / Field Name\",\"Form Name\",\"Section Header\",\"Field Type\",\"Field Label\",\"Choices, Calculations, OR Slider Labels\",\"Field Note\",\"Text Validation Type OR Show Slider Number\",\"Text Validation Min\",\"Text Validation Max\",\"Identifier?\",\"Branching Logic (Show field only if...)\",\"Required Field?\",\"Custom Alignment\",\"Question Number (surveys only)\",\"Matrix Group Name\",\"Matrix Ranking?\",\"Field Annotation\"\n\
subjid,presentation,,text,Subject ID,,,,,,,,,,,,,\n\
fever,presentation,Signs,yesno,Fever,,,,,,,,y,,,,,\n\
temp,presentation,,text,Temperature,,°C,number,25,45,,[fever] = '1',,,,,,\n\
sym,presentation,,checkbox,Symptoms,\"1, Headache | 2, Myalgia\",,,,,,,,,,,,\n";
        let fields = read_csv("t.csv", csv).unwrap();
        Study::from_dictionary("t", "T", fields)
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn shown_fields_become_changes_in_dictionary_order() {
        let s = study();
        let i = FormInput::from_pairs(&pairs(&[
            ("csrf", "x"),
            ("shown", "sym"),
            ("shown", "temp"),
            ("shown", "fever"),
            ("v_fever", "1"),
            ("v_temp", "38.5"),
            ("m_temp", ""),
            ("v_sym___2", "1"),
            ("v_hidden", "left alone"),
            ("status", "unverified"),
            ("reason", "typo"),
        ]))
        .unwrap();
        assert_eq!(i.status, Some(FormStatus::Unverified));
        assert_eq!(i.reason, "typo");
        let c = i.changes(&s);
        let want: Vec<(String, String)> = pairs(&[
            ("fever", "1"),
            ("temp", "38.5"),
            ("sym___1", ""),
            ("sym___2", "1"),
            // the checkbox's missing-data options, none chosen
            ("sym___ni", ""),
            ("sym___unk", ""),
            ("sym___nask", ""),
            ("sym___na", ""),
        ]);
        assert_eq!(c, want, "hidden fields (not shown) are not changed");
    }

    #[test]
    fn a_missing_code_replaces_the_value_and_survives_the_overlay() {
        let s = study();
        let i = FormInput::from_pairs(&pairs(&[
            ("shown", "temp"),
            ("v_temp", "99"),
            ("m_temp", "UNK"),
        ]))
        .unwrap();
        assert_eq!(i.changes(&s), pairs(&[("temp", "UNK")]));
        let stored = BTreeMap::from([("subjid".to_string(), "A1".to_string())]);
        let o = i.overlay(&s, &stored);
        assert_eq!(o.get("temp").map(String::as_str), Some("UNK"));
        assert_eq!(o.get("subjid").map(String::as_str), Some("A1"));
    }

    #[test]
    fn an_unknown_status_is_refused_by_name() {
        let e = FormInput::from_pairs(&pairs(&[("status", "done")])).unwrap_err();
        assert_eq!(e, InputError::Status("done".into()));
        assert!(e.to_string().contains("status"));
    }
}
