//! `kakehashi sof`.

use std::process::ExitCode;

/// Subcommands of `kakehashi sof`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Run one ViewDefinition over FHIR input and print or write the rows.
    Run {},
}

/// Runs `kakehashi sof`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi sof is being built")
}
