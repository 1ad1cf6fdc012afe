//! Access requests (Negotiator-like): a researcher turns a locator result into a request (the
//! query travels with it), picks collections, attaches the protocol and the ethics approval,
//! and submits; the network office reviews it; each collection's site steward answers for its
//! collection. Two typed state machines ([`states`]) say what may happen from where and by
//! whom; a refused change is a [`RequestError`] and leaves the request unchanged. Every
//! change is returned as a [`Transition`] for the audit log.

pub mod activity;
mod error;
pub mod states;

pub use error::RequestError;
pub use states::{CollectionEvent, CollectionState, RequestEvent, RequestState, Role};

use crate::criteria::SpecimenCriteria;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Largest attachment, in bytes (20 MiB).
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;
/// Longest message or description, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Actor {
    /// A member of the network office.
    NetworkOffice {
        /// The user.
        user: String,
    },
    /// A researcher.
    Researcher {
        /// The user.
        user: String,
    },
    /// The steward of a site.
    SiteSteward {
        /// The site.
        site: String,
        /// The user (or the site's agent).
        user: String,
    },
}

impl Actor {
    /// The actor's role.
    pub fn role(&self) -> Role {
        match self {
            Actor::NetworkOffice { .. } => Role::NetworkOffice,
            Actor::Researcher { .. } => Role::Researcher,
            Actor::SiteSteward { .. } => Role::SiteSteward,
        }
    }
}

/// The locator question the request came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestQuery {
    /// The cohort, as CCDL JSON text (checked by the locator when it was asked).
    pub ccdl: String,
    /// The specimen criteria.
    pub specimen: SpecimenCriteria,
    /// The locator task it came from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

/// One collection asked for, with its own state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedCollection {
    /// The collection's id (catalogue).
    pub id: String,
    /// The site holding it.
    pub site: String,
    /// Its state within this request.
    pub state: CollectionState,
}

/// What an attachment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    /// The study protocol.
    Protocol,
    /// The ethics committee's approval.
    EthicsApproval,
    /// Anything else.
    Other,
}

/// An attachment, by content: its bytes are stored once under their SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// What it is.
    pub kind: AttachmentKind,
    /// Its file name.
    pub name: String,
    /// Its media type as given.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
}

impl Attachment {
    /// Describes `bytes` (refused above [`MAX_ATTACHMENT_BYTES`] or without a name).
    pub fn of_bytes(
        kind: AttachmentKind,
        name: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Attachment, RequestError> {
        let name = name.trim();
        if name.is_empty() || name.contains(['/', '\\']) {
            return Err(RequestError::Text {
                field: "attachment.name",
                message: format!("{name:?} is not a file name"),
            });
        }
        let size = bytes.len() as u64;
        if size > MAX_ATTACHMENT_BYTES {
            return Err(RequestError::AttachmentTooLarge {
                name: name.to_owned(),
                size,
                max: MAX_ATTACHMENT_BYTES,
            });
        }
        Ok(Attachment {
            kind,
            name: name.to_owned(),
            media_type: media_type.trim().to_owned(),
            size,
            sha256: hex::encode(Sha256::digest(bytes)),
        })
    }
}

/// A message in the request's thread, or in one collection's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub author: Actor,
    /// The collection's thread, or the request's (`None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// The text.
    pub text: String,
}

/// One change, for the history and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// The collection changed, or the request (`None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// The event's name.
    pub event: String,
    /// The state before.
    pub from: String,
    /// The state after.
    pub to: String,
}

/// An access request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    /// Its id.
    pub id: String,
    /// The researcher who opened it.
    pub researcher: String,
    /// Its title.
    pub title: String,
    /// What the samples or data are for.
    pub description: String,
    /// The locator question.
    pub query: RequestQuery,
    /// Its state.
    pub state: RequestState,
    /// The collections asked for.
    pub collections: Vec<RequestedCollection>,
    /// Protocol, ethics approval and others.
    pub attachments: Vec<Attachment>,
    /// The threads.
    pub messages: Vec<Message>,
    /// Every change, oldest first.
    pub history: Vec<Transition>,
    /// When it was opened.
    pub created: DateTime<Utc>,
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String, RequestError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(RequestError::Text {
            field,
            message: "required".into(),
        });
    }
    if v.chars().count() > max {
        return Err(RequestError::Text {
            field,
            message: format!("longer than {max} characters"),
        });
    }
    Ok(v.to_owned())
}

impl AccessRequest {
    /// A draft by `researcher` for the collections `(collection id, site)`.
    pub fn new(
        id: &str,
        researcher: &str,
        title: &str,
        description: &str,
        query: RequestQuery,
        collections: &[(String, String)],
        created: DateTime<Utc>,
    ) -> Result<AccessRequest, RequestError> {
        let title = text("title", title, MAX_TITLE_CHARS)?;
        let description = text("description", description, MAX_TEXT_CHARS)?;
        if collections.is_empty() {
            return Err(RequestError::Collections {
                field: "collections",
                message: "pick at least one collection".into(),
            });
        }
        let mut out: Vec<RequestedCollection> = Vec::new();
        for (c, site) in collections {
            if out.iter().any(|o| &o.id == c) {
                return Err(RequestError::Collections {
                    field: "collections",
                    message: format!("collection {c} is named twice"),
                });
            }
            out.push(RequestedCollection {
                id: c.clone(),
                site: site.clone(),
                state: CollectionState::Submitted,
            });
        }
        Ok(AccessRequest {
            id: id.to_owned(),
            researcher: researcher.to_owned(),
            title,
            description,
            query,
            state: RequestState::Draft,
            collections: out,
            attachments: Vec::new(),
            messages: Vec::new(),
            history: Vec::new(),
            created,
        })
    }

    /// Whether `actor` may see the request (its researcher, the office, the steward of a site
    /// holding one of its collections).
    pub fn visible_to(&self, actor: &Actor) -> bool {
        match actor {
            Actor::NetworkOffice { .. } => true,
            Actor::Researcher { user } => *user == self.researcher,
            Actor::SiteSteward { site, .. } => self.collections.iter().any(|c| c.site == *site),
        }
    }

    fn authorise(
        &self,
        actor: &Actor,
        event: &str,
        allowed: &'static [Role],
        collection: Option<&RequestedCollection>,
    ) -> Result<(), RequestError> {
        if !allowed.contains(&actor.role()) {
            return Err(RequestError::Role {
                event: event.to_owned(),
                role: actor.role(),
                allowed,
            });
        }
        match actor {
            Actor::Researcher { user } if *user != self.researcher => Err(RequestError::NotOwner {
                id: self.id.clone(),
                owner: self.researcher.clone(),
                user: user.clone(),
            }),
            Actor::SiteSteward { site, .. } => match collection {
                Some(c) if c.site != *site => Err(RequestError::OtherSite {
                    collection: c.id.clone(),
                    holder: c.site.clone(),
                    site: site.clone(),
                }),
                None if !self.collections.iter().any(|c| c.site == *site) => {
                    Err(RequestError::NotInvolved {
                        id: self.id.clone(),
                        site: site.clone(),
                    })
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// Adds an attachment (the researcher, while a draft or returned for changes).
    pub fn attach(&mut self, actor: &Actor, attachment: Attachment) -> Result<(), RequestError> {
        self.authorise(actor, "attach", &[Role::Researcher], None)?;
        if !matches!(
            self.state,
            RequestState::Draft | RequestState::ReturnedForChanges
        ) {
            return Err(RequestError::AttachmentClosed {
                id: self.id.clone(),
                state: self.state,
            });
        }
        self.attachments.push(attachment);
        Ok(())
    }

    /// Fires a request-level event.
    pub fn fire(
        &mut self,
        actor: &Actor,
        event: RequestEvent,
        at: DateTime<Utc>,
    ) -> Result<Transition, RequestError> {
        self.authorise(actor, event.as_str(), event.roles(), None)?;
        let to = event
            .next(self.state)
            .ok_or_else(|| RequestError::RequestTransition {
                id: self.id.clone(),
                from: self.state,
                event,
            })?;
        if matches!(event, RequestEvent::Submit | RequestEvent::Resubmit) {
            let has = |k| self.attachments.iter().any(|a| a.kind == k);
            if !has(AttachmentKind::EthicsApproval) {
                return Err(RequestError::MissingEthicsApproval {
                    id: self.id.clone(),
                });
            }
            if !has(AttachmentKind::Protocol) {
                return Err(RequestError::MissingProtocol {
                    id: self.id.clone(),
                });
            }
        }
        let t = Transition {
            at,
            actor: actor.clone(),
            collection: None,
            event: event.as_str().to_owned(),
            from: self.state.as_str().to_owned(),
            to: to.as_str().to_owned(),
        };
        self.state = to;
        self.history.push(t.clone());
        Ok(t)
    }

    /// Fires an event on one collection (only while the request is in progress).
    pub fn fire_collection(
        &mut self,
        actor: &Actor,
        collection: &str,
        event: CollectionEvent,
        at: DateTime<Utc>,
    ) -> Result<Transition, RequestError> {
        let i = self
            .collections
            .iter()
            .position(|c| c.id == collection)
            .ok_or_else(|| RequestError::UnknownCollection {
                id: self.id.clone(),
                collection: collection.to_owned(),
            })?;
        self.authorise(
            actor,
            event.as_str(),
            event.roles(),
            Some(&self.collections[i]),
        )?;
        if self.state != RequestState::InProgress {
            return Err(RequestError::NotInProgress {
                id: self.id.clone(),
                state: self.state,
            });
        }
        let from = self.collections[i].state;
        let to = event
            .next(from)
            .ok_or_else(|| RequestError::CollectionTransition {
                id: self.id.clone(),
                collection: collection.to_owned(),
                from,
                event,
            })?;
        let t = Transition {
            at,
            actor: actor.clone(),
            collection: Some(collection.to_owned()),
            event: event.as_str().to_owned(),
            from: from.as_str().to_owned(),
            to: to.as_str().to_owned(),
        };
        self.collections[i].state = to;
        self.history.push(t.clone());
        Ok(t)
    }

    /// Posts a message to the request's thread or a collection's (its researcher, the office,
    /// the steward of the collection's site; for the request's thread, of any of its sites).
    pub fn post(
        &mut self,
        actor: &Actor,
        collection: Option<&str>,
        body: &str,
        at: DateTime<Utc>,
    ) -> Result<&Message, RequestError> {
        let all = &[Role::NetworkOffice, Role::Researcher, Role::SiteSteward];
        let target = match collection {
            Some(c) => Some(self.collections.iter().find(|x| x.id == c).ok_or_else(|| {
                RequestError::UnknownCollection {
                    id: self.id.clone(),
                    collection: c.to_owned(),
                }
            })?),
            None => None,
        };
        self.authorise(actor, "post", all, target)?;
        let text = text("message", body, MAX_TEXT_CHARS)?;
        self.messages.push(Message {
            at,
            author: actor.clone(),
            collection: collection.map(str::to_owned),
            text,
        });
        Ok(self.messages.last().expect("just pushed"))
    }
}

/// The events an actor may fire now: on the request, and on each collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Available {
    /// Request events.
    pub request: Vec<RequestEvent>,
    /// (collection id, event).
    pub collections: Vec<(String, CollectionEvent)>,
}

impl AccessRequest {
    /// What `actor` may fire from the current states (each tried on a copy: exactly the
    /// events [`AccessRequest::fire`] and [`AccessRequest::fire_collection`] would accept).
    pub fn available(&self, actor: &Actor, at: DateTime<Utc>) -> Available {
        let mut out = Available::default();
        for e in RequestEvent::ALL {
            if self.clone().fire(actor, *e, at).is_ok() {
                out.request.push(*e);
            }
        }
        for c in &self.collections {
            for e in CollectionEvent::ALL {
                if self.clone().fire_collection(actor, &c.id, *e, at).is_ok() {
                    out.collections.push((c.id.clone(), *e));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
