//! `kakehashi office`: the partnership office from the command line, through the hub's API
//! with any member's token.

use anyhow::{Context, bail};
use kakehashi_office::event::Event;
use serde::Deserialize;
use std::io::Write;
use std::process::ExitCode;

/// The office's subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// The network's events, with times in Europe/Berlin and Asia/Tokyo.
    ///
    /// Example: kakehashi office events --hub http://127.0.0.1:8080 --token kh_... --format ics
    Events(EventsArgs),
}

/// Output formats of `office events`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One line per event.
    Table,
    /// The hub's answer as JSON.
    Json,
    /// iCalendar (RFC 5545), for a calendar application.
    Ics,
}

/// Arguments of `kakehashi office events`.
#[derive(clap::Args)]
pub struct EventsArgs {
    /// The hub's URL.
    #[arg(long, env = "KAKEHASHI_HUB")]
    hub: String,
    /// Your API token (any member's).
    #[arg(long, env = "KAKEHASHI_TOKEN", hide_env_values = true)]
    token: String,
    /// Only your events (those you take part in or own actions of).
    #[arg(long)]
    mine: bool,
    /// Only one body's events (its id, e.g. steering).
    #[arg(long)]
    body: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// An event as the hub's API gives it.
#[derive(Deserialize, serde::Serialize)]
struct EventView {
    event: Event,
    berlin: (String, String),
    tokyo: (String, String),
}

#[derive(Deserialize, Default)]
struct HubError {
    message: Option<String>,
}

/// Runs a `kakehashi office` subcommand.
pub fn run(c: Command) -> anyhow::Result<ExitCode> {
    match c {
        Command::Events(a) => events(a),
    }
}

fn events(a: EventsArgs) -> anyhow::Result<ExitCode> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let list: Vec<EventView> = rt.block_on(fetch(&a))?;
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?,
        Format::Ics => {
            let events: Vec<Event> = list.into_iter().map(|v| v.event).collect();
            let name = a.body.as_deref().unwrap_or("kakehashi office");
            write!(
                out,
                "{}",
                kakehashi_office::ical::calendar(name, &events, chrono::Utc::now())
            )?;
        }
        Format::Table => {
            writeln!(
                out,
                "{:<17} {:<17} {:<12} {:<14} {:>7}  title",
                "Berlin", "Tokyo", "body", "location", "actions"
            )?;
            for v in &list {
                let open = v
                    .event
                    .actions
                    .iter()
                    .filter(|a| a.status == kakehashi_office::event::ActionStatus::Open)
                    .count();
                writeln!(
                    out,
                    "{:<17} {:<17} {:<12} {:<14} {:>7}  {}",
                    short(&v.berlin.0),
                    short(&v.tokyo.0),
                    v.event.body.as_deref().unwrap_or("-"),
                    v.event.location,
                    open,
                    v.event.title
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `2026-04-15T09:00:00+02:00` → `2026-04-15 09:00`.
fn short(rfc3339: &str) -> String {
    rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ")
}

async fn fetch(a: &EventsArgs) -> anyhow::Result<Vec<EventView>> {
    let http = reqwest::Client::builder().build()?;
    let mut url = format!("{}/api/office/events", a.hub.trim_end_matches('/'));
    let mut query = Vec::new();
    if a.mine {
        query.push("mine=true".to_owned());
    }
    if let Some(b) = &a.body {
        // body ids are lower-case letters, digits and '-': nothing to encode
        if !b
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        {
            bail!("--body: {b:?} is not a body id (lower-case letters, digits and '-')");
        }
        query.push(format!("body={b}"));
    }
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
    let r = http
        .get(&url)
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
    r.json().await.context("reading the hub's events")
}
