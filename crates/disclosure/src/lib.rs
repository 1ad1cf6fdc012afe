//! The disclosure gate every outgoing result passes; the only maker of [`Released`] values.
//!
//! A site computes a [`CountTable`] of true counts (not serialisable: it cannot be put into a
//! message). [`Gate::release`] turns it into a [`Released<GatedTable>`] following the site's
//! [`Policy`]: the project must be allowed; a new question spends ε from the project's budget
//! (a repeated one, same project and [`RepeatKey`], costs nothing; the key is the question's
//! whole meaning, see [`key`]); each count gets exact discrete Laplace noise derived from
//! (site secret, project, key, cell), so the same question always gets the same answer and
//! averaging repeats reveals nothing; values are rounded; counts whose true or released value is below the
//! minimum are withheld. The site→hub message types accept only `Released` payloads.

mod gate;
pub mod key;
pub mod noise;
pub mod policy;
pub mod table;

pub use gate::{Gate, GateError, Question, Refusal};
pub use key::{KeyParts, ReferenceVersions, RepeatKey, software_version};
pub use policy::{Policy, PolicyError, PolicySummary};
pub use table::{
    CountTable, Dim, DimHeader, DimKind, Disclosure, GatedCount, GatedRow, GatedTable, Released,
    TableError,
};
