//! Data quality pages of a study: the data queries (`study_queries.html`), one query with its
//! thread and steps (`study_query.html`), opening a query on a form (`study_query_new.html`),
//! the checks with one check's findings (`study_quality.html`), and the dashboard
//! (`study_dashboard.html`: enrolment per site over time as SVG with the same figures as a
//! table, completeness per form, pending queries by age).

use super::{Text, form_label, study_text};
use crate::Locale;
use crate::chart::{LineChart, Series};
use kakehashi_edc::Study;
use kakehashi_edc::entry::DataQuery;
use kakehashi_edc::quality::dashboard::{AGE_BANDS, Dashboard};
use serde::Serialize;

/// A field's label in the page's language.
pub fn field_label(s: &Study, locale: Locale, field: &str) -> Text {
    let var = field.split_once("___").map_or(field, |(v, _)| v);
    let english = s
        .fields
        .iter()
        .find(|f| f.variable == var)
        .map_or(field, |f| f.label.as_str());
    study_text(s, locale, var, english)
}

/// Where a query or finding is.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Place {
    /// The record (pseudonym).
    pub record: String,
    /// Its site.
    pub site: String,
    /// The event.
    pub event: String,
    /// The form's name.
    pub form: String,
    /// Its label.
    pub form_label: Text,
    /// The repeat instance.
    pub instance: u32,
    /// The field (`var___code` for a checkbox option).
    pub field: String,
    /// Its label.
    pub field_label: Text,
}

impl Place {
    /// The place of a record's field.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        s: &Study,
        locale: Locale,
        record: &str,
        site: &str,
        event: &str,
        form: &str,
        instance: u32,
        field: &str,
    ) -> Self {
        Place {
            record: record.into(),
            site: site.into(),
            event: event.into(),
            form: form.into(),
            form_label: form_label(s, locale, form),
            instance,
            field: field.into(),
            field_label: field_label(s, locale, field),
        }
    }

    /// The place of a query.
    pub fn of(s: &Study, locale: Locale, q: &DataQuery) -> Self {
        Place::new(
            s, locale, &q.record, &q.site, &q.event, &q.form, q.instance, &q.field,
        )
    }
}

/// A query in the list.
#[derive(Debug, Clone, Serialize, Default)]
pub struct QueryRow {
    /// Its number.
    pub num: i64,
    /// Where.
    pub place: Place,
    /// `open`, `answered`, `closed`.
    pub status: String,
    /// Days since opened.
    pub age_days: i64,
    /// The check it came from (empty: opened by hand).
    pub check: String,
    /// The latest message.
    pub last: String,
}

/// `/studies/{id}/queries`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct QueriesPage {
    /// The study's id.
    pub study: String,
    /// Its acronym.
    pub acronym: String,
    /// The queries shown.
    pub rows: Vec<QueryRow>,
    /// The sites to filter by (those the caller sees).
    pub sites: Vec<String>,
    /// The site filter (empty: all).
    pub site: String,
    /// The state filter (empty: all).
    pub status: String,
}

/// One message of a thread.
#[derive(Debug, Clone, Serialize, Default)]
pub struct MessageRow {
    /// Who.
    pub user: String,
    /// When (RFC 3339).
    pub at: String,
    /// `open`, `answer`, `close`, `reopen`.
    pub action: String,
    /// The text.
    pub text: String,
}

/// `/studies/{id}/queries/{num}`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct QueryPage {
    /// The study's id.
    pub study: String,
    /// Its acronym.
    pub acronym: String,
    /// The number.
    pub num: i64,
    /// Where.
    pub place: Place,
    /// The state.
    pub status: String,
    /// The check it came from (empty: by hand).
    pub check: String,
    /// The thread, oldest first.
    pub thread: Vec<MessageRow>,
    /// The steps the caller may take now (`answer`, `close`, `reopen`).
    pub steps: Vec<String>,
    /// A refused step, in words.
    pub error: Option<String>,
}

/// `/studies/{id}/queries/new?record=…&event=…&form=…&instance=…`: a query on a field.
#[derive(Debug, Clone, Serialize, Default)]
pub struct NewQueryPage {
    /// The study's id.
    pub study: String,
    /// Its acronym.
    pub acronym: String,
    /// The record, event, form and instance (the field is chosen).
    pub place: Place,
    /// The form's fields: variable and label.
    pub fields: Vec<(String, Text)>,
    /// The field chosen.
    pub field: String,
    /// The question as typed.
    pub text: String,
    /// A refusal, in words.
    pub error: Option<String>,
}

/// A check in the list.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CheckRow {
    /// Its id.
    pub id: String,
    /// Built in (its name and description come from the page's language).
    pub built_in: bool,
    /// A rule's label.
    pub label: String,
    /// A rule's logic.
    pub logic: String,
}

/// A finding in a check's results.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FindingRow {
    /// Its id (selects it for a query).
    pub id: String,
    /// Where.
    pub place: Place,
    /// The stored value.
    pub value: String,
    /// What is wrong (English, from the check).
    pub message: String,
    /// The pending query already open on it.
    pub query: Option<i64>,
}

/// `/studies/{id}/quality[?check=…]`: the checks, and one check's findings.
#[derive(Debug, Clone, Serialize, Default)]
pub struct QualityPage {
    /// The study's id.
    pub study: String,
    /// Its acronym.
    pub acronym: String,
    /// The checks.
    pub checks: Vec<CheckRow>,
    /// The check run, if any.
    pub check: Option<CheckRow>,
    /// Its findings.
    pub findings: Vec<FindingRow>,
    /// Records checked.
    pub records: usize,
    /// The caller may open queries.
    pub can_open: bool,
    /// After opening queries: how many opened, how many already pending.
    pub opened: Option<(usize, usize)>,
}

/// A form's completeness row.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CompletenessRow {
    /// The form's label.
    pub form: Text,
    /// Expected, not started, incomplete, unverified, complete, locked.
    pub counts: [u32; 6],
    /// Complete as a share of expected, in percent.
    pub complete_pct: Option<f64>,
    /// Shown fields filled on saved instances, in percent.
    pub filled_pct: Option<f64>,
}

/// `/studies/{id}/dashboard`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DashboardPage {
    /// The study's id.
    pub study: String,
    /// Its acronym.
    pub acronym: String,
    /// Cumulative enrolment per site as SVG (empty: no subjects).
    pub enrolment_svg: String,
    /// The same figures: the Mondays, then per site its cumulative counts, total, withdrawn.
    pub weeks: Vec<String>,
    /// Per site: name, cumulative per week, total, withdrawn.
    pub sites: Vec<(String, Vec<u32>, u32, u32)>,
    /// Per form.
    pub completeness: Vec<CompletenessRow>,
    /// The age bands' labels.
    pub bands: Vec<String>,
    /// Per site: open per band, answered per band.
    pub queries: Vec<(String, [u32; 4], [u32; 4])>,
    /// Closed queries.
    pub closed: u32,
}

impl DashboardPage {
    /// The page from the dashboard's figures; `title`, `description`, `x_label` and
    /// `y_label` are the chart's texts in the page's language.
    pub fn new(
        s: &Study,
        locale: Locale,
        d: &Dashboard,
        title: &str,
        description: &str,
        axes: (&str, &str),
    ) -> Self {
        let weeks: Vec<String> = d.weeks.iter().map(|w| w.to_string()).collect();
        let enrolment_svg = if weeks.is_empty() {
            String::new()
        } else {
            let step = weeks.len().div_ceil(8).max(1);
            LineChart {
                id: "enrolment".into(),
                title: title.into(),
                description: description.into(),
                x_label: axes.0.into(),
                y_label: axes.1.into(),
                x_ticks: weeks
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % step == 0)
                    .map(|(i, w)| (i as f64, w.clone()))
                    .collect(),
                x_labels: weeks
                    .iter()
                    .enumerate()
                    .map(|(i, w)| (i as f64, w.clone()))
                    .collect(),
                series: d
                    .enrolment
                    .iter()
                    .map(|e| Series {
                        name: e.site.clone(),
                        points: e
                            .cumulative
                            .iter()
                            .enumerate()
                            .map(|(i, n)| (i as f64, Some(f64::from(*n))))
                            .collect(),
                    })
                    .collect(),
                ..Default::default()
            }
            .svg(locale)
        };
        let pct = |a: u32, b: u32| (b > 0).then(|| 100.0 * f64::from(a) / f64::from(b));
        DashboardPage {
            study: s.id.clone(),
            acronym: s.acronym.clone(),
            enrolment_svg,
            weeks,
            sites: d
                .enrolment
                .iter()
                .map(|e| (e.site.clone(), e.cumulative.clone(), e.total, e.withdrawn))
                .collect(),
            completeness: d
                .completeness
                .iter()
                .map(|c| CompletenessRow {
                    form: form_label(s, locale, &c.form),
                    counts: [
                        c.expected,
                        c.not_started,
                        c.incomplete,
                        c.unverified,
                        c.complete,
                        c.locked,
                    ],
                    complete_pct: pct(c.complete, c.expected),
                    filled_pct: c.filled.map(|f| 100.0 * f),
                })
                .collect(),
            bands: AGE_BANDS.iter().map(|b| (*b).to_owned()).collect(),
            queries: d
                .queries
                .iter()
                .map(|q| (q.site.clone(), q.open, q.answered))
                .collect(),
            closed: d.closed,
        }
    }
}

/// A finding shown on the form page.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FormFinding {
    /// The field.
    pub field: String,
    /// Its label.
    pub label: Text,
    /// The check.
    pub check: String,
    /// What is wrong.
    pub message: String,
}

/// A query shown on the form page.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FormQuery {
    /// Its number.
    pub num: i64,
    /// The field.
    pub field: String,
    /// Its label.
    pub label: Text,
    /// `open`, `answered`, `closed`.
    pub status: String,
    /// The latest message.
    pub last: String,
}

/// The data quality of one form instance, shown on its page: the real-time checks' findings,
/// its queries, and whether the viewer may open one.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FormQuality {
    /// Findings on this instance.
    pub findings: Vec<FormFinding>,
    /// Queries on this instance, newest first.
    pub queries: Vec<FormQuery>,
    /// The viewer may open queries (the link to the query form).
    pub can_open: bool,
}
