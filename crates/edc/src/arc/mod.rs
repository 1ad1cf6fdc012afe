//! Registry form sets from ISARIC ARC (v1.5.0, MIT): ARC rows into REDCap fields, as ISARIC
//! BRIDGE converts them (`arc_field_types_readme.md`), and the shipped VHF and SFTS registries.
//!
//! Conversion: `number`, `date_dmy`, `datetime_dmy`, `time` become `text` with that
//! validation (`units` validation is dropped); `radio`/`checkbox`/`calc`/`text`/`notes`/
//! `descriptive` stay. ARC's list types read their options from `Lists/`; an option belongs to
//! a preset when its `preset_…` column is 1 (lists without that column: `Selected`):
//! - `user_list`: a radio (under 15 options) or dropdown of the preset's options and
//!   *Other*; `_otherl2`, a dropdown of the remaining options (and *Other*), shown for
//!   *Other*; `_otherl3`, a text "specify", shown for *Other* in `_otherl2`.
//! - `multi_list`: a checkbox of the preset's options and *Other*, with the same `_otherl2`
//!   and `_otherl3`.
//! - `list`: ARC's yes/no question, then [`LIST_REPEATS`] entries, each `_Nitem` (a dropdown
//!   of every option and *Other*), `_Notherl2` (text, for *Other*) and `_Naddi` ("another?").
//!
//! *Other* is code `88` (ARC's code for other), or `888` in a list whose own values reach 88.
//! The section header is written on the first field of each ARC section.

mod derive;
mod lists;
pub mod registry;

pub use derive::{Addition, Change, Derivation, DerivationError, derive};
pub use lists::{ListItem, Lists};
pub use registry::{Coverage, RegistryError, coverage, coverage_report, sfts_study, vhf_study};

use crate::dictionary::{Choice, Field, FieldType, Validation, parse_choices};
use std::collections::BTreeMap;

/// How many entries a `list` field offers.
pub const LIST_REPEATS: usize = 5;

/// ARC's question bank shipped with the crate (`data/arc/ARC.csv`, v1.5.0).
pub const ARC_CSV: &str = include_str!("../../data/arc/ARC.csv");

/// The column that marks the VHF preset in ARC's lists.
pub const VHF_PRESET_COLUMN: &str = "preset_ARChetype Syndromic CRF_VHF";

/// A row of ARC (the columns the conversion uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArcRow {
    /// The CSV line.
    pub line: usize,
    /// Form.
    pub form: String,
    /// Section.
    pub section: String,
    /// Variable.
    pub variable: String,
    /// Type.
    pub arc_type: String,
    /// Question.
    pub question: String,
    /// Answer Options.
    pub answers: String,
    /// Validation.
    pub validation: String,
    /// Minimum.
    pub min: String,
    /// Maximum.
    pub max: String,
    /// List.
    pub list: String,
    /// Skip Logic.
    pub skip: String,
    /// Completion Guideline.
    pub guideline: String,
    /// Standardized Term Codelist.
    pub codelist: String,
    /// Standardized Term Code.
    pub code: String,
    /// Identifier (`1`: identifying).
    pub identifier: bool,
    /// The `preset_…` columns whose value is 1.
    pub presets: Vec<String>,
}

/// An ARC file or row that cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArcError {
    /// The CSV does not read.
    #[error("{file}: line {line}: {message}")]
    Csv {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// What csv says.
        message: String,
    },
    /// A column ARC always has is missing.
    #[error("{file}: no column '{column}'")]
    Column {
        /// The file.
        file: String,
        /// The column.
        column: &'static str,
    },
    /// A row that does not convert.
    #[error("{file}: line {line}, field '{variable}': {problem}")]
    Row {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The variable.
        variable: String,
        /// What is wrong.
        problem: String,
    },
}

/// Reads ARC's CSV (the question bank or a preset extraction).
pub fn read_rows(file: &str, text: &str) -> Result<Vec<ArcRow>, ArcError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| ArcError::Csv {
            file: file.into(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let col = |name: &'static str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or(ArcError::Column {
                file: file.into(),
                column: name,
            })
    };
    let cols = [
        col("Form")?,
        col("Section")?,
        col("Variable")?,
        col("Type")?,
        col("Question")?,
        col("Answer Options")?,
        col("Validation")?,
        col("Minimum")?,
        col("Maximum")?,
        col("List")?,
        col("Skip Logic")?,
        col("Completion Guideline")?,
        col("Standardized Term Codelist")?,
        col("Standardized Term Code")?,
        col("Identifier")?,
    ];
    let preset_cols: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| h.starts_with("preset_"))
        .map(|(i, h)| (i, h.to_owned()))
        .collect();
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| ArcError::Csv {
            file: file.into(),
            line: e.position().map(|p| p.line() as usize).unwrap_or(0),
            message: e.to_string(),
        })?;
        let c = |i: usize| rec.get(cols[i]).unwrap_or("").trim().to_owned();
        out.push(ArcRow {
            line: rec.position().map(|p| p.line() as usize).unwrap_or(0),
            form: c(0),
            section: c(1),
            variable: c(2),
            arc_type: c(3),
            question: c(4),
            answers: c(5),
            validation: c(6),
            min: c(7),
            max: c(8),
            list: c(9),
            skip: c(10),
            guideline: c(11),
            codelist: c(12),
            code: c(13),
            identifier: c(14) == "1",
            presets: preset_cols
                .iter()
                .filter(|(i, _)| rec.get(*i).map(str::trim) == Some("1"))
                .map(|(_, h)| h.clone())
                .collect(),
        });
    }
    Ok(out)
}

/// The rows of a preset (its column is 1), plus every row their logic refers to that the
/// preset lacks (ARC's presets leave out some gate questions, e.g. `labs_dailydata`, which
/// their items' skip logic names), transitively, in ARC's order. Returns the rows and the
/// variables added that way.
pub fn select_preset(rows: &[ArcRow], preset_column: &str) -> (Vec<ArcRow>, Vec<String>) {
    use std::collections::BTreeSet;
    let mut keep: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.presets.iter().any(|p| p == preset_column))
        .map(|r| r.variable.as_str())
        .collect();
    let by_name: BTreeMap<&str, &ArcRow> = rows.iter().map(|r| (r.variable.as_str(), r)).collect();
    let mut added = Vec::new();
    let mut todo: Vec<&str> = keep.iter().copied().collect();
    while let Some(v) = todo.pop() {
        let r = by_name[v];
        let mut srcs = vec![r.skip.as_str()];
        if r.arc_type == "calc" {
            srcs.push(r.answers.as_str());
        }
        for src in srcs {
            let Ok(e) = crate::logic::parse(src) else {
                continue;
            };
            for var in e.vars() {
                if let Some((name, _)) = by_name.get_key_value(var.field.as_str())
                    && keep.insert(name)
                {
                    added.push((*name).to_owned());
                    todo.push(name);
                }
            }
        }
    }
    let out = rows
        .iter()
        .filter(|r| keep.contains(r.variable.as_str()))
        .cloned()
        .collect();
    added.sort();
    (out, added)
}

fn other_code(items: &[ListItem]) -> &'static str {
    if items.iter().any(|i| i.code == "88") {
        "888"
    } else {
        "88"
    }
}

fn choices_of(items: &[&ListItem], other: &str) -> Vec<Choice> {
    items
        .iter()
        .map(|i| Choice {
            code: i.code.clone(),
            label: i.label.clone(),
        })
        .chain(std::iter::once(Choice {
            code: other.into(),
            label: "Other".into(),
        }))
        .collect()
}

/// Converts ARC rows into REDCap fields for a preset (its column name in `Lists/`).
pub fn to_fields(
    file: &str,
    rows: &[ArcRow],
    lists: &Lists,
    preset_column: &str,
) -> Result<Vec<Field>, ArcError> {
    let mut out = Vec::new();
    let mut last_section: Option<(String, String)> = None;
    for r in rows {
        let row_err = |problem: String| ArcError::Row {
            file: file.into(),
            line: r.line,
            variable: r.variable.clone(),
            problem,
        };
        let mut f = Field::new(&r.variable, &r.form, FieldType::Text, &r.question);
        let key = (r.form.clone(), r.section.clone());
        if !r.section.is_empty() && last_section.as_ref() != Some(&key) {
            f.section_header = r.section.clone();
        }
        last_section = Some(key);
        f.branching = r.skip.clone();
        f.note = r.guideline.clone();
        f.identifier = r.identifier;
        if !r.code.is_empty() {
            f.annotation = format!("{}: {}", r.codelist, r.code);
        }
        f.min = r.min.clone();
        f.max = r.max.clone();
        let simple = |t: &str| FieldType::parse(t);
        let mut extra = Vec::new();
        match r.arc_type.as_str() {
            "number" => f.validation = Some(Validation::Number),
            "date_dmy" => f.validation = Some(Validation::DateDmy),
            "datetime_dmy" => f.validation = Some(Validation::DatetimeDmy),
            "time" => f.validation = Some(Validation::Time),
            "radio" | "checkbox" | "dropdown" => {
                f.field_type = simple(&r.arc_type).unwrap_or(FieldType::Radio);
                f.choices = parse_choices(&r.answers).map_err(|e| row_err(e.to_string()))?;
            }
            "calc" => {
                f.field_type = FieldType::Calc;
                f.calculation = r.answers.clone();
            }
            "text" | "notes" | "descriptive" | "file" => {
                f.field_type = simple(&r.arc_type).unwrap_or(FieldType::Text);
            }
            "user_list" | "multi_list" => {
                let items = lists
                    .get(&r.list)
                    .ok_or_else(|| row_err(format!("unknown list '{}'", r.list)))?;
                let other = other_code(items);
                let sel = lists.selected(&r.list, preset_column);
                let rest: Vec<&ListItem> = items.iter().filter(|i| !sel.contains(i)).collect();
                f.choices = choices_of(&sel, other);
                let multi = r.arc_type == "multi_list";
                f.field_type = if multi {
                    FieldType::Checkbox
                } else if sel.len() < 15 {
                    FieldType::Radio
                } else {
                    FieldType::Dropdown
                };
                let chosen_other = if multi {
                    format!("[{}({other})]='1'", r.variable)
                } else {
                    format!("[{}]='{other}'", r.variable)
                };
                let specify_when = if rest.is_empty() {
                    chosen_other.clone()
                } else {
                    let mut l2 = Field::new(
                        &format!("{}_otherl2", r.variable),
                        &r.form,
                        FieldType::Dropdown,
                        &format!("{}: other", r.question),
                    );
                    l2.choices = choices_of(&rest, other);
                    l2.branching = chosen_other;
                    extra.push(l2);
                    format!("[{}_otherl2]='{other}'", r.variable)
                };
                let mut l3 = Field::new(
                    &format!("{}_otherl3", r.variable),
                    &r.form,
                    FieldType::Text,
                    &format!("{}: specify other", r.question),
                );
                l3.branching = specify_when;
                extra.push(l3);
            }
            "list" => {
                f.field_type = FieldType::Radio;
                f.choices = parse_choices(&r.answers).map_err(|e| row_err(e.to_string()))?;
                let items = lists
                    .get(&r.list)
                    .ok_or_else(|| row_err(format!("unknown list '{}'", r.list)))?;
                let other = other_code(items);
                let all: Vec<&ListItem> = items.iter().collect();
                for i in 0..LIST_REPEATS {
                    let shown = if i == 0 {
                        format!("[{}]='1'", r.variable)
                    } else {
                        format!("[{}_{}addi]='1'", r.variable, i - 1)
                    };
                    let mut item = Field::new(
                        &format!("{}_{i}item", r.variable),
                        &r.form,
                        FieldType::Dropdown,
                        &format!("{} ({})", r.question, i + 1),
                    );
                    item.choices = choices_of(&all, other);
                    item.branching = shown.clone();
                    let mut l2 = Field::new(
                        &format!("{}_{i}otherl2", r.variable),
                        &r.form,
                        FieldType::Text,
                        "Specify other",
                    );
                    l2.branching = format!("[{}_{i}item]='{other}'", r.variable);
                    extra.push(item);
                    extra.push(l2);
                    if i + 1 < LIST_REPEATS {
                        let mut addi = Field::new(
                            &format!("{}_{i}addi", r.variable),
                            &r.form,
                            FieldType::Radio,
                            "Another?",
                        );
                        addi.choices = parse_choices("1, Yes | 0, No").unwrap_or_default();
                        addi.branching = shown;
                        extra.push(addi);
                    }
                }
            }
            other => return Err(row_err(format!("unknown ARC type '{other}'"))),
        }
        // ARC marks unit selectors with validation `units`; REDCap has no such validation.
        out.push(f);
        out.extend(extra);
    }
    Ok(out)
}

/// The forms of the registries, with their English labels, in order.
pub const REGISTRY_FORMS: [(&str, &str); 6] = [
    ("presentation", "Presentation"),
    ("daily", "Daily assessment"),
    ("medication", "Medication"),
    ("pathogen_testing", "Pathogen testing"),
    ("outcome", "Outcome"),
    ("follow_up", "Follow-up"),
];

/// Form labels of the registries.
pub fn registry_form_labels() -> BTreeMap<String, String> {
    REGISTRY_FORMS
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}
