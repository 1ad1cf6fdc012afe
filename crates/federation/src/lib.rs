//! What hub and sites say to each other, and what both keep: the wire protocol (typed tasks,
//! signed answers that can carry only gated tables), Ed25519 site keys, the hash-chained audit
//! log, and the merging of per-site answers into one result.

pub mod antibiogram;
pub mod approval;
pub mod audit;
pub mod merge;
pub mod protocol;
pub mod sign;
pub mod surveillance;

pub use merge::{HubRules, Merged, Pooled, PooledTable, SiteResult, SiteState, merge};
pub use protocol::{
    Answer, AnswerOut, Envelope, Outcome, OutcomeOut, PROTOCOL_VERSION, PollRequest, PollResponse,
    SiteStatus, SnapshotInfo, Task, TaskSpec,
};
