//! `kakehashi surveillance`: weekly ARI/SARI series of a site and MEM epidemic thresholds.

use anyhow::{Context, bail};
use kakehashi_model::Country;
use kakehashi_surveillance::mem::{
    self, IntervalMethod, MemModel, MemParams, NMax, WeekAssessment,
};
use kakehashi_surveillance::series::{AgeBands, Series, SeriesRow, SeriesSpec, Stratum};
use kakehashi_surveillance::{CaseDefinition, IsoWeek, PathogenPanel, ReportingConvention};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Subcommands of `kakehashi surveillance`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Weekly series of a case definition at a site: cases, ICU, deaths, pathogen positivity.
    ///
    /// Example: kakehashi surveillance series --site-dir /tmp/site --definition sari-icosari --by age
    Series(SeriesArgs),
    /// Epidemic and intensity thresholds (Moving Epidemic Method) from a table of past seasons.
    ///
    /// The CSV has a header of season names and one row per week, one column per season, as the
    /// R package mem takes it; a first column `week` labels the rows.
    /// Example: kakehashi surveillance mem --input crates/surveillance/data/flucyl.csv
    Mem(MemArgs),
    /// List the shipped case definitions with their sources.
    Definitions {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: TextFormat,
    },
}

/// Output of `series`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SeriesFormat {
    /// One row per stratum and week.
    Csv,
    /// The series with its notes and totals.
    Json,
    /// A wide table for `surveillance mem`: one column per season (of the site's country's
    /// season weeks), weekly cases or rates (with --per).
    Mem,
}

/// Output of `mem` and `definitions`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum TextFormat {
    /// Readable text.
    Text,
    /// JSON naming each threshold.
    Json,
}

/// Arguments of `series`.
#[derive(clap::Args)]
pub struct SeriesArgs {
    /// A site's data directory (its store). Repeat to pool several sites (e.g. all sites of a
    /// country); rows of the same stratum and week are added.
    #[arg(long, required_unless_present = "site_url")]
    site_dir: Vec<PathBuf>,
    /// A site's snapshot in object storage (`s3://BUCKET/PREFIX`, published with `kakehashi
    /// site publish`; credentials and endpoint from the AWS_* environment). Repeatable, and
    /// pooled with the --site-dir sites; the site is named by the last part of the prefix.
    #[arg(long)]
    site_url: Vec<String>,
    /// Case definition: sari-icosari, sari-icosari-covid, sari-who, ari-ecdc, ili-ecdc, ili-who,
    /// or a path to a definition TOML file.
    #[arg(long)]
    definition: String,
    /// Breakdowns, comma separated: site, country, age. Empty (`--by ''`) for one series.
    #[arg(long, default_value = "site", value_delimiter = ',')]
    by: Vec<String>,
    /// Age bands (RKI ICOSARI's by default).
    #[arg(long, default_value = "0-4,5-14,15-34,35-59,60-79,80+")]
    age_bands: String,
    /// First week, e.g. 2023-W40.
    #[arg(long)]
    from: Option<IsoWeek>,
    /// Last week, e.g. 2024-W20.
    #[arg(long)]
    to: Option<IsoWeek>,
    /// The sites' country (DE or JP); inferred per site from patient addresses when absent.
    #[arg(long)]
    country: Option<Country>,
    /// With --format mem: weekly cases per this many patients of the site (e.g. 100000).
    #[arg(long)]
    per: Option<f64>,
    /// Count patients per week, each in at most this many weeks, as a site releases a series
    /// (default 2 there, docs/privacy.md); without it every admission and test counts.
    #[arg(long, allow_negative_numbers = true)]
    max_weeks_per_patient: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: SeriesFormat,
}

/// Arguments of `mem`.
#[derive(clap::Args)]
pub struct MemArgs {
    /// The table: CSV (or TSV) with one column per season and one row per week.
    #[arg(long)]
    input: PathBuf,
    /// Use at most this many of the most recent seasons (mem's i.seasons).
    #[arg(long, default_value_t = 10)]
    seasons: usize,
    /// Judge this season (a column name) week by week; it is left out of the model.
    #[arg(long)]
    current: Option<String>,
    /// Slope criterion of the epidemic timing, in percentage points (mem's i.param).
    #[arg(long, default_value_t = 2.8)]
    delta: f64,
    /// Values per season for the thresholds (mem's i.n.max): a number, `auto` (round(30/seasons))
    /// or `all`.
    #[arg(long, default_value = "auto")]
    n_max: String,
    /// Interval method of the epidemic threshold: 5 arithmetic point (default), 6 geometric
    /// point, 1 arithmetic mean, 2 geometric mean.
    #[arg(long, default_value = "5")]
    threshold_method: String,
    /// Confidence level of the epidemic threshold.
    #[arg(long, default_value_t = 0.95)]
    threshold_level: f64,
    /// Tails of the epidemic threshold interval (1 or 2).
    #[arg(long, default_value_t = 1)]
    threshold_tails: u8,
    /// Interval method of the intensity thresholds (default 6, geometric point).
    #[arg(long, default_value = "6")]
    intensity_method: String,
    /// Levels of the medium, high and very high thresholds.
    #[arg(long, default_value = "0.40,0.90,0.975", value_delimiter = ',')]
    intensity_levels: Vec<f64>,
    /// Student's t quantiles instead of normal ones.
    #[arg(long)]
    use_t: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: TextFormat,
}

/// Runs `kakehashi surveillance`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Series(a) => series(a),
        Command::Mem(a) => mem_cmd(a),
        Command::Definitions { format } => definitions(format),
    }
}

fn load_definition(name: &str) -> anyhow::Result<CaseDefinition> {
    let p = std::path::Path::new(name);
    if name.ends_with(".toml") || p.exists() {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("reading case definition {}", p.display()))?;
        return Ok(CaseDefinition::from_toml(&p.display().to_string(), &text)?);
    }
    Ok(CaseDefinition::shipped(name)?)
}

fn series(a: SeriesArgs) -> anyhow::Result<ExitCode> {
    let def = load_definition(&a.definition)?;
    let by: Vec<Stratum> =
        a.by.iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.parse())
            .collect::<Result<_, _>>()?;
    let spec = SeriesSpec {
        by,
        age_bands: AgeBands::parse(&a.age_bands)
            .map_err(|e| anyhow::anyhow!("--age-bands: {e}"))?,
        from: a.from,
        to: a.to,
        // without the flag, the site's own series: every admission and test
        max_weeks_per_patient: a
            .max_weeks_per_patient
            .map(kakehashi_surveillance::per_patient::check_max_weeks)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--max-weeks-per-patient: {}", e.problem()))?,
    };
    if let (Some(f), Some(t)) = (a.from, a.to)
        && f > t
    {
        bail!("--from {f} is after --to {t}");
    }
    let panel = site_panel();
    let mut sites = Vec::new();
    let mut parts = Vec::new();
    let mut sources: Vec<(
        String,
        String,
        Box<dyn kakehashi_engine::surveillance::TableSource>,
    )> = Vec::new();
    for dir in &a.site_dir {
        let site = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "site".into());
        sources.push((site, dir.display().to_string(), Box::new(open_site(dir)?)));
    }
    for url in &a.site_url {
        let parsed = kakehashi_engine::remote::SiteUrl::parse(url)?;
        let remote = kakehashi_engine::remote::RemoteSite::open(&parsed)
            .with_context(|| format!("opening the snapshot at {parsed}"))?;
        let site = url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("site")
            .to_string();
        sources.push((site, parsed.to_string(), Box::new(remote)));
    }
    for (site, location, source) in &sources {
        let site = site.clone();
        let started = std::time::Instant::now();
        let out = kakehashi_engine::surveillance::site_series(
            source.as_ref(),
            &site,
            a.country,
            &def,
            &panel,
            &spec,
        )
        .with_context(|| format!("computing {} at {location}", def.name))?;
        tracing::info!(
            site,
            cases = out.cases,
            tests = out.tests,
            patients = out.patients,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "series computed"
        );
        sites.push(serde_json::json!({ "site": site, "country": out.country, "patients": out.patients, "cases": out.cases, "tests": out.tests }));
        parts.push(out);
    }
    let countries: std::collections::BTreeSet<Country> = parts.iter().map(|p| p.country).collect();
    let series = Series::merge(&parts.iter().map(|p| p.series.clone()).collect::<Vec<_>>())
        .context("no site given")?;
    for n in &series.notes {
        eprintln!("note: {n}");
    }
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    match a.format {
        SeriesFormat::Csv => write_csv(&mut w, &series)?,
        SeriesFormat::Json => {
            serde_json::to_writer_pretty(
                &mut w,
                &serde_json::json!({
                    "sites": sites,
                    "definition": { "name": def.name, "title": def.title, "source": def.source, "counts": def.counts, "notes": def.notes },
                    "week_conventions": countries.iter().map(|c| ReportingConvention::of(*c)).collect::<Vec<_>>(),
                    "age_bands": spec.age_bands.labels(),
                    "population": series.population,
                    "series": series,
                }),
            )?;
            writeln!(w)?;
        }
        SeriesFormat::Mem => {
            if !spec.by.is_empty() {
                bail!("--format mem writes one series: use --by '' (no breakdown)");
            }
            if countries.len() != 1 {
                bail!(
                    "--format mem needs sites of one country (their seasons follow its week convention); got {countries:?}"
                );
            }
            let conv = ReportingConvention::of(*countries.iter().next().expect("one country"));
            let rows: Vec<&SeriesRow> = series.rows.iter().collect();
            let scale = match (a.per, series.population) {
                (Some(p), Some(n)) if n > 0 => p / n as f64,
                (Some(_), _) => {
                    bail!("--per needs patients at the sites; the patient tables are empty")
                }
                (None, _) => 1.0,
            };
            let input = Series::mem_input(&rows, &conv, |r| r.cases as f64 * scale, false);
            write!(w, "week")?;
            for s in &input.seasons {
                write!(w, ",{}", s.name)?;
            }
            writeln!(w)?;
            for (i, wk) in input.weeks.iter().enumerate() {
                write!(w, "{wk}")?;
                for s in &input.seasons {
                    match s.values[i] {
                        Some(v) => write!(w, ",{v}")?,
                        None => write!(w, ",NA")?,
                    }
                }
                writeln!(w)?;
            }
        }
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_csv(w: &mut impl Write, s: &Series) -> anyhow::Result<()> {
    let mut head: Vec<String> = Vec::new();
    if s.by.contains(&Stratum::Site) {
        head.push("site".into());
    }
    if s.by.contains(&Stratum::Country) {
        head.push("country".into());
    }
    if s.by.contains(&Stratum::Age) {
        head.push("age_group".into());
    }
    head.extend(["week", "week_start", "cases", "icu", "deaths"].map(String::from));
    for p in &s.pathogens {
        head.push(format!("{p}_tests"));
        head.push(format!("{p}_positive"));
        head.push(format!("{p}_positivity"));
    }
    let mut out = csv::Writer::from_writer(w);
    out.write_record(&head)?;
    for r in &s.rows {
        let mut cells: Vec<String> = Vec::new();
        if let Some(x) = &r.site {
            cells.push(x.clone());
        }
        if let Some(x) = r.country {
            cells.push(x.to_string());
        }
        if let Some(x) = &r.age_group {
            cells.push(x.clone());
        }
        cells.push(r.week.to_string());
        cells.push(r.week.monday().to_string());
        cells.push(r.cases.to_string());
        cells.push(r.icu.to_string());
        cells.push(r.deaths.to_string());
        for p in &r.positivity {
            cells.push(p.tests.to_string());
            cells.push(p.positives.to_string());
            cells.push(p.share().map(|v| format!("{v:.4}")).unwrap_or_default());
        }
        out.write_record(&cells)?;
    }
    out.flush()?;
    Ok(())
}

fn mem_cmd(a: MemArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&a.input)
        .with_context(|| format!("reading {}", a.input.display()))?;
    let mut input = mem::parse_table(&text).with_context(|| format!("{}", a.input.display()))?;
    let n_max =
        match a.n_max.as_str() {
            "auto" | "-1" => NMax::Auto,
            "all" | "0" => NMax::All,
            n => NMax::Fixed(n.parse().map_err(|_| {
                anyhow::anyhow!("--n-max {n:?}: expected a whole number, auto or all")
            })?),
        };
    let levels: [f64; 3] = a
        .intensity_levels
        .clone()
        .try_into()
        .map_err(|v: Vec<f64>| {
            anyhow::anyhow!(
                "--intensity-levels needs three levels (medium, high, very high), got {}",
                v.len()
            )
        })?;
    let params = MemParams {
        max_seasons: Some(a.seasons),
        delta: a.delta,
        n_max,
        threshold_method: IntervalMethod::parse(&a.threshold_method)
            .context("--threshold-method")?,
        threshold_level: a.threshold_level,
        threshold_tails: a.threshold_tails,
        intensity_method: IntervalMethod::parse(&a.intensity_method)
            .context("--intensity-method")?,
        intensity_levels: levels,
        intensity_tails: 1,
        use_t: a.use_t,
    };
    let current = match &a.current {
        Some(name) => {
            let i = input
                .seasons
                .iter()
                .position(|s| &s.name == name)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--current {name:?}: no such season column in {}; seasons: {}",
                        a.input.display(),
                        input
                            .seasons
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            Some(input.seasons.remove(i))
        }
        None => None,
    };
    let model = mem::mem_model(&input, &params)
        .with_context(|| format!("MEM over {}", a.input.display()))?;
    let assessed = current.as_ref().map(|c| {
        (
            c.name.clone(),
            model.thresholds.assess(&input.weeks, &c.values),
        )
    });
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    match a.format {
        TextFormat::Json => {
            serde_json::to_writer_pretty(&mut w, &mem_json(&model, assessed.as_ref()))?;
            writeln!(w)?;
        }
        TextFormat::Text => mem_text(&mut w, &model, assessed.as_ref())?,
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn mem_json(m: &MemModel, current: Option<&(String, Vec<WeekAssessment>)>) -> serde_json::Value {
    let t = &m.thresholds;
    serde_json::json!({
        "method": "Moving Epidemic Method (Vega et al. 2013; R package mem defaults)",
        "seasons": m.seasons,
        "parameters": m.params,
        "n_max": m.n_max,
        "thresholds": {
            "epidemic": t.epidemic,
            "post_epidemic": t.post_epidemic,
            "medium": t.medium,
            "high": t.high,
            "very_high": t.very_high,
        },
        "intensity_levels": { "medium": m.params.intensity_levels[0], "high": m.params.intensity_levels[1], "very_high": m.params.intensity_levels[2] },
        "typical_epidemic": { "length_weeks": m.typical_length, "start_week": m.typical_start_week, "percentage": m.typical_percentage },
        "timings": m.timings,
        "current": current.map(|(name, weeks)| serde_json::json!({ "season": name, "weeks": weeks })),
    })
}

fn mem_text(
    w: &mut impl Write,
    m: &MemModel,
    current: Option<&(String, Vec<WeekAssessment>)>,
) -> anyhow::Result<()> {
    let f = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
    let t = &m.thresholds;
    let [l1, l2, l3] = m.params.intensity_levels;
    writeln!(
        w,
        "MEM over {} seasons: {}",
        m.seasons.len(),
        m.seasons.join(", ")
    )?;
    writeln!(w, "values per season for thresholds: {}", m.n_max)?;
    writeln!(w)?;
    writeln!(
        w,
        "Epidemic threshold:        pre {}   post {}",
        f(t.epidemic),
        f(t.post_epidemic)
    )?;
    writeln!(w, "Intensity thresholds:")?;
    writeln!(w, "  medium    ({:>4.1}%)  {}", l1 * 100.0, f(t.medium))?;
    writeln!(w, "  high      ({:>4.1}%)  {}", l2 * 100.0, f(t.high))?;
    writeln!(w, "  very high ({:>4.1}%)  {}", l3 * 100.0, f(t.very_high))?;
    writeln!(w)?;
    writeln!(
        w,
        "Typical epidemic: {} weeks from week {}, {:.1}% of the season",
        m.typical_length, m.typical_start_week, m.typical_percentage
    )?;
    writeln!(
        w,
        "{:<12} {:>6} {:>6} {:>7} {:>6}",
        "season", "start", "end", "weeks", "%"
    )?;
    for s in &m.timings {
        writeln!(
            w,
            "{:<12} {:>6} {:>6} {:>7} {:>6.1}",
            s.season, s.start_week, s.end_week, s.length, s.percentage
        )?;
    }
    if let Some((name, weeks)) = current {
        writeln!(w)?;
        writeln!(w, "Season {name}, week by week:")?;
        for a in weeks {
            writeln!(
                w,
                "  {:>4} {:>10} {:<10} {:?}",
                a.week,
                a.value
                    .map(|v| format!("{v:.2}"))
                    .unwrap_or_else(|| "NA".into()),
                a.level.map(|l| l.to_string()).unwrap_or_else(|| "-".into()),
                a.phase
            )?;
        }
    }
    Ok(())
}

fn definitions(format: TextFormat) -> anyhow::Result<ExitCode> {
    let defs = CaseDefinition::all_shipped()?;
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        TextFormat::Json => {
            serde_json::to_writer_pretty(&mut w, &defs)?;
            writeln!(w)?;
        }
        TextFormat::Text => {
            for d in defs {
                writeln!(
                    w,
                    "{:<20} {}\n{:<20} counts: {}\n{:<20} source: {}\n",
                    d.name,
                    d.title,
                    "",
                    d.counts,
                    "",
                    d.source.replace('\n', " ")
                )?;
            }
        }
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The pathogen panel with the JLAC10 codes that map to its LOINC codes.
fn site_panel() -> PathogenPanel {
    PathogenPanel::shipped()
}

/// The site's tables as a table source.
fn open_site(
    dir: &std::path::Path,
) -> anyhow::Result<impl kakehashi_engine::surveillance::TableSource> {
    if !dir.is_dir() {
        bail!("site directory {} does not exist", dir.display());
    }
    let store = kakehashi_store::Store::open(dir);
    if store.current_id()?.is_none() {
        bail!(
            "{} holds no data yet: load FHIR with `kakehashi ingest --site-dir {} FILES`",
            dir.display(),
            dir.display()
        );
    }
    Ok(store.current()?)
}
