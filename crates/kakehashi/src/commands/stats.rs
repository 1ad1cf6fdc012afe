//! `kakehashi stats`: federated statistics over analysis datasets, asked of the network
//! through the hub (`--hub`, `hub.rs`) or run by a steward on the site's own store
//! (`--site-dir`; several `--site-dir`s run the same federated computation over each store as
//! a site, adding only what sites release), and the local dataset export.

mod hub;
mod output;
mod survival;

use anyhow::{Context, bail};
use kakehashi_federation::task::stats::Dataset;
use kakehashi_stats::glm::{GlmRules, Irls, Progress, Settings, site_round};
use kakehashi_stats::{Design, Family, Formula, Frame, summary, table};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Output formats.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned text table.
    Table,
    /// JSON.
    Json,
    /// CSV.
    Csv,
}

/// Where the dataset is computed: the network through a hub, or local site stores.
#[derive(clap::Args)]
pub struct Sites {
    /// A site directory (repeat for several stores, each answering as its own site).
    #[arg(
        long = "site-dir",
        required_unless_present = "hub",
        conflicts_with = "hub"
    )]
    site_dirs: Vec<PathBuf>,
    /// The hub's URL: ask the network's sites through the hub (each site applies its own
    /// minimum and rules).
    #[arg(long, requires_all = ["token", "project"])]
    hub: Option<String>,
    /// Your API token (with --hub).
    #[arg(long, env = "KAKEHASHI_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The project to ask in (with --hub).
    #[arg(long)]
    project: Option<String>,
    /// The analysis dataset (JSON: cohort, index stay, variables).
    #[arg(long)]
    dataset: PathBuf,
    /// Each site's minimum: fewest rows in a GLM, values in a summary group, rows in a table
    /// cell (with --site-dir; through a hub each site applies its own policy's minimum).
    #[arg(long, default_value_t = 3)]
    min_rows: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Subcommands of `kakehashi stats`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Summary of a numeric variable (n, missing, mean, sd, quartiles), per group.
    ///
    /// Example: kakehashi stats summary --site-dir /tmp/site --dataset docs/examples/sari-mortality.json --variable age --by sex
    Summary {
        /// Sites and dataset.
        #[command(flatten)]
        sites: Sites,
        /// The numeric variable.
        #[arg(long)]
        variable: String,
        /// A categorical variable to group by.
        #[arg(long)]
        by: Option<String>,
    },
    /// Contingency table of 1-3 variables, with χ² (two-way) and Fisher's test (2 × 2).
    ///
    /// Example: kakehashi stats table --site-dir /tmp/site --dataset docs/examples/sari-mortality.json --variables sex,died
    Table {
        /// Sites and dataset.
        #[command(flatten)]
        sites: Sites,
        /// The variables, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        variables: Vec<String>,
    },
    /// Generalised linear model by federated IRLS.
    ///
    /// Example: kakehashi stats glm --hub http://127.0.0.1:8080 --token kh_... --project sari --dataset docs/examples/sari-mortality.json --formula "died ~ age_band + sex + country" --family binomial
    Glm {
        /// Sites and dataset.
        #[command(flatten)]
        sites: Sites,
        /// The model formula, `y ~ a + b + a:b`.
        #[arg(long)]
        formula: String,
        /// gaussian, binomial or poisson.
        #[arg(long, default_value = "gaussian")]
        family: String,
    },
    /// Meta-analysis: the model fitted at each site on its own, one term's estimates pooled by
    /// fixed effect, DerSimonian–Laird and REML (an alternative to the pooled fit).
    ///
    /// Example: kakehashi stats meta --site-dir /a --site-dir /b --dataset docs/examples/sari-mortality.json --formula "died ~ age_band + sex" --family binomial --term "sex[male]"
    Meta {
        /// Sites and dataset.
        #[command(flatten)]
        sites: Sites,
        /// The model formula.
        #[arg(long)]
        formula: String,
        /// gaussian, binomial or poisson.
        #[arg(long, default_value = "gaussian")]
        family: String,
        /// The coefficient to pool (`sex[male]`).
        #[arg(long)]
        term: String,
    },
    /// Kaplan–Meier as a grouped life table over declared intervals (counts between 1 and the
    /// minimum suppressed at each site; survival withheld from the first such interval).
    ///
    /// Example: kakehashi stats km --site-dir /tmp/site --dataset docs/examples/sari-mortality.json --time los --event died --breaks 0,7,14,21,28
    Km {
        /// Sites and dataset.
        #[command(flatten)]
        sites: Sites,
        /// The time variable, in days (rounded down).
        #[arg(long)]
        time: String,
        /// The event variable (1: event, 0: censored).
        #[arg(long)]
        event: String,
        /// The first day of each interval, ascending.
        #[arg(long, value_delimiter = ',', required = true)]
        breaks: Vec<u32>,
    },
    /// Cox proportional hazards (Breslow ties) by federated Newton on declared intervals.
    ///
    /// Example: kakehashi stats cox --site-dir /tmp/site --dataset docs/examples/sari-mortality.json --time los --event died --covariates "age_band + sex" --breaks 0,7,14,21,28
    Cox {
        /// Sites and dataset.
        #[command(flatten)]
        sites: Sites,
        /// The time variable, in days (rounded down).
        #[arg(long)]
        time: String,
        /// The event variable (1: event, 0: censored).
        #[arg(long)]
        event: String,
        /// The covariates, as the right side of a formula (`age_band + sex`).
        #[arg(long)]
        covariates: String,
        /// The first day of each interval, ascending (one per day for the daily fit).
        #[arg(long, value_delimiter = ',', required = true)]
        breaks: Vec<u32>,
    },
    /// Write this site's analysis dataset, one column per variable named as in formulas
    /// (steward only: patient-level rows, never sent anywhere).
    ///
    /// Example: kakehashi stats dataset --site-dir /tmp/site --dataset docs/examples/sari-mortality.json --out /tmp/sari.csv
    Dataset {
        /// The site directory.
        #[arg(long = "site-dir")]
        site_dir: PathBuf,
        /// The analysis dataset.
        #[arg(long)]
        dataset: PathBuf,
        /// The output file: `.csv` or `.parquet`.
        #[arg(long)]
        out: PathBuf,
    },
}

/// One site's dataset.
struct SiteFrame {
    name: String,
    frame: Frame,
}

/// The hub to ask, if `--hub` was given.
fn remote(s: &Sites) -> Option<hub::Remote<'_>> {
    Some(hub::Remote {
        url: s.hub.as_deref()?,
        token: s.token.as_deref()?,
        project: s.project.as_deref()?,
    })
}

/// The dataset as sent to the hub (checked here first, so its errors name the file).
fn dataset_wire(path: &Path) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::to_value(read_dataset(path)?.to_wire())?)
}

fn read_dataset(path: &Path) -> anyhow::Result<Dataset> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Dataset::from_json(&text)
        .with_context(|| format!("{} is not a valid analysis dataset", path.display()))
}

/// The site's name: its directory's last component.
fn site_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

fn build(
    dir: &Path,
    d: &Dataset,
) -> anyhow::Result<(SiteFrame, kakehashi_engine::dataset::SiteDataset)> {
    let store = kakehashi_store::Store::open(dir);
    anyhow::ensure!(
        store.current_id()?.is_some(),
        "{} holds no data yet: load FHIR with `kakehashi ingest --site-dir {} FILES`",
        dir.display(),
        dir.display()
    );
    let snap = store.current()?;
    let name = site_name(dir);
    let today = d
        .cohort()
        .evaluation_date()
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let built = kakehashi_engine::dataset::build(&snap, d.cohort().query(), d.spec(), &name, today)
        .with_context(|| format!("site {name}: building dataset {}", d.name()))?;
    Ok((
        SiteFrame {
            name,
            frame: built.frame.clone(),
        },
        built,
    ))
}

fn frames(sites: &Sites, d: &Dataset) -> anyhow::Result<Vec<SiteFrame>> {
    let mut out = Vec::new();
    for dir in &sites.site_dirs {
        let (f, built) = build(dir, d)?;
        for u in &built.unmapped {
            eprintln!("note: site {}: no data for {u}", f.name);
        }
        if built.without_index_stay > 0 {
            eprintln!(
                "note: site {}: {} of {} cohort patients have no index stay and are left out",
                f.name, built.without_index_stay, built.cohort_patients
            );
        }
        out.push(f);
    }
    Ok(out)
}

/// The problem of a site whose dataset has no rows at all (said before any model or variable
/// error, which would only be a consequence).
fn no_rows(s: &SiteFrame) -> Option<(String, String)> {
    (s.frame.rows() == 0).then(|| {
        (
            s.name.clone(),
            "no rows: the dataset has no rows at this site (no cohort patient with an index stay)"
                .to_owned(),
        )
    })
}

/// Reports each site's problem, then fails overall: no partial result is shown.
fn fail_per_site(problems: &[(String, String)], total: usize) -> anyhow::Result<ExitCode> {
    for (site, why) in problems {
        eprintln!("site {site}: {why}");
    }
    bail!(
        "no result: {} of {total} sites could not answer (each is listed above); a result from the others would not be the pooled one",
        problems.len()
    )
}

/// Runs `kakehashi stats`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Dataset {
            site_dir,
            dataset,
            out,
        } => {
            let d = read_dataset(&dataset)?;
            let (f, built) = build(&site_dir, &d)?;
            output::write_frame(&f.frame, &out)?;
            println!(
                "{} rows × {} variables written to {} ({} cohort patients, {} without an index stay)",
                f.frame.rows(),
                f.frame.names().len(),
                out.display(),
                built.cohort_patients,
                built.without_index_stay
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Glm {
            sites,
            formula,
            family,
        } => {
            if let Some(r) = remote(&sites) {
                let wire = dataset_wire(&sites.dataset)?;
                return hub::glm(&r, wire, &formula, &family, sites.format);
            }
            let d = read_dataset(&sites.dataset)?;
            let family = Family::from_name(&family)
                .with_context(|| format!("--family {family}: use gaussian, binomial or poisson"))?;
            let formula = Formula::parse(&formula)?;
            let frames = frames(&sites, &d)?;
            let rules = GlmRules {
                min_rows: sites.min_rows,
                ..GlmRules::default()
            };
            let levels = d.spec().levels();
            let mut designs = Vec::new();
            let mut problems = Vec::new();
            problems.extend(frames.iter().filter_map(no_rows));
            for s in frames.iter().filter(|s| s.frame.rows() > 0) {
                match Design::build(&s.frame, &formula, &levels) {
                    Ok(x) => designs.push((s.name.clone(), x)),
                    Err(e) => problems.push((s.name.clone(), e.to_string())),
                }
            }
            if !problems.is_empty() {
                return fail_per_site(&problems, frames.len());
            }
            let columns = designs[0].1.columns.clone();
            if let Some((name, _)) = designs.iter().find(|(_, x)| x.columns != columns) {
                bail!(
                    "site {name} codes the model differently; declare the levels of every factor in the dataset"
                );
            }
            let intercept = formula.intercept;
            let mut irls = Irls::new(family, columns, intercept, Settings::default());
            let started = std::time::Instant::now();
            let fit = loop {
                let round = irls.round();
                let mut answers = Vec::new();
                for (name, x) in &designs {
                    match site_round(x, family, &round, &rules) {
                        Ok(a) => answers.push(a),
                        Err(e) => problems.push((name.clone(), e.to_string())),
                    }
                }
                if !problems.is_empty() {
                    return fail_per_site(&problems, designs.len());
                }
                match irls.absorb(&answers)? {
                    Progress::Next => {}
                    Progress::Done(fit) => break fit,
                }
            };
            let sites_rows: Vec<(String, usize)> =
                designs.iter().map(|(n, x)| (n.clone(), x.rows())).collect();
            output::glm(&fit, &formula, &sites_rows, started.elapsed(), sites.format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Summary {
            sites,
            variable,
            by,
        } => {
            if let Some(r) = remote(&sites) {
                let wire = dataset_wire(&sites.dataset)?;
                return hub::summary(&r, wire, &variable, by.as_deref(), sites.format);
            }
            let d = read_dataset(&sites.dataset)?;
            let frames = frames(&sites, &d)?;
            let mut per_site = Vec::new();
            let mut problems = Vec::new();
            problems.extend(frames.iter().filter_map(no_rows));
            for s in frames.iter().filter(|s| s.frame.rows() > 0) {
                match summary::site_summary(&s.frame, &variable, by.as_deref(), sites.min_rows) {
                    Ok(x) => per_site.push((s.name.clone(), x)),
                    Err(e) => problems.push((s.name.clone(), e.to_string())),
                }
            }
            if !problems.is_empty() {
                return fail_per_site(&problems, frames.len());
            }
            let pooled =
                summary::pool(&per_site.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>());
            output::summary(&variable, &per_site, &pooled, sites.format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Meta {
            sites,
            formula,
            family,
            term,
        } => {
            if let Some(r) = remote(&sites) {
                let wire = dataset_wire(&sites.dataset)?;
                return hub::meta(&r, wire, (&formula, &family, &term), sites.format);
            }
            let d = read_dataset(&sites.dataset)?;
            let family = Family::from_name(&family)
                .with_context(|| format!("--family {family}: use gaussian, binomial or poisson"))?;
            let formula = Formula::parse(&formula)?;
            let frames = frames(&sites, &d)?;
            let rules = GlmRules {
                min_rows: sites.min_rows,
                ..GlmRules::default()
            };
            let levels = d.spec().levels();
            let mut studies = Vec::new();
            let mut problems = Vec::new();
            for s in &frames {
                let fit = Design::build(&s.frame, &formula, &levels)
                    .map_err(|e| e.to_string())
                    .and_then(|x| {
                        kakehashi_stats::glm::fit_local(&x, family, &rules, Settings::default())
                            .map_err(|e| e.to_string())
                    });
                match fit.map(|f| f.coefficients.into_iter().find(|c| c.term == term)) {
                    Ok(Some(c)) => studies.push(kakehashi_stats::meta::Study {
                        name: s.name.clone(),
                        estimate: c.estimate,
                        std_error: c.std_error,
                    }),
                    Ok(None) => {
                        problems.push((s.name.clone(), format!("the model has no term {term}")))
                    }
                    Err(e) => problems.push((s.name.clone(), e)),
                }
            }
            if !problems.is_empty() {
                return fail_per_site(&problems, frames.len());
            }
            output::meta(&term, &studies, sites.format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Km {
            sites,
            time,
            event,
            breaks,
        } => {
            if let Some(r) = remote(&sites) {
                let wire = dataset_wire(&sites.dataset)?;
                return hub::km(&r, wire, (&time, &event), &breaks, sites.format);
            }
            let d = read_dataset(&sites.dataset)?;
            let frames = frames(&sites, &d)?;
            let levels = d.spec().levels();
            survival::km(
                &frames,
                &levels,
                &time,
                &event,
                &breaks,
                sites.min_rows,
                sites.format,
            )
        }
        Command::Cox {
            sites,
            time,
            event,
            covariates,
            breaks,
        } => {
            if let Some(r) = remote(&sites) {
                let wire = dataset_wire(&sites.dataset)?;
                return hub::cox(
                    &r,
                    wire,
                    (&time, &event, &covariates),
                    &breaks,
                    sites.format,
                );
            }
            let d = read_dataset(&sites.dataset)?;
            let frames = frames(&sites, &d)?;
            let levels = d.spec().levels();
            survival::cox(
                &frames,
                &levels,
                (&time, &event, &covariates),
                &breaks,
                sites.min_rows,
                sites.format,
            )
        }
        Command::Table { sites, variables } => {
            if let Some(r) = remote(&sites) {
                let wire = dataset_wire(&sites.dataset)?;
                return hub::table(&r, wire, &variables, sites.format);
            }
            let d = read_dataset(&sites.dataset)?;
            let frames = frames(&sites, &d)?;
            let vars: Vec<&str> = variables.iter().map(String::as_str).collect();
            let levels = d.spec().levels();
            let mut tables = Vec::new();
            let mut problems = Vec::new();
            problems.extend(frames.iter().filter_map(no_rows));
            for s in frames.iter().filter(|s| s.frame.rows() > 0) {
                match table::tabulate(&s.frame, &vars, &levels)
                    .and_then(|t| t.check_cells(sites.min_rows).map(|()| t))
                {
                    Ok(t) => tables.push(t),
                    Err(e) => problems.push((s.name.clone(), e.to_string())),
                }
            }
            if !problems.is_empty() {
                return fail_per_site(&problems, frames.len());
            }
            let pooled = table::pool(&tables)?;
            output::table(&pooled, sites.format)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
