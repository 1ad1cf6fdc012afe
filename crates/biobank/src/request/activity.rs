//! What the access requests did in a span of time, for the partnership's activity report:
//! counted from each request's history, so a request submitted in one year and served in the
//! next counts in each year for what happened in it.

use super::{AccessRequest, CollectionState, RequestState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Counts of what happened to access requests within a span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestActivity {
    /// Requests submitted (first submission; a resubmission is not counted again).
    pub submitted: usize,
    /// Requests approved by the network review.
    pub approved: usize,
    /// Requests declined by the network review.
    pub declined: usize,
    /// Collections whose samples or data were made available: requests served.
    pub made_available: usize,
    /// Requests closed.
    pub closed: usize,
}

/// What happened to `requests` from `from` (inclusive) to `to` (exclusive).
pub fn activity(
    requests: &[AccessRequest],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> RequestActivity {
    let mut a = RequestActivity::default();
    for r in requests {
        let mut submitted_before = false;
        for t in &r.history {
            let within = from <= t.at && t.at < to;
            let to_request = |s: RequestState| t.collection.is_none() && t.to == s.as_str();
            if to_request(RequestState::Submitted) {
                if within && !submitted_before {
                    a.submitted += 1;
                }
                submitted_before = true;
            }
            if !within {
                continue;
            }
            if to_request(RequestState::Approved) {
                a.approved += 1;
            } else if to_request(RequestState::Declined) {
                a.declined += 1;
            } else if to_request(RequestState::Closed) {
                a.closed += 1;
            } else if t.collection.is_some() && t.to == CollectionState::MadeAvailable.as_str() {
                a.made_available += 1;
            }
        }
    }
    a
}
