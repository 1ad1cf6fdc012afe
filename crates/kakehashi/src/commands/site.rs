//! `kakehashi site`: the site agent.

use anyhow::Context;
use kakehashi_site::agent::{Agent, AgentConfig};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `kakehashi site`.
///
/// The agent only makes outbound connections to the hub. Register the site first: print its
/// public key with `--print-public-key`, give it to the network office, put the token you get
/// back into the configuration.
///
/// Example: kakehashi site --config site.toml
#[derive(clap::Args)]
pub struct Args {
    /// The site's configuration (TOML: site_id, hub, token, site_dir, [disclosure]).
    #[arg(long, env = "KAKEHASHI_SITE_CONFIG")]
    config: PathBuf,
    /// Print the site's public key (made on first use) and exit.
    #[arg(long)]
    print_public_key: bool,
    /// Read a steward password from standard input, print its Argon2 hash for the
    /// `[console]` table (`password_hash` or a `password_hash_file`) and exit.
    #[arg(long, conflicts_with = "print_public_key")]
    hash_password: bool,
}

/// Runs the agent until Ctrl-C or SIGTERM.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.hash_password {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']);
        if password.chars().count() < 10 {
            anyhow::bail!("the steward password needs at least 10 characters");
        }
        println!("{}", kakehashi_site::console::hash_password(password)?);
        return Ok(ExitCode::SUCCESS);
    }
    let cfg = AgentConfig::load(&args.config)?;
    cfg.disclosure
        .validate()
        .with_context(|| format!("{}: [disclosure]", args.config.display()))?;
    if args.print_public_key {
        println!("{}", kakehashi_site::agent::public_key(&cfg)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let agent = Agent::open(cfg).context("starting the site agent")?;
        super::check_reference_data();
        let console = kakehashi_site::console::Console::bind(agent.clone())
            .await
            .with_context(|| format!("{}: the steward console", args.config.display()))?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        if let Some(console) = console {
            tokio::spawn(console.run(rx.clone()));
        }
        let run = tokio::spawn(agent.run(rx));
        super::shutdown_signal().await;
        let _ = tx.send(true);
        let _ = run.await;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}
