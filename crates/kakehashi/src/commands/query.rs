//! `kakehashi query`: ask the network through the hub and print the merged answer.

use anyhow::{Context, bail};
use kakehashi_amr::pool::CellStats;
use kakehashi_federation::antibiogram::{AntibiogramRequest, AntibiogramResult};
use kakehashi_federation::cohort::CohortRequest;
use kakehashi_federation::surveillance::{SurveillanceRequest, SurveillanceResult};
use kakehashi_federation::{Merged, SiteState, TaskSpec};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// A table per site with totals.
    Table,
    /// The hub's merged result as JSON.
    Json,
}

/// Arguments of `kakehashi query`.
///
/// Example: kakehashi query --hub http://127.0.0.1:8080 --token kh_... --ccdl query.json
#[derive(clap::Args)]
pub struct Args {
    /// The hub's URL.
    #[arg(long, env = "KAKEHASHI_HUB")]
    hub: String,
    /// Your API token (create one on the hub's web page or with POST /api/tokens).
    #[arg(long, env = "KAKEHASHI_TOKEN", hide_env_values = true)]
    token: String,
    /// A CCDL feasibility query (JSON file): count patients at each site.
    #[arg(long, group = "question")]
    ccdl: Option<PathBuf>,
    /// A surveillance series instead: the case definition's name (e.g. sari-icosari).
    #[arg(long, group = "question")]
    surveillance: Option<String>,
    /// An antibiogram instead: its specification (JSON file).
    #[arg(long, group = "question")]
    antibiogram: Option<PathBuf>,
    /// The project to ask in (default: your only project).
    #[arg(long)]
    project: Option<String>,
    /// The day ages in a cohort query are computed as of (YYYY-MM-DD; default: today, set by
    /// the hub). Part of the question: the same query on another day is a new question.
    #[arg(long)]
    evaluation_date: Option<chrono::NaiveDate>,
    /// Seconds the sites have to answer.
    #[arg(long, default_value_t = 30)]
    deadline: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

fn read_text(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Runs `kakehashi query`. Exit 0 when every site answered, 5 (`exit::INCOMPLETE`) when some
/// did not.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let spec = match (&a.ccdl, &a.surveillance, &a.antibiogram) {
        (Some(f), _, _) => {
            let r = CohortRequest::from_json(&read_text(f)?).with_context(|| {
                format!("{} is not a question the network answers", f.display())
            })?;
            TaskSpec::Cohort(match a.evaluation_date {
                Some(d) => r.with_evaluation_date(d)?,
                None => r,
            })
        }
        (_, Some(d), _) => TaskSpec::SurveillanceSeries(SurveillanceRequest::of(d)?),
        (_, _, Some(f)) => {
            TaskSpec::Antibiogram(AntibiogramRequest::from_json(&read_text(f)?).with_context(
                || format!("{} is not a question the network answers", f.display()),
            )?)
        }
        _ => {
            bail!("give the question: --ccdl FILE, --surveillance DEFINITION or --antibiogram FILE")
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let is_antibiogram = matches!(spec, TaskSpec::Antibiogram(_));
    let is_surveillance = matches!(spec, TaskSpec::SurveillanceSeries(_));
    let merged = rt.block_on(ask(&a, spec))?;
    let mut out = std::io::stdout().lock();
    if is_surveillance {
        let res: SurveillanceResult =
            rt.block_on(statistics(&a, merged.task.id.as_str(), "surveillance"))?;
        match a.format {
            Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&res)?)?,
            Format::Table => {
                print_table(&mut out, &merged)?;
                print_surveillance(&mut out, &res, chrono::Utc::now())?;
            }
        }
        let all = merged.sites.iter().all(|s| s.state == SiteState::Answered);
        return Ok(if all {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(crate::exit::INCOMPLETE)
        });
    }
    if is_antibiogram {
        let res: AntibiogramResult =
            rt.block_on(statistics(&a, merged.task.id.as_str(), "antibiogram"))?;
        match a.format {
            Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&res)?)?,
            Format::Table => {
                print_table(&mut out, &merged)?;
                print_antibiogram(&mut out, &res)?;
            }
        }
        let all = merged.sites.iter().all(|s| s.state == SiteState::Answered);
        return Ok(if all {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(crate::exit::INCOMPLETE)
        });
    }
    match a.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&merged)?)?,
        Format::Table => print_table(&mut out, &merged)?,
    }
    let all = merged.sites.iter().all(|s| s.state == SiteState::Answered);
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::INCOMPLETE)
    })
}

async fn ask(a: &Args, spec: TaskSpec) -> anyhow::Result<Merged> {
    ask_hub(&a.hub, &a.token, a.project.as_deref(), a.deadline, spec).await
}

/// Asks the network through the hub at `hub` (the caller's only project when `project` is
/// none) and waits up to `deadline` seconds for the merged answer.
pub(crate) async fn ask_hub(
    hub: &str,
    token: &str,
    project: Option<&str>,
    deadline: u64,
    spec: TaskSpec,
) -> anyhow::Result<Merged> {
    let a = Hub {
        token: token.to_owned(),
        project: project.map(str::to_owned),
        deadline,
    };
    let http = reqwest::Client::builder().build()?;
    let base = hub.trim_end_matches('/');
    let check = |r: reqwest::Response| async move {
        let status = r.status();
        if status.is_success() {
            return Ok(r);
        }
        let body: HubError = r.json().await.unwrap_or_default();
        bail!(
            "hub: HTTP {status}: {}",
            body.message.as_deref().unwrap_or("no message")
        )
    };
    let project = match &a.project {
        Some(p) => p.clone(),
        None => {
            let r = check(
                http.get(format!("{base}/api/projects"))
                    .bearer_auth(&a.token)
                    .send()
                    .await
                    .context("reaching the hub")?,
            )
            .await?;
            let projects: Vec<ProjectRef> = r.json().await?;
            let ids: Vec<&str> = projects.iter().map(|p| p.id.as_str()).collect();
            match ids.as_slice() {
                [one] => (*one).to_owned(),
                [] => bail!("you belong to no project; ask the network office to add you to one"),
                many => bail!(
                    "you belong to several projects ({}); choose one with --project",
                    many.join(", ")
                ),
            }
        }
    };
    let body =
        serde_json::json!({"project": project, "spec": spec, "deadline_seconds": a.deadline});
    let r = check(
        http.post(format!("{base}/api/tasks"))
            .bearer_auth(&a.token)
            .json(&body)
            .send()
            .await
            .context("reaching the hub")?,
    )
    .await?;
    let task: kakehashi_federation::Task = r.json().await.context("the hub's new task")?;
    let id = task.id.to_string();
    // sites whose data steward approves each task by hand: say so while waiting
    if let Ok(r) = http
        .get(format!("{base}/api/tasks/{id}?wait=2"))
        .bearer_auth(&a.token)
        .send()
        .await
        && let Ok(m) = r.json::<Merged>().await
    {
        for s in m
            .sites
            .iter()
            .filter(|s| s.state == SiteState::AwaitingApproval)
        {
            eprintln!("{}", s.reason.as_deref().unwrap_or("awaiting approval"));
        }
    }
    let r = check(
        http.get(format!("{base}/api/tasks/{id}?wait={}", a.deadline + 5))
            .bearer_auth(&a.token)
            .timeout(std::time::Duration::from_secs(a.deadline + 30))
            .send()
            .await?,
    )
    .await?;
    Ok(r.json().await?)
}

/// What `ask_hub` reads of the caller's arguments.
struct Hub {
    token: String,
    project: Option<String>,
    deadline: u64,
}

/// The body of a hub error (`{"error": ..., "message": ...}`).
#[derive(Default, serde::Deserialize)]
struct HubError {
    message: Option<String>,
}

/// A project as `GET /api/projects` lists it (only its id is read here).
#[derive(serde::Deserialize)]
struct ProjectRef {
    id: String,
}

/// The hub's statistics of a finished task (`antibiogram` or `surveillance`).
async fn statistics<T: serde::de::DeserializeOwned>(
    a: &Args,
    id: &str,
    kind: &str,
) -> anyhow::Result<T> {
    let http = reqwest::Client::builder().build()?;
    let r = http
        .get(format!(
            "{}/api/tasks/{id}/{kind}",
            a.hub.trim_end_matches('/')
        ))
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
    r.json()
        .await
        .with_context(|| format!("the hub's {kind} result"))
}

fn share_text(cell: &CellStats) -> String {
    let pct = |v: f64| format!("{:.1}", 100.0 * v);
    let Some(r) = &cell.resistant else {
        return "-".into();
    };
    let n = cell.interpreted.lo;
    let flag = if cell.reportable { "" } else { " (<30)" };
    match r.value {
        Some(v) => format!(
            "{}% [{}-{}] n={n}{flag}",
            pct(v),
            pct(r.ci_low),
            pct(r.ci_high)
        ),
        None => format!("{}-{}% n>={n}{flag}", pct(r.min), pct(r.max)),
    }
}

/// Germany against Japan: %R with 95 % intervals per organism and drug, and the difference.
fn print_antibiogram(w: &mut impl Write, res: &AntibiogramResult) -> anyhow::Result<()> {
    let r = kakehashi_amr::Reference::shared()?;
    writeln!(
        w,
        "\n{:<28} {:<26} {:<34} {:<34} DE - JP",
        "organism", "antimicrobial", "DE %R [95% CI]", "JP %R [95% CI]"
    )?;
    for c in &res.report.comparison {
        let diff = c.difference.map(|d| {
            let f = |x: f64| format!("{:.1}", 100.0 * x);
            format!("{} [{} to {}]", f(d.0), f(d.1), f(d.2))
        });
        let organism = super::amr::organism_name(r, &c.organism);
        let drug = super::amr::antimicrobial_name(r, &c.antimicrobial);
        writeln!(
            w,
            "{organism:<28} {drug:<26} {:<34} {:<34} {}",
            share_text(&c.a),
            share_text(&c.b),
            diff.unwrap_or_else(|| "-".into())
        )?;
    }
    for wh in &res.withheld {
        writeln!(w, "withheld: {wh}")?;
    }
    Ok(())
}

/// A pooled count: the value, or its range when a site withheld one.
fn bounds_text(b: &kakehashi_surveillance::pooled::Bounds) -> String {
    match b.exact() {
        Some(v) => v.to_string(),
        None => format!("{}-{}", b.lo, b.hi),
    }
}

/// Per country, the weeks of the season shown (the current one, else the latest with data):
/// cases, cases per 100,000 patients, and per pathogen tests and the share positive with its
/// 95 % interval (`-` where fewer than 10 tests are certain).
fn print_surveillance(
    w: &mut impl Write,
    r: &SurveillanceResult,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use kakehashi_surveillance::pooled::season_label;
    for c in &r.countries {
        let (season, fell_back) = c.shown_season(now, None);
        let pop = c
            .population
            .map(|p| bounds_text(&p))
            .unwrap_or_else(|| "unknown".into());
        writeln!(
            w,
            "\n{} {}, season {}{}: {} sites, {} patients (rates per 100,000 patients); positivity = positive / tested [95% CI]",
            c.country,
            r.definition,
            season_label(season),
            if fell_back { " (latest with data)" } else { "" },
            c.sites,
            pop
        )?;
        write!(w, "{:<9} {:>6} {:>7}", "week", "cases", "/100k")?;
        for p in &r.pathogens {
            write!(w, "  {:<28}", format!("{p} tested, positivity"))?;
        }
        writeln!(w)?;
        for (week, stats) in c.season(season) {
            let Some(s) = stats else { continue };
            write!(
                w,
                "{:<9} {:>6} {:>7}",
                week.to_string(),
                bounds_text(&s.cases),
                s.rate
                    .map(|x| format!("{x:.1}"))
                    .unwrap_or_else(|| "-".into())
            )?;
            for p in &s.pathogens {
                let share = match p.positivity.filter(|_| p.reportable) {
                    Some(sh) => match sh.value {
                        Some(v) => format!(
                            "{:.1}% [{:.1}-{:.1}]",
                            100.0 * v,
                            100.0 * sh.ci_low,
                            100.0 * sh.ci_high
                        ),
                        None => format!(
                            "{:.1}-{:.1}% [{:.1}-{:.1}]",
                            100.0 * sh.min,
                            100.0 * sh.max,
                            100.0 * sh.ci_low,
                            100.0 * sh.ci_high
                        ),
                    },
                    None => "-".into(),
                };
                write!(
                    w,
                    "  {:<28}",
                    format!("{:>5} {share}", bounds_text(&p.tests))
                )?;
            }
            writeln!(w)?;
        }
    }
    for wh in &r.withheld {
        writeln!(w, "withheld: {wh}")?;
    }
    Ok(())
}

pub(crate) fn cell(v: Option<kakehashi_disclosure::GatedCount>) -> String {
    match v {
        Some(kakehashi_disclosure::GatedCount::Value(n)) => n.to_string(),
        Some(kakehashi_disclosure::GatedCount::Suppressed { below }) => format!("< {below}"),
        None => "-".into(),
    }
}

fn pooled(p: Option<kakehashi_federation::Pooled>) -> String {
    match p {
        None => "-".into(),
        Some(p) => match (p.sum, p.suppressed_sites) {
            (None, _) => "withheld".into(),
            (Some(s), 0) => s.to_string(),
            (Some(s), n) => format!(
                "{s} (+ up to {} from {n} site(s) below their minimum)",
                p.suppressed_max
            ),
        },
    }
}

/// How a site's answer was protected, and what the asker has left to spend there: an exact
/// answer (the site's `noise = "off"`) is said first and loudly.
pub(crate) fn disclosure_note(d: &kakehashi_disclosure::Disclosure) -> String {
    let mut parts = Vec::new();
    if d.noise_off() {
        parts.push("EXACT: this site adds no noise (its steward's decision)".to_owned());
    } else if let Some(e) = d.epsilon {
        parts.push(format!("noise ε = {e}"));
    }
    parts.push(format!("min {}, rounded to {}", d.min_count, d.rounding));
    if d.repeated {
        parts.push("repeated question (free)".into());
    }
    if let Some(left) = d.remaining {
        parts.push(format!("ε left {left:.2}"));
    }
    parts.join(", ")
}

fn print_table(w: &mut impl Write, m: &Merged) -> anyhow::Result<()> {
    writeln!(
        w,
        "task {} ({}, project {})",
        m.task.id,
        m.task.spec.kind(),
        m.task.project
    )?;
    let scalar = |t: &kakehashi_disclosure::GatedTable| {
        t.rows.first().and_then(|r| r.values.first().copied())
    };
    writeln!(
        w,
        "{:<16} {:<3} {:<9} {:>10}  disclosure / note",
        "site", "", "status", "count"
    )?;
    for s in &m.sites {
        let (count, note) = match &s.table {
            Some(t) if t.dims.is_empty() => (cell(scalar(t)), disclosure_note(&t.disclosure)),
            Some(t) => (
                format!("{} rows", t.rows.len()),
                format!(
                    "{} (a table: see --format json)",
                    disclosure_note(&t.disclosure)
                ),
            ),
            None => ("-".into(), s.reason.clone().unwrap_or_default()),
        };
        writeln!(
            w,
            "{:<16} {:<3} {:<9} {:>10}  {note}",
            s.site.to_string(),
            s.country.to_string(),
            // the state as the API names it (`awaiting_approval`, not the Rust name)
            serde_json::to_value(s.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            count
        )?;
        for n in &s.notes {
            writeln!(w, "{:<16} note: {n}", "")?;
        }
    }
    for (c, t) in &m.countries {
        let v = if t.dims.is_empty() {
            pooled(t.rows.first().map(|r| r.values[0]))
        } else {
            format!("{} rows", t.rows.len())
        };
        writeln!(
            w,
            "{:<16} {:<3} {:<9} {:>10}  {}",
            format!("total {c}"),
            "",
            format!("{} sites", t.sites),
            v,
            t.withheld.clone().unwrap_or_default()
        )?;
    }
    if let Some(t) = &m.total {
        let v = if t.dims.is_empty() {
            pooled(t.rows.first().map(|r| r.values[0]))
        } else {
            format!("{} rows", t.rows.len())
        };
        writeln!(
            w,
            "{:<16} {:<3} {:<9} {:>10}  {}",
            "total",
            "",
            format!("{} sites", t.sites),
            v,
            t.withheld.clone().unwrap_or_default()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kakehashi_disclosure::{Disclosure, Noise};

    fn disclosure(noise: Noise, repeated: bool, remaining: Option<f64>) -> Disclosure {
        Disclosure {
            min_count: 5,
            rounding: 10,
            noise,
            epsilon: (noise == Noise::On).then_some(1.0),
            sensitivity: 1,
            repeated,
            budget_spent: 2.0,
            budget: Some(20.0),
            researcher_spent: 2.0,
            researcher_budget: Some(10.0),
            remaining,
        }
    }

    #[test]
    fn the_table_says_what_protected_each_answer_and_what_is_left() {
        let n = disclosure_note(&disclosure(Noise::On, true, Some(8.0)));
        assert_eq!(
            n,
            "noise ε = 1, min 5, rounded to 10, repeated question (free), ε left 8.00"
        );
        let n = disclosure_note(&disclosure(Noise::Off, false, None));
        assert!(n.starts_with("EXACT: this site adds no noise"), "{n}");
        assert!(!n.contains('ε'), "{n}");
    }

    fn cell(organism: &str, antimicrobial: &str) -> CellStats {
        let b = |n: u64| kakehashi_amr::pool::Bounds {
            lo: n,
            hi: n,
            variance: 0.0,
        };
        CellStats {
            group: "DE".into(),
            year: None,
            organism: organism.into(),
            antimicrobial: antimicrobial.into(),
            sites: 2,
            sites_suppressed: 0,
            tested: b(120),
            interpreted: b(120),
            s: b(90),
            i: b(0),
            r: b(30),
            sdd: b(0),
            ni: b(0),
            resistant: Some(kakehashi_amr::pool::Share {
                value: Some(0.25),
                min: 0.25,
                max: 0.25,
                ci_low: 0.2,
                ci_high: 0.3,
            }),
            susceptible: None,
            reportable: true,
        }
    }

    #[test]
    fn the_comparison_names_organisms_and_drugs() {
        let cmp = |o: &str, d: &str, difference| kakehashi_amr::pool::Comparison {
            year: None,
            organism: o.into(),
            antimicrobial: d.into(),
            a: cell(o, d),
            b: cell(o, d),
            difference,
            difference_exact: true,
        };
        let res = AntibiogramResult {
            task: kakehashi_federation::Task {
                id: kakehashi_model::TaskId::new("t").unwrap(),
                project: kakehashi_model::ProjectId::new("p").unwrap(),
                requested_by: "r".into(),
                created: chrono::Utc::now(),
                deadline: chrono::Utc::now(),
                spec: TaskSpec::SurveillanceSeries(SurveillanceRequest::of("sari-who").unwrap()),
            },
            complete: true,
            sites: Vec::new(),
            report: kakehashi_amr::pool::Report {
                comparison: vec![
                    cmp("B_ESCHR_COLI", "CIP", Some((0.0, -0.05, 0.05))),
                    cmp("B_NOT_KNOWN", "XYZ", None),
                ],
                sites: Vec::new(),
                countries: Vec::new(),
                total: Vec::new(),
                mdro: Vec::new(),
            },
            trends: Vec::new(),
            withheld: Vec::new(),
        };
        let mut out = Vec::new();
        print_antibiogram(&mut out, &res).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert!(
            lines[1].starts_with("Escherichia coli") && lines[1].contains("Ciprofloxacin"),
            "{text}"
        );
        assert!(lines[1].contains("25.0% [20.0-30.0] n=120"), "{text}");
        // codes the reference tables do not know are shown as they are
        assert!(
            lines[2].starts_with("B_NOT_KNOWN") && lines[2].contains("XYZ"),
            "{text}"
        );
    }
}
