//! `kakehashi demo`.

use std::process::ExitCode;

/// Arguments of `kakehashi demo`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `kakehashi demo`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi demo is being built")
}
