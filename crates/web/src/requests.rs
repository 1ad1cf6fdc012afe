//! The access-request pages: `/requests` (the requests the user may see: a researcher's own,
//! those asking a steward's site, all for the network office) and `/requests/{id}` (its
//! query, collections with their states and the buttons the user may press, attachments,
//! the timeline and the threads with a form to write).

use serde::Serialize;

/// A collection as a list row shows it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CollectionState {
    /// Its catalogue id.
    pub id: String,
    /// The site holding it.
    pub site: String,
    /// Its state (message key suffix `rq-state-`).
    pub state: String,
    /// The events the user may fire on it (message key suffix `rq-event-`).
    pub actions: Vec<String>,
}

/// A request in the list.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RequestRow {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its state.
    pub state: String,
    /// Its researcher.
    pub researcher: String,
    /// When it was opened (RFC 3339).
    pub created: String,
    /// Its collections.
    pub collections: Vec<CollectionState>,
}

/// The list page.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RequestsPage {
    /// The requests, newest first.
    pub rows: Vec<RequestRow>,
    /// The steward's site, when the reader is a steward.
    pub site: Option<String>,
    /// The form that opens a request, for a researcher.
    pub new: Option<NewRequestForm>,
}

/// The form that opens a request: the catalogue's collections to choose from and what was
/// entered (kept when the hub refuses it, with the reason).
#[derive(Debug, Clone, Serialize, Default)]
pub struct NewRequestForm {
    /// The network's collections: id and a label (name, biobank, site).
    pub collections: Vec<(String, String)>,
    /// The collections ticked.
    pub chosen: Vec<String>,
    /// The title entered.
    pub title: String,
    /// The description entered.
    pub description: String,
    /// The locator task the request comes from, if any.
    pub task: String,
    /// The cohort (CCDL JSON) entered, when no task is named.
    pub ccdl: String,
    /// Material types, comma-separated.
    pub materials: String,
    /// Why the hub refused the form.
    pub error: Option<String>,
}

/// An attachment.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AttachmentRow {
    /// `protocol`, `ethics_approval` or `other`.
    pub kind: String,
    /// Its file name.
    pub name: String,
    /// Its size in bytes.
    pub size: i64,
    /// Its SHA-256.
    pub sha256: String,
}

/// One change in the timeline.
#[derive(Debug, Clone, Serialize, Default)]
pub struct HistoryRow {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub who: String,
    /// The event.
    pub event: String,
    /// The collection, or empty for the request.
    pub collection: String,
    /// The state before.
    pub from: String,
    /// The state after.
    pub to: String,
}

/// A message.
#[derive(Debug, Clone, Serialize, Default)]
pub struct MessageRow {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub who: String,
    /// The collection's thread, or empty for the request's.
    pub collection: String,
    /// The text.
    pub text: String,
}

/// The detail page.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RequestPage {
    /// The request as the list shows it.
    pub request: RequestRow,
    /// What it is for.
    pub description: String,
    /// The locator task it came from.
    pub task: Option<String>,
    /// The specimen criteria (JSON).
    pub specimen: String,
    /// The cohort (CCDL JSON).
    pub ccdl: String,
    /// The request events the user may fire.
    pub actions: Vec<String>,
    /// The attachments.
    pub attachments: Vec<AttachmentRow>,
    /// The timeline, oldest first.
    pub history: Vec<HistoryRow>,
    /// The threads' messages, oldest first.
    pub messages: Vec<MessageRow>,
    /// The threads the user may write in: `""` (the request's) and collection ids.
    pub threads: Vec<String>,
    /// Whether the reader may attach documents now (the researcher, while a draft or
    /// returned for changes).
    pub may_attach: bool,
    /// A refused action's message.
    pub error: Option<String>,
}
