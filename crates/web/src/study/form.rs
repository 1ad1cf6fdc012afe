//! The data-entry form's page model (`study_form.html`), built from the study, the stored
//! form ([`FormData`]) and, after a refused save, what the user entered and why it was refused.
//!
//! Branching logic is evaluated here with edc's evaluator on the values the page shows (the
//! stored ones with any entered ones laid over them): a field whose logic is false is not on
//! the page, and appears when a save makes its logic true, without JavaScript. Calculated
//! fields show their value, read-only.

use super::errors::{Placed, place};
use super::input::{FormInput, status_name};
use super::{Text, form_label, study_text};
use crate::Locale;
use crate::i18n::Catalog;
use kakehashi_edc::Study;
use kakehashi_edc::dictionary::{Field, FieldType, Validation};
use kakehashi_edc::entry::{EntryError, FormData, SignatureMeaning};
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
    /// The format expected (`YYYY-MM-DD`, …), shown as a hint; empty for free text.
    pub format: String,
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

/// A change in the field history.
#[derive(Debug, Clone, Serialize, Default)]
pub struct HistoryRow {
    /// Who.
    pub user: String,
    /// When (RFC 3339).
    pub at: String,
    /// The variable.
    pub field: String,
    /// Before.
    pub old: String,
    /// After.
    pub new: String,
    /// The reason given.
    pub reason: String,
}

/// An e-signature shown on the form.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SignatureRow {
    /// The printed name.
    pub name: String,
    /// The user id.
    pub user: String,
    /// When (RFC 3339).
    pub at: String,
    /// The meaning (`review`, …; message key `study-meaning-…`).
    pub meaning: String,
}

/// The data-entry page of one form of one subject at one event, at
/// `/studies/{study}/subjects/{record}/{event}/{form}/{instance}` (POST there saves; `/lock`,
/// `/unlock` and `/sign` below it).
#[derive(Debug, Clone, Serialize, Default)]
pub struct FormPage {
    /// The study's id.
    pub study: String,
    /// Its acronym.
    pub acronym: String,
    /// The subject (pseudonym).
    pub record: String,
    /// The subject's site.
    pub site: String,
    /// The event's label.
    pub event: String,
    /// The form's label.
    pub form: Text,
    /// The repeat instance.
    pub instance: u32,
    /// The event's unique name (in the form's address).
    pub event_name: String,
    /// The form's name (in its address).
    pub form_name: String,
    /// The fields shown, in order.
    pub fields: Vec<FieldView>,
    /// Fields hidden by their branching logic.
    pub hidden: usize,
    /// The stored version read (sent back with every change; a stale one is refused).
    pub version: String,
    /// The status chosen (`incomplete`, `unverified`, `complete`).
    pub status: String,
    /// The status stored.
    pub stored_status: String,
    /// The reason as typed.
    pub reason: String,
    /// A reason is required (the form is complete).
    pub reason_required: bool,
    /// The problem with the reason.
    pub reason_error: Option<String>,
    /// A problem with the form as a whole.
    pub form_error: Option<String>,
    /// The fields with a problem, in form order (variable and label): the summary at the top
    /// links to each.
    pub problems: Vec<(String, Text)>,
    /// The user may enter data.
    pub can_edit: bool,
    /// The user may lock, unlock and sign.
    pub can_lock: bool,
    /// Locked: by whom, when (RFC 3339).
    pub locked: Option<(String, String)>,
    /// Signatures since the lock.
    pub signatures: Vec<SignatureRow>,
    /// The meanings a signature may have.
    pub meanings: Vec<String>,
    /// Missing-data codes of the study: code and label in the page's language.
    pub missing_codes: Vec<(String, String)>,
    /// The field history, newest first.
    pub history: Vec<HistoryRow>,
    /// A notice (message key) after a successful step.
    pub notice: Option<String>,
}

/// What the page is built from.
pub struct FormContext<'a> {
    /// The study.
    pub study: &'a Study,
    /// The form as stored.
    pub data: &'a FormData,
    /// The page's language.
    pub locale: Locale,
    /// What was entered, after a refused save.
    pub entered: Option<&'a FormInput>,
    /// Why the last step was refused.
    pub error: Option<&'a EntryError>,
    /// The user may enter data.
    pub can_edit: bool,
    /// The user may lock, unlock and sign.
    pub can_lock: bool,
    /// The event's label.
    pub event_label: String,
    /// The stored version read.
    pub version: String,
}

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
        Integer => ("123", "numeric"),
        Number | NumberCommaDecimal => ("1.5", "decimal"),
        Number1dp => ("1.0", "decimal"),
        Number2dp => ("1.00", "decimal"),
        Number3dp => ("1.000", "decimal"),
        Number4dp => ("1.0000", "decimal"),
        Email => ("name@example.org", "email"),
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

fn field_view(
    c: &FormContext<'_>,
    f: &Field,
    values: &BTreeMap<String, String>,
    placed: &Placed,
) -> FieldView {
    let (s, l) = (c.study, c.locale);
    let raw = values.get(&f.variable).cloned().unwrap_or_default();
    let missing = kakehashi_edc::entry::MissingCode::parse(&raw)
        .filter(|m| s.missing_codes.contains(m))
        .map(|m| m.code().to_owned())
        .unwrap_or_default();
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
        format: format.into(),
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
        missing_allowed: !matches!(k, "calc" | "descriptive" | "file" | "checkbox")
            && !s.missing_codes.is_empty(),
        error: placed.fields.get(&f.variable).cloned(),
    }
}

/// Builds the page.
pub fn form_page(c: &FormContext<'_>) -> FormPage {
    let (s, d, l) = (c.study, c.data, c.locale);
    let cat = Catalog::global();
    let values = match c.entered {
        Some(i) => i.overlay(s, &d.values),
        None => d.values.clone(),
    };
    let placed = c.error.map(|e| place(e, l)).unwrap_or_default();
    let probe = FormData {
        values: values.clone(),
        ..d.clone()
    };
    let on_form: Vec<&Field> = s.fields.iter().filter(|f| f.form == d.form).collect();
    let shown: Vec<&Field> = on_form
        .iter()
        .copied()
        .filter(|f| probe.is_shown(f))
        .collect();
    let fields: Vec<FieldView> = shown
        .iter()
        .map(|f| field_view(c, f, &values, &placed))
        .collect();
    let problems = fields
        .iter()
        .filter(|f| f.error.is_some())
        .map(|f| (f.var.clone(), f.label.clone()))
        .collect();
    let mut history: Vec<HistoryRow> = d
        .history
        .iter()
        .map(|h| HistoryRow {
            user: h.user.clone(),
            at: h.at.to_rfc3339(),
            field: h.field.clone(),
            old: h.old.clone(),
            new: h.new.clone(),
            reason: h.reason.clone().unwrap_or_default(),
        })
        .collect();
    history.reverse();
    let status = c.entered.and_then(|i| i.status).unwrap_or(d.status);
    FormPage {
        study: s.id.clone(),
        acronym: s.acronym.clone(),
        record: d.record.clone(),
        site: d.site.clone(),
        event: c.event_label.clone(),
        form: form_label(s, l, &d.form),
        instance: d.instance,
        event_name: d.event.clone(),
        form_name: d.form.clone(),
        hidden: on_form.len() - shown.len(),
        fields,
        version: c.version.clone(),
        status: status_name(status).into(),
        stored_status: status_name(d.status).into(),
        reason: c.entered.map(|i| i.reason.clone()).unwrap_or_default(),
        reason_required: d.status == kakehashi_edc::entry::FormStatus::Complete,
        reason_error: placed.reason,
        form_error: placed.form,
        problems,
        can_edit: c.can_edit && d.lock.is_none(),
        can_lock: c.can_lock,
        locked: d.lock.as_ref().map(|k| (k.user.clone(), k.at.to_rfc3339())),
        signatures: d
            .signatures
            .iter()
            .map(|g| SignatureRow {
                name: g.full_name.clone(),
                user: g.user.clone(),
                at: g.at.to_rfc3339(),
                meaning: meaning_name(g.meaning).into(),
            })
            .collect(),
        meanings: MEANINGS.iter().map(|m| meaning_name(*m).into()).collect(),
        missing_codes: s
            .missing_codes
            .iter()
            .map(|m| {
                (
                    m.code().to_owned(),
                    cat.text(l, &format!("study-missing-{}", m.code()), &[]),
                )
            })
            .collect(),
        history,
        notice: None,
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

const MEANINGS: [SignatureMeaning; 4] = [
    SignatureMeaning::Review,
    SignatureMeaning::Approval,
    SignatureMeaning::Responsibility,
    SignatureMeaning::Authorship,
];

/// A signature meaning's name in the page.
pub fn meaning_name(m: SignatureMeaning) -> &'static str {
    match m {
        SignatureMeaning::Review => "review",
        SignatureMeaning::Approval => "approval",
        SignatureMeaning::Responsibility => "responsibility",
        SignatureMeaning::Authorship => "authorship",
    }
}

/// The signature meaning named `s` in the page.
pub fn meaning_of(s: &str) -> Option<SignatureMeaning> {
    MEANINGS.into_iter().find(|m| meaning_name(*m) == s)
}
