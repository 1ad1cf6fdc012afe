//! What the hub does, apart from HTTP: the handlers of [`crate::api`] and [`crate::ui`] parse
//! a request, call one of these and shape the answer. The functions that touch SQLite, the
//! audit file or Argon2 are blocking; handlers run them through [`crate::Hub::blocking`].

pub mod anchor;
pub mod audit;
pub mod catalogue;
pub mod identity;
pub mod notify;
pub mod office;
pub mod requests;
pub mod sites;
pub mod stats;
pub mod studies;
pub mod tasks;
pub mod uploads;
pub mod users;

/// A service's result.
pub type ApiResult<T> = Result<T, crate::ApiError>;
