//! The messages between hub and sites.
//!
//! Hub → site: [`Task`]s, declarative and typed ([`TaskSpec`]); the site compiles them itself.
//! Site → hub: a [`PollRequest`] (heartbeat, with the site's data snapshot and policy) and a
//! signed [`Envelope`] around an answer. A site builds its answer with [`AnswerOut`], whose
//! only data payload is a [`Released`] table: the type system keeps ungated counts (and so
//! patient-level rows) out of every site→hub message. The hub reads answers as [`Answer`].

use chrono::{DateTime, Utc};
use kakehashi_disclosure::{GatedTable, PolicySummary, Refusal, Released};
use kakehashi_model::{Country, ProjectId, SiteId, TaskId};
use serde::{Deserialize, Serialize};

pub use crate::task::{Note, TaskError, TaskSpec};

/// Version of the wire protocol; a site and hub of different versions refuse each other
/// with a clear message.
pub const PROTOCOL_VERSION: u32 = 1;

/// A task as the hub hands it to sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// The project it runs under (sites check it against their policy).
    pub project: ProjectId,
    /// Who asked (user name), for the sites' audit logs.
    pub requested_by: String,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// Answers after this are too late and not merged.
    pub deadline: DateTime<Utc>,
    /// The question.
    pub spec: TaskSpec,
}

/// What a site tells the hub each time it asks for work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollRequest {
    /// Protocol version of the site.
    pub protocol: u32,
    /// Software version of the site.
    pub version: String,
    /// The site's current data snapshot, if it has data.
    pub snapshot: Option<SnapshotInfo>,
    /// The site's disclosure policy (without its project list).
    pub policy: PolicySummary,
    /// Head of the site's audit chain.
    pub audit_head: String,
    /// Seconds the hub may hold the request open waiting for tasks.
    pub wait_seconds: u64,
    /// The site's audit head, signed with its key, for the hub to keep (anchoring).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_head: Option<crate::audit::SignedHead>,
    /// Tasks the site already has in hand (computing, or held for its steward): the hub leaves
    /// them out and holds the poll open for new ones, so an agent never spins on a task it is
    /// answering and a new task reaches it at once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_hand: Vec<TaskId>,
}

/// Tasks for a site (possibly none, when the long poll timed out), as the hub sends them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollResponse {
    /// Tasks the site has not answered yet.
    pub tasks: Vec<Task>,
    /// The hub's audit head, signed with the hub's key, for the site to keep (anchoring).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_head: Option<crate::audit::SignedHead>,
}

/// A [`PollResponse`] as a site reads it: each task's question is read on its own, so a
/// question this site cannot read is answered with the reason rather than breaking the poll.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IncomingPoll {
    /// Tasks the site has not answered yet.
    pub tasks: Vec<IncomingTask>,
    /// The hub's signed audit head (a hub before anchoring sends none).
    #[serde(default)]
    pub hub_head: Option<crate::audit::SignedHead>,
}

/// A [`Task`] as a site reads it: the question, or why this site cannot read it
/// (e.g. "unsupported task version 2 (this site supports 1)").
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IncomingTask {
    /// Its id.
    pub id: TaskId,
    /// The project it runs under.
    pub project: ProjectId,
    /// Who asked.
    pub requested_by: String,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// Answers after this are too late.
    pub deadline: DateTime<Utc>,
    /// The question, or why this site refuses it.
    #[serde(deserialize_with = "crate::task::deserialize_at_site")]
    pub spec: Result<TaskSpec, TaskError>,
}

/// A site's data snapshot, as published to the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// Snapshot id at the site.
    pub id: u64,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// Patients in it (rounded to the site's rounding step: the size of a site is not
    /// sensitive, but exact counts are not needed either).
    pub patients_rounded: u64,
}

/// A site's answer, as the site builds it. Its only data payload is a [`Released`] table.
#[derive(Debug, Serialize)]
pub struct AnswerOut<'a> {
    /// The task answered.
    pub task: &'a TaskId,
    /// The answering site.
    pub site: &'a SiteId,
    /// The snapshot the answer was computed on.
    pub snapshot: Option<&'a SnapshotInfo>,
    /// Milliseconds the site spent computing.
    pub elapsed_ms: u64,
    /// Head of the site's audit chain after logging this answer.
    pub audit_head: &'a str,
    /// The outcome.
    pub outcome: OutcomeOut<'a>,
}

/// The outcome part of [`AnswerOut`].
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OutcomeOut<'a> {
    /// Answered with a gated table.
    Answered {
        /// The released table.
        table: &'a Released<GatedTable>,
        /// Notes on how the site read the question: typed codes whose parameters come from the
        /// question or the policy, never from the data ([`Note`]).
        notes: &'a [Note],
        /// The denominator of rates, released through the gate as its own question (for a
        /// surveillance series: the site's patient count, see [`crate::surveillance`]).
        #[serde(skip_serializing_if = "Option::is_none")]
        denominator: Option<&'a Released<GatedTable>>,
    },
    /// Answered with exact statistics, released by the gate's statistics path.
    Statistics {
        /// The released sums.
        result: &'a Released<crate::task::stats::StatsAnswer>,
        /// Notes on how the site read the question.
        notes: &'a [Note],
    },
    /// The disclosure gate refused.
    Refused {
        /// Why.
        refusal: &'a Refusal,
    },
    /// The site could not run the task (e.g. the query uses a construct it cannot evaluate).
    Failed {
        /// The error, as the site reports it.
        error: &'a str,
    },
}

/// A site's answer, as the hub reads it (same JSON as [`AnswerOut`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The task answered.
    pub task: TaskId,
    /// The answering site.
    pub site: SiteId,
    /// The snapshot the answer was computed on.
    pub snapshot: Option<SnapshotInfo>,
    /// Milliseconds the site spent computing.
    pub elapsed_ms: u64,
    /// Head of the site's audit chain.
    pub audit_head: String,
    /// The outcome.
    pub outcome: Outcome,
}

/// The outcome of an answer, as the hub reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Answered with a gated table.
    Answered {
        /// The released table.
        table: GatedTable,
        /// Notes from the site.
        #[serde(default)]
        notes: Vec<Note>,
        /// The released denominator of rates, if the task has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        denominator: Option<Box<GatedTable>>,
    },
    /// Answered with exact statistics.
    Statistics {
        /// The released sums.
        result: crate::task::stats::StatsAnswer,
        /// Notes from the site.
        #[serde(default)]
        notes: Vec<Note>,
    },
    /// The disclosure gate refused.
    Refused {
        /// Why.
        refusal: Refusal,
    },
    /// The site could not run the task.
    Failed {
        /// The site's error.
        error: String,
    },
}

/// A signed answer: `body` is the exact JSON text the site signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The signing site.
    pub site: SiteId,
    /// The answer as JSON text.
    pub body: String,
    /// Ed25519 signature of `body`'s bytes, base64.
    pub signature: String,
}

/// A site as the network sees it (the hub's network page and API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteStatus {
    /// Id.
    pub id: SiteId,
    /// Display name.
    pub name: String,
    /// Country.
    pub country: Country,
    /// `online` when seen within the offline window, else `offline` (or `never` seen).
    pub status: String,
    /// Last time the site asked for work.
    pub last_seen: Option<DateTime<Utc>>,
    /// Its data snapshot.
    pub snapshot: Option<SnapshotInfo>,
    /// Its disclosure policy.
    pub policy: Option<PolicySummary>,
    /// Its software version.
    pub version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kakehashi_disclosure::{CountTable, Gate, Policy, Question};

    /// What a site sends (built from a released table) is what the hub reads.
    #[test]
    fn the_site_form_of_an_answer_reads_back_as_the_hub_form() {
        let gate = Gate::new(
            Policy {
                projects: vec!["*".into()],
                noise: kakehashi_disclosure::Noise::Off,
                ..Policy::default()
            },
            [7; 32],
            Box::new(kakehashi_disclosure::MemoryLedger::new()),
        )
        .unwrap();
        let project = ProjectId::new("p").unwrap();
        let released = gate
            .release(
                &Question {
                    project: &project,
                    researcher: "r",
                    key: &kakehashi_disclosure::RepeatKey::of_data("q", "1"),
                    sensitivity: 1,
                },
                CountTable::scalar("patients", 123),
            )
            .unwrap();
        let (task, site) = (
            TaskId::new("t1").unwrap(),
            SiteId::new("de-berlin").unwrap(),
        );
        let notes = vec![Note::MainDiagnosisAsAnyDiagnosis];
        let out = AnswerOut {
            task: &task,
            site: &site,
            snapshot: None,
            elapsed_ms: 5,
            audit_head: "h",
            outcome: OutcomeOut::Answered {
                table: &released,
                notes: &notes,
                denominator: None,
            },
        };
        let back: Answer = serde_json::from_str(&serde_json::to_string(&out).unwrap()).unwrap();
        match back.outcome {
            Outcome::Answered {
                table,
                notes,
                denominator,
            } => {
                assert_eq!(denominator, None);
                assert_eq!(&table, released.get());
                assert_eq!(table.rows[0].values[0].value(), Some(120));
                assert_eq!(notes, vec![Note::MainDiagnosisAsAnyDiagnosis]);
            }
            other => panic!("{other:?}"),
        }
        let refusal = kakehashi_disclosure::Refusal::ProjectNotAllowed {
            project: "x".into(),
        };
        let out = AnswerOut {
            outcome: OutcomeOut::Refused { refusal: &refusal },
            ..out
        };
        let back: Answer = serde_json::from_str(&serde_json::to_string(&out).unwrap()).unwrap();
        assert_eq!(back.outcome, Outcome::Refused { refusal });
    }
}
