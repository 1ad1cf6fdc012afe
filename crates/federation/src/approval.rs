//! Manual approval at a site: what a site tells the hub about a task it holds for its data
//! steward (`POST /api/site/task-state`), before any answer.
//!
//! A site in manual-approval mode keeps each incoming task in its steward's queue until the
//! steward approves (the site computes and answers as usual) or refuses (the site answers
//! with [`kakehashi_disclosure::Refusal::StewardRefused`]). While it waits, the site reports
//! [`HeldState::AwaitingApproval`] once; the hub then shows "awaiting approval at <site>" and
//! stops handing the task to that site's polls. The report carries no data: only the task id
//! and the state. It is versioned on its own ([`TASK_STATE_VERSION`]); a hub that does not
//! know the call answers 404 and the site carries on (the task then shows as pending).

use kakehashi_model::TaskId;
use serde::{Deserialize, Serialize};

/// Version of [`TaskStateReport`]; a hub refuses other versions with 409 and a clear message.
pub const TASK_STATE_VERSION: u32 = 1;

/// A task's state at a site before it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldState {
    /// In the steward's queue: the site answers once its data steward approves.
    AwaitingApproval,
}

/// What a site reports about a task it holds (site → hub, site token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskStateReport {
    /// [`TASK_STATE_VERSION`] of the site.
    pub version: u32,
    /// The task.
    pub task: TaskId,
    /// Its state at the site.
    pub state: HeldState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_a_small_closed_message() {
        let r = TaskStateReport {
            version: TASK_STATE_VERSION,
            task: TaskId::new("t1").unwrap(),
            state: HeldState::AwaitingApproval,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"version":1,"task":"t1","state":"awaiting_approval"}"#
        );
        assert_eq!(serde_json::from_str::<TaskStateReport>(&text).unwrap(), r);
        // nothing else rides along: an extra field is refused
        assert!(
            serde_json::from_str::<TaskStateReport>(
                r#"{"version":1,"task":"t1","state":"awaiting_approval","count":3}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<TaskStateReport>(r#"{"version":1,"task":"t1","state":"done"}"#)
                .is_err()
        );
    }
}
