//! What the site's loader (`kakehashi-ingest`) uses of this crate, and nothing else: the one
//! surface it is written against, so the modules behind it can change without it.
//!
//! A load runs in three steps, each named here:
//! - **read**: [`discover`] the input files, [`read_file`] each into [`Chunk`]s of raw
//!   records that keep file and line (a Bundle's chunks carry its `fullUrl` map, which
//!   [`RefScope`] wraps for the evaluators);
//! - **parse**: a [`Parser`] per worker turns a record into a checked resource ([`Node`], read
//!   with [`get`], [`get_str`], [`kind`]); a bad one is a [`Problem`] (file, line, element);
//! - **flatten**: the [`standard_views`] of a resource type compiled into [`Plans`], evaluated
//!   into a [`Staging`] buffer (recycled between resources, with the per-resource member table
//!   [`Members`]), its [`Staged`] rows appended to one [`BatchBuilder`] per view only when
//!   every view of the resource accepted it.
//!
//! These are re-exports: the loader's per-resource loop calls the same functions, with no
//! indirection added.

pub use crate::bundle::{RefScope, Unresolved, unresolved_message};
pub use crate::datetime::{DateError, parse_date_time_micros};
pub use crate::fhirpath::{Kind, Node, get, get_str, kind};
pub use crate::plan::{Members, PlanError, Plans, Staged, Staging};
pub use crate::read::{Chunk, InputFile, Location, ReadError, discover, read_file};
pub use crate::resource::{Parser, Problem};
pub use crate::sof::{BatchBuilder, Mode, ViewDefinition};
pub use crate::standard::compiled as standard_views;
