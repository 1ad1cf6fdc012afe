//! `kakehashi surveillance`: weekly ARI/SARI series of a site and MEM epidemic thresholds.

use anyhow::Context;
use kakehashi_surveillance::mem::{self, IntervalMethod, MemModel, MemParams, NMax, WeekAssessment};
use kakehashi_surveillance::CaseDefinition;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Subcommands of `kakehashi surveillance`.
#[derive(clap::Subcommand)]
pub enum Command {
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

/// Output of `mem` and `definitions`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum TextFormat {
    /// Readable text.
    Text,
    /// JSON naming each threshold.
    Json,
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
        Command::Mem(a) => mem_cmd(a),
        Command::Definitions { format } => definitions(format),
    }
}

fn mem_cmd(a: MemArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&a.input).with_context(|| format!("reading {}", a.input.display()))?;
    let mut input = mem::parse_table(&text).with_context(|| format!("{}", a.input.display()))?;
    let n_max = match a.n_max.as_str() {
        "auto" | "-1" => NMax::Auto,
        "all" | "0" => NMax::All,
        n => NMax::Fixed(n.parse().map_err(|_| anyhow::anyhow!("--n-max {n:?}: expected a whole number, auto or all"))?),
    };
    let levels: [f64; 3] = a
        .intensity_levels
        .clone()
        .try_into()
        .map_err(|v: Vec<f64>| anyhow::anyhow!("--intensity-levels needs three levels (medium, high, very high), got {}", v.len()))?;
    let params = MemParams {
        max_seasons: Some(a.seasons),
        delta: a.delta,
        n_max,
        threshold_method: IntervalMethod::parse(&a.threshold_method).context("--threshold-method")?,
        threshold_level: a.threshold_level,
        threshold_tails: a.threshold_tails,
        intensity_method: IntervalMethod::parse(&a.intensity_method).context("--intensity-method")?,
        intensity_levels: levels,
        intensity_tails: 1,
        use_t: a.use_t,
    };
    let current = match &a.current {
        Some(name) => {
            let i = input.seasons.iter().position(|s| &s.name == name).ok_or_else(|| {
                anyhow::anyhow!(
                    "--current {name:?}: no such season column in {}; seasons: {}",
                    a.input.display(),
                    input.seasons.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
                )
            })?;
            Some(input.seasons.remove(i))
        }
        None => None,
    };
    let model = mem::mem_model(&input, &params).with_context(|| format!("MEM over {}", a.input.display()))?;
    let assessed = current.as_ref().map(|c| (c.name.clone(), model.thresholds.assess(&input.weeks, &c.values)));
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

fn mem_text(w: &mut impl Write, m: &MemModel, current: Option<&(String, Vec<WeekAssessment>)>) -> anyhow::Result<()> {
    let f = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
    let t = &m.thresholds;
    let [l1, l2, l3] = m.params.intensity_levels;
    writeln!(w, "MEM over {} seasons: {}", m.seasons.len(), m.seasons.join(", "))?;
    writeln!(w, "values per season for thresholds: {}", m.n_max)?;
    writeln!(w)?;
    writeln!(w, "Epidemic threshold:        pre {}   post {}", f(t.epidemic), f(t.post_epidemic))?;
    writeln!(w, "Intensity thresholds:")?;
    writeln!(w, "  medium    ({:>4.1}%)  {}", l1 * 100.0, f(t.medium))?;
    writeln!(w, "  high      ({:>4.1}%)  {}", l2 * 100.0, f(t.high))?;
    writeln!(w, "  very high ({:>4.1}%)  {}", l3 * 100.0, f(t.very_high))?;
    writeln!(w)?;
    writeln!(w, "Typical epidemic: {} weeks from week {}, {:.1}% of the season", m.typical_length, m.typical_start_week, m.typical_percentage)?;
    writeln!(w, "{:<12} {:>6} {:>6} {:>7} {:>6}", "season", "start", "end", "weeks", "%")?;
    for s in &m.timings {
        writeln!(w, "{:<12} {:>6} {:>6} {:>7} {:>6.1}", s.season, s.start_week, s.end_week, s.length, s.percentage)?;
    }
    if let Some((name, weeks)) = current {
        writeln!(w)?;
        writeln!(w, "Season {name}, week by week:")?;
        for a in weeks {
            writeln!(
                w,
                "  {:>4} {:>10} {:<10} {:?}",
                a.week,
                a.value.map(|v| format!("{v:.2}")).unwrap_or_else(|| "NA".into()),
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
                writeln!(w, "{:<20} {}\n{:<20} counts: {}\n{:<20} source: {}\n", d.name, d.title, "", d.counts, "", d.source.replace('\n', " "))?;
            }
        }
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}
