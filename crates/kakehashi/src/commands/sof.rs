//! `kakehashi sof`: SQL-on-FHIR v2 ViewDefinitions over FHIR files.

use anyhow::Context;
use kakehashi_fhir::read;
use kakehashi_fhir::sof::{BatchBuilder, Mode, ViewDefinition, row_to_json};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats of `sof run`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated, with a header row.
    Csv,
    /// One JSON object per line.
    Ndjson,
    /// One JSON array of objects.
    Json,
    /// Apache Parquet (needs --out).
    Parquet,
}

/// Subcommands of `kakehashi sof`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Run one ViewDefinition over FHIR input and print or write the rows.
    ///
    /// Input: NDJSON (.ndjson, .jsonl), gzipped NDJSON (.ndjson.gz), JSON Bundles or single
    /// resources (.json), and folders of these. Records that are not FHIR resources are
    /// reported with file and line on stderr and skipped (exit code 3). References between the
    /// entries of a Bundle (urn:uuid: and absolute fullUrls) resolve to the entry they name;
    /// one that names nothing is output empty and reported on stderr (exit code 3).
    ///
    /// Example:
    ///   kakehashi sof run --view crates/fhir/views/condition.json --format csv site-export/
    #[command(verbatim_doc_comment)]
    Run {
        /// The ViewDefinition (JSON).
        #[arg(long)]
        view: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// FHIR input files or folders.
        #[arg(required = true)]
        input: Vec<PathBuf>,
    },
}

/// Runs `kakehashi sof`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Run {
        view,
        format,
        out,
        input,
    } = cmd;
    let text =
        std::fs::read_to_string(&view).with_context(|| format!("reading {}", view.display()))?;
    let vd = ViewDefinition::parse(&text)
        .with_context(|| format!("{} is not a valid ViewDefinition", view.display()))?;
    let files = read::discover(&input)?;
    let mut sink: Box<dyn Write> = match &out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => {
            if matches!(format, Format::Parquet) {
                anyhow::bail!("--format parquet needs --out FILE");
            }
            Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
        }
    };
    let problems = match format {
        Format::Json | Format::Ndjson => {
            let ndjson = matches!(format, Format::Ndjson);
            let mut first = true;
            if !ndjson {
                sink.write_all(b"[")?;
            }
            let problems = kakehashi_fhir::sof::run_files(&vd, &files, &mut |row| {
                let obj = serde_json::Value::Object(row_to_json(&vd, row));
                let sep: &[u8] = if ndjson {
                    b""
                } else if first {
                    b"\n"
                } else {
                    b",\n"
                };
                first = false;
                sink.write_all(sep)
                    .and_then(|_| {
                        serde_json::to_writer(&mut sink, &obj).map_err(std::io::Error::other)
                    })
                    .and_then(|_| {
                        if ndjson {
                            sink.write_all(b"\n")
                        } else {
                            Ok(())
                        }
                    })
                    .map_err(|e| format!("writing output: {e}"))
            })?;
            if !ndjson {
                sink.write_all(b"\n]\n")?;
            }
            problems
        }
        Format::Csv | Format::Parquet => {
            let mut builder = BatchBuilder::new(&vd, Mode::Spec);
            let mut batches = Vec::new();
            let problems = kakehashi_fhir::sof::run_files(&vd, &files, &mut |row| {
                builder.push(row)?;
                if builder.len() >= 65_536 {
                    batches.push(builder.finish());
                }
                Ok::<(), kakehashi_fhir::sof::CellError>(())
            })?;
            batches.push(builder.finish());
            if matches!(format, Format::Csv) {
                // list columns are written as JSON arrays, which CSV cannot hold natively
                let mut w = arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut sink);
                for b in &batches {
                    w.write(&flatten_lists(b)?)?;
                }
            } else {
                let path = out.as_ref().expect("parquet has --out");
                drop(sink);
                let file = std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let mut w =
                    parquet::arrow::ArrowWriter::try_new(file, vd.schema(Mode::Spec), None)?;
                for b in &batches {
                    w.write(b)?;
                }
                w.close()?;
                sink = Box::new(std::io::sink());
            }
            problems
        }
    };
    sink.flush()?;
    for p in &problems.rejected {
        eprintln!("rejected: {p}");
    }
    for p in &problems.unresolved {
        eprintln!("unresolved: {p}");
    }
    if problems.rejected.is_empty() && problems.unresolved.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !problems.rejected.is_empty() {
        eprintln!("{} record(s) rejected", problems.rejected.len());
    }
    if !problems.unresolved.is_empty() {
        eprintln!(
            "{} reference(s) unresolved (output empty)",
            problems.unresolved.len()
        );
    }
    Ok(ExitCode::from(crate::exit::PARTIAL))
}

/// Replaces list columns by their JSON text so CSV can carry them.
fn flatten_lists(
    b: &arrow::record_batch::RecordBatch,
) -> anyhow::Result<arrow::record_batch::RecordBatch> {
    use arrow::array::{Array, ArrayRef, ListArray, StringArray, StringBuilder};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (f, c) in b.schema().fields().iter().zip(b.columns()) {
        if let DataType::List(_) = f.data_type() {
            let list = c.as_any().downcast_ref::<ListArray>().expect("list column");
            let mut out = StringBuilder::new();
            for i in 0..list.len() {
                if list.is_null(i) {
                    out.append_null();
                } else {
                    let v = list.value(i);
                    let s = v
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .expect("list of strings");
                    let items: Vec<Option<&str>> = (0..s.len())
                        .map(|j| (!s.is_null(j)).then(|| s.value(j)))
                        .collect();
                    out.append_value(serde_json::to_string(&items)?);
                }
            }
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            cols.push(Arc::new(out.finish()));
        } else {
            fields.push(f.as_ref().clone());
            cols.push(c.clone());
        }
    }
    Ok(arrow::record_batch::RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        cols,
    )?)
}
