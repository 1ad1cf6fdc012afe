//! Process exit codes and error reporting, in one place.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | failure: nothing was done, or the command stopped (the message says why) |
//! | 2 | usage error (clap) |
//! | 3 | done, but some input was rejected (the summary lists what and where) |

use std::process::ExitCode;

/// The command failed.
pub const FAILURE: ExitCode = ExitCode::FAILURE;
/// The command completed, but rejected part of its input.
pub const PARTIAL: u8 = 3;

/// Prints an error with its whole context chain to stderr.
pub fn report(err: &anyhow::Error) {
    let mut msg = format!("error: {err}");
    for cause in err.chain().skip(1) {
        msg.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{msg}");
}
