//! The EDC's pages: the caller's studies (`studies.html`), one study (`study.html`: forms,
//! events, sites, members, export links), and the data-entry form ([`form`], `study_form.html`)
//! with its posted values ([`input`]) and refusals ([`errors`]), data quality ([`quality`]:
//! queries, checks, the dashboard) and the pre-fill panel ([`prefill`]: values the subject's
//! site proposes from its own data).
//!
//! The study's own texts (field labels, choices, notes, section headers, form labels) come
//! from its translations; a text without one in the page's language is the English text,
//! marked ([`Text::fallback`]: the template wraps it in `lang="en"` and a visible marker).

pub mod errors;
pub mod field;
pub mod form;
pub mod input;
pub mod prefill;
pub mod quality;
pub mod subjects;

use crate::Locale;
use kakehashi_edc::Study;
use serde::Serialize;

/// A text of the study in the page's language, or its English text when not translated.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Text {
    /// The text.
    pub text: String,
    /// It is the English text standing in for a missing translation.
    pub fallback: bool,
}

/// The study's text for `key` in `locale` (`english` is the dictionary's own text): English
/// pages show it as is, others their translation or the English text marked.
pub fn study_text(study: &Study, locale: Locale, key: &str, english: &str) -> Text {
    if locale == Locale::En || english.trim().is_empty() {
        return Text {
            text: english.to_owned(),
            fallback: false,
        };
    }
    match study.translated(locale.code(), key) {
        Some(t) if !t.trim().is_empty() => Text {
            text: t.to_owned(),
            fallback: false,
        },
        _ => Text {
            text: english.to_owned(),
            fallback: true,
        },
    }
}

/// A form's label in the page's language.
pub fn form_label(study: &Study, locale: Locale, form: &str) -> Text {
    study_text(
        study,
        locale,
        &format!("form:{form}"),
        &study.form_label(form),
    )
}

/// A study in the caller's list.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StudyRow {
    /// Id (the page's address).
    pub id: String,
    /// Title.
    pub title: String,
    /// Acronym.
    pub acronym: String,
    /// Status (`draft`, `sleeping`, `active`, `closed`; message key `study-status-…`).
    pub status: String,
    /// Number of forms.
    pub forms: usize,
    /// Number of fields.
    pub fields: usize,
    /// Number of sites.
    pub sites: usize,
    /// The caller's role in it (empty: the network office, not a member).
    pub role: String,
}

/// `/studies`: the studies the caller holds a role in (the network office: all).
#[derive(Debug, Clone, Serialize, Default)]
pub struct StudiesPage {
    /// The studies, by id.
    pub studies: Vec<StudyRow>,
}

/// A form of a study.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FormRow {
    /// The form's name.
    pub name: String,
    /// Its label.
    pub label: Text,
    /// How many fields.
    pub fields: usize,
    /// Fields still without a text in the page's language (0 on English pages).
    pub untranslated: usize,
}

/// An event of an arm.
#[derive(Debug, Clone, Serialize, Default)]
pub struct EventRow {
    /// The arm's name.
    pub arm: String,
    /// The unique event name.
    pub name: String,
    /// Its label.
    pub label: String,
    /// The planned day.
    pub day: i32,
    /// The window: days before and after.
    pub window: (u32, u32),
    /// The forms it collects, labelled; repeating ones flagged.
    pub forms: Vec<(Text, bool)>,
}

/// A member of the study.
#[derive(Debug, Clone, Serialize, Default)]
pub struct MemberRow {
    /// The user.
    pub user: String,
    /// The study role.
    pub role: String,
    /// The site, empty for every site.
    pub site: String,
}

/// `/studies/{id}`: what the study is and collects, where, and who works in it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StudyPage {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Acronym.
    pub acronym: String,
    /// Protocol version.
    pub protocol_version: String,
    /// Sponsor.
    pub sponsor: String,
    /// Status (message key `study-status-…`).
    pub status: String,
    /// Ethics approvals: country, committee, reference, date.
    pub ethics: Vec<(String, String, String, String)>,
    /// Sites: data access group, name, country.
    pub sites: Vec<(String, String, String)>,
    /// Forms in dictionary order.
    pub forms: Vec<FormRow>,
    /// Events of every arm.
    pub events: Vec<EventRow>,
    /// Members.
    pub members: Vec<MemberRow>,
    /// The caller may export the definition.
    pub can_export: bool,
    /// The subject list is there (the records service is wired).
    pub subjects: bool,
}

fn status_name(s: kakehashi_edc::StudyStatus) -> &'static str {
    use kakehashi_edc::StudyStatus::*;
    match s {
        Draft => "draft",
        Sleeping => "sleeping",
        Active => "active",
        Closed => "closed",
    }
}

impl StudyRow {
    /// A list row.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: &str,
        title: &str,
        acronym: &str,
        status: kakehashi_edc::StudyStatus,
        forms: usize,
        fields: usize,
        sites: usize,
        role: Option<&str>,
    ) -> Self {
        StudyRow {
            id: id.into(),
            title: title.into(),
            acronym: acronym.into(),
            status: status_name(status).into(),
            forms,
            fields,
            sites,
            role: role.unwrap_or_default().into(),
        }
    }
}

impl StudyPage {
    /// The page of `s` in `locale`, with its members (user, role, site).
    pub fn new(s: &Study, locale: Locale, members: Vec<MemberRow>, can_export: bool) -> Self {
        let forms = s
            .forms()
            .into_iter()
            .map(|f| {
                let fields: Vec<_> = s.fields.iter().filter(|x| x.form == f).collect();
                let untranslated = fields
                    .iter()
                    .filter(|x| study_text(s, locale, &x.variable, &x.label).fallback)
                    .count();
                FormRow {
                    name: f.into(),
                    label: form_label(s, locale, f),
                    fields: fields.len(),
                    untranslated,
                }
            })
            .collect();
        let events = s
            .arms
            .iter()
            .flat_map(|a| a.events.iter().map(move |e| (a, e)))
            .map(|(a, e)| EventRow {
                arm: a.name.clone(),
                name: e.unique_name.clone(),
                label: e.label.clone(),
                day: e.day_offset,
                window: (e.window_before, e.window_after),
                forms: e
                    .forms
                    .iter()
                    .map(|f| (form_label(s, locale, f), s.is_repeating(&e.unique_name, f)))
                    .collect(),
            })
            .collect();
        StudyPage {
            id: s.id.clone(),
            title: s.title.clone(),
            acronym: s.acronym.clone(),
            protocol_version: s.protocol_version.clone(),
            sponsor: s.sponsor.clone(),
            status: status_name(s.status).into(),
            ethics: s
                .ethics
                .iter()
                .map(|e| {
                    (
                        e.country.clone(),
                        e.committee.clone(),
                        e.reference.clone(),
                        e.approved_on.clone(),
                    )
                })
                .collect(),
            sites: s
                .sites
                .iter()
                .map(|d| (d.dag.clone(), d.name.clone(), d.country.clone()))
                .collect(),
            forms,
            events,
            members,
            can_export,
            subjects: false,
        }
    }
}
