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
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// What else to do at the site (default: run the agent).
    #[command(subcommand)]
    command: Option<SiteCommand>,
    /// The site's configuration (TOML: site_id, hub, token, site_dir, [disclosure]).
    #[arg(long, env = "KAKEHASHI_SITE_CONFIG")]
    config: Option<PathBuf>,
    /// Print the site's public key (made on first use) and exit.
    #[arg(long)]
    print_public_key: bool,
    /// Read a steward password from standard input, print its Argon2 hash for the
    /// `[console]` table (`password_hash` or a `password_hash_file`) and exit.
    #[arg(long, conflicts_with = "print_public_key")]
    hash_password: bool,
}

/// Site commands besides running the agent.
#[derive(clap::Subcommand)]
pub enum SiteCommand {
    /// Enrol a local patient in a study: mints the subject pseudonym (HMAC-SHA-256 of the
    /// site's secret over the study and the patient id), keeps the mapping in the site
    /// directory and prints the pseudonym; the running agent sends the hub the study and the
    /// pseudonym after its next poll, never the patient id. Enrolling the same patient again
    /// prints the same pseudonym.
    ///
    /// Example: kakehashi site enrol --site-dir sites/de-a --study vhf-registry --patient P-0001
    Enrol {
        /// The site directory (where `pseudonym.secret` and `enrolments.sqlite` live).
        #[arg(long)]
        site_dir: PathBuf,
        /// The study id.
        #[arg(long)]
        study: String,
        /// The local patient id (stays at the site).
        #[arg(long)]
        patient: String,
    },
    /// Publishes the site's current snapshot to object storage the site controls (S3 or an
    /// S3-compatible server; credentials and endpoint from AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_ENDPOINT, AWS_ALLOW_HTTP), so that
    /// `kakehashi sql --site-url` and `kakehashi surveillance series --site-url` read the Parquet
    /// files from there. Uploads only segments the bucket lacks; `CURRENT` is written last.
    ///
    /// Example: kakehashi site publish --site-dir sites/de-a --to s3://de-a-fhir/site
    Publish {
        /// The site directory.
        #[arg(long)]
        site_dir: PathBuf,
        /// Where to: `s3://BUCKET/PREFIX` (or `file:///FOLDER`).
        #[arg(long)]
        to: String,
    },
    /// The steward's queue of pre-fill requests held for approval (a study whose
    /// `[[prefill.studies]]` entry, or the console, says `approval = "manual"`): list them,
    /// or approve or refuse one; the running agent answers it after its next poll.
    ///
    /// Example: kakehashi site prefill --state-dir sites/de-a/agent approve pf-3
    Prefill {
        /// The agent's state directory (default of `state_dir`: `<site_dir>/agent`).
        #[arg(long)]
        state_dir: PathBuf,
        /// What to do.
        #[command(subcommand)]
        action: PrefillAction,
    },
}

/// What to do with the pre-fill queue.
#[derive(clap::Subcommand)]
pub enum PrefillAction {
    /// Lists the requests held (newest first).
    List,
    /// Approves a waiting request.
    Approve {
        /// The request id.
        id: String,
    },
    /// Refuses a waiting request; the hub is told the reason, no value is sent.
    Refuse {
        /// The request id.
        id: String,
        /// Why (sent to the hub).
        #[arg(long, default_value = "")]
        comment: String,
    },
}

fn prefill(state_dir: &std::path::Path, action: PrefillAction) -> anyhow::Result<ExitCode> {
    let q = kakehashi_site::prefill::PrefillQueue::open(state_dir)?;
    match action {
        PrefillAction::List => {
            for h in q.list()? {
                println!(
                    "{}\t{:?}\t{}\t{}\t{}\t{}\t{}",
                    h.id,
                    h.state,
                    h.study,
                    h.record,
                    h.form,
                    h.requested_by,
                    h.fields.join(",")
                );
            }
        }
        PrefillAction::Approve { id } => {
            q.decide(&id, true, "")?;
            eprintln!("{id}: approved; the agent answers it after its next poll");
        }
        PrefillAction::Refuse { id, comment } => {
            q.decide(&id, false, &comment)?;
            eprintln!("{id}: refused; the agent tells the hub after its next poll");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn publish(site_dir: &std::path::Path, to: &str) -> anyhow::Result<ExitCode> {
    use kakehashi_engine::remote;
    let url = remote::SiteUrl::parse(to)?;
    let store = kakehashi_store::Store::open(site_dir);
    let p = remote::publish(&store, &url)
        .with_context(|| format!("publishing {} to {url}", site_dir.display()))?;
    eprintln!(
        "snapshot {} published to {url}: {} Parquet files uploaded ({} bytes), {} already there",
        p.snapshot, p.uploaded, p.bytes, p.kept
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs the agent until Ctrl-C or SIGTERM (or the subcommand given).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let args = match args.command {
        Some(SiteCommand::Prefill { state_dir, action }) => return prefill(&state_dir, action),
        Some(SiteCommand::Publish { site_dir, to }) => return publish(&site_dir, &to),
        command => Args { command, ..args },
    };
    if let Some(SiteCommand::Enrol {
        site_dir,
        study,
        patient,
    }) = args.command
    {
        let map = kakehashi_site::enrolment::Enrolments::open(&site_dir)?;
        let e = map.enrol(&study, &patient)?;
        println!("{}", e.record);
        eprintln!(
            "{} in {study}: {}; the agent sends the pseudonym to the hub after its next poll",
            if e.new {
                "enrolled"
            } else {
                "already enrolled"
            },
            match &e.hub {
                None => "not yet at the hub".to_owned(),
                Some(h) => format!("the hub answered: {h}"),
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
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
    let Some(config) = args.config else {
        anyhow::bail!("--config (or KAKEHASHI_SITE_CONFIG) is required to run the agent");
    };
    let cfg = AgentConfig::load(&config)?;
    cfg.disclosure
        .validate()
        .with_context(|| format!("{}: [disclosure]", config.display()))?;
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
            .with_context(|| format!("{}: the steward console", config.display()))?;
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
