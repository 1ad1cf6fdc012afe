//! Federated statistics without I/O: model formulas, model matrices, GLMs by federated IRLS,
//! summaries and contingency tables, each with the disclosure rules a site applies before it
//! answers.
//!
//! A site turns its analysis dataset into a [`Frame`], builds what a task asks from it
//! ([`Design`], [`summary::site_summary`], [`table::tabulate`]) and answers only if the rules
//! allow; the driver (hub or CLI) pools the answers ([`glm::Irls`], [`summary::pool`],
//! [`table::pool`]). Everything a site answers is a sum, so pooled results equal those of
//! the pooled rows.

pub mod analysis;
pub mod dataset;
pub mod design;
pub mod formula;
pub mod frame;
pub mod glm;
pub mod meta;
pub mod summary;
pub mod survival;
pub mod table;

pub use design::{Design, DesignError, Levels};
pub use formula::{Formula, FormulaError};
pub use frame::{Column, Frame, FrameError};
pub use glm::{Family, GlmError, GlmFit, GlmRefusal, GlmRules};
