//! The rules that hold while data are entered, without I/O: value validation ([`value`]),
//! the form workflow ([`workflow`]: form status, field history, locks, e-signatures) and the
//! data-query workflow ([`query`]). Every refused step is a typed error and changes nothing.

pub mod context;
pub mod query;
pub mod record;
pub mod subject;
pub mod value;
pub mod workflow;

pub use context::RecordContext;
pub use query::{DataQuery, QueryAction, QueryError, QueryStatus, QueryTarget};
pub use record::{
    Actor, EntryError, FormStatus, HistoryEntry, Lock, Reauthenticated, Signature, SignatureMeaning,
};
pub use subject::{
    CellInstance, FormKey, GridCell, GridRow, Subject, SubjectError, SubjectStatus, Withdrawal,
};
pub use value::{MissingCode, ValueError, parse_number, parse_temporal, validate_value};
pub use workflow::{FormData, checkbox_missing};
