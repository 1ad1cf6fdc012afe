//! The two state machines of an access request as tables: for each event, the states it may
//! be fired from, the state it leads to, and the roles that may fire it. Richer than the BBMRI
//! Negotiator v3 (its negotiation states plus the network review; its resource states plus
//! `declined` by the collection).

use serde::{Deserialize, Serialize};

/// Who acts on a request, by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The network office (the hub's admins): reviews requests, contacts representatives.
    NetworkOffice,
    /// The researcher who opened the request.
    Researcher,
    /// The steward of the site holding a collection.
    SiteSteward,
}

macro_rules! states {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v,)+ }
        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$v,)+];
            /// The snake_case name (as serialised and in messages).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s,)+ }
            }
            /// The value of a snake_case name.
            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

states!(
    /// The state of the request as a whole.
    RequestState {
        /// Being written by the researcher.
        Draft = "draft",
        /// Submitted, waiting for the network office.
        Submitted = "submitted",
        /// The network office is reviewing it.
        UnderReview = "under_review",
        /// Sent back to the researcher for changes.
        ReturnedForChanges = "returned_for_changes",
        /// Declined by the network office.
        Declined = "declined",
        /// Approved by the network office, not yet sent to the collections.
        Approved = "approved",
        /// Sent to the collections' representatives.
        InProgress = "in_progress",
        /// Paused by the researcher or the office.
        Paused = "paused",
        /// Closed (concluded).
        Closed = "closed",
        /// Abandoned.
        Abandoned = "abandoned",
    }
);

states!(
    /// What happens to the request as a whole.
    RequestEvent {
        /// Draft → submitted.
        Submit = "submit",
        /// Submitted → under review.
        StartReview = "start_review",
        /// Under review → returned for changes.
        ReturnForChanges = "return_for_changes",
        /// Returned for changes → submitted.
        Resubmit = "resubmit",
        /// Under review → approved.
        Approve = "approve",
        /// Under review → declined.
        Decline = "decline",
        /// Approved → in progress (the collections are contacted).
        Start = "start",
        /// In progress → paused.
        Pause = "pause",
        /// Paused → in progress.
        Resume = "resume",
        /// In progress or paused → closed.
        Close = "close",
        /// Any open state → abandoned.
        Abandon = "abandon",
        /// Closed → in progress, abandoned → submitted, declined → under review.
        Reopen = "reopen",
    }
);

states!(
    /// The state of one collection within a request.
    CollectionState {
        /// Part of the request, not yet sent.
        Submitted = "submitted",
        /// Its representative (the site's steward) has been told.
        RepresentativeContacted = "representative_contacted",
        /// No representative could be reached.
        RepresentativeUnreachable = "representative_unreachable",
        /// The representative asks the researcher to change and resubmit.
        ReturnedForResubmission = "returned_for_resubmission",
        /// The representative is checking what is available.
        CheckingAvailability = "checking_availability",
        /// Samples or data are available.
        Available = "available",
        /// Not available, but the site is willing to collect.
        UnavailableWillingToCollect = "unavailable_willing_to_collect",
        /// Not available.
        NotAvailable = "not_available",
        /// The representative has stated the access conditions.
        AccessConditionsIndicated = "access_conditions_indicated",
        /// The researcher has met them.
        AccessConditionsMet = "access_conditions_met",
        /// Samples or data have been made available.
        MadeAvailable = "made_available",
        /// The collection declined.
        Declined = "declined",
    }
);

states!(
    /// What happens to one collection within a request.
    CollectionEvent {
        /// Submitted or unreachable → representative contacted.
        Contact = "contact",
        /// Submitted → representative unreachable.
        MarkUnreachable = "mark_unreachable",
        /// Contacted or checking → returned for resubmission.
        ReturnForResubmission = "return_for_resubmission",
        /// Returned for resubmission → representative contacted.
        Resubmit = "resubmit",
        /// Contacted → checking availability.
        CheckAvailability = "check_availability",
        /// Checking → available.
        MarkAvailable = "mark_available",
        /// Checking → unavailable, willing to collect.
        MarkWillingToCollect = "mark_willing_to_collect",
        /// Checking → not available.
        MarkNotAvailable = "mark_not_available",
        /// Available (or willing to collect) → access conditions indicated.
        IndicateConditions = "indicate_conditions",
        /// Conditions indicated → conditions met.
        AcceptConditions = "accept_conditions",
        /// Conditions met → made available.
        MakeAvailable = "make_available",
        /// Any state from contacted to conditions met → declined.
        Decline = "decline",
    }
);

use CollectionEvent as CE;
use CollectionState as CS;
use RequestEvent as RE;
use RequestState as RS;

impl RequestEvent {
    /// The roles that may fire it.
    pub fn roles(self) -> &'static [Role] {
        match self {
            RE::Submit | RE::Resubmit => &[Role::Researcher],
            RE::StartReview
            | RE::ReturnForChanges
            | RE::Approve
            | RE::Decline
            | RE::Start
            | RE::Reopen => &[Role::NetworkOffice],
            RE::Pause | RE::Resume | RE::Close | RE::Abandon => {
                &[Role::Researcher, Role::NetworkOffice]
            }
        }
    }

    /// The state it leads to from `from`, if allowed there.
    pub fn next(self, from: RequestState) -> Option<RequestState> {
        Some(match (self, from) {
            (RE::Submit, RS::Draft) => RS::Submitted,
            (RE::StartReview, RS::Submitted) => RS::UnderReview,
            (RE::ReturnForChanges, RS::UnderReview) => RS::ReturnedForChanges,
            (RE::Resubmit, RS::ReturnedForChanges) => RS::Submitted,
            (RE::Approve, RS::UnderReview) => RS::Approved,
            (RE::Decline, RS::UnderReview) => RS::Declined,
            (RE::Start, RS::Approved) => RS::InProgress,
            (RE::Pause, RS::InProgress) => RS::Paused,
            (RE::Resume, RS::Paused) => RS::InProgress,
            (RE::Close, RS::InProgress | RS::Paused) => RS::Closed,
            (
                RE::Abandon,
                RS::Draft
                | RS::Submitted
                | RS::UnderReview
                | RS::ReturnedForChanges
                | RS::Approved
                | RS::InProgress
                | RS::Paused,
            ) => RS::Abandoned,
            (RE::Reopen, RS::Closed) => RS::InProgress,
            (RE::Reopen, RS::Abandoned) => RS::Submitted,
            (RE::Reopen, RS::Declined) => RS::UnderReview,
            _ => return None,
        })
    }
}

impl RequestState {
    /// Whether nothing happens from here without the network office reopening it.
    pub fn is_final(self) -> bool {
        matches!(self, RS::Closed | RS::Abandoned | RS::Declined)
    }
}

impl CollectionEvent {
    /// The roles that may fire it (a steward only for its own site's collections).
    pub fn roles(self) -> &'static [Role] {
        match self {
            CE::Contact | CE::MarkUnreachable => &[Role::NetworkOffice],
            CE::Resubmit | CE::AcceptConditions => &[Role::Researcher],
            CE::ReturnForResubmission
            | CE::CheckAvailability
            | CE::MarkAvailable
            | CE::MarkWillingToCollect
            | CE::MarkNotAvailable
            | CE::IndicateConditions
            | CE::MakeAvailable
            | CE::Decline => &[Role::SiteSteward],
        }
    }

    /// The state it leads to from `from`, if allowed there.
    pub fn next(self, from: CollectionState) -> Option<CollectionState> {
        Some(match (self, from) {
            (CE::Contact, CS::Submitted | CS::RepresentativeUnreachable) => {
                CS::RepresentativeContacted
            }
            (CE::MarkUnreachable, CS::Submitted) => CS::RepresentativeUnreachable,
            (CE::ReturnForResubmission, CS::RepresentativeContacted | CS::CheckingAvailability) => {
                CS::ReturnedForResubmission
            }
            (CE::Resubmit, CS::ReturnedForResubmission) => CS::RepresentativeContacted,
            (CE::CheckAvailability, CS::RepresentativeContacted) => CS::CheckingAvailability,
            (CE::MarkAvailable, CS::CheckingAvailability) => CS::Available,
            (CE::MarkWillingToCollect, CS::CheckingAvailability) => CS::UnavailableWillingToCollect,
            (CE::MarkNotAvailable, CS::CheckingAvailability) => CS::NotAvailable,
            (CE::IndicateConditions, CS::Available | CS::UnavailableWillingToCollect) => {
                CS::AccessConditionsIndicated
            }
            (CE::AcceptConditions, CS::AccessConditionsIndicated) => CS::AccessConditionsMet,
            (CE::MakeAvailable, CS::AccessConditionsMet) => CS::MadeAvailable,
            (
                CE::Decline,
                CS::RepresentativeContacted
                | CS::CheckingAvailability
                | CS::Available
                | CS::UnavailableWillingToCollect
                | CS::AccessConditionsIndicated
                | CS::AccessConditionsMet,
            ) => CS::Declined,
            _ => return None,
        })
    }
}

impl CollectionState {
    /// Whether the collection's part is over.
    pub fn is_final(self) -> bool {
        matches!(self, CS::NotAvailable | CS::MadeAvailable | CS::Declined)
    }
}
