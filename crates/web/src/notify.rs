//! The e-mail notification settings page, `/notifications`: the user's address, how they
//! hear of each topic, and their recent messages with what became of each.

use serde::Serialize;

/// A topic and the mode the user chose for it.
#[derive(Debug, Clone, Serialize)]
pub struct PrefRow {
    /// `renewal`, `action` or `event` (message key suffix).
    pub topic: String,
    /// `immediate`, `digest` or `off`.
    pub mode: String,
}

/// One message in the user's outbox.
#[derive(Debug, Clone, Serialize)]
pub struct MessageRow {
    /// When it was stored (RFC 3339).
    pub created: String,
    /// Subject line.
    pub subject: String,
    /// `pending`, `sent`, `skipped` or `failed` (message key suffix).
    pub state: String,
    /// Why it was skipped, or the last delivery error.
    pub note: Option<String>,
}

/// The notification settings page.
#[derive(Debug, Clone, Serialize, Default)]
pub struct NotificationsPage {
    /// The user's address.
    pub email: String,
    /// Each topic's mode.
    pub prefs: Vec<PrefRow>,
    /// The modes to choose from.
    pub modes: Vec<String>,
    /// Recent messages, newest first.
    pub messages: Vec<MessageRow>,
    /// Whether the page follows a save.
    pub saved: bool,
}
