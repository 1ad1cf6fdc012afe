//! `kakehashi amr`: read MICs and zones with one guideline; cumulative antibiograms of sites.

use anyhow::{Context, bail};
use kakehashi_amr::antibiogram::antibiogram;
use kakehashi_amr::pool::{CellStats, Report, SiteCounts, report};
use kakehashi_amr::whonet::{interpret_long, is_long, read_whonet};
use kakehashi_amr::{
    AntibiogramCounts, AntibiogramSpec, FirstIsolateRule, Guideline, InfectionSite, Interpreter,
    Options, Period, Reference,
};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Subcommands of `kakehashi amr`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Read raw MICs / zones with one guideline: adds `sir` (S, I, R, SDD, NI) and
    /// `breakpoint` (the table row used, or why NI) to every input row.
    ///
    /// Input CSV: `organism`, `antimicrobial`, `mic` and/or `disk` (names or codes), optional
    /// `disk_guideline` and `infection_site`.
    /// Example: kakehashi amr interpret --guideline "EUCAST 2025" --input isolates.csv
    Interpret(InterpretArgs),
    /// Cumulative antibiogram of one or more sites (or a WHONET-style CSV): every raw value
    /// read again with one guideline, first isolates per CLSI M39, %R and %S with 95 % Wilson
    /// intervals, the 30-isolate rule, MDRO shares, per site, per country, and DE vs JP.
    ///
    /// Example: kakehashi amr antibiogram --site-dir /tmp/de --site-dir /tmp/jp --guideline "EUCAST 2025"
    Antibiogram(AntibiogramArgs),
    /// How re-reading a site's values with a guideline agrees with the lab's own S/I/R, over
    /// the results the lab read with that same guideline.
    ///
    /// Example: kakehashi amr agreement --site-dir /tmp/jp --guideline "CLSI 2024"
    Agreement {
        /// The site's data directory.
        #[arg(long)]
        site_dir: PathBuf,
        /// Guideline, e.g. "CLSI 2024".
        #[arg(long)]
        guideline: Guideline,
    },
}

/// Output format.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Readable table (antibiogram only; interpret prints CSV).
    Table,
    /// CSV.
    Csv,
    /// JSON.
    Json,
}

/// Arguments of `interpret`.
#[derive(clap::Args)]
pub struct InterpretArgs {
    /// Guideline and version, e.g. "EUCAST 2025" or "CLSI 2024".
    #[arg(long)]
    guideline: Guideline,
    /// Input CSV (long form, or a WHONET-style export with one column per drug).
    #[arg(long)]
    input: PathBuf,
    /// Output format (csv or json).
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Site of infection for every row without an `infection_site` column: unspecified,
    /// meningitis, uti.
    #[arg(long, default_value = "unspecified")]
    infection_site: InfectionSite,
    /// Do not apply intrinsic resistance.
    #[arg(long)]
    no_intrinsic: bool,
    /// Use PK/PD (non-species-related) breakpoints where no organism row exists.
    #[arg(long)]
    pkpd: bool,
    /// Read censored MICs (<=, >=) as their value instead of the range they stand for.
    #[arg(long)]
    censored_as_value: bool,
}

/// Arguments of `antibiogram`.
#[derive(clap::Args)]
pub struct AntibiogramArgs {
    /// A site's data directory; repeat for several sites (each answers separately, then the
    /// counts are pooled as the hub pools them).
    #[arg(long)]
    site_dir: Vec<PathBuf>,
    /// A WHONET-style isolate CSV instead of (or besides) site directories.
    #[arg(long)]
    whonet: Vec<PathBuf>,
    /// The whole question as a JSON AntibiogramSpec (other question options are then ignored).
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Guideline and version, e.g. "EUCAST 2025".
    #[arg(long)]
    guideline: Option<Guideline>,
    /// Organisms (name, code, SNOMED CT); repeat. Default: every species found.
    #[arg(long)]
    organism: Vec<String>,
    /// Antimicrobials (name, code, ATC); repeat. Default: every drug tested.
    #[arg(long)]
    antimicrobial: Vec<String>,
    /// First specimen date (YYYY-MM-DD).
    #[arg(long)]
    from: Option<chrono::NaiveDate>,
    /// Last specimen date.
    #[arg(long)]
    to: Option<chrono::NaiveDate>,
    /// Specimen types (blood, urine, csf, sputum or SNOMED CT codes); repeat.
    #[arg(long)]
    specimen: Vec<String>,
    /// First-isolate rule: m39, all, episode:DAYS.
    #[arg(long, default_value = "m39", value_parser = FirstIsolateRule::parse)]
    first_isolate: FirstIsolateRule,
    /// One antibiogram per calendar year (trends).
    #[arg(long)]
    by_year: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// Runs `kakehashi amr`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Interpret(a) => interpret(a),
        Command::Antibiogram(a) => antibiogram_cmd(a),
        Command::Agreement {
            site_dir,
            guideline,
        } => {
            let snap = open_site(&site_dir)?;
            let ag = kakehashi_engine::amr::lab_agreement(&snap, guideline)?;
            let mut w = std::io::stdout().lock();
            writeln!(w, "{}", serde_json::to_string_pretty(&ag)?)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One output row: the input's fields, the S/I/R category, and the breakpoint it rests on.
type OutRow = (Vec<String>, String, String);

fn interpret(a: InterpretArgs) -> anyhow::Result<ExitCode> {
    let r = Reference::shared()?;
    let opts = Options {
        intrinsic: !a.no_intrinsic,
        pkpd: a.pkpd,
        screening: true,
        censored_as_value: a.censored_as_value,
    };
    let interp = Interpreter::new(r, a.guideline, opts)?;
    let source = a.input.display().to_string();
    let text = std::fs::read(&a.input).with_context(|| format!("reading {source}"))?;
    let headers: Vec<String> = csv::Reader::from_reader(&text[..])
        .headers()
        .with_context(|| format!("{source}: reading the header"))?
        .iter()
        .map(str::to_string)
        .collect();
    let (headers, rows): (Vec<String>, Vec<OutRow>) = if is_long(&headers) {
        let (h, rows) = interpret_long(&text[..], &source, &interp)?;
        // rows without an infection_site column use --infection-site
        let rows = if a.infection_site != InfectionSite::Unspecified
            && !h
                .iter()
                .any(|x| x.eq_ignore_ascii_case("infection_site") || x.eq_ignore_ascii_case("site"))
        {
            let mut with = h.clone();
            with.push("infection_site".into());
            let mut buf = Vec::new();
            {
                let mut w = csv::Writer::from_writer(&mut buf);
                w.write_record(&with)?;
                for row in &rows {
                    let mut f = row.fields.clone();
                    f.push(
                        format!("{:?}", a.infection_site)
                            .to_lowercase()
                            .replace("uncomplicateduti", "uti"),
                    );
                    w.write_record(&f)?;
                }
            }
            interpret_long(&buf[..], &source, &interp)?
                .1
                .into_iter()
                .map(|x| {
                    let mut f = x.fields;
                    f.pop();
                    (f, x.result.sir.to_string(), x.result.basis)
                })
                .collect()
        } else {
            rows.into_iter()
                .map(|x| (x.fields, x.result.sir.to_string(), x.result.basis))
                .collect()
        };
        (h, rows)
    } else {
        // WHONET-style: one output row per isolate and drug
        let isolates = read_whonet(&text[..], &source, r)?;
        let mut rows = Vec::new();
        for iso in &isolates {
            for t in &iso.tests {
                let (value, res) = match &t.value {
                    Some(m) => {
                        let x = interp.interpret(iso.organism, t.ab, m, a.infection_site);
                        let v = match m {
                            kakehashi_amr::Measurement::Mic(mic) => mic.to_string(),
                            kakehashi_amr::Measurement::Zone(z, _) => format!("{} mm", z.mm),
                        };
                        (v, x)
                    }
                    None => (
                        t.lab_sir.map(|s| s.to_string()).unwrap_or_default(),
                        kakehashi_amr::Interpretation {
                            sir: kakehashi_amr::Sir::Ni,
                            basis: "no raw value (the file holds the lab's S/I/R only)".into(),
                        },
                    ),
                };
                rows.push((
                    vec![
                        iso.id.clone(),
                        iso.patient.clone(),
                        iso.date.to_string(),
                        r.organism(iso.organism).name.clone(),
                        r.antimicrobial(t.ab).name.clone(),
                        value,
                    ],
                    res.sir.to_string(),
                    res.basis,
                ));
            }
        }
        (
            [
                "isolate",
                "patient",
                "specimen_date",
                "organism",
                "antimicrobial",
                "value",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        )
    };
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|(f, sir, bp)| {
                    let mut m = serde_json::Map::new();
                    for (h, v) in headers.iter().zip(f) {
                        m.insert(h.clone(), serde_json::Value::String(v.clone()));
                    }
                    m.insert("sir".into(), sir.clone().into());
                    m.insert("breakpoint".into(), bp.clone().into());
                    serde_json::Value::Object(m)
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
        _ => {
            let mut w = csv::Writer::from_writer(out);
            let mut h = headers.clone();
            h.push("sir".into());
            h.push("breakpoint".into());
            w.write_record(&h)?;
            for (f, sir, bp) in rows {
                let mut rec = f;
                rec.push(sir);
                rec.push(bp);
                w.write_record(&rec)?;
            }
            w.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn antibiogram_cmd(a: AntibiogramArgs) -> anyhow::Result<ExitCode> {
    let r = Reference::shared()?;
    let spec: AntibiogramSpec = match &a.spec {
        Some(p) => serde_json::from_slice(
            &std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("{}: not an antibiogram spec", p.display()))?,
        None => AntibiogramSpec {
            guideline: a
                .guideline
                .context("--guideline (or --spec) is required, e.g. --guideline \"EUCAST 2025\"")?,
            organisms: a.organism.clone(),
            antimicrobials: a.antimicrobial.clone(),
            period: Period {
                from: a.from,
                to: a.to,
            },
            specimen_types: a.specimen.clone(),
            first_isolate: a.first_isolate,
            by_year: a.by_year,
            infection_site: InfectionSite::Unspecified,
            max_isolates_per_patient: kakehashi_amr::per_patient::DEFAULT_MAX_ISOLATES_PER_PATIENT,
        },
    };
    spec.resolve(r)?;
    if a.site_dir.is_empty() && a.whonet.is_empty() {
        bail!("give at least one --site-dir or --whonet");
    }
    let mut answers: Vec<(String, String, AntibiogramCounts)> = Vec::new();
    for dir in &a.site_dir {
        let snap = open_site(dir)?;
        let counts = kakehashi_engine::amr::site_antibiogram(&snap, &spec)
            .with_context(|| format!("site {}", dir.display()))?;
        let country = site_country(&snap).unwrap_or_else(|| "?".into());
        answers.push((dir.display().to_string(), country, counts));
    }
    for f in &a.whonet {
        let text = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        let isolates = read_whonet(&text[..], &f.display().to_string(), r)?;
        let interp = Interpreter::new(r, spec.guideline, Options::default())?;
        answers.push((
            f.display().to_string(),
            "?".into(),
            antibiogram(&isolates, &spec, &interp)?,
        ));
    }
    let sites: Vec<SiteCounts> = answers
        .iter()
        .map(|(s, c, x)| SiteCounts::exact(s, c, x))
        .collect();
    let rep = report(&sites, "DE", "JP");
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => {
            let v = serde_json::json!({
                "spec": serde_json::from_str::<serde_json::Value>(&spec.canonical(r))?,
                "counts": answers.iter().map(|(s, c, x)| serde_json::json!({"site": s, "country": c, "counts": x})).collect::<Vec<_>>(),
                "report": rep,
                "trends": kakehashi_amr::pool::trends(&rep.countries),
            });
            serde_json::to_writer_pretty(&mut out, &v)?;
            writeln!(out)?;
        }
        Format::Csv => write_csv(out, &rep)?,
        Format::Table => write_table(out, &spec, &rep, r)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn pct(v: f64) -> String {
    format!("{:.1}", v * 100.0)
}

fn write_csv(out: impl Write, rep: &Report) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "level",
        "group",
        "year",
        "organism",
        "antimicrobial",
        "tested",
        "interpreted",
        "s",
        "i",
        "r",
        "sdd",
        "ni",
        "pct_r",
        "pct_r_ci_low",
        "pct_r_ci_high",
        "pct_s",
        "pct_s_ci_low",
        "pct_s_ci_high",
        "reportable",
    ])?;
    let b = |x: kakehashi_amr::pool::Bounds| {
        if x.lo == x.hi {
            x.lo.to_string()
        } else {
            format!("{}-{}", x.lo, x.hi)
        }
    };
    for (level, cells) in [
        ("site", &rep.sites),
        ("country", &rep.countries),
        ("total", &rep.total),
    ] {
        for c in cells.iter() {
            let sh = |s: Option<kakehashi_amr::pool::Share>| match s {
                Some(s) => [
                    s.value
                        .map(pct)
                        .unwrap_or_else(|| format!("{}-{}", pct(s.min), pct(s.max))),
                    pct(s.ci_low),
                    pct(s.ci_high),
                ],
                None => [String::new(), String::new(), String::new()],
            };
            let [r, rl, rh] = sh(c.resistant);
            let [s, sl, sh_] = sh(c.susceptible);
            w.write_record([
                level.to_string(),
                c.group.clone(),
                c.year.map(|y| y.to_string()).unwrap_or_default(),
                c.organism.clone(),
                c.antimicrobial.clone(),
                b(c.tested),
                b(c.interpreted),
                b(c.s),
                b(c.i),
                b(c.r),
                b(c.sdd),
                b(c.ni),
                r,
                rl,
                rh,
                s,
                sl,
                sh_,
                c.reportable.to_string(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// An organism's name for a report, or its code if the reference tables do not know it.
pub(crate) fn organism_name<'a>(r: &'a Reference, code: &'a str) -> &'a str {
    r.organism_name(code).unwrap_or(code)
}

/// An antimicrobial's name for a report, or its code if the reference tables do not know it.
pub(crate) fn antimicrobial_name<'a>(r: &'a Reference, code: &'a str) -> &'a str {
    r.antimicrobial_name(code).unwrap_or(code)
}

fn write_table(
    mut out: impl Write,
    spec: &AntibiogramSpec,
    rep: &Report,
    r: &Reference,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "Cumulative antibiogram, every value read with {} ({:?} first isolates)",
        spec.guideline, spec.first_isolate
    )?;
    writeln!(
        out,
        "%R and %S of interpreted isolates (S+I+R+SDD) with 95% Wilson intervals; * = fewer than 30 isolates (CLSI M39: not reportable)"
    )?;
    let groups: Vec<(&str, &Vec<CellStats>)> =
        vec![("site", &rep.sites), ("country", &rep.countries)];
    for (level, cells) in groups {
        let mut last = String::new();
        for c in cells.iter() {
            let head = format!(
                "{level} {}{}",
                c.group,
                c.year.map(|y| format!(" {y}")).unwrap_or_default()
            );
            if head != last {
                writeln!(out, "\n== {head}")?;
                writeln!(
                    out,
                    "{:<28} {:<26} {:>6} {:>6} {:>20} {:>20} {:>5}",
                    "organism", "antimicrobial", "n", "NI", "%R (95% CI)", "%S (95% CI)", "I"
                )?;
                last = head;
            }
            let sh = |s: Option<kakehashi_amr::pool::Share>| match s {
                Some(s) => format!(
                    "{} ({}-{})",
                    s.value.map(pct).unwrap_or_else(|| "~".into()),
                    pct(s.ci_low),
                    pct(s.ci_high)
                ),
                None => "-".into(),
            };
            writeln!(
                out,
                "{:<28} {:<26} {:>5}{} {:>6} {:>20} {:>20} {:>5}",
                organism_name(r, &c.organism),
                antimicrobial_name(r, &c.antimicrobial),
                c.interpreted.lo,
                if c.reportable { " " } else { "*" },
                c.ni.lo,
                sh(c.resistant),
                sh(c.susceptible),
                c.i.lo
            )?;
        }
    }
    if !rep.comparison.is_empty() {
        writeln!(
            out,
            "\n== DE vs JP: difference in %R (DE - JP), Newcombe 95% CI; both sides read with {}",
            spec.guideline
        )?;
        for c in &rep.comparison {
            let d = c
                .difference
                .map(|(d, lo, hi)| {
                    format!(
                        "{:+.1} ({:+.1} to {:+.1})",
                        d * 100.0,
                        lo * 100.0,
                        hi * 100.0
                    )
                })
                .unwrap_or_else(|| "not reportable".into());
            let (organism, drug) = (
                organism_name(r, &c.organism),
                antimicrobial_name(r, &c.antimicrobial),
            );
            writeln!(
                out,
                "{organism:<28} {drug:<26} {:<5} {d}",
                c.year.map(|y| y.to_string()).unwrap_or_default()
            )?;
        }
    }
    if !rep.mdro.is_empty() {
        writeln!(out, "\n== MDRO per country (share of first isolates)")?;
        for m in &rep.mdro {
            let iso = m.measures.get("isolates").map(|x| x.0.lo).unwrap_or(0);
            let parts: Vec<String> = m
                .measures
                .iter()
                .filter(|(k, (b, _))| *k != "isolates" && b.hi > 0)
                .map(|(k, (b, s))| {
                    format!(
                        "{k} {} ({}%)",
                        b.lo,
                        s.and_then(|s| s.value).map(pct).unwrap_or_default()
                    )
                })
                .collect();
            writeln!(
                out,
                "{:<4} {:<16} {:>6} isolates  {}",
                m.group,
                m.organism,
                iso,
                parts.join(", ")
            )?;
        }
    }
    Ok(())
}

/// The site's country from its patients' addresses (the most common one).
fn site_country(snap: &kakehashi_store::Snapshot) -> Option<String> {
    use arrow::array::{Array, AsArray};
    let mut counts: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for b in snap.scan(kakehashi_model::View::Patient, Some(&["address_country"])) {
        let b = b.ok()?;
        let col = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8).ok()?;
        let s = col.as_string::<i32>();
        for i in 0..s.len() {
            if !s.is_null(i) {
                *counts.entry(s.value(i).to_string()).or_default() += 1;
            }
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(c, _)| c)
}

fn open_site(dir: &std::path::Path) -> anyhow::Result<kakehashi_store::Snapshot> {
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
