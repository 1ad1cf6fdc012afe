//! The rules that hold while data are entered, without I/O: value validation
//! ([`value`]), and the form workflow ([`workflow`]: form status, field history, locks,
//! e-signatures, data queries). Every refused step is a typed error and changes nothing.

pub mod value;

pub use value::{MissingCode, ValueError, parse_number, parse_temporal, validate_value};
