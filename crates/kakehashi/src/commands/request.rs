//! `kakehashi request list|show`: access requests from the command line, through the hub's
//! API with the caller's token (a researcher sees their own, a steward those asking their
//! site, the network office all).

use anyhow::{Context, bail};
use kakehashi_biobank::request::AccessRequest;
use serde::Deserialize;
use std::io::Write;
use std::process::ExitCode;

/// `kakehashi request ...`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// The access requests you may see, newest first: id, state, collections and their states.
    ///
    /// Example: kakehashi request list --hub http://127.0.0.1:8080 --token kh_...
    List(Args),
    /// One request: its query, collections, attachments, threads and history.
    ///
    /// Example: kakehashi request show --hub http://127.0.0.1:8080 --token kh_... 5f0c…
    Show {
        /// The hub and token.
        #[command(flatten)]
        args: Args,
        /// The request's id.
        id: String,
    },
}

/// Where and as whom.
#[derive(clap::Args)]
pub struct Args {
    /// The hub's URL.
    #[arg(long, env = "KAKEHASHI_HUB")]
    hub: String,
    /// Your API token.
    #[arg(long, env = "KAKEHASHI_TOKEN", hide_env_values = true)]
    token: String,
    /// Print the hub's answer as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Deserialize, Default)]
struct HubError {
    message: Option<String>,
}

/// Runs `kakehashi request ...`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut out = std::io::stdout().lock();
    match cmd {
        Command::List(a) => {
            let list: Vec<AccessRequest> = rt.block_on(fetch(&a, "/api/requests"))?;
            if a.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
            } else {
                print_list(&mut out, &list)?;
            }
        }
        Command::Show { args, id } => {
            if id.is_empty() || !id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
                bail!("{id:?} is not a request id (letters, digits and '-')");
            }
            let r: AccessRequest = rt.block_on(fetch(&args, &format!("/api/requests/{id}")))?;
            if args.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
            } else {
                print_one(&mut out, &r)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn fetch<T: serde::de::DeserializeOwned>(a: &Args, path: &str) -> anyhow::Result<T> {
    let http = reqwest::Client::builder().build()?;
    let r = http
        .get(format!("{}{path}", a.hub.trim_end_matches('/')))
        .bearer_auth(&a.token)
        .send()
        .await
        .context("reaching the hub")?;
    let status = r.status();
    if !status.is_success() {
        let body: HubError = r.json().await.unwrap_or_default();
        bail!(
            "hub: HTTP {status}: {}",
            body.message.as_deref().unwrap_or("no message")
        );
    }
    r.json().await.context("reading the hub's answer")
}

/// One line per request.
pub fn print_list(w: &mut impl Write, list: &[AccessRequest]) -> anyhow::Result<()> {
    writeln!(
        w,
        "{:<36}  {:<16} {:<20} {:<10} collections",
        "id", "opened", "state", "researcher"
    )?;
    for r in list {
        let colls: Vec<String> = r
            .collections
            .iter()
            .map(|c| format!("{} ({}, {})", c.id, c.site, c.state))
            .collect();
        writeln!(
            w,
            "{:<36}  {:<16} {:<20} {:<10} {}",
            r.id,
            r.created.format("%Y-%m-%d %H:%M"),
            r.state.as_str(),
            r.researcher,
            colls.join(", ")
        )?;
        writeln!(w, "{:<36}  {}", "", r.title)?;
    }
    if list.is_empty() {
        writeln!(w, "(no request you may see)")?;
    }
    Ok(())
}

/// A request in full.
pub fn print_one(w: &mut impl Write, r: &AccessRequest) -> anyhow::Result<()> {
    writeln!(w, "{}  {}", r.id, r.title)?;
    writeln!(
        w,
        "state {} · opened by {} on {}",
        r.state,
        r.researcher,
        r.created.format("%Y-%m-%d %H:%M UTC")
    )?;
    writeln!(w, "\n{}\n", r.description)?;
    if let Some(t) = &r.query.task {
        writeln!(w, "from locator task {t}")?;
    }
    writeln!(
        w,
        "specimens: {}",
        serde_json::to_string(&r.query.specimen)?
    )?;
    writeln!(w, "\ncollections:")?;
    for c in &r.collections {
        writeln!(w, "  {:<24} {:<14} {}", c.id, c.site, c.state)?;
    }
    writeln!(w, "\nattachments:")?;
    for a in &r.attachments {
        writeln!(
            w,
            "  {:<16} {:<24} {:>10} bytes  sha256 {}",
            serde_json::to_value(a.kind)?
                .as_str()
                .unwrap_or("other")
                .to_owned(),
            a.name,
            a.size,
            a.sha256
        )?;
    }
    writeln!(w, "\nhistory:")?;
    for t in &r.history {
        writeln!(
            w,
            "  {}  {:<28} {:<20} {}{} → {}",
            t.at.format("%Y-%m-%d %H:%M"),
            actor(&t.actor),
            t.event,
            t.collection
                .as_deref()
                .map(|c| format!("[{c}] "))
                .unwrap_or_default(),
            t.from,
            t.to
        )?;
    }
    writeln!(w, "\nmessages:")?;
    for m in &r.messages {
        writeln!(
            w,
            "  {}  {}{}: {}",
            m.at.format("%Y-%m-%d %H:%M"),
            actor(&m.author),
            m.collection
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default(),
            m.text
        )?;
    }
    Ok(())
}

fn actor(a: &kakehashi_biobank::Actor) -> String {
    use kakehashi_biobank::Actor;
    match a {
        Actor::NetworkOffice { user } => format!("{user} (office)"),
        Actor::Researcher { user } => user.clone(),
        Actor::SiteSteward { site, user } => format!("{user} ({site})"),
    }
}
