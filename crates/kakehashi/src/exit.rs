//! Process exit codes and error reporting, in one place. The codes are stable: scripts may
//! rely on them. README ("Exit codes") lists them; `tests/exit_codes.rs` holds the binary to
//! that list.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | failure: nothing was done, or the command stopped (the message says why, with its causes) |
//! | 2 | usage error: unknown command or option, a bad or missing argument (clap) |
//! | 3 | done, but some input was rejected (the summary lists what and where) |
//! | 4 | `kakehashi audit verify`: the log is broken or was rewritten (the message names the record) |
//! | 5 | `kakehashi query`: the result is in, but not every site answered (each one's state is listed) |

use std::process::ExitCode;

/// The command failed.
pub const FAILURE: ExitCode = ExitCode::FAILURE;
/// The command completed, but rejected part of its input.
pub const PARTIAL: u8 = 3;
/// The audit log is broken or was rewritten.
pub const BROKEN: u8 = 4;
/// Not every site answered the question.
pub const INCOMPLETE: u8 = 5;

/// Prints an error with its whole context chain to stderr.
pub fn report(err: &anyhow::Error) {
    let mut msg = format!("error: {err}");
    for cause in err.chain().skip(1) {
        msg.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{msg}");
}
