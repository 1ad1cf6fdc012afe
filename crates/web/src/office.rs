//! The partnership office's page model: the MoU and its renewal timeline, bodies, decisions,
//! the document library, events in Berlin and Tokyo time with their actions, exchanges,
//! courses and the calendar feed form. The hub fills it from `kakehashi-office` values; the
//! template is `office.html`.

use serde::Serialize;

/// An agreement and its renewal timeline.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AgreementRow {
    /// Id (the activity report's link).
    pub id: String,
    /// Title.
    pub title: String,
    /// The parties, joined.
    pub parties: String,
    /// Signed (YYYY-MM-DD).
    pub signed: String,
    /// End of term.
    pub term_end: String,
    /// Notice deadline.
    pub notice_deadline: String,
    /// Renewal decision due.
    pub decision_due: String,
    /// Phase (`running`, `decision_due`, ...; message key `office-phase-…`).
    pub phase: String,
    /// Days to the decision (negative: overdue).
    pub days_to_decision: i64,
}

/// A governance body.
#[derive(Debug, Clone, Serialize, Default)]
pub struct BodyRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Theme, if a working group.
    pub theme: String,
    /// Its chairs, joined.
    pub chairs: String,
    /// Number of members.
    pub members: usize,
}

/// A decision.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DecisionRow {
    /// Date.
    pub date: String,
    /// The body's name.
    pub body: String,
    /// What was decided.
    pub text: String,
    /// `consensus` or `yes/no/abstain`.
    pub vote: String,
}

/// A version in the library.
#[derive(Debug, Clone, Serialize, Default)]
pub struct VersionRow {
    /// Number.
    pub number: u32,
    /// Review state (`draft`, `in_review`, `approved`, `superseded`).
    pub state: String,
    /// SHA-256 (hex).
    pub sha256: String,
    /// Its translations: language code and review state.
    pub translations: Vec<(String, String)>,
}

/// A document in the library.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DocumentRow {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind (`protocol`, `sop`, ...).
    pub kind: String,
    /// Versions, newest first.
    pub versions: Vec<VersionRow>,
    /// What it governs: kind (`case_definition`, `breakpoints`; message key
    /// `office-governs-…`) and name.
    pub governs: Vec<(String, String)>,
    /// The studies citing one of its versions as the protocol they run under: (study id,
    /// title, version).
    pub cited_by: Vec<(String, String, u32)>,
}

/// The library document in force for the case definition or breakpoint guideline a page
/// uses, shown beside it (`in_force.html`).
#[derive(Debug, Clone, Serialize, Default)]
pub struct InForceRow {
    /// What it governs, in words (`sari-icosari`, `EUCAST 2025`).
    pub subject: String,
    /// The document's id (the library's anchor `#doc-ID`); empty when no document governs it.
    pub document: String,
    /// Its title.
    pub title: String,
    /// The approved version, if any.
    pub version: Option<u32>,
    /// Approved on (YYYY-MM-DD) and by whom.
    pub approved: String,
    /// Approved by.
    pub approved_by: String,
    /// A newer version in draft or review.
    pub pending: Option<u32>,
    /// Whether the version in force is exactly the text the sites compute with (case
    /// definitions only).
    pub matches: Option<bool>,
}

/// An action item.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ActionRow {
    /// What.
    pub text: String,
    /// Who.
    pub owner: String,
    /// By when.
    pub due: String,
    /// `open`, `done`, `dropped`.
    pub status: String,
    /// The event's id (the status form's address).
    pub event: String,
    /// Its position in the event's list.
    pub index: usize,
    /// Whether the reader may change its status (its owner, the body's chair, the office).
    pub can_set: bool,
}

/// An event.
#[derive(Debug, Clone, Serialize, Default)]
pub struct EventRow {
    /// Id (the forms' address).
    pub id: String,
    /// Whether the reader may change it: add actions, write the minutes (its body's chair,
    /// the office).
    pub can_edit: bool,
    /// Title.
    pub title: String,
    /// The body's name, if any.
    pub body: String,
    /// Where.
    pub location: String,
    /// Start and end in Europe/Berlin (`2026-04-15 09:00 – 17:30 CEST`).
    pub berlin: String,
    /// Start and end in Asia/Tokyo.
    pub tokyo: String,
    /// Participants in person.
    pub in_person: String,
    /// Participants remote.
    pub remote: String,
    /// Minutes, if written.
    pub minutes: String,
    /// Actions.
    pub actions: Vec<ActionRow>,
}

/// A staff exchange.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ExchangeRow {
    /// Id (the status form's address).
    pub id: String,
    /// Who.
    pub person: String,
    /// From.
    pub home: String,
    /// To.
    pub host: String,
    /// Dates.
    pub dates: String,
    /// Theme.
    pub theme: String,
    /// Status (`planned`, ...).
    pub status: String,
    /// The report afterwards.
    pub report: String,
}

/// A training course.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CourseRow {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Number of sessions.
    pub sessions: usize,
    /// Number of participants.
    pub participants: usize,
    /// Participants who attended every session.
    pub complete: usize,
    /// Those participants (each has a certificate page).
    pub certified: Vec<String>,
    /// Every participant, in order (the attendance form's columns).
    pub roster: Vec<String>,
    /// Its sessions: date, topic and who attended (the attendance form's rows).
    pub session_list: Vec<(String, String, Vec<String>)>,
}

/// The partnership office's page.
#[derive(Debug, Clone, Serialize, Default)]
pub struct OfficePage {
    /// Agreements.
    pub agreements: Vec<AgreementRow>,
    /// Bodies.
    pub bodies: Vec<BodyRow>,
    /// Decisions, newest first.
    pub decisions: Vec<DecisionRow>,
    /// The library.
    pub documents: Vec<DocumentRow>,
    /// Events still to come.
    pub upcoming: Vec<EventRow>,
    /// Past events, newest first.
    pub past: Vec<EventRow>,
    /// Exchanges.
    pub exchanges: Vec<ExchangeRow>,
    /// Courses.
    pub courses: Vec<CourseRow>,
    /// A calendar feed path just made for the reader, if any.
    pub feed: Option<String>,
    /// Whether the reader may add documents (the network office, a body's chair).
    pub may_add_documents: bool,
    /// The bodies whose decisions the reader may record: id and name.
    pub chaired: Vec<(String, String)>,
    /// The document kinds and languages the forms offer (`protocol`, …; `en`, …).
    pub kinds: Vec<String>,
    /// Whether the reader may plan events (the office: any; a chair: their body's).
    pub may_plan_events: bool,
    /// Whether the reader is the network office (exchanges and attendance are theirs).
    pub is_office: bool,
    /// An event just saved from the page, with its warnings.
    pub saved: Option<SavedEvent>,
}

/// An event just saved from the page and the double bookings it makes.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SavedEvent {
    /// Its title.
    pub title: String,
    /// Its id.
    pub id: String,
    /// Each double booking: who, the other event's title, from when (Berlin and Tokyo time).
    pub double_bookings: Vec<(String, String, String)>,
}

/// The time zones the event form offers: the partnership's two.
pub const EVENT_ZONES: [&str; 2] = ["Europe/Berlin", "Asia/Tokyo"];

/// The languages the library's forms offer.
pub const LANGS: [&str; 3] = ["en", "de", "ja"];

/// A line of a diff.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DiffRow {
    /// `same`, `added` or `removed`.
    pub change: String,
    /// Line number in the older version.
    pub old: Option<usize>,
    /// Line number in the newer version.
    pub new: Option<usize>,
    /// The line.
    pub text: String,
}

/// Two versions of a document compared line by line.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DiffPage {
    /// The document's title.
    pub title: String,
    /// The older version.
    pub from: u32,
    /// The newer version.
    pub to: u32,
    /// The lines.
    pub lines: Vec<DiffRow>,
}
