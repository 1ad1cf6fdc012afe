//! Loading FHIR into the site store: read (one thread) → parse and flatten through the 14
//! standard views (worker threads) → Parquet segment (this thread) → atomic commit.
//!
//! Memory is bounded by the channels between the stages (a few chunks of about a megabyte
//! each), by the rows each worker gathers into batches (up to [`IngestOptions::batch_rows`] per
//! view) and by the store's key runs (sorted and spilled to disk half a million at a time),
//! whatever the input size. A resource is stored only if every view of its type accepts it; a
//! rejected one is reported with file, line and element, and with `--on-error fail` nothing of
//! the load is committed.
//!
//! References between the entries of a Bundle (`urn:uuid:` and absolute `fullUrl`s) resolve to
//! the target entry's type and id ([`kakehashi_fhir::ingest::RefScope`]). A reference that resolves to
//! nothing (an `urn:` reference to no entry of its Bundle, or in NDJSON) does not reject its
//! resource: the resource is stored with that key empty, and the reference is counted per view
//! column and listed with file, entry and element ([`Summary::unresolved`]); with
//! `--on-error fail` it stops the load like a rejected record.

use crossbeam_channel::bounded;
use kakehashi_fhir::ingest::{self as fhir, Chunk, InputFile, Members, Node, Parser, PlanError};
use kakehashi_fhir::ingest::{BatchBuilder, Plans, Problem, ReadError, RefScope, Staged};
use kakehashi_fhir::ingest::{Staging, Unresolved, ViewDefinition};
use kakehashi_model::{View, resource_types};
use kakehashi_store::{ResourceKey, Store, StoreError};
use smallvec::SmallVec;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What to do with a rejected resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Report it and load the rest (default).
    #[default]
    Skip,
    /// Stop; commit nothing.
    Fail,
}

/// Ingest settings.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// What to do with a rejected resource.
    pub on_error: OnError,
    /// Worker threads for parsing and flattening (default: the number of CPUs).
    pub threads: usize,
    /// Bytes of input per chunk (default 1 MiB: as fast as 4 MiB, and the load takes about
    /// 50 MB less memory, its buffers reused by the allocator rather than mapped afresh).
    pub chunk_bytes: usize,
    /// How many problems the summary keeps verbatim (all are counted).
    pub keep_problems: usize,
    /// Rows a worker gathers for a view before it hands them to the Parquet writer as one batch
    /// (default 8,192: a chunk of 1 MiB makes about a thousand, and every batch costs the writer
    /// a fixed amount per column).
    pub batch_rows: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            on_error: OnError::Skip,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            chunk_bytes: 1 << 20,
            keep_problems: 1000,
            batch_rows: 8192,
        }
    }
}

/// Progress so far (reported after every chunk).
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Resources processed.
    pub resources: u64,
    /// Input bytes processed.
    pub bytes: u64,
    /// Total input bytes on disk (compressed size for gzip), for a progress bar.
    pub total_bytes: u64,
}

/// What a load did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The new snapshot (None if nothing was committed).
    pub snapshot: Option<u64>,
    /// Files read.
    pub files: usize,
    /// Input bytes read.
    pub bytes: u64,
    /// Resources stored, by type.
    pub stored: BTreeMap<String, u64>,
    /// Valid resources of types no standard view reads (not stored), by type.
    pub not_viewed: BTreeMap<String, u64>,
    /// Rows written, by view.
    pub rows: BTreeMap<View, u64>,
    /// Rejected records (count).
    pub rejected: u64,
    /// The first rejected records with their reasons.
    pub problems: Vec<Problem>,
    /// References that resolve to nothing, one per resource and reference (the resources are
    /// stored, the key left empty): an `urn:uuid:` / `urn:oid:` reference to no entry of its
    /// Bundle, or in NDJSON.
    pub unresolved: u64,
    /// Those references by the view columns they leave empty (`condition.patient_id`).
    pub unresolved_by_column: BTreeMap<String, u64>,
    /// The first of them (up to [`IngestOptions::keep_problems`]) with file, entry and element.
    pub unresolved_refs: Vec<Problem>,
    /// Live resources in the store after the load, by type.
    pub live: BTreeMap<String, u64>,
    /// Wall time.
    pub elapsed: Duration,
}

impl Summary {
    /// Resources stored in this load.
    pub fn stored_total(&self) -> u64 {
        self.stored.values().sum()
    }
}

/// Why a load stopped.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// An input file could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `--on-error fail` and a record was rejected; nothing was committed.
    #[error("{0} (nothing was loaded: --on-error fail)")]
    Rejected(Problem),
    /// No input files were found.
    #[error("no FHIR input files found in {0:?}")]
    NoInput(Vec<PathBuf>),
}

/// Output of one chunk: its keys, problems and counts, and the rows of the views whose batches
/// filled up with it.
#[derive(Default)]
struct Flattened {
    views: Vec<(View, arrow::record_batch::RecordBatch, Vec<u32>)>,
    keys: Vec<ResourceKey>,
    problems: Vec<Problem>,
    /// Unresolved references, one per resource and reference, and by column.
    unresolved: Vec<Problem>,
    unresolved_by_column: BTreeMap<String, u64>,
    stored: BTreeMap<String, u64>,
    not_viewed: BTreeMap<String, u64>,
    records: u64,
    bytes: u64,
}

/// Loads FHIR input into the store at `site_dir` (created if missing).
pub fn ingest(
    site_dir: &Path,
    inputs: &[PathBuf],
    opts: &IngestOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Summary, IngestError> {
    let started = Instant::now();
    let files = fhir::discover(inputs)?;
    if files.is_empty() {
        return Err(IngestError::NoInput(inputs.to_vec()));
    }
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(&f.path).ok())
        .map(|m| m.len())
        .sum();
    let store = Store::open(site_dir);
    let mut writer = store.begin_load()?;
    let views = fhir::standard_views();
    let threads = opts.threads.max(1);
    let (chunk_tx, chunk_rx) = bounded::<(Chunk, u32)>(threads * 2);
    let (out_tx, out_rx) = bounded::<Flattened>(threads * 2);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut summary = Summary {
        files: files.len(),
        ..Summary::default()
    };

    let result: Result<(), IngestError> = std::thread::scope(|s| {
        let reader = s.spawn(|| -> Result<Vec<Problem>, ReadError> {
            let mut next_ord: u64 = 0;
            let mut file_problems = Vec::new();
            for f in &files {
                if let Err(e) = read_one(f, opts.chunk_bytes, &chunk_tx, &mut next_ord, &stop) {
                    // a broken file is one rejected input: with `skip` the others still load
                    if opts.on_error == OnError::Fail {
                        return Err(e);
                    }
                    file_problems.push(file_problem(f, &e));
                }
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
            }
            drop(chunk_tx);
            Ok(file_problems)
        });
        for _ in 0..threads {
            let rx = chunk_rx.clone();
            let tx = out_tx.clone();
            s.spawn(move || {
                let mut worker = Worker::new(views, opts.batch_rows.max(1));
                for (chunk, first_ord) in rx {
                    if tx
                        .send(flatten(chunk, first_ord, views, &mut worker))
                        .is_err()
                    {
                        return;
                    }
                }
                // the rows still gathering when the input ends
                let _ = tx.send(Flattened {
                    views: worker.finish_rest(views),
                    ..Flattened::default()
                });
            });
        }
        drop(out_tx);
        drop(chunk_rx);
        let mut outcome = Ok(());
        let mut done = Progress {
            total_bytes,
            ..Progress::default()
        };
        for out in out_rx {
            if outcome.is_err() {
                continue; // drain so the workers can finish
            }
            done.resources += out.records;
            done.bytes += out.bytes;
            summary.rejected += out.problems.len() as u64;
            summary.unresolved += out.unresolved.len() as u64;
            for (c, n) in out.unresolved_by_column {
                *summary.unresolved_by_column.entry(c).or_default() += n;
            }
            if opts.on_error == OnError::Fail {
                if let Some(p) = out.problems.into_iter().chain(out.unresolved).next() {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    outcome = Err(IngestError::Rejected(p));
                    continue;
                }
            } else {
                let room = opts.keep_problems.saturating_sub(summary.problems.len());
                summary.problems.extend(out.problems.into_iter().take(room));
                let room = opts
                    .keep_problems
                    .saturating_sub(summary.unresolved_refs.len());
                summary
                    .unresolved_refs
                    .extend(out.unresolved.into_iter().take(room));
            }
            for (view, batch, ords) in &out.views {
                if let Err(e) = writer.write(*view, batch, ords) {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    outcome = Err(e.into());
                    break;
                }
                *summary.rows.entry(*view).or_default() += batch.num_rows() as u64;
            }
            if let Err(e) = writer.add_keys(out.keys) {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                outcome = Err(e.into());
                continue;
            }
            for (t, n) in out.stored {
                *summary.stored.entry(t).or_default() += n;
            }
            for (t, n) in out.not_viewed {
                *summary.not_viewed.entry(t).or_default() += n;
            }
            progress(done);
        }
        summary.bytes = done.bytes;
        match reader.join() {
            Ok(Ok(file_problems)) => {
                summary.rejected += file_problems.len() as u64;
                let room = opts.keep_problems.saturating_sub(summary.problems.len());
                summary
                    .problems
                    .extend(file_problems.into_iter().take(room));
            }
            Ok(Err(e)) => {
                if outcome.is_ok() {
                    outcome = Err(e.into());
                }
            }
            Err(_) => {
                if outcome.is_ok() {
                    outcome = Err(IngestError::Read(ReadError::Json {
                        path: PathBuf::new(),
                        message: "reader thread panicked".into(),
                    }));
                }
            }
        }
        outcome
    });
    result?;
    let snap = writer.commit()?;
    summary.snapshot = Some(snap.id);
    summary.live = snap.resources.clone();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn read_one(
    f: &InputFile,
    chunk_bytes: usize,
    tx: &crossbeam_channel::Sender<(Chunk, u32)>,
    next_ord: &mut u64,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<(), ReadError> {
    fhir::read_file(f, chunk_bytes, &mut |chunk| {
        let first = *next_ord;
        *next_ord += chunk.records.len() as u64;
        // ordinals are u32 per load: 4 billion resources
        let first = u32::try_from(first).unwrap_or(u32::MAX);
        !stop.load(std::sync::atomic::Ordering::Relaxed) && tx.send((chunk, first)).is_ok()
    })
    .map(|_| ())
}

fn file_problem(f: &InputFile, e: &ReadError) -> Problem {
    let line = match e {
        ReadError::Truncated { line, .. } => *line,
        _ => 0,
    };
    let message = match e {
        ReadError::Truncated { source, .. } => {
            format!("gzip data ends early after line {line} (file cut short?): {source}")
        }
        ReadError::Json { message, .. } => message.clone(),
        other => other.to_string(),
    };
    Problem {
        location: fhir::Location {
            file: std::sync::Arc::from(f.path.as_path()),
            line,
            entry: false,
        },
        element: None,
        message,
    }
}

/// Why a resource's `meta.lastUpdated` cannot be read.
#[derive(Debug, thiserror::Error)]
enum LastUpdatedError {
    /// A text that is no FHIR instant.
    #[error(transparent)]
    Date(#[from] fhir::DateError),
    /// Not a JSON string.
    #[error("must be a string")]
    NotAString,
}

fn last_updated(v: Node<'_>) -> Result<i64, LastUpdatedError> {
    let Some(meta) = fhir::get(v, "meta") else {
        return Ok(i64::MIN);
    };
    if meta.as_object().is_none() {
        return Ok(i64::MIN);
    }
    match fhir::get(meta, "lastUpdated") {
        None => Ok(i64::MIN),
        Some(t) => match fhir::kind(t) {
            fhir::Kind::Str(s) => Ok(fhir::parse_date_time_micros(s)?),
            _ => Err(LastUpdatedError::NotAString),
        },
    }
}

/// What a worker keeps from one chunk to the next: the parser's buffers, the views by type, and
/// the rows gathering for each view (with the ordinal of the resource each came from).
struct Worker {
    pending: Vec<Option<(BatchBuilder, Vec<u32>)>>,
    /// [`IngestOptions::batch_rows`].
    batch_rows: usize,
    parser: Parser,
    /// For each resource type index, the standard views that read it (indexes into `views`)
    /// and their compiled plans, in that order.
    by_type: Vec<(Vec<usize>, Plans)>,
    /// The staging area and the member table, kept between resources for their memory.
    spare: Staging<'static>,
    spare_members: Members<'static>,
}

impl Worker {
    fn new(views: &[(View, ViewDefinition)], batch_rows: usize) -> Worker {
        let mut ks = vec![Vec::new(); resource_types::R4_RESOURCE_TYPES.len()];
        for (k, (view, _)) in views.iter().enumerate() {
            if let Some(t) = resource_types::index(view.resource()) {
                ks[t as usize].push(k);
            }
        }
        let by_type = ks
            .into_iter()
            .map(|mine| {
                let plans = Plans::new(mine.iter().map(|&k| &views[k].1));
                (mine, plans)
            })
            .collect();
        Worker {
            pending: (0..views.len()).map(|_| None).collect(),
            batch_rows,
            parser: Parser::new(),
            by_type,
            spare: Staging::new(),
            spare_members: Members::default(),
        }
    }

    /// The gathered rows of every view that has a whole batch, as batches; the builders stay,
    /// with room for the next batch of their view.
    fn finish_full(
        &mut self,
        views: &[(View, ViewDefinition)],
    ) -> Vec<(View, arrow::record_batch::RecordBatch, Vec<u32>)> {
        let mut out = Vec::new();
        for ((view, _), pending) in views.iter().zip(&mut self.pending) {
            if let Some((b, ords)) = pending
                && b.len() >= self.batch_rows
            {
                // a batch passes `batch_rows` by up to a chunk's rows: the next gets room for as
                // many as this one had, and an eighth more
                let room = b.len() + b.len() / 8;
                let ords = std::mem::replace(ords, Vec::with_capacity(room));
                out.push((*view, b.finish_and_reserve(room), ords));
            }
        }
        out
    }

    /// What is left of every view's rows at the end of the input, as batches.
    fn finish_rest(
        &mut self,
        views: &[(View, ViewDefinition)],
    ) -> Vec<(View, arrow::record_batch::RecordBatch, Vec<u32>)> {
        let mut out = Vec::new();
        for ((view, _), pending) in views.iter().zip(&mut self.pending) {
            if let Some((mut b, ords)) = pending.take()
                && !b.is_empty()
            {
                out.push((*view, b.finish(), ords));
            }
        }
        out
    }
}

/// Reports a stored resource's unresolved references: one problem per reference naming the
/// view columns it leaves empty, each column counted.
#[cold]
fn note_unresolved(
    noted: Vec<(usize, Unresolved)>,
    rt: &str,
    views: &[(View, ViewDefinition)],
    out: &mut Flattened,
    at: Problem,
) {
    let mut by_ref: Vec<(Unresolved, Vec<String>)> = Vec::new();
    for (k, u) in noted {
        let (view, vd) = &views[k];
        let cols = bundle_columns(vd, u.want.as_deref());
        let cols: Vec<String> = if cols.is_empty() {
            vec![view.name().to_owned()]
        } else {
            cols.iter()
                .map(|c| format!("{}.{c}", view.name()))
                .collect()
        };
        for c in &cols {
            *out.unresolved_by_column.entry(c.clone()).or_default() += 1;
        }
        match by_ref
            .iter_mut()
            .find(|(r, _)| r.reference == u.reference && r.want == u.want)
        {
            Some((_, all)) => all.extend(cols),
            None => by_ref.push((u, cols)),
        }
    }
    for (u, cols) in by_ref {
        out.unresolved.push(Problem {
            location: at.location.clone(),
            element: Some(format!("{rt} → {}", cols.join(", "))),
            message: fhir::unresolved_message(&u),
        });
    }
}

/// The columns of a view whose path reads a reference key of type `want`
/// (`getReferenceKey(Patient)`; `getReferenceKey()` when `want` is None).
fn bundle_columns<'v>(vd: &'v ViewDefinition, want: Option<&str>) -> Vec<&'v str> {
    let call = format!("getReferenceKey({})", want.unwrap_or_default());
    vd.columns
        .iter()
        .filter(|c| c.path.replace(' ', "").contains(&call))
        .map(|c| c.name.as_str())
        .collect()
}

fn count_by_type(counts: &[u64]) -> BTreeMap<String, u64> {
    counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .filter_map(|(t, n)| Some((resource_types::name(t as u16)?.to_owned(), *n)))
        .collect()
}

fn flatten(
    chunk: Chunk,
    first_ord: u32,
    views: &[(View, ViewDefinition)],
    worker: &mut Worker,
) -> Flattened {
    let mut out = Flattened {
        views: Vec::new(),
        keys: Vec::with_capacity(chunk.records.len()),
        problems: Vec::new(),
        unresolved: Vec::new(),
        unresolved_by_column: BTreeMap::new(),
        stored: BTreeMap::new(),
        not_viewed: BTreeMap::new(),
        records: chunk.records.len() as u64,
        bytes: chunk.data.len() as u64,
    };
    let ntypes = resource_types::R4_RESOURCE_TYPES.len();
    let (mut stored, mut not_viewed) = (vec![0u64; ntypes], vec![0u64; ntypes]);
    let (file, entry) = (chunk.file.clone(), chunk.entries);
    let nrecords = chunk.records.len();
    // references resolve within the chunk's Bundle (none for NDJSON); those that resolve to
    // nothing are noted here, per view
    let scope = RefScope::new(chunk.refs.clone());
    let mut unresolved: Vec<(usize, Unresolved)> = Vec::new();
    // a view's builder is made on first use: a chunk usually holds one resource type, read by
    // one to four views
    let Worker {
        pending: builders,
        batch_rows,
        parser,
        by_type,
        spare,
        spare_members,
    } = &mut *worker;
    let cap = nrecords.min(*batch_rows);
    chunk.for_each(|i, line, bytes| {
        let ord = first_ord.saturating_add(i as u32);
        let problem = |element: Option<String>, message: String| Problem {
            location: fhir::Location {
                file: file.clone(),
                line,
                entry,
            },
            element,
            message,
        };
        parser.parse(bytes, true, |parsed| {
            let (v, rt, t) = match parsed {
                Ok(x) => x,
                Err((el, msg)) => {
                    out.problems.push(problem(el, msg));
                    return;
                }
            };
            let lu = match last_updated(v) {
                Ok(t) => t,
                Err(m) => {
                    out.problems.push(problem(
                        Some(format!("{rt}.meta.lastUpdated")),
                        m.to_string(),
                    ));
                    return;
                }
            };
            let (mine, plans) = &by_type[t as usize];
            if mine.is_empty() {
                not_viewed[t as usize] += 1;
                return;
            }
            // evaluate every view first (rows are staged, typed); store the resource only if
            // all accept it
            let mut staging = std::mem::take(&mut *spare).recycle();
            let mut per_view: SmallVec<[(usize, usize, Staged); 4]> = SmallVec::new();
            let members = plans.members_in(v, std::mem::take(&mut *spare_members), Some(&scope));
            let mut refused = None;
            for (j, (&k, plan)) in mine.iter().zip(plans.plans()).enumerate() {
                let view = views[k].0;
                let result = plan.eval(v, &members, true, &mut staging);
                if scope.has_unresolved() {
                    unresolved.extend(scope.take_unresolved().into_iter().map(|u| (k, u)));
                }
                match result {
                    Ok(staged) => per_view.push((j, k, staged)),
                    Err(PlanError::Eval(e)) => {
                        refused = Some(problem(
                            Some(format!("view {}", view.name())),
                            e.to_string(),
                        ));
                        break;
                    }
                    Err(PlanError::Cell(e)) => {
                        refused = Some(problem(
                            Some(format!("{rt} → {}.{}", view.name(), e.column)),
                            format!("{} (path `{}`)", e.message, e.path),
                        ));
                        break;
                    }
                }
            }
            if refused.is_none() {
                for (j, k, staged) in per_view {
                    if staged.rows() == 0 {
                        continue;
                    }
                    let plan = &plans.plans()[j];
                    let (b, ords) = builders[k]
                        .get_or_insert_with(|| (plan.builder(cap), Vec::with_capacity(cap)));
                    plan.append(&staging, &staged, b);
                    ords.extend(std::iter::repeat_n(ord, staged.rows()));
                }
            }
            *spare = staging.recycle();
            *spare_members = members.recycle();
            if let Some(p) = refused {
                // a rejected resource is reported as such, not for its references
                unresolved.clear();
                out.problems.push(p);
                return;
            }
            if !unresolved.is_empty() {
                note_unresolved(
                    std::mem::take(&mut unresolved),
                    rt,
                    views,
                    &mut out,
                    problem(None, String::new()),
                );
            }
            let id = fhir::get_str(v, "id").unwrap_or_default();
            out.keys.push(ResourceKey::new(t, id, lu, ord));
            stored[t as usize] += 1;
        });
    });
    out.stored = count_by_type(&stored);
    out.not_viewed = count_by_type(&not_viewed);
    out.views = worker.finish_full(views);
    out
}
