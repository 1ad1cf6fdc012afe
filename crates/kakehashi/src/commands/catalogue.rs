//! `kakehashi catalogue validate|export`: check a site's MIABIS catalogue file, or write it as
//! MIABIS JSON.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

/// `kakehashi catalogue ...`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check a catalogue file (TOML or JSON) against the MIABIS Core 3 attribute rules; every
    /// problem is printed with its entry, line, field and attribute (exit 1 when any).
    Validate {
        /// The file (a site keeps it as catalogue.toml in its directory).
        file: PathBuf,
    },
    /// Write a catalogue file as MIABIS JSON to standard output.
    Export {
        /// The file.
        file: PathBuf,
    },
}

fn read(
    file: &PathBuf,
) -> anyhow::Result<Result<kakehashi_biobank::Catalogue, kakehashi_biobank::CatalogueError>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    Ok(kakehashi_biobank::parse_catalogue(
        &file.display().to_string(),
        &text,
    ))
}

/// Runs `kakehashi catalogue ...`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Validate { file } => match read(&file)? {
            Ok(c) => {
                println!(
                    "{}: valid MIABIS Core 3 catalogue: {} biobank(s), {} collection(s)",
                    file.display(),
                    c.biobanks.len(),
                    c.collections.len()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(e.into()),
        },
        Command::Export { file } => {
            let c = read(&file)??;
            println!("{}", kakehashi_biobank::export::miabis_json(&c));
            Ok(ExitCode::SUCCESS)
        }
    }
}
