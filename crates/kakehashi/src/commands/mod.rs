//! One module per subcommand: its clap arguments and its `run`.

pub mod ingest;
pub mod sof;
pub mod sql;
pub mod synth;
pub mod cohort;
pub mod amr;
pub mod surveillance;
pub mod hub;
pub mod site;
pub mod query;
pub mod demo;
pub mod audit;
