//! `kakehashi hub`: the network office's server.

use anyhow::Context;
use kakehashi_hub::config::HubConfig;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `kakehashi hub`.
///
/// Example: KAKEHASHI_ADMIN_PASSWORD=change-me kakehashi hub --config hub.toml
#[derive(clap::Args)]
pub struct Args {
    /// The hub's configuration (TOML); defaults apply when absent.
    #[arg(long, env = "KAKEHASHI_HUB_CONFIG")]
    config: Option<PathBuf>,
    /// Listen address, overriding the configuration (e.g. 0.0.0.0:8443).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Data directory, overriding the configuration.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Name of the first administrator, created when the hub has no users.
    #[arg(long, default_value = "admin")]
    admin: String,
    /// Password of the first administrator (only used when the hub has no users).
    #[arg(long, env = "KAKEHASHI_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
}

/// Runs `kakehashi hub` until Ctrl-C or SIGTERM.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut cfg = HubConfig::load(args.config.as_deref())?;
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if let Some(d) = args.data_dir {
        cfg.data_dir = d;
    }
    let listen = cfg.listen;
    let url = cfg.url();
    // the database is opened and the administrator created before the async runtime runs:
    // the database's calls block (the hub makes them on the runtime's blocking pool)
    let hub = kakehashi_hub::Hub::open(cfg).context("opening the hub's state")?;
    eprintln!("hub database: {}", hub.db.describe());
    super::check_reference_data();
    if let Some(pw) = &args.admin_password {
        if hub
            .bootstrap_admin(&args.admin, pw)
            .map_err(|e| anyhow::anyhow!(e.message))?
        {
            eprintln!("created administrator {:?}", args.admin);
        }
    } else if hub.db.user_count()? == 0 {
        eprintln!(
            "note: the hub has no users; restart with KAKEHASHI_ADMIN_PASSWORD set to create the administrator"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        eprintln!("kakehashi hub listening on {url}");
        kakehashi_hub::serve(hub, listener, super::shutdown_signal()).await?;
        eprintln!("hub stopped");
        anyhow::Ok(ExitCode::SUCCESS)
    })
}
