//! `kakehashi sql`.

use std::process::ExitCode;

/// Arguments of `kakehashi sql`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `kakehashi sql`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi sql is being built")
}
