//! `kakehashi site`.

use std::process::ExitCode;

/// Arguments of `kakehashi site`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `kakehashi site`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi site is being built")
}
