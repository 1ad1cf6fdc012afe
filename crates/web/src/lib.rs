//! The web UI's rendering, served by the hub: pages in English, German and Japanese (strings in
//! Project Fluent files), locale-formatted numbers and dates, accessible server-side SVG charts
//! with CSV downloads, and form validation with messages next to each field.
//!
//! This crate knows nothing of HTTP or the hub's state: the hub fills the typed view models in
//! [`pages`] and calls [`pages::render`]. No JavaScript and no Node build step are needed.

pub mod analysis;
pub mod catalogue;
pub mod chart;
pub mod console;
pub mod form;
pub mod format;
pub mod i18n;
pub mod notify;
pub mod office;
pub mod office_report;
pub mod pages;
pub mod requests;
pub mod samples;
pub mod share_chart;
pub mod study;

pub use i18n::{Catalog, Locale};
pub use pages::{Chrome, Page, render};
