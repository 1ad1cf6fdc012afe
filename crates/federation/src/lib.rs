//! What hub and sites say to each other, and what both keep: the task contract (one typed
//! module per task type, [`task`]), the wire protocol (signed answers that can carry only gated
//! tables), Ed25519 site keys, the hash-chained audit log, and the merging of per-site answers
//! into one result.

pub mod approval;
pub mod audit;
pub mod catalogue;
pub mod enrolment;
pub mod merge;
pub mod prefill;
pub mod protocol;
pub mod sign;
pub mod task;

pub use merge::{HubRules, Merged, Pooled, PooledTable, SiteResult, SiteState, merge};
pub use protocol::{
    Answer, AnswerOut, Envelope, IncomingPoll, IncomingTask, Outcome, OutcomeOut, PROTOCOL_VERSION,
    PollRequest, PollResponse, SiteStatus, SnapshotInfo, Task,
};
pub use task::{Note, TaskError, TaskSpec, antibiogram, cohort, samples, surveillance};
