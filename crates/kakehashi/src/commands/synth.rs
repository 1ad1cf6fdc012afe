//! `kakehashi synth`.

use std::process::ExitCode;

/// Arguments of `kakehashi synth`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `kakehashi synth`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi synth is being built")
}
