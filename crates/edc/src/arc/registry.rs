//! The shipped registries: VHF (ARC's VHF preset) and SFTS (VHF with `data/sfts.toml`),
//! their events (after ISARIC BRIDGE's project: admission, repeating daily event, medication
//! and testing summary with repeating forms, outcome, repeating follow-up), roles, missing-data
//! codes, and their German and Japanese texts (`data/translations.toml`) with a coverage
//! report.

use super::{ARC_CSV, ArcError, Derivation, DerivationError, Lists, VHF_PRESET_COLUMN};
use crate::dictionary::{Field, FieldType};
use crate::entry::MissingCode;
use crate::quality::QualityRule;
use crate::study::{Arm, Event, FormRights, RepeatingForm, Role, Study, StudyStatus};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The SFTS derivation shipped with the crate.
pub const SFTS_DERIVATION: &str = include_str!("../../data/sfts.toml");
/// The German and Japanese texts shipped with the crate.
pub const TRANSLATIONS: &str = include_str!("../../data/translations.toml");

/// A registry that cannot be built (a broken shipped data file).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegistryError {
    /// ARC's rows.
    #[error(transparent)]
    Arc(#[from] ArcError),
    /// The derivation.
    #[error(transparent)]
    Derivation(#[from] DerivationError),
    /// The translations file.
    #[error("data/translations.toml: {0}")]
    Translations(String),
    /// The pre-fill declaration (`data/prefill.toml`).
    #[error("data/prefill.toml: {0}")]
    Prefill(#[from] crate::prefill::PrefillError),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LangTable {
    #[serde(default)]
    forms: BTreeMap<String, String>,
    #[serde(default)]
    sections: BTreeMap<String, String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    choices: BTreeMap<String, String>,
    #[serde(default)]
    answers: BTreeMap<String, String>,
}

/// The VHF registry's fields: ARC's VHF preset rows (and the gate questions their logic
/// names), converted.
pub fn vhf_fields() -> Result<Vec<Field>, ArcError> {
    let rows = super::read_rows("ARC.csv", ARC_CSV)?;
    let (rows, _) = super::select_preset(&rows, VHF_PRESET_COLUMN);
    super::to_fields("ARC.csv", &rows, &Lists::shipped(), VHF_PRESET_COLUMN)
}

/// The VHF registry.
pub fn vhf_study() -> Result<Study, RegistryError> {
    let fields = vhf_fields()?;
    registry(
        "vhf-registry",
        "Viral haemorrhagic fever (VHF) registry",
        "VHF-REG",
        fields,
    )
}

/// The SFTS registry.
pub fn sfts_study() -> Result<Study, RegistryError> {
    let d = Derivation::parse("data/sfts.toml", SFTS_DERIVATION)?;
    let fields = super::derive("data/sfts.toml", &vhf_fields()?, &d)?;
    registry(&d.id, &d.title, &d.acronym, fields)
}

fn rights(
    view: bool,
    edit: bool,
    lock: bool,
    resolve: bool,
    export: bool,
    api: bool,
) -> FormRights {
    FormRights {
        view,
        edit,
        lock,
        resolve_queries: resolve,
        export,
        api,
    }
}

fn role(name: &str, all_sites: bool, open_queries: bool, r: FormRights) -> Role {
    Role {
        name: name.into(),
        all_sites,
        open_queries,
        forms: BTreeMap::from([("*".to_owned(), r)]),
    }
}

fn event(
    name: &str,
    label: &str,
    day: i32,
    before: u32,
    after: u32,
    repeating: bool,
    forms: &[&str],
) -> Event {
    Event {
        unique_name: name.into(),
        label: label.into(),
        day_offset: day,
        window_before: before,
        window_after: after,
        repeating,
        forms: forms.iter().map(|f| (*f).into()).collect(),
    }
}

/// The consistency rules both registries start with (a study team adds its own).
fn registry_rules() -> Vec<QualityRule> {
    let rule = |id: &str, field: &str, label: &str, logic: &str| QualityRule {
        id: id.into(),
        label: label.into(),
        logic: logic.into(),
        field: field.into(),
        realtime: true,
    };
    vec![
        rule(
            "outcome_before_admission",
            "outco_date",
            "The outcome date is before the admission date",
            "[outco_date] <> '' and [initial_assessment_arm_1][pres_date] <> '' and \
             datediff([initial_assessment_arm_1][pres_date], [outco_date], 'd', true) < 0",
        ),
        rule(
            "onset_after_admission",
            "pres_onsetdate",
            "The first symptom began after the admission date: please confirm",
            "[pres_onsetdate] <> '' and [pres_date] <> '' and \
             datediff([pres_onsetdate], [pres_date], 'd', true) < 0",
        ),
        rule(
            "platelets_implausible",
            "labs_platelets_109l",
            "Platelet count outside 1-1500 x 10^9/L: check the value and its unit",
            "[labs_platelets_109l] <> '' and ([labs_platelets_109l] < 1 or [labs_platelets_109l] > 1500)",
        ),
    ]
}

fn registry(
    id: &str,
    title: &str,
    acronym: &str,
    fields: Vec<Field>,
) -> Result<Study, RegistryError> {
    let mut s = Study::from_dictionary(id, title, fields);
    s.acronym = acronym.into();
    s.sponsor = "(set by the study team)".into();
    s.status = StudyStatus::Draft;
    s.form_labels = super::registry_form_labels();
    s.arms = vec![Arm {
        number: 1,
        name: "Arm 1".into(),
        events: vec![
            event(
                "initial_assessment_arm_1",
                "Initial assessment / admission",
                0,
                0,
                1,
                false,
                &["presentation", "daily"],
            ),
            event("daily_arm_1", "Daily", 1, 0, 0, true, &["daily"]),
            event(
                "summary_medication_arm_1",
                "Summary: medication / testing",
                0,
                0,
                90,
                false,
                &["medication", "pathogen_testing"],
            ),
            event(
                "outcome__end_of_st_arm_1",
                "Outcome / end of study",
                28,
                28,
                62,
                false,
                &["outcome"],
            ),
            event(
                "follow_up_arm_1",
                "Follow-up",
                90,
                14,
                14,
                false,
                &["follow_up"],
            ),
        ],
    }];
    s.quality_rules = registry_rules();
    s.enrolment_date = Some("pres_enrolmentdate".into());
    s.repeating_forms = vec![
        RepeatingForm {
            event: "summary_medication_arm_1".into(),
            form: "medication".into(),
        },
        RepeatingForm {
            event: "summary_medication_arm_1".into(),
            form: "pathogen_testing".into(),
        },
        RepeatingForm {
            event: "follow_up_arm_1".into(),
            form: "follow_up".into(),
        },
    ];
    s.roles = vec![
        role(
            "investigator",
            false,
            false,
            rights(true, true, true, true, false, false),
        ),
        role(
            "data_entry",
            false,
            false,
            rights(true, true, false, true, false, false),
        ),
        role(
            "monitor",
            true,
            true,
            rights(true, false, false, false, false, false),
        ),
        role(
            "data_manager",
            true,
            true,
            rights(true, true, true, true, true, true),
        ),
        role(
            "analyst",
            true,
            false,
            rights(true, false, false, false, true, true),
        ),
        role(
            "read_only",
            false,
            false,
            rights(true, false, false, false, false, false),
        ),
    ];
    s.missing_codes = MissingCode::ALL.to_vec();
    s.translations = translations(&s)?;
    s.prefill = crate::prefill::registry_items(id, &s.fields)?;
    Ok(s)
}

/// The translation keys of a study's texts (`Study::translations`), from the shipped file.
fn translations(s: &Study) -> Result<BTreeMap<String, BTreeMap<String, String>>, RegistryError> {
    let file: BTreeMap<String, LangTable> =
        toml::from_str(TRANSLATIONS).map_err(|e| RegistryError::Translations(e.to_string()))?;
    let mut out = BTreeMap::new();
    for (lang, t) in file {
        let mut m = BTreeMap::new();
        for form in s.forms() {
            if let Some(x) = t.forms.get(form) {
                m.insert(format!("form:{form}"), x.clone());
            }
        }
        for f in &s.fields {
            if let Some(x) = t.fields.get(&f.variable) {
                m.insert(f.variable.clone(), x.clone());
            }
            if !f.section_header.is_empty()
                && let Some(x) = t.sections.get(&f.section_header)
            {
                m.insert(format!("{}:section", f.variable), x.clone());
            }
            for c in f.options() {
                let key = format!("{}={}", f.variable, c.code);
                if let Some(x) = t.choices.get(&key).or_else(|| t.answers.get(&c.label)) {
                    m.insert(key, x.clone());
                }
            }
        }
        out.insert(lang, m);
    }
    Ok(out)
}

/// Which texts of a study lack a translation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Texts counted: form labels, field labels, section headers (not choices).
    pub total: usize,
    /// Per language: the keys without text.
    pub missing: BTreeMap<String, Vec<String>>,
}

/// The translation coverage of a study's form labels, field labels and section headers in the
/// given languages (descriptive fields count: they are shown text too).
pub fn coverage(s: &Study, langs: &[&str]) -> Coverage {
    let mut keys: Vec<String> = s.forms().iter().map(|f| format!("form:{f}")).collect();
    for f in &s.fields {
        if !f.label.is_empty() {
            keys.push(f.variable.clone());
        }
        if !f.section_header.is_empty() {
            keys.push(format!("{}:section", f.variable));
        }
    }
    let missing = langs
        .iter()
        .map(|l| {
            (
                (*l).to_owned(),
                keys.iter()
                    .filter(|k| s.translated(l, k).is_none())
                    .cloned()
                    .collect(),
            )
        })
        .collect();
    Coverage {
        total: keys.len(),
        missing,
    }
}

/// The coverage report as Markdown: counts per language, then each untranslated item with
/// its English text.
pub fn coverage_report(s: &Study, c: &Coverage) -> String {
    let english = |k: &str| -> String {
        if let Some(form) = k.strip_prefix("form:") {
            return s.form_label(form);
        }
        if let Some(var) = k.strip_suffix(":section") {
            return s
                .fields
                .iter()
                .find(|f| f.variable == var)
                .map(|f| f.section_header.clone())
                .unwrap_or_default();
        }
        s.fields
            .iter()
            .find(|f| f.variable == k)
            .map(|f| f.label.clone())
            .unwrap_or_default()
    };
    let mut out = format!("# Translation coverage: {} ({})\n\n", s.title, s.id);
    out.push_str("| language | translated | without text |\n|---|---|---|\n");
    for (l, m) in &c.missing {
        out.push_str(&format!(
            "| {l} | {} of {} | {} |\n",
            c.total - m.len(),
            c.total,
            m.len()
        ));
    }
    for (l, m) in &c.missing {
        out.push_str(&format!(
            "\n## Without {l} text ({}); shown in English, marked\n\n",
            m.len()
        ));
        for k in m {
            let kind = if k.starts_with("form:") {
                "form"
            } else if k.ends_with(":section") {
                "section"
            } else if s
                .fields
                .iter()
                .any(|f| f.variable == *k && f.field_type == FieldType::Descriptive)
            {
                "text"
            } else {
                "item"
            };
            out.push_str(&format!(
                "- `{k}` ({kind}): {}\n",
                english(k).replace('\n', " ")
            ));
        }
    }
    out
}
