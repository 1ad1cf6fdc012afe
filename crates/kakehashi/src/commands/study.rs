//! `kakehashi study import-dictionary|validate|export|forms`: EDC study definitions as local
//! files: a REDCap data dictionary into a study JSON, checks, exports as a REDCap dictionary
//! or CDISC ODM 1.3.2 metadata, and the shipped VHF and SFTS registries; `study list|push`
//! talk to a hub ([`super::study_hub`]).

use anyhow::Context;
use kakehashi_edc::{Study, arc, dictionary, odm};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `kakehashi study ...`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Read a REDCap data dictionary (the 18-column CSV) into a study definition (JSON): one
    /// arm, one event with every form, the NI/UNK/NASK/NA missing-data codes, status draft;
    /// or, with --like, the arms, events, sites, roles and texts of an existing study (a
    /// dictionary has no events, as in REDCap, where they are set up apart from it). An
    /// invalid dictionary is refused with every problem's line, field and column.
    ImportDictionary {
        /// The data dictionary CSV.
        file: PathBuf,
        /// Where to write the study JSON.
        #[arg(long)]
        out: PathBuf,
        /// The study id (default: the file name).
        #[arg(long)]
        id: Option<String>,
        /// The study title (default: the id, or the --like study's).
        #[arg(long)]
        title: Option<String>,
        /// Take everything but the fields from this study JSON.
        #[arg(long)]
        like: Option<PathBuf>,
    },
    /// Check a data dictionary (.csv) or a study definition (.json); every problem is printed
    /// with its line, field and column (exit 1 when any).
    Validate {
        /// The file.
        file: PathBuf,
    },
    /// Write a study as a REDCap data dictionary or as CDISC ODM 1.3.2 metadata (standard
    /// output, or --out).
    Export {
        /// The study JSON.
        file: PathBuf,
        /// redcap (data dictionary CSV) or odm (ODM 1.3.2 XML).
        #[arg(long, value_enum)]
        format: Format,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a shipped registry built from ISARIC ARC: study.json, the REDCap dictionary
    /// (dictionary.csv), ODM 1.3.2 metadata (odm.xml) and the translation coverage report
    /// (coverage.md) into a directory.
    Forms {
        /// vhf (ARC's VHF preset) or sfts (derived from it by data/sfts.toml).
        #[arg(value_enum)]
        registry: Registry,
        /// The directory to write into (created).
        #[arg(long)]
        out: PathBuf,
    },
    /// The studies at a hub that your token's user sees (the network office: all).
    ///
    /// Example: kakehashi study list --hub http://127.0.0.1:8080 --token kh_...
    List(super::study_hub::HubArgs),
    /// Create a study at a hub (the network office's token) from a study JSON, or from a
    /// REDCap data dictionary (.csv, with --id, --title and --like: a study at the hub to
    /// take arms, events, sites and roles from).
    ///
    /// Example: kakehashi study push dictionary.csv --id small --like vhf-registry --hub http://127.0.0.1:8080 --token kh_...
    Push(super::study_hub::PushArgs),
    /// Activate a sleeping study at sites in one step (the network office's token): forms,
    /// roles and sites are ready, so the sites can enrol at once; each site's country needs an
    /// ethics approval (the study's, or one given with --approvals).
    ///
    /// Example: kakehashi study activate vhf-outbreak --site de_berlin --note "imported CCHF case" --hub http://127.0.0.1:8080 --token kh_...
    Activate(super::study_hub::ActivateArgs),
}

/// Export formats.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// REDCap data dictionary CSV.
    Redcap,
    /// CDISC ODM 1.3.2 metadata XML.
    Odm,
}

/// The shipped registries.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Registry {
    /// Viral haemorrhagic fevers (ARC VHF preset).
    Vhf,
    /// Severe fever with thrombocytopenia syndrome (derived from VHF).
    Sfts,
}

fn read(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

fn write(file: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(file, text).with_context(|| format!("writing {}", file.display()))
}

fn load_study(file: &Path) -> anyhow::Result<Study> {
    Ok(Study::from_json(&file.display().to_string(), &read(file)?)?)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn export(s: &Study, format: Format) -> String {
    match format {
        Format::Redcap => dictionary::write_csv(&s.fields),
        Format::Odm => odm::write_metadata(s, &now()),
    }
}

/// Runs `kakehashi study ...`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List(a) => super::study_hub::list(a),
        Command::Push(a) => super::study_hub::push(a),
        Command::Activate(a) => super::study_hub::activate(a),
        Command::ImportDictionary {
            file,
            out,
            id,
            title,
            like,
        } => {
            let name = file.display().to_string();
            let fields = dictionary::read_csv(&name, &read(&file)?)?;
            let id = id.unwrap_or_else(|| {
                file.file_stem()
                    .map(|s| s.to_string_lossy().to_lowercase().replace(' ', "_"))
                    .unwrap_or_else(|| "study".into())
            });
            let s = match like {
                Some(like) => {
                    let mut s = load_study(&like)?;
                    s.id = id;
                    if let Some(t) = title {
                        s.title = t;
                    }
                    s.with_fields(fields)
                }
                None => {
                    let title = title.unwrap_or_else(|| id.clone());
                    Study::from_dictionary(&id, &title, fields)
                }
            };
            s.validate(&name)?;
            write(&out, &s.to_json())?;
            println!(
                "{}: {} fields in {} forms → {}",
                name,
                s.fields.len(),
                s.forms().len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { file } => {
            let name = file.display().to_string();
            let text = read(&file)?;
            let is_json = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            if is_json {
                let s = Study::from_json(&name, &text)?;
                println!(
                    "{name}: valid study '{}' ({}): {} fields, {} forms, {} events, {} sites, {} roles",
                    s.acronym,
                    s.id,
                    s.fields.len(),
                    s.forms().len(),
                    s.events().count(),
                    s.sites.len(),
                    s.roles.len()
                );
            } else {
                let fields = dictionary::read_csv(&name, &text)?;
                let forms = Study::from_dictionary("x", "x", fields.clone())
                    .forms()
                    .len();
                println!(
                    "{name}: valid REDCap data dictionary: {} fields, {forms} forms",
                    fields.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { file, format, out } => {
            let s = load_study(&file)?;
            let text = export(&s, format);
            match out {
                Some(o) => write(&o, &text)?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Forms { registry, out } => {
            let s = match registry {
                Registry::Vhf => arc::vhf_study()?,
                Registry::Sfts => arc::sfts_study()?,
            };
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            write(&out.join("study.json"), &s.to_json())?;
            write(&out.join("dictionary.csv"), &export(&s, Format::Redcap))?;
            write(&out.join("odm.xml"), &export(&s, Format::Odm))?;
            let c = arc::coverage(&s, &["de", "ja"]);
            write(&out.join("coverage.md"), &arc::coverage_report(&s, &c))?;
            println!(
                "{} ({}): {} fields in {} forms, {} events → {}",
                s.title,
                s.id,
                s.fields.len(),
                s.forms().len(),
                s.events().count(),
                out.display()
            );
            for (lang, missing) in &c.missing {
                println!(
                    "  {lang}: {} of {} texts translated, {} shown in English (coverage.md)",
                    c.total - missing.len(),
                    c.total,
                    missing.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
