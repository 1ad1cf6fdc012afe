//! The data-query (discrepancy) workflow, REDCap's Data Resolution Workflow:
//! open → answered → closed, with re-opening.
//!
//! Who may fire what: a monitor or data manager (a role that may open queries) opens a query
//! on a field, closes it (answered or not) and re-opens an answered or closed one; a user of
//! the record's site (or a role seeing all sites) with the "resolve queries" right on the form
//! answers an open one. Every refused step is typed and changes nothing.

use super::record::Actor;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A query's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryStatus {
    /// Waiting for the site.
    Open,
    /// The site answered; waiting for the monitor.
    Answered,
    /// Resolved.
    Closed,
}

impl QueryStatus {
    /// Its name on the wire (`open`, `answered`, `closed`).
    pub fn as_str(self) -> &'static str {
        match self {
            QueryStatus::Open => "open",
            QueryStatus::Answered => "answered",
            QueryStatus::Closed => "closed",
        }
    }
}

/// The steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryAction {
    /// Opened.
    Open,
    /// Answered by the site.
    Answer,
    /// Closed by the monitor.
    Close,
    /// Re-opened by the monitor.
    Reopen,
}

impl QueryAction {
    /// Its name on the wire (`open`, `answer`, `close`, `reopen`).
    pub fn as_str(self) -> &'static str {
        match self {
            QueryAction::Open => "open",
            QueryAction::Answer => "answer",
            QueryAction::Close => "close",
            QueryAction::Reopen => "reopen",
        }
    }
}

/// One message of a query's thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryMessage {
    /// Who.
    pub user: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The step.
    pub action: QueryAction,
    /// The text.
    pub text: String,
}

/// A query on one field of one form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataQuery {
    /// The record.
    pub record: String,
    /// The record's site (the query is assigned to it).
    pub site: String,
    /// The event.
    pub event: String,
    /// The form.
    pub form: String,
    /// The instance.
    pub instance: u32,
    /// The field.
    pub field: String,
    /// The state.
    pub status: QueryStatus,
    /// The data-quality check it was opened from (`None`: opened by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// The thread, oldest first.
    pub thread: Vec<QueryMessage>,
}

/// A refused query step; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The step does not apply in this state.
    #[error("a query that is {} cannot take the step '{}'", .from.as_str(), .action.as_str())]
    Transition {
        /// The state.
        from: QueryStatus,
        /// The step tried.
        action: QueryAction,
    },
    /// The user may not take this step.
    #[error("user '{user}' may not take the step '{}' on queries of form '{form}'", .action.as_str())]
    NotAllowed {
        /// The user.
        user: String,
        /// The step.
        action: QueryAction,
        /// The form.
        form: String,
    },
    /// The record belongs to another site.
    #[error("user '{user}' of site '{user_site}' cannot answer a query of site '{record_site}'")]
    OtherSite {
        /// The user.
        user: String,
        /// The user's site.
        user_site: String,
        /// The record's site.
        record_site: String,
    },
    /// A step without text.
    #[error("a query message needs text")]
    EmptyText,
}

/// Where a query is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTarget<'a> {
    /// The record.
    pub record: &'a str,
    /// Its site.
    pub site: &'a str,
    /// The event.
    pub event: &'a str,
    /// The form.
    pub form: &'a str,
    /// The instance.
    pub instance: u32,
    /// The field.
    pub field: &'a str,
}

impl DataQuery {
    /// Opens a query (monitors and data managers).
    pub fn open(
        actor: &Actor,
        target: QueryTarget<'_>,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<DataQuery, QueryError> {
        if !actor.open_queries {
            return Err(QueryError::NotAllowed {
                user: actor.user.clone(),
                action: QueryAction::Open,
                form: target.form.into(),
            });
        }
        if text.trim().is_empty() {
            return Err(QueryError::EmptyText);
        }
        Ok(DataQuery {
            record: target.record.into(),
            site: target.site.into(),
            event: target.event.into(),
            form: target.form.into(),
            instance: target.instance,
            field: target.field.into(),
            status: QueryStatus::Open,
            check: None,
            thread: vec![QueryMessage {
                user: actor.user.clone(),
                at,
                action: QueryAction::Open,
                text: text.trim().into(),
            }],
        })
    }

    /// Opens a query on a data-quality finding; the text is the finding's message unless one
    /// is given.
    pub fn from_finding(
        actor: &Actor,
        finding: &crate::quality::Finding,
        text: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<DataQuery, QueryError> {
        let text = text
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| finding.message.clone());
        let mut q = DataQuery::open(
            actor,
            QueryTarget {
                record: &finding.record,
                site: &finding.site,
                event: &finding.event,
                form: &finding.form,
                instance: finding.instance,
                field: &finding.field,
            },
            &text,
            at,
        )?;
        q.check = Some(finding.check.clone());
        Ok(q)
    }

    /// When it was opened (the first message).
    pub fn opened_at(&self) -> Option<DateTime<Utc>> {
        self.thread.first().map(|m| m.at)
    }

    /// Whether it waits for someone (open or answered).
    pub fn is_pending(&self) -> bool {
        self.status != QueryStatus::Closed
    }

    /// The state a step leads to from the current one, if any.
    pub fn next_status(&self, action: QueryAction) -> Option<QueryStatus> {
        use QueryAction as A;
        use QueryStatus as S;
        match (self.status, action) {
            (S::Open, A::Answer) => Some(S::Answered),
            (S::Open | S::Answered, A::Close) => Some(S::Closed),
            (S::Answered | S::Closed, A::Reopen) => Some(S::Open),
            _ => None,
        }
    }

    /// Takes a step (answer, close, re-open) with its message.
    pub fn act(
        &mut self,
        actor: &Actor,
        action: QueryAction,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<QueryStatus, QueryError> {
        let allowed = match action {
            QueryAction::Open => false,
            QueryAction::Answer => actor.rights.resolve_queries,
            QueryAction::Close | QueryAction::Reopen => actor.open_queries,
        };
        if !allowed {
            return Err(QueryError::NotAllowed {
                user: actor.user.clone(),
                action,
                form: self.form.clone(),
            });
        }
        if action == QueryAction::Answer && !actor.all_sites && actor.site != self.site {
            return Err(QueryError::OtherSite {
                user: actor.user.clone(),
                user_site: actor.site.clone(),
                record_site: self.site.clone(),
            });
        }
        let Some(next) = self.next_status(action) else {
            return Err(QueryError::Transition {
                from: self.status,
                action,
            });
        };
        if text.trim().is_empty() {
            return Err(QueryError::EmptyText);
        }
        self.status = next;
        self.thread.push(QueryMessage {
            user: actor.user.clone(),
            at,
            action,
            text: text.trim().into(),
        });
        Ok(next)
    }
}
