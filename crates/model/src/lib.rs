//! Shared vocabulary of kakehashi: typed ids, codings, countries and the **site table schema**.
//!
//! This crate is layer 0: every other crate may depend on it, it depends on no other crate of
//! the workspace and does no I/O. The site table schema ([`schema`]) is the contract between the
//! FHIR flattening (which writes the tables) and the domain crates and the engine (which read
//! them): a view's name, the FHIR resource type it comes from and its columns with their types.

pub mod coding;
pub mod country;
pub mod ids;
pub mod resource_types;
pub mod schema;

pub use coding::{Coding, systems};
pub use country::Country;
pub use ids::{IdError, ProjectId, SiteId, TaskId};
pub use schema::{Column, ColumnType, View};
