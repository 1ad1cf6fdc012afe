//! The pages: typed view models, and their rendering through the HTML templates in
//! `templates/` (embedded; minijinja with HTML auto-escaping).
//!
//! The hub fills a view model from its state and calls [`render`]; all text comes from the
//! Fluent files through the templates' `t()` function, all numbers and dates through the
//! locale filters, so a page is translated completely or a test says which key is missing.

use crate::chart::{BarChart, HeatMap, LineChart};
use crate::form::FieldErrors;
use crate::format;
use crate::i18n::{Arg, Catalog, Locale};
use chrono::{DateTime, NaiveDate, Utc};
use kakehashi_model::Country;
use minijinja::value::{Kwargs, Serde as S, Value as JValue};
use minijinja::{Environment, Error as JError, ErrorKind, State};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// What every page needs around its content.
#[derive(Debug, Clone, Serialize)]
pub struct Chrome {
    /// The page's language.
    pub locale: Locale,
    /// The signed-in user, if any.
    pub user: Option<UserBadge>,
    /// The nav entry to mark as current (`home`, `network`, `feasibility`, `amr`,
    /// `surveillance`, `steward`).
    pub active: String,
    /// The request path (the language switch returns to it).
    pub path: String,
    /// Anti-CSRF token for POST forms.
    pub csrf: String,
    /// A one-off notice (message key), e.g. after signing out.
    pub notice: Option<String>,
}

/// The signed-in user as the header shows them.
#[derive(Debug, Clone, Serialize)]
pub struct UserBadge {
    /// Display name.
    pub name: String,
    /// `researcher`, `steward` or `admin`.
    pub role: String,
}

/// Sign-in.
#[derive(Debug, Clone, Serialize, Default)]
pub struct LoginPage {
    /// The user name as typed (kept on error).
    pub username: String,
    /// Field problems (`username`, `password`, or `form` for wrong credentials).
    pub errors: FieldErrors,
    /// Where to go after signing in.
    pub next: String,
    /// The OpenID Connect issuers to offer, one button each.
    pub issuers: Vec<IssuerButton>,
}

/// A sign-in button for an OpenID Connect issuer.
#[derive(Debug, Clone, Serialize)]
pub struct IssuerButton {
    /// The issuer's id (in the URL).
    pub id: String,
    /// Its label.
    pub name: String,
}

/// The administrator's list of users, with the buttons that revoke, disable and enable.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AdminUsersPage {
    /// The users, by name.
    pub users: Vec<AdminUserRow>,
}

/// A user on the administrator's page.
#[derive(Debug, Clone, Serialize)]
pub struct AdminUserRow {
    /// Login name.
    pub name: String,
    /// `researcher`, `steward` or `admin`.
    pub role: String,
    /// `local` or the OpenID Connect issuer's id.
    pub source: String,
    /// Disabled.
    pub disabled: bool,
    /// Last sign-in (RFC 3339).
    pub last_login: Option<String>,
    /// Live sessions.
    pub sessions: u64,
    /// Live API tokens.
    pub tokens: u64,
}

/// A project the user belongs to.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectRow {
    /// Project id.
    pub id: String,
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Number of sites whose policy admits it.
    pub sites: u64,
}

/// The start page: the user's projects.
#[derive(Debug, Clone, Serialize, Default)]
pub struct HomePage {
    /// Projects.
    pub projects: Vec<ProjectRow>,
}

/// A site's disclosure policy as shown to researchers.
#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    /// Counts below this are suppressed.
    pub min_count: u64,
    /// Counts are rounded to this step (1 = exact).
    pub rounding: u64,
    /// Laplace noise ε per query, if noise is on.
    pub epsilon: Option<f64>,
    /// ε budget per project, if limited.
    pub budget: Option<f64>,
}

/// One site on the network page.
#[derive(Debug, Clone, Serialize)]
pub struct SiteRow {
    /// Site id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Country.
    pub country: Country,
    /// Polled within the last minute.
    pub online: bool,
    /// Last contact.
    pub last_seen: Option<DateTime<Utc>>,
    /// Date of the site's current data snapshot.
    pub snapshot: Option<DateTime<Utc>>,
    /// Its disclosure policy.
    pub policy: PolicySummary,
}

/// The network: sites, status, snapshots, policies.
#[derive(Debug, Clone, Serialize, Default)]
pub struct NetworkPage {
    /// Sites.
    pub sites: Vec<SiteRow>,
}

/// A criterion found by the feasibility search.
#[derive(Debug, Clone, Serialize)]
pub struct CriterionHit {
    /// Display name in the page's language (falls back to the code system's own display).
    pub display: String,
    /// Code system URI.
    pub system: String,
    /// Code.
    pub code: String,
    /// CCDL context (`Diagnose`, `Laboruntersuchung`, ...).
    pub context: String,
}

/// The feasibility form as submitted (kept on error).
#[derive(Debug, Clone, Serialize, Default)]
pub struct FeasibilityForm {
    /// Chosen project id.
    pub project: String,
    /// Search text.
    pub search: String,
    /// Pasted or built CCDL JSON.
    pub ccdl: String,
    /// The samples tab's material types ticked (MIABIS codes).
    pub materials: Vec<String>,
    /// The samples tab's minimum aliquots per donor.
    pub min_aliquots: String,
    /// The samples tab's storage temperatures ticked (MIABIS codes).
    pub storages: Vec<String>,
    /// What the collection window counts from: empty (no window), `diagnosis` (an ICD-10
    /// code), `loinc` or `jlac10` (a test's first positive result).
    pub anchor: String,
    /// The anchor's code.
    pub anchor_code: String,
    /// Days before the anchor.
    pub days_before: String,
    /// Days after the anchor.
    pub days_after: String,
    /// The minimum volume per aliquot in µL.
    pub min_volume_ul: String,
}

/// How a site's count was released.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Released {
    /// The exact count.
    Exact {
        /// The count.
        value: u64,
    },
    /// Below the site's minimum.
    Suppressed {
        /// The minimum.
        below: u64,
    },
    /// Rounded to a step.
    Rounded {
        /// The released value.
        value: u64,
        /// The step.
        step: u64,
    },
    /// Laplace noise added (and possibly rounded).
    Noisy {
        /// The released value.
        value: u64,
        /// ε spent.
        epsilon: f64,
    },
}

impl Released {
    /// The released number, if there is one.
    pub fn value(&self) -> Option<u64> {
        match self {
            Released::Exact { value }
            | Released::Rounded { value, .. }
            | Released::Noisy { value, .. } => Some(*value),
            Released::Suppressed { .. } => None,
        }
    }
}

/// One site's answer.
#[derive(Debug, Clone, Serialize)]
pub struct SiteResult {
    /// Site name.
    pub site: String,
    /// Country.
    pub country: Country,
    /// `answered`, `refused`, `late`, `offline`, `pending`.
    pub status: String,
    /// The released count when answered.
    pub released: Option<Released>,
    /// The site publishes exact aggregates (`noise = "off"`): shown in red.
    pub noise_off: bool,
    /// The site's reason when refused.
    pub reason: Option<String>,
    /// The site's notes, in the page's language.
    pub notes: Vec<String>,
}

/// A feasibility query's merged answer.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    /// Task id.
    pub task: String,
    /// When it was asked.
    pub created: DateTime<Utc>,
    /// Per site.
    pub sites: Vec<SiteResult>,
    /// The total over answering sites, if the hub's rules allow showing it.
    pub total: Option<u64>,
    /// Why no total is shown (message key), if none.
    pub total_withheld: Option<String>,
    /// Per-site bar chart (filled by [`render`]).
    #[serde(skip_deserializing)]
    pub chart_svg: String,
}

/// A past query.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    /// Task id.
    pub task: String,
    /// When.
    pub created: DateTime<Utc>,
    /// Short description of the criteria.
    pub summary: String,
    /// The total, if released.
    pub total: Option<u64>,
}

/// Feasibility: search criteria or paste CCDL, run, results, history.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FeasibilityPage {
    /// The user's projects (id, name).
    pub projects: Vec<(String, String)>,
    /// The form as submitted.
    pub form: FeasibilityForm,
    /// Problems, next to their fields.
    pub errors: FieldErrors,
    /// Search hits, when a search was made.
    pub hits: Vec<CriterionHit>,
    /// The current query's answer.
    pub result: Option<QueryResult>,
    /// Earlier queries.
    pub history: Vec<HistoryRow>,
    /// The tab shown: `cohort` (patients) or `samples` (the sample locator).
    pub tab: String,
    /// The material types the samples tab offers (MIABIS codes).
    pub material_options: Vec<String>,
    /// The storage temperatures the samples tab offers (MIABIS codes).
    pub storage_options: Vec<String>,
    /// The sample locator's answer.
    pub samples: Option<crate::samples::SamplesResult>,
}

/// A share as the AMR page shows it: the value with its 95 % interval, or a range when some
/// count behind it was suppressed at a site.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AmrShare {
    /// The share, when every count behind it is known.
    pub value: Option<f64>,
    /// Smallest possible share.
    pub min: f64,
    /// Largest possible share.
    pub max: f64,
    /// Lower end of the 95 % interval.
    pub low: f64,
    /// Upper end of the 95 % interval.
    pub high: f64,
    /// Isolates behind it (smallest possible number).
    pub n: u64,
    /// At least 30 isolates (CLSI M39): otherwise shown greyed.
    pub reportable: bool,
}

/// One AMR comparison row (an organism–antimicrobial pair in both countries).
#[derive(Debug, Clone, Serialize)]
pub struct AmrComparison {
    /// Organism.
    pub organism: String,
    /// Antimicrobial.
    pub antimicrobial: String,
    /// Germany.
    pub de: Option<AmrShare>,
    /// Japan.
    pub jp: Option<AmrShare>,
    /// Germany minus Japan with Newcombe's 95 % interval, when both have at least 30 isolates.
    pub difference: Option<(f64, f64, f64)>,
    /// Every count behind the difference is known; otherwise the value is the middle of its
    /// possible range and the interval covers the whole range.
    pub difference_exact: bool,
}

/// One row of the by-year table: an organism–antimicrobial pair in one country, year by year.
#[derive(Debug, Clone, Serialize)]
pub struct AmrTrend {
    /// Organism.
    pub organism: String,
    /// Antimicrobial.
    pub antimicrobial: String,
    /// Country.
    pub country: Country,
    /// The share in each of the page's `years` (none where the year has no isolates).
    pub years: Vec<Option<AmrShare>>,
    /// Two-sided p-value of the Cochran–Armitage test for a linear trend over the years with
    /// at least 30 isolates and every count known.
    pub p_trend: Option<f64>,
}

/// One MDRO row: a class among an organism's first isolates, per country.
#[derive(Debug, Clone, Serialize)]
pub struct AmrMdro {
    /// Organism.
    pub organism: String,
    /// Class (MRSA, 3MRGN, ...).
    pub class: String,
    /// Germany.
    pub de: Option<AmrShare>,
    /// Japan.
    pub jp: Option<AmrShare>,
}

/// One site's state for the antibiogram shown.
#[derive(Debug, Clone, Serialize)]
pub struct AmrSite {
    /// Site name.
    pub name: String,
    /// Country.
    pub country: Country,
    /// `answered`, `refused`, ...
    pub status: String,
    /// Why not counted, or the site's disclosure summary.
    pub note: String,
    /// The site's notes, in the page's language.
    pub notes: Vec<String>,
    /// The site publishes exact aggregates (`noise = "off"`): shown in red.
    pub noise_off: bool,
}

/// The antibiogram form, as submitted.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct AmrForm {
    /// Guideline and version, e.g. `EUCAST 2025`.
    pub guideline: String,
    /// Organisms, comma-separated names or codes.
    pub organisms: String,
    /// Antimicrobials, comma-separated names or codes.
    pub antimicrobials: String,
    /// Specimen type (`blood`, `urine`, ...) or empty for all.
    pub specimen: String,
    /// First specimen date, YYYY-MM-DD.
    pub from: String,
    /// Last specimen date.
    pub to: String,
    /// Year by year (trends) instead of the whole period.
    #[serde(deserialize_with = "checkbox")]
    pub by_year: bool,
}

/// A checkbox as a form sends it (`true`, `on` or `1` when ticked; absent otherwise), or a
/// JSON boolean. Flattened query structs hand every value over as text.
fn checkbox<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Tick {
        Bool(bool),
        Text(String),
    }
    Ok(match Tick::deserialize(d)? {
        Tick::Bool(b) => b,
        Tick::Text(t) => matches!(t.as_str(), "true" | "on" | "1"),
    })
}

/// AMR: antibiogram heat-maps per country, guideline picker, comparison, MDRO shares.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AmrPage {
    /// Guidelines on offer (e.g. "EUCAST 2025").
    pub guidelines: Vec<String>,
    /// Specimen types on offer.
    pub specimens: Vec<String>,
    /// The form as submitted (or its defaults).
    pub form: AmrForm,
    /// Problems in the form.
    pub errors: FieldErrors,
    /// The task answered, when one ran.
    pub task: Option<String>,
    /// The sites' states.
    pub sites: Vec<AmrSite>,
    /// The statistic shown: `% R` (EUCAST) or `% S` (CLSI M39).
    pub share_label: String,
    /// One heat-map per country (rendered to SVG by [`render`]).
    #[serde(skip)]
    pub maps: Vec<HeatMap>,
    /// German-vs-Japanese rows.
    pub comparison: Vec<AmrComparison>,
    /// MDRO shares.
    pub mdro: Vec<AmrMdro>,
    /// The years of a by-year antibiogram, in order.
    pub years: Vec<i32>,
    /// Its rows, by organism, antimicrobial and country.
    pub trends: Vec<AmrTrend>,
    /// The library document in force for the chosen guideline.
    pub in_force: Option<crate::office::InForceRow>,
}

/// Surveillance: weekly curves per country with MEM thresholds, positivity.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SurveillancePage {
    /// Case definitions on offer.
    pub definitions: Vec<String>,
    /// The chosen one.
    pub definition: String,
    /// The library document in force for it.
    pub in_force: Option<crate::office::InForceRow>,
    /// Problems in the form.
    pub errors: FieldErrors,
    /// Charts (epidemic curves), rendered by [`render`].
    #[serde(skip)]
    pub charts: Vec<LineChart>,
    /// Positivity charts (share of tests positive per pathogen, with the tests), rendered by [`render`].
    #[serde(skip)]
    pub share_charts: Vec<crate::share_chart::ShareChart>,
    /// Current intensity level per country: (country, level message key).
    pub levels: Vec<(Country, String)>,
    /// Seasons on offer: (value, label such as `2025/26`), newest first.
    pub seasons: Vec<(String, String)>,
    /// The chosen season's value (empty: the current season).
    pub season: String,
    /// The season each country shows, in words (e.g. "Germany: season 2025/26 (current)").
    pub shown: Vec<String>,
    /// The sites' notes, in the page's language (each once).
    pub notes: Vec<String>,
    /// Answering sites that publish exact aggregates (`noise = "off"`): shown in red.
    pub noise_off_sites: Vec<String>,
    /// The network was never asked for this definition: the page says so beside the button
    /// that asks it.
    pub not_run: bool,
    /// The run whose stored result the page shows (a GET asks nothing): when it was asked and
    /// by whom, said beside the button that asks again.
    pub run: Option<SurveillanceRun>,
}

/// An earlier surveillance run of the user's projects, shown on a GET.
#[derive(Debug, Clone, Serialize)]
pub struct SurveillanceRun {
    /// When it was asked.
    pub created: DateTime<Utc>,
    /// Who asked it.
    pub requested_by: String,
    /// The project it ran in.
    pub project: String,
}

/// An audit log entry on the steward's page.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    /// Sequence number.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// `task-received`, `result-sent`, `refused`, ...
    pub kind: String,
    /// Project.
    pub project: String,
    /// What it was about.
    pub summary: String,
    /// The entry's hash (hex, shortened in the page).
    pub hash: String,
}

/// The site steward's page: audit log and policy.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StewardPage {
    /// Which site.
    pub site: String,
    /// Whether the chain verified.
    pub chain_ok: Option<bool>,
    /// Entries, newest first.
    pub entries: Vec<AuditRow>,
    /// The policy.
    pub policy: Option<PolicySummary>,
    /// Projects the policy admits.
    pub projects: Vec<String>,
}

/// A page to render.
#[derive(Debug, Clone)]
pub enum Page {
    /// Sign-in.
    Login(LoginPage),
    /// Start page.
    Home(HomePage),
    /// Network.
    Network(NetworkPage),
    /// Feasibility.
    Feasibility(FeasibilityPage),
    /// AMR.
    Amr(AmrPage),
    /// Surveillance.
    Surveillance(SurveillancePage),
    /// Steward.
    Steward(StewardPage),
    /// The administrator's users.
    AdminUsers(AdminUsersPage),
    /// The partnership office.
    Office(crate::office::OfficePage),
    /// Two versions of an office document compared.
    OfficeDiff(crate::office::DiffPage),
    /// The user's e-mail notification settings.
    Notifications(crate::notify::NotificationsPage),
    /// The network's biobank catalogue.
    Catalogue(crate::catalogue::CataloguePage),
    /// Federated statistics.
    Analysis(Box<crate::analysis::AnalysisPage>),
    /// The access requests the user may see.
    Requests(crate::requests::RequestsPage),
    /// One access request.
    Request(Box<crate::requests::RequestPage>),
    /// The activity report of a MoU year.
    OfficeReport(crate::office_report::ReportPage),
    /// A course certificate.
    Certificate(crate::office_report::CertificatePage),
    /// The caller's EDC studies.
    Studies(crate::study::StudiesPage),
    /// One study.
    Study(Box<crate::study::StudyPage>),
    /// A study's subjects.
    StudySubjects(crate::study::subjects::SubjectsPage),
    /// One subject's event × form grid.
    StudySubject(crate::study::subjects::SubjectPage),
    /// A data-entry form.
    StudyForm(Box<crate::study::form::FormPage>),
    /// A study's data queries.
    StudyQueries(crate::study::quality::QueriesPage),
    /// One data query.
    StudyQuery(Box<crate::study::quality::QueryPage>),
    /// Opening a data query on a form.
    StudyQueryNew(Box<crate::study::quality::NewQueryPage>),
    /// The data-quality checks and one check's findings.
    StudyQuality(crate::study::quality::QualityPage),
    /// The study dashboard.
    StudyDashboard(Box<crate::study::quality::DashboardPage>),
    /// An error page: HTTP status and message key.
    Error {
        /// HTTP status.
        status: u16,
        /// Message key.
        key: String,
        /// The hub's own message when it refused input (it names the field at fault), shown
        /// under the translated explanation.
        detail: Option<String>,
    },
}

impl Page {
    fn template(&self) -> &'static str {
        match self {
            Page::Login(_) => "login.html",
            Page::Home(_) => "home.html",
            Page::Network(_) => "network.html",
            Page::Feasibility(_) => "feasibility.html",
            Page::Amr(_) => "amr.html",
            Page::Surveillance(_) => "surveillance.html",
            Page::Steward(_) => "steward.html",
            Page::AdminUsers(_) => "admin_users.html",
            Page::Office(_) => "office.html",
            Page::OfficeDiff(_) => "office_diff.html",
            Page::Notifications(_) => "notifications.html",
            Page::Catalogue(_) => "catalogue.html",
            Page::Analysis(_) => "analysis.html",
            Page::Requests(_) => "requests.html",
            Page::Request(_) => "request.html",
            Page::OfficeReport(_) => "office_report.html",
            Page::Certificate(_) => "certificate.html",
            Page::Studies(_) => "studies.html",
            Page::Study(_) => "study.html",
            Page::StudySubjects(_) => "study_subjects.html",
            Page::StudySubject(_) => "study_subject.html",
            Page::StudyForm(_) => "study_form.html",
            Page::StudyQueries(_) => "study_queries.html",
            Page::StudyQuery(_) => "study_query.html",
            Page::StudyQueryNew(_) => "study_query_new.html",
            Page::StudyQuality(_) => "study_quality.html",
            Page::StudyDashboard(_) => "study_dashboard.html",
            Page::Error { .. } => "error.html",
        }
    }
}

/// A template failed to render (a bug in a template, never user input).
#[derive(Debug, thiserror::Error)]
#[error("rendering {template}: {source}")]
pub struct RenderError {
    template: &'static str,
    #[source]
    source: JError,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("network.html", include_str!("../templates/network.html")),
    (
        "feasibility.html",
        include_str!("../templates/feasibility.html"),
    ),
    ("amr.html", include_str!("../templates/amr.html")),
    (
        "surveillance.html",
        include_str!("../templates/surveillance.html"),
    ),
    ("steward.html", include_str!("../templates/steward.html")),
    (
        "admin_users.html",
        include_str!("../templates/admin_users.html"),
    ),
    ("error.html", include_str!("../templates/error.html")),
    ("office.html", include_str!("../templates/office.html")),
    ("in_force.html", include_str!("../templates/in_force.html")),
    (
        "office_diff.html",
        include_str!("../templates/office_diff.html"),
    ),
    (
        "notifications.html",
        include_str!("../templates/notifications.html"),
    ),
    (
        "catalogue.html",
        include_str!("../templates/catalogue.html"),
    ),
    ("requests.html", include_str!("../templates/requests.html")),
    ("analysis.html", include_str!("../templates/analysis.html")),
    ("request.html", include_str!("../templates/request.html")),
    (
        "office_report.html",
        include_str!("../templates/office_report.html"),
    ),
    (
        "certificate.html",
        include_str!("../templates/certificate.html"),
    ),
    (
        "study_macros.html",
        include_str!("../templates/study_macros.html"),
    ),
    ("studies.html", include_str!("../templates/studies.html")),
    ("study.html", include_str!("../templates/study.html")),
    (
        "study_subjects.html",
        include_str!("../templates/study_subjects.html"),
    ),
    (
        "study_subject.html",
        include_str!("../templates/study_subject.html"),
    ),
    (
        "study_form.html",
        include_str!("../templates/study_form.html"),
    ),
    (
        "study_queries.html",
        include_str!("../templates/study_queries.html"),
    ),
    (
        "study_query.html",
        include_str!("../templates/study_query.html"),
    ),
    (
        "study_query_new.html",
        include_str!("../templates/study_query_new.html"),
    ),
    (
        "study_quality.html",
        include_str!("../templates/study_quality.html"),
    ),
    (
        "study_dashboard.html",
        include_str!("../templates/study_dashboard.html"),
    ),
];

/// The text of every inline `<style>` block in the page templates, as the pages carry it
/// (the hub allows exactly these in its Content-Security-Policy, by hash).
pub fn inline_styles() -> Vec<&'static str> {
    TEMPLATES
        .iter()
        .flat_map(|(_, src)| src.split("<style>").skip(1))
        .filter_map(|s| s.split_once("</style>").map(|(css, _)| css))
        .collect()
}

pub(crate) fn locale_of(state: &State) -> Locale {
    state
        .lookup("chrome")
        .and_then(|c| c.get_attr("locale").ok())
        .and_then(|l| l.as_str().and_then(Locale::from_code))
        .unwrap_or_default()
}

pub(crate) fn translate(state: &State, key: &str, kwargs: Kwargs) -> Result<String, JError> {
    let mut args = Vec::new();
    for name in kwargs.args() {
        let v: JValue = kwargs.get(name)?;
        let arg = match v.as_i64() {
            Some(n) if v.kind() != minijinja::value::ValueKind::String => Arg::Num(n as f64),
            _ => Arg::Str(v.to_string()),
        };
        args.push((name, arg));
    }
    let args: Vec<(&str, Arg)> = args.into_iter().collect();
    Ok(Catalog::global().text(locale_of(state), key, &args))
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env.add_function("t", translate);
        env.add_filter("int", |state: &State, v: i64| {
            format::integer(locale_of(state), v)
        });
        env.add_filter("dec", |state: &State, v: f64, places: Option<usize>| {
            format::decimal(locale_of(state), v, places.unwrap_or(1))
        });
        env.add_filter("pct", |state: &State, v: f64| {
            format::percent(locale_of(state), v, 1)
        });
        env.add_filter(
            "date",
            |state: &State, v: String| -> Result<String, JError> {
                let loc = locale_of(state);
                if let Ok(t) = DateTime::parse_from_rfc3339(&v) {
                    Ok(format::date_time(loc, t.with_timezone(&Utc)))
                } else if let Ok(d) = NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
                    Ok(format::date(loc, d))
                } else {
                    Err(JError::new(
                        ErrorKind::InvalidOperation,
                        format!("not a date: {v}"),
                    ))
                }
            },
        );
        env.add_filter("short", |v: String| v.chars().take(12).collect::<String>());
        env
    })
}

/// Renders a page in the chrome's language.
pub fn render(page: &Page, chrome: &Chrome) -> Result<String, RenderError> {
    let template = page.template();
    let env = environment();
    let tmpl = env
        .get_template(template)
        .map_err(|source| RenderError { template, source })?;
    let locale = chrome.locale;
    let c = S(chrome);
    let ctx = match page {
        Page::Login(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Home(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Network(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Feasibility(p) => {
            let mut p = p.clone();
            if let Some(r) = p.result.as_mut() {
                r.chart_svg = result_chart(r, locale).svg(locale);
            }
            if let Some(r) = p.samples.as_mut() {
                let cat = Catalog::global();
                let title = cat.text(locale, "samples-chart-title", &[]);
                let axis = cat.text(locale, "samples-donors", &[]);
                r.chart_svg = r.chart(&title, &axis, locale).svg(locale);
            }
            minijinja::context! { chrome => c, page => S(p) }
        }
        Page::Amr(p) => {
            let maps: Vec<(String, String)> = p
                .maps
                .iter()
                .map(|m| (m.id.clone(), m.svg(locale)))
                .collect();
            minijinja::context! { chrome => c, page => S(p), maps => S(maps) }
        }
        Page::Surveillance(p) => {
            // per country: its curve, then its positivity (chart ids end in the country code)
            let mut charts: Vec<(String, String)> = Vec::new();
            for c in &p.charts {
                charts.push((c.id.clone(), c.svg(locale)));
                let country = c.id.rsplit('-').next().unwrap_or_default();
                for s in p
                    .share_charts
                    .iter()
                    .filter(|s| s.id.rsplit('-').next() == Some(country))
                {
                    charts.push((s.id.clone(), s.svg(locale)));
                }
            }
            let rest: Vec<(String, String)> = p
                .share_charts
                .iter()
                .filter(|s| !charts.iter().any(|(id, _)| *id == s.id))
                .map(|s| (s.id.clone(), s.svg(locale)))
                .collect();
            charts.extend(rest);
            minijinja::context! { chrome => c, page => S(p), charts => S(charts) }
        }
        Page::Steward(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::AdminUsers(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Office(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::OfficeDiff(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Notifications(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Catalogue(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Analysis(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Requests(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Request(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::OfficeReport(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Certificate(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Studies(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Study(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::StudySubjects(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::StudySubject(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::StudyForm(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::StudyQueries(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::StudyQuery(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::StudyQueryNew(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::StudyQuality(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::StudyDashboard(p) => minijinja::context! { chrome => c, page => S(p) },
        Page::Error {
            status,
            key,
            detail,
        } => {
            minijinja::context! { chrome => c, status => *status, key => key.as_str(), detail => detail }
        }
    };
    tmpl.render(ctx)
        .map_err(|source| RenderError { template, source })
}

/// The per-site bar chart of a feasibility answer.
pub fn result_chart(r: &QueryResult, locale: Locale) -> BarChart {
    let cat = Catalog::global();
    let bars = r
        .sites
        .iter()
        .map(|s| {
            let note = match (&s.released, s.status.as_str()) {
                (Some(Released::Suppressed { below }), _) => format!("< {below}"),
                (Some(rel), _) => rel
                    .value()
                    .map(|v| format::integer(locale, v as i64))
                    .unwrap_or_default(),
                (None, status) => cat.text(locale, &format!("status-{status}"), &[]),
            };
            crate::chart::Bar {
                label: s.site.clone(),
                value: s
                    .released
                    .as_ref()
                    .and_then(Released::value)
                    .map(|v| v as f64),
                note,
            }
        })
        .collect();
    BarChart {
        id: format!("result-{}", r.task),
        title: cat.text(locale, "result-chart-title", &[]),
        description: cat.text(locale, "result-chart-desc", &[]),
        value_label: cat.text(locale, "unit-patients", &[]),
        bars,
    }
}
