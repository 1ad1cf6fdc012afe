//! One field of the data-entry form as the page shows it: its kind, label, options, format
//! hint, missing-data code and problem, in the page's language; stored dates in the field's
//! display order; calculated fields computed with edc's evaluator.

use super::errors::Placed;
use super::form::FormContext;
use super::{Text, study_text};
use crate::Locale;
use crate::i18n::Catalog;
use kakehashi_edc::Study;
use kakehashi_edc::dictionary::{Field, FieldType, Validation};
use kakehashi_edc::logic::{self, Record};
use serde::Serialize;
use std::collections::BTreeMap;

/// One option of a choice field.
#[derive(Debug, Clone, Serialize, Default)]
pub struct OptionView {
    /// The stored code.
    pub code: String,
    /// The label.
    pub label: Text,
    /// Chosen (ticked).
    pub checked: bool,
}

/// A field on the page.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FieldView {
    /// The variable (the inputs' names and ids derive from it).
    pub var: String,
    /// How it is entered: `text`, `notes`, `dropdown`, `radio` (also yes/no and true/false),
    /// `checkbox`, `calc`, `descriptive`, `slider`, `file` (not supported here), `identifier`
    /// (identifying: stays at the site, never entered at the hub).
    pub kind: String,
    /// The section header above it.
    pub section: Option<Text>,
    /// The label.
    pub label: Text,
    /// The field note.
    pub note: Option<Text>,
    /// Required to complete the form.
    pub required: bool,
    /// The value shown (empty when a missing-data code stands for it).
    pub value: String,
    /// The options of a choice field.
    pub options: Vec<OptionView>,
    /// The format expected (`YYYY-MM-DD`, "a whole number", …), shown as a hint; empty for
    /// free text.
    pub format: String,
    /// The pattern shown inside an empty date or time input (`DD-MM-YYYY`), else empty.
    pub placeholder: String,
    /// The `inputmode` for the on-screen keyboard (`text`, `decimal`, `numeric`, `email`).
    pub inputmode: String,
    /// The range, when the field has one (shown in the hint).
    pub min: String,
    /// Upper end.
    pub max: String,
    /// Slider labels (left, middle, right).
    pub slider: Vec<String>,
    /// The missing-data code chosen.
    pub missing: String,
    /// A missing-data code may be chosen.
    pub missing_allowed: bool,
    /// The problem with the value, in the page's language.
    pub error: Option<String>,
}

/// The format a validation type expects (a pattern such as `DD-MM-YYYY`, or the message key
/// of a description: `study-format-…`) and the `inputmode` for it.
fn expected(v: Validation) -> (&'static str, &'static str) {
    use Validation::*;
    match v {
        DateYmd => ("YYYY-MM-DD", "text"),
        DateMdy => ("MM-DD-YYYY", "text"),
        DateDmy => ("DD-MM-YYYY", "text"),
        DatetimeYmd => ("YYYY-MM-DD HH:MM", "text"),
        DatetimeMdy => ("MM-DD-YYYY HH:MM", "text"),
        DatetimeDmy => ("DD-MM-YYYY HH:MM", "text"),
        DatetimeSecondsYmd => ("YYYY-MM-DD HH:MM:SS", "text"),
        DatetimeSecondsMdy => ("MM-DD-YYYY HH:MM:SS", "text"),
        DatetimeSecondsDmy => ("DD-MM-YYYY HH:MM:SS", "text"),
        Time => ("HH:MM", "text"),
        TimeMmSs => ("MM:SS", "text"),
        Integer => ("study-format-integer", "numeric"),
        Number => ("study-format-number", "decimal"),
        NumberCommaDecimal => ("study-format-comma", "decimal"),
        Number1dp => ("study-format-1dp", "decimal"),
        Number2dp => ("study-format-2dp", "decimal"),
        Number3dp => ("study-format-3dp", "decimal"),
        Number4dp => ("study-format-4dp", "decimal"),
        Email => ("study-format-email", "email"),
        Phone | Zipcode | AlphaOnly => ("", "text"),
    }
}

/// A stored date or date-time (`YYYY-MM-DD[ HH:MM[:SS]]`) in the field's display order
/// (`date_dmy`: `DD-MM-YYYY`), as the user types it; anything else as it is.
pub fn displayed(value: &str, v: Option<Validation>) -> String {
    use Validation::*;
    let order = match v {
        Some(DateDmy | DatetimeDmy | DatetimeSecondsDmy) => "dmy",
        Some(DateMdy | DatetimeMdy | DatetimeSecondsMdy) => "mdy",
        _ => return value.to_owned(),
    };
    let (date, time) = match value.split_once(' ') {
        Some((d, t)) => (d, Some(t)),
        None => (value, None),
    };
    let Some(d) = kakehashi_edc::logic::eval::parse_date(date, "ymd") else {
        return value.to_owned();
    };
    let shown = if order == "dmy" {
        d.format("%d-%m-%Y")
    } else {
        d.format("%m-%d-%Y")
    };
    match time {
        Some(t) => format!("{shown} {t}"),
        None => shown.to_string(),
    }
}

fn kind(t: FieldType) -> &'static str {
    match t {
        FieldType::Text => "text",
        FieldType::Notes => "notes",
        FieldType::Dropdown | FieldType::Sql => "dropdown",
        FieldType::Radio | FieldType::Yesno | FieldType::Truefalse => "radio",
        FieldType::Checkbox => "checkbox",
        FieldType::Calc => "calc",
        FieldType::Descriptive => "descriptive",
        FieldType::Slider => "slider",
        FieldType::File => "file",
    }
}

fn option_label(s: &Study, l: Locale, f: &Field, code: &str, english: &str) -> Text {
    if matches!(f.field_type, FieldType::Yesno | FieldType::Truefalse) {
        let key = match (f.field_type, code) {
            (FieldType::Yesno, "1") => "study-yes",
            (FieldType::Yesno, _) => "study-no",
            (_, "1") => "study-true",
            _ => "study-false",
        };
        return Text {
            text: Catalog::global().text(l, key, &[]),
            fallback: false,
        };
    }
    study_text(s, l, &format!("{}={code}", f.variable), english)
}

fn calc_value(f: &Field, values: &BTreeMap<String, String>, event: &str) -> String {
    match logic::parse(&f.calculation) {
        Ok(e) => {
            let mut r = Record::from_pairs(values.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            r.smart.insert("event-name".into(), event.into());
            logic::eval(&e, &r).to_stored()
        }
        Err(_) => String::new(),
    }
}

pub(crate) fn field_view(
    c: &FormContext<'_>,
    f: &Field,
    values: &BTreeMap<String, String>,
    placed: &Placed,
) -> FieldView {
    let (s, l) = (c.study, c.locale);
    let raw = values.get(&f.variable).cloned().unwrap_or_default();
    let missing = if f.field_type == FieldType::Checkbox {
        // a checkbox's missing-data code is its extra option `var___ni` ticked
        s.missing_codes
            .iter()
            .find(|m| {
                values
                    .get(&format!(
                        "{}___{}",
                        f.variable,
                        m.code().to_ascii_lowercase()
                    ))
                    .is_some_and(|v| v == "1")
            })
            .map(|m| m.code().to_owned())
            .unwrap_or_default()
    } else {
        kakehashi_edc::entry::MissingCode::parse(&raw)
            .filter(|m| s.missing_codes.contains(m))
            .map(|m| m.code().to_owned())
            .unwrap_or_default()
    };
    let value = if missing.is_empty() {
        raw
    } else {
        String::new()
    };
    let options = match f.field_type {
        FieldType::Checkbox => f
            .choices
            .iter()
            .map(|o| OptionView {
                code: o.code.clone(),
                label: option_label(s, l, f, &o.code, &o.label),
                checked: values
                    .get(&format!("{}___{}", f.variable, o.code))
                    .is_some_and(|v| v == "1"),
            })
            .collect(),
        _ => f
            .options()
            .iter()
            .map(|o| OptionView {
                code: o.code.clone(),
                label: option_label(s, l, f, &o.code, &o.label),
                checked: value == o.code,
            })
            .collect(),
    };
    let (format, inputmode) = f.validation.map(expected).unwrap_or(("", "text"));
    let (format, placeholder) = if format.starts_with("study-format-") {
        (Catalog::global().text(l, format, &[]), String::new())
    } else {
        (format.to_owned(), format.to_owned())
    };
    let k = if f.identifier {
        "identifier"
    } else {
        kind(f.field_type)
    };
    let value = if k == "calc" {
        calc_value(f, values, &c.data.event)
    } else {
        displayed(&value, f.validation)
    };
    let text_or_none = |key: String, english: &str| {
        (!english.trim().is_empty()).then(|| study_text(s, l, &key, english))
    };
    FieldView {
        var: f.variable.clone(),
        kind: k.into(),
        section: text_or_none(format!("{}:section", f.variable), &f.section_header),
        label: study_text(s, l, &f.variable, &f.label),
        note: text_or_none(format!("{}:note", f.variable), &f.note),
        required: f.required,
        value,
        options,
        format,
        placeholder,
        inputmode: inputmode.into(),
        min: f.min.clone(),
        max: f.max.clone(),
        slider: if k == "slider" {
            f.calculation
                .split('|')
                .map(|x| x.trim().to_owned())
                .collect()
        } else {
            Vec::new()
        },
        missing,
        missing_allowed: !matches!(k, "calc" | "descriptive" | "file")
            && !s.missing_codes.is_empty(),
        error: placed.fields.get(&f.variable).cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_dates_show_in_the_fields_order() {
        assert_eq!(
            displayed("2026-06-02", Some(Validation::DateDmy)),
            "02-06-2026"
        );
        assert_eq!(
            displayed("2026-06-02 07:30", Some(Validation::DatetimeMdy)),
            "06-02-2026 07:30"
        );
        assert_eq!(
            displayed("2026-06-02", Some(Validation::DateYmd)),
            "2026-06-02"
        );
        assert_eq!(
            displayed("02-06-2026", Some(Validation::DateDmy)),
            "02-06-2026",
            "as typed"
        );
        assert_eq!(displayed("UNK", None), "UNK");
    }
}
