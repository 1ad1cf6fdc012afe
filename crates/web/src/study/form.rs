//! The data-entry form's page model (`study_form.html`), built from the study, the stored
//! form ([`FormData`]) and, after a refused save, what the user entered and why it was refused.
//!
//! Branching logic is evaluated here with edc's evaluator on the values the page shows (the
//! stored ones with any entered ones laid over them): a field whose logic is false is not on
//! the page, and appears when a save makes its logic true, without JavaScript. Calculated
//! fields show their value, read-only.

pub use super::field::{FieldView, OptionView, displayed};

use super::errors::place;
use super::field::field_view;
use super::input::{FormInput, status_name};
use super::{Text, form_label, study_text};
use crate::Locale;
use crate::i18n::Catalog;
use kakehashi_edc::Study;
use kakehashi_edc::dictionary::Field;
use kakehashi_edc::entry::{EntryError, FormData, RecordContext, SignatureMeaning};
use serde::Serialize;

/// A change in the field history.
#[derive(Debug, Clone, Serialize, Default)]
pub struct HistoryRow {
    /// Who.
    pub user: String,
    /// When (RFC 3339).
    pub at: String,
    /// The variable (`var___code` for a checkbox option).
    pub field: String,
    /// Its field's label in the page's language.
    pub label: Text,
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
    /// Data-quality findings and queries on this form instance (set by the hub).
    pub quality: Option<super::quality::FormQuality>,
    /// The study declares pre-fill items on this form (the panel is shown).
    pub prefill_available: bool,
    /// The latest pre-fill request and the site's answer.
    pub prefill: super::prefill::PrefillPanel,
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
    /// The record's other saved form instances: branching may read them.
    pub others: &'a [FormData],
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
        .filter(|f| {
            probe.is_shown_in(
                f,
                &RecordContext {
                    fields: &s.fields,
                    missing: &s.missing_codes,
                    others: c.others,
                },
            )
        })
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
            label: {
                let var = h
                    .field
                    .split_once("___")
                    .map_or(h.field.as_str(), |(v, _)| v);
                s.fields
                    .iter()
                    .find(|f| f.variable == var)
                    .map(|f| study_text(s, l, &f.variable, &f.label))
                    .unwrap_or_default()
            },
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
        quality: None,
        prefill_available: !kakehashi_edc::prefill::items_on_form(s, &d.form).is_empty(),
        prefill: Default::default(),
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
