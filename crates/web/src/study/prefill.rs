//! The pre-fill panel of the data-entry form (`study_form.html`): the button that asks the
//! subject's site for values from its own data, and the latest answer: each proposed value
//! with its source, to accept as is or edit first (one small form each, without
//! JavaScript), the items the site found nothing for and why, or the site's refusal.

use super::{Text, study_text};
use crate::Locale;
use kakehashi_edc::Study;
use kakehashi_edc::entry::FormData;
use serde::Serialize;

/// One item of the latest answer.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct PrefillRow {
    /// The variable.
    pub var: String,
    /// Its label in the page's language.
    pub label: Text,
    /// The value the site proposes, if it found one.
    pub value: Option<String>,
    /// The label of that value, for a field with choices (`1` → "Male").
    pub value_label: Option<Text>,
    /// Where the value comes from (resource, code, value as stored, unit, time).
    pub source: String,
    /// Why the site found no value.
    pub note: Option<String>,
    /// The value stored now.
    pub current: String,
    /// The stored value is the proposed one.
    pub accepted: bool,
}

/// The panel.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct PrefillPanel {
    /// The latest request's state: empty (none yet), `pending`, `proposed`, `refused`.
    pub status: String,
    /// Who asked, and when (RFC 3339).
    pub requested: Option<(String, String)>,
    /// The site's reason, when it refused.
    pub refused: Option<String>,
    /// The items, in the form's order.
    pub rows: Vec<PrefillRow>,
}

/// One item as the hub read it from the site's answer.
pub struct Proposed<'a> {
    /// The field.
    pub field: &'a str,
    /// The value.
    pub value: Option<&'a str>,
    /// The source, described.
    pub source: String,
    /// Why there is no value.
    pub note: Option<&'a str>,
}

/// Builds the panel from the latest request (`None`: none made yet) and the stored form.
pub fn prefill_panel(
    study: &Study,
    locale: Locale,
    data: &FormData,
    latest: Option<(&str, &str, &str, Option<&str>)>,
    proposed: &[Proposed<'_>],
) -> PrefillPanel {
    let Some((status, by, at, refused)) = latest else {
        return PrefillPanel::default();
    };
    let mut rows: Vec<PrefillRow> = proposed
        .iter()
        .map(|p| {
            let current = data.values.get(p.field).cloned().unwrap_or_default();
            let field = study.fields.iter().find(|f| f.variable == p.field);
            let value_label = field.zip(p.value).and_then(|(f, v)| {
                f.options().into_iter().find(|c| c.code == v).map(|c| {
                    study_text(
                        study,
                        locale,
                        &format!("{}={}", f.variable, c.code),
                        &c.label,
                    )
                })
            });
            PrefillRow {
                var: p.field.to_owned(),
                label: field
                    .map(|f| study_text(study, locale, &f.variable, &f.label))
                    .unwrap_or_default(),
                value: p.value.map(str::to_owned),
                value_label,
                source: p.source.clone(),
                note: p.note.map(str::to_owned),
                accepted: p.value.is_some_and(|v| v == current),
                current,
            }
        })
        .collect();
    let order = |v: &str| study.fields.iter().position(|f| f.variable == v);
    rows.sort_by_key(|r| order(&r.var));
    PrefillPanel {
        status: status.to_owned(),
        requested: Some((by.to_owned(), at.to_owned())),
        refused: refused.map(str::to_owned),
        rows,
    }
}
