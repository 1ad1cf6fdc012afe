//! The site steward console's pages (served by the site agent on the site's own machine, not
//! by the hub): the task queue with approve/refuse forms, the policy in force, the ε ledger and
//! the answers exactly as they left the site. Typed view models, templates in
//! `templates/console/` (embedded; minijinja with HTML auto-escaping), strings from the same
//! Fluent files as the hub's pages (keys `console-*`), numbers and dates per locale.

use crate::format;
use crate::i18n::Locale;
use crate::pages::{locale_of, translate};
use chrono::{DateTime, NaiveDate, Utc};
use minijinja::value::Serde as S;
use minijinja::{Environment, Error as JError, ErrorKind, State};
use serde::Serialize;
use std::sync::OnceLock;

/// What every console page needs around its content.
#[derive(Debug, Clone, Serialize)]
pub struct ConsoleChrome {
    /// The page's language.
    pub locale: Locale,
    /// The site's id.
    pub site: String,
    /// The signed-in steward, if any.
    pub user: Option<String>,
    /// The nav entry to mark as current (`tasks`, `policy`, `ledger`, `released`).
    pub active: String,
    /// The request path (the language links return to it).
    pub path: String,
    /// Anti-CSRF token for POST forms.
    pub csrf: String,
    /// A one-off notice (message key), e.g. after a decision.
    pub notice: Option<String>,
}

/// A task as the console lists it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskLine {
    /// Task id.
    pub id: String,
    /// Project.
    pub project: String,
    /// Who asked.
    pub researcher: String,
    /// Task type (`cohort`, `antibiogram`, `surveillance_series`).
    pub kind: String,
    /// A readable summary of the question.
    pub summary: String,
    /// When the site received it.
    pub received: DateTime<Utc>,
    /// Its deadline.
    pub deadline: DateTime<Utc>,
    /// `received`, `waiting`, `approved`, `answered`, `refused`, `failed`, `expired`.
    pub state: String,
    /// Why refused or failed, as sent to the hub.
    pub reason: Option<String>,
    /// Who decided, in manual-approval mode.
    pub decided_by: Option<String>,
    /// ε the task spent here.
    pub epsilon: Option<f64>,
    /// Whether an answer left the site (then the released page shows it).
    pub sent: bool,
}

/// The tasks page: the queue awaiting a decision, then the latest tasks.
#[derive(Debug, Clone, Serialize, Default)]
pub struct TasksPage {
    /// Whether tasks wait for the steward (manual approval).
    pub manual: bool,
    /// Waiting for a decision, deadline not passed, oldest first.
    pub queue: Vec<TaskLine>,
    /// The latest tasks, newest first.
    pub recent: Vec<TaskLine>,
}

/// One task with its question and, while it waits, the decision forms.
#[derive(Debug, Clone, Serialize)]
pub struct TaskPage {
    /// The task.
    pub task: TaskLine,
    /// The question as the hub sent it (pretty JSON).
    pub spec: String,
    /// Whether it waits for a decision now.
    pub can_decide: bool,
    /// The steward's comment on a refusal.
    pub comment: Option<String>,
    /// An error to show next to the forms (message key).
    pub error: Option<String>,
}

/// The policy in force.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyPage {
    /// Counts below this are withheld.
    pub min_count: u64,
    /// Rounding step.
    pub rounding: u64,
    /// ε per question, if noise is on.
    pub epsilon: Option<f64>,
    /// ε budget per project, if limited.
    pub budget: Option<f64>,
    /// Projects the site answers (`*` = every project).
    pub projects: Vec<String>,
    /// Whether tasks wait for the steward.
    pub manual: bool,
    /// The hub the agent polls.
    pub hub: String,
}

/// One project's ledger line.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerLine {
    /// Project.
    pub project: String,
    /// Questions charged.
    pub questions: u64,
    /// ε spent.
    pub epsilon: f64,
    /// Budget, if limited.
    pub budget: Option<f64>,
    /// Budget left, if limited.
    pub remaining: Option<f64>,
}

/// ε per researcher within a project.
#[derive(Debug, Clone, Serialize)]
pub struct ResearcherLine {
    /// Researcher.
    pub researcher: String,
    /// Project.
    pub project: String,
    /// Tasks answered.
    pub answered: u64,
    /// ε spent by them.
    pub epsilon: f64,
}

/// The ε ledger.
#[derive(Debug, Clone, Serialize, Default)]
pub struct LedgerPage {
    /// Per project (the gate's ledger).
    pub projects: Vec<LedgerLine>,
    /// Per researcher and project (from the answered tasks).
    pub researchers: Vec<ResearcherLine>,
}

/// An answer that left the site, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct SentLine {
    /// The task.
    pub task: TaskLine,
    /// When it was signed.
    pub at: DateTime<Utc>,
}

/// The answers that left the site.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ReleasedPage {
    /// Newest first.
    pub rows: Vec<SentLine>,
}

/// One answer exactly as it left the site.
#[derive(Debug, Clone, Serialize)]
pub struct SentPage {
    /// The task.
    pub task: TaskLine,
    /// When it was signed.
    pub at: DateTime<Utc>,
    /// The signed JSON body, byte for byte.
    pub body: String,
    /// SHA-256 of the body (hex), as the hub logs it.
    pub sha256: String,
    /// The Ed25519 signature (base64).
    pub signature: String,
}

/// One study enrolment kept at the site (no patient id).
#[derive(Debug, Clone, Serialize)]
pub struct EnrolLine {
    /// The study.
    pub study: String,
    /// The pseudonym.
    pub record: String,
    /// When enrolled (RFC 3339).
    pub at: String,
    /// The hub's answer (`enrolled`, `already`, `refused: …`), none while pending.
    pub hub: Option<String>,
}

/// The steward's enrolment page: the form and the enrolments so far.
#[derive(Debug, Clone, Serialize, Default)]
pub struct EnrolPage {
    /// The study id as typed (kept on error).
    pub study: String,
    /// The pseudonym just minted, with whether it is new.
    pub done: Option<(String, String, bool)>,
    /// The error to show (message key) and its detail, if any.
    pub error: Option<(String, String)>,
    /// The enrolments, newest first.
    pub rows: Vec<EnrolLine>,
}

/// The console's sign-in.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ConsoleLogin {
    /// The name as typed (kept on error).
    pub username: String,
    /// The error to show (message key), if any.
    pub error: Option<String>,
}

/// A console page to render.
#[derive(Debug, Clone)]
pub enum ConsolePage {
    /// Sign-in.
    Login(ConsoleLogin),
    /// Tasks.
    Tasks(TasksPage),
    /// One task.
    Task(Box<TaskPage>),
    /// Policy.
    Policy(PolicyPage),
    /// Ledger.
    Ledger(LedgerPage),
    /// Released answers.
    Released(ReleasedPage),
    /// One released answer.
    Sent(Box<SentPage>),
    /// Study enrolment.
    Enrol(EnrolPage),
    /// An error: HTTP status and message key.
    Error {
        /// HTTP status.
        status: u16,
        /// Message key.
        key: String,
    },
}

/// A console template failed to render (a bug in a template, never user input).
#[derive(Debug, thiserror::Error)]
#[error("rendering console/{template}: {source}")]
pub struct ConsoleRenderError {
    template: &'static str,
    #[source]
    source: JError,
}

const TEMPLATES: [(&str, &str); 10] = [
    ("base.html", include_str!("../templates/console/base.html")),
    (
        "login.html",
        include_str!("../templates/console/login.html"),
    ),
    (
        "tasks.html",
        include_str!("../templates/console/tasks.html"),
    ),
    ("task.html", include_str!("../templates/console/task.html")),
    (
        "policy.html",
        include_str!("../templates/console/policy.html"),
    ),
    (
        "ledger.html",
        include_str!("../templates/console/ledger.html"),
    ),
    (
        "released.html",
        include_str!("../templates/console/released.html"),
    ),
    ("sent.html", include_str!("../templates/console/sent.html")),
    (
        "enrol.html",
        include_str!("../templates/console/enrol.html"),
    ),
    (
        "error.html",
        include_str!("../templates/console/error.html"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .unwrap_or_else(|e| panic!("console template {name}: {e}"));
        }
        env.add_function("t", translate);
        env.add_filter("int", |state: &State, v: i64| {
            format::integer(locale_of(state), v)
        });
        env.add_filter("dec", |state: &State, v: f64, places: Option<usize>| {
            format::decimal(locale_of(state), v, places.unwrap_or(1))
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
        env
    })
}

/// Renders a console page in the chrome's language.
pub fn render_console(
    page: &ConsolePage,
    chrome: &ConsoleChrome,
) -> Result<String, ConsoleRenderError> {
    let template = match page {
        ConsolePage::Login(_) => "login.html",
        ConsolePage::Tasks(_) => "tasks.html",
        ConsolePage::Task(_) => "task.html",
        ConsolePage::Policy(_) => "policy.html",
        ConsolePage::Ledger(_) => "ledger.html",
        ConsolePage::Released(_) => "released.html",
        ConsolePage::Sent(_) => "sent.html",
        ConsolePage::Enrol(_) => "enrol.html",
        ConsolePage::Error { .. } => "error.html",
    };
    let tmpl = environment()
        .get_template(template)
        .map_err(|source| ConsoleRenderError { template, source })?;
    let c = S(chrome);
    let ctx = match page {
        ConsolePage::Login(p) => minijinja::context! { chrome => c, page => S(p) },
        ConsolePage::Tasks(p) => minijinja::context! { chrome => c, page => S(p) },
        ConsolePage::Task(p) => minijinja::context! { chrome => c, page => S(p) },
        ConsolePage::Policy(p) => minijinja::context! { chrome => c, page => S(p) },
        ConsolePage::Ledger(p) => minijinja::context! { chrome => c, page => S(p) },
        ConsolePage::Released(p) => minijinja::context! { chrome => c, page => S(p) },
        ConsolePage::Sent(p) => minijinja::context! { chrome => c, page => S(p) },
        ConsolePage::Enrol(p) => minijinja::context! { chrome => c, page => S(p) },
        ConsolePage::Error { status, key } => {
            minijinja::context! { chrome => c, status => *status, key => key.as_str() }
        }
    };
    tmpl.render(ctx)
        .map_err(|source| ConsoleRenderError { template, source })
}
