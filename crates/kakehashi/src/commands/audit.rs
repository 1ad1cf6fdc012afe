//! `kakehashi audit`: verify a hash-chained audit log.

use std::path::PathBuf;
use std::process::ExitCode;

/// Subcommands of `kakehashi audit`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check every link of a site's or the hub's audit chain; report the first broken one.
    ///
    /// Example: kakehashi audit verify --site-dir /srv/kakehashi/site
    Verify {
        /// A site directory (its agent keeps the log in agent/audit).
        #[arg(long, conflicts_with = "hub_dir", required_unless_present = "hub_dir")]
        site_dir: Option<PathBuf>,
        /// The hub's data directory (the log is in audit/).
        #[arg(long)]
        hub_dir: Option<PathBuf>,
        /// The site's agent state directory, when not <site-dir>/agent.
        #[arg(long, requires = "site_dir")]
        state_dir: Option<PathBuf>,
        /// Also check the log against the signed heads the other side kept: for the hub, a
        /// site's state directory (its `hub-heads.jsonl`); for a site, the hub's
        /// `anchors/<site>.jsonl`. A rewritten history is reported as broken.
        ///
        /// Example: kakehashi audit verify --hub-dir /srv/kakehashi/hub --against /srv/kakehashi/site/agent
        #[arg(long)]
        against: Option<PathBuf>,
    },
}

/// Runs `kakehashi audit`. Exit 0 when intact, 4 when broken or rewritten.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Verify {
        site_dir,
        hub_dir,
        state_dir,
        against,
    } = cmd;
    let dir = match (site_dir, hub_dir) {
        (Some(s), _) => state_dir.unwrap_or_else(|| s.join("agent")).join("audit"),
        (None, Some(h)) => h.join("audit"),
        (None, None) => anyhow::bail!("give --site-dir or --hub-dir"),
    };
    if let Some(against) = against {
        let heads = if against.is_dir() {
            kakehashi_audit::anchor::hub_heads_file(&against)
        } else {
            against
        };
        return match kakehashi_audit::anchor::verify_against(&dir, &heads) {
            Ok(a) => {
                println!(
                    "audit log {} intact: {} entries; it holds every head signed in {} ({} heads, up to record {}, key {})",
                    dir.display(),
                    a.entries,
                    heads.display(),
                    a.heads,
                    a.newest,
                    a.key
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(
                e @ (kakehashi_audit::AuditError::Broken { .. }
                | kakehashi_audit::AuditError::Rewritten { .. }),
            ) => {
                println!("BROKEN: {e}");
                Ok(ExitCode::from(crate::exit::BROKEN))
            }
            Err(e) => Err(e.into()),
        };
    }
    match kakehashi_audit::verify(&dir) {
        Ok(v) => {
            let torn = v
                .torn
                .map(|t| {
                    format!(
                        " (a torn last record of {} bytes at offset {} is truncated at the next start)",
                        t.bytes, t.offset
                    )
                })
                .unwrap_or_default();
            println!(
                "audit log {} intact: {} entries, head {}{torn}",
                dir.display(),
                v.entries,
                v.head
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ kakehashi_audit::AuditError::Broken { .. }) => {
            println!("BROKEN: {e}");
            Ok(ExitCode::from(crate::exit::BROKEN))
        }
        Err(e) => Err(e.into()),
    }
}
