//! The disclosure gate every outgoing result passes; the only maker of [`Released`] values.
//!
//! A site computes a [`CountTable`] of true counts (not serialisable: it cannot be put into a
//! message). Before computing, [`Gate::admit`] checks the task's project, its estimated work
//! and the project's rate limits. [`Gate::release`] turns the table into a
//! [`Released<GatedTable>`] following the site's [`Policy`]: a new question spends ε from the
//! project's and the researcher's budgets (a repeated one, same project and [`RepeatKey`], costs nothing; the key is the
//! question's whole meaning, see [`key`]); each count gets exact discrete Laplace noise derived
//! from (site secret, project, question, snapshot, cell), so the same question always gets
//! the same answer and averaging repeats reveals nothing; counts whose *noisy* value is below
//! the minimum are withheld (a noisy threshold, covered by ε) and the rest rounded. A site
//! with `noise = "off"` applies the minimum to true counts, with secondary suppression of
//! totals, and every answer says it is exact. The ledger ([`Gate::ledger`],
//! [`Gate::remaining`]) is the steward's view of the budgets. The site→hub message types accept
//! only `Released` payloads.

mod gate;
pub mod key;
pub mod ledger;
pub mod noise;
pub mod policy;
pub mod table;

pub use gate::{Admission, ExactAggregate, Gate, GateError, Question, Refusal, StatisticsRule};
pub use key::{KeyParts, ReferenceVersions, RepeatKey, software_version};
pub use ledger::{Ledger, LedgerEntry, LedgerError, MemoryLedger, Remaining, Usage};
pub use policy::{Noise, Policy, PolicyError, PolicySummary};
pub use table::{
    CountTable, Dim, DimHeader, DimKind, Disclosure, GatedCount, GatedRow, GatedTable, Released,
    TableError,
};
