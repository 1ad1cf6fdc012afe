//! Why a request or a change to it is refused. A refused change leaves the request as it was.

use super::states::{CollectionEvent, CollectionState, RequestEvent, RequestState, Role};

/// A refused request or change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The event is not allowed from the request's state.
    #[error("request {id} is {from}: it cannot {event}")]
    RequestTransition {
        /// The request.
        id: String,
        /// Its state.
        from: RequestState,
        /// The event refused.
        event: RequestEvent,
    },
    /// The event is not allowed from the collection's state.
    #[error("collection {collection} of request {id} is {from}: it cannot {event}")]
    CollectionTransition {
        /// The request.
        id: String,
        /// The collection.
        collection: String,
        /// Its state.
        from: CollectionState,
        /// The event refused.
        event: CollectionEvent,
    },
    /// The actor's role may not fire this event.
    #[error("{event}: a {role:?} may not do this (allowed: {allowed:?})")]
    Role {
        /// The event.
        event: String,
        /// The actor's role.
        role: Role,
        /// The roles that may.
        allowed: &'static [Role],
    },
    /// A researcher acting on someone else's request.
    #[error("request {id} belongs to {owner}, not {user}")]
    NotOwner {
        /// The request.
        id: String,
        /// Its researcher.
        owner: String,
        /// Who tried.
        user: String,
    },
    /// A steward acting on another site's collection.
    #[error(
        "collection {collection} is held by site {holder}; the steward of {site} cannot act on it"
    )]
    OtherSite {
        /// The collection.
        collection: String,
        /// The site holding it.
        holder: String,
        /// The steward's site.
        site: String,
    },
    /// A steward acting on a request none of whose collections is its site's.
    #[error("request {id} asks nothing of site {site}")]
    NotInvolved {
        /// The request.
        id: String,
        /// The steward's site.
        site: String,
    },
    /// A collection the request does not include.
    #[error("request {id} has no collection {collection}")]
    UnknownCollection {
        /// The request.
        id: String,
        /// The collection named.
        collection: String,
    },
    /// A collection's state changed while the request is not in progress.
    #[error("request {id} is {state}: its collections change only while it is in_progress")]
    NotInProgress {
        /// The request.
        id: String,
        /// Its state.
        state: RequestState,
    },
    /// Submitted without an ethics approval attached.
    #[error("request {id}: attach the ethics approval before submitting")]
    MissingEthicsApproval {
        /// The request.
        id: String,
    },
    /// Submitted without a protocol attached.
    #[error("request {id}: attach the study protocol before submitting")]
    MissingProtocol {
        /// The request.
        id: String,
    },
    /// A request naming no collection, or one twice.
    #[error("{field}: {message}")]
    Collections {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A required text is blank or too long.
    #[error("{field}: {message}")]
    Text {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An attachment above the size limit.
    #[error("attachment {name:?} is {size} bytes; the limit is {max}")]
    AttachmentTooLarge {
        /// Its file name.
        name: String,
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// Attachments added once the request is past its draft.
    #[error(
        "request {id} is {state}: attachments are added while it is a draft or returned for changes"
    )]
    AttachmentClosed {
        /// The request.
        id: String,
        /// Its state.
        state: RequestState,
    },
}
