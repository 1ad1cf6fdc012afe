//! `kakehashi ingest`.

use std::process::ExitCode;

/// Arguments of `kakehashi ingest`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `kakehashi ingest`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi ingest is being built")
}
