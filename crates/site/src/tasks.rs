//! Answering each task type over the site's current snapshot: the site compiles the
//! declarative question itself and returns a table of true counts for the gate.

use kakehashi_disclosure::CountTable;
use kakehashi_federation::task::{antibiogram, cohort, samples, surveillance};
use kakehashi_federation::{Note, TaskSpec};
use kakehashi_store::{Snapshot, Store};
use kakehashi_surveillance::PathogenPanel;
use std::sync::{Arc, Mutex};

mod row_sets;
mod statistics;
pub use row_sets::RowSets;
pub use statistics::{Statistics, compute_statistics};

/// A computed answer, before the gate.
pub struct Computed {
    /// True counts.
    pub table: CountTable,
    /// The question's repeat key (noise and budget; [`crate::key`]).
    pub key: kakehashi_disclosure::RepeatKey,
    /// How many released counts one patient (or event) can change.
    pub sensitivity: u32,
    /// The snapshot answered on.
    pub snapshot_tag: String,
    /// Notes for the researcher (typed codes that follow from the question).
    pub notes: Vec<Note>,
    /// A weekly time series: released under the gate's series rule
    /// ([`kakehashi_disclosure::Gate::release_series`]).
    pub series: bool,
    /// The denominator of rates (true count), released as its own question
    /// ([`kakehashi_federation::surveillance::DENOMINATOR_CANONICAL`]).
    pub denominator: Option<CountTable>,
}

/// Why a task could not be computed at this site (sent to the hub as the `failed` reason).
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] kakehashi_store::StoreError),
    /// No load has been committed yet.
    #[error("this site holds no data yet")]
    NoData,
    /// A cohort task reached the computation without its evaluation date.
    #[error("evaluation_date: the task has none")]
    NoEvaluationDate,
    /// The cohort's evaluation date is not allowed.
    #[error("evaluation_date: {reason}")]
    EvaluationDate {
        /// Why.
        reason: String,
    },
    /// The task's question does not resolve at this site.
    #[error(transparent)]
    Task(#[from] kakehashi_federation::TaskError),
    /// The AMR reference tables could not be loaded.
    #[error(transparent)]
    Reference(#[from] kakehashi_amr::ReferenceError),
    /// The site's catalogue file does not read.
    #[error(transparent)]
    Catalogue(#[from] kakehashi_biobank::CatalogueError),
    /// The true-count table could not be made.
    #[error(transparent)]
    Table(#[from] kakehashi_disclosure::TableError),
    /// The computation over the snapshot failed.
    #[error("{task}: {source}")]
    Engine {
        /// The task type.
        task: &'static str,
        /// The engine's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn engine<E: Into<Box<dyn std::error::Error + Send + Sync>>>(
    task: &'static str,
) -> impl FnOnce(E) -> ComputeError {
    move |e| ComputeError::Engine {
        task,
        source: e.into(),
    }
}

/// What the agent keeps between tasks: the current snapshot and its cohort index.
#[derive(Default)]
pub struct Cache {
    snapshot: Mutex<Option<Arc<Snapshot>>>,
    cohort: Mutex<Option<(u64, Arc<kakehashi_engine::cohort::CohortIndex>)>>,
    /// An index built in memory, which keeps patient ids (the sample locator's).
    cohort_ids: Mutex<Option<(u64, Arc<kakehashi_engine::cohort::CohortIndex>)>>,
    /// The last statistics task's analysis dataset (a GLM's rounds share it).
    frame: Mutex<statistics::KeptFrame>,
    /// The last GLM's checked design and rows over that dataset (its rounds share them).
    glm: Mutex<Option<Arc<statistics::KeptGlm>>>,
}

impl Cache {
    /// The store's current snapshot, reusing the loaded one while it is still current.
    pub fn snapshot(&self, store: &Store) -> Result<Arc<Snapshot>, ComputeError> {
        let current = store.current_id()?.ok_or(ComputeError::NoData)?;
        let mut slot = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref()
            && s.id == current
        {
            return Ok(s.clone());
        }
        let s = Arc::new(store.current()?);
        *slot = Some(s.clone());
        Ok(s)
    }

    /// The cohort index of the current snapshot, read on first use (built and saved if the
    /// snapshot has none).
    pub fn cohort(
        &self,
        snap: &Snapshot,
    ) -> Result<Arc<kakehashi_engine::cohort::CohortIndex>, ComputeError> {
        let mut slot = self.cohort.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((id, ix)) = slot.as_ref()
            && *id == snap.id
        {
            return Ok(ix.clone());
        }
        let ix = Arc::new(
            kakehashi_engine::cohort::CohortIndex::load_or_build(snap).map_err(engine("cohort"))?,
        );
        *slot = Some((snap.id, ix.clone()));
        Ok(ix)
    }
}

impl Cache {
    /// A cohort index of the current snapshot that keeps patient ids, built in memory on first
    /// use (a saved index keeps ordinals only).
    pub fn cohort_with_ids(
        &self,
        snap: &Snapshot,
    ) -> Result<Arc<kakehashi_engine::cohort::CohortIndex>, ComputeError> {
        let mut slot = self.cohort_ids.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((id, ix)) = slot.as_ref()
            && *id == snap.id
        {
            return Ok(ix.clone());
        }
        let ix = Arc::new(
            kakehashi_engine::cohort::CohortIndex::open_with_patient_ids(snap)
                .map_err(engine("samples"))?,
        );
        *slot = Some((snap.id, ix.clone()));
        Ok(ix)
    }
}

/// The site's catalogue file in its directory: `catalogue.toml`, else `catalogue.json`.
pub const CATALOGUE_FILES: [&str; 2] = ["catalogue.toml", "catalogue.json"];

/// The site's catalogue (its text and the checked catalogue); none when the site has no file.
pub fn site_catalogue(
    dir: &std::path::Path,
) -> Result<Option<(String, kakehashi_biobank::Catalogue)>, ComputeError> {
    for name in CATALOGUE_FILES {
        let p = dir.join(name);
        match std::fs::read_to_string(&p) {
            Ok(text) => {
                let c = kakehashi_biobank::parse_catalogue(&p.display().to_string(), &text)?;
                return Ok(Some((text, c)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(ComputeError::Store(kakehashi_store::StoreError::Io {
                    path: p,
                    source: e,
                }));
            }
        }
    }
    Ok(None)
}

/// Computes a task's true counts. The question arrives checked (its type's constructor ran
/// when the site read it); the notes are those of the question ([`Note`]), never of the data.
pub fn compute(
    store: &Store,
    cache: &Cache,
    site: &str,
    spec: &TaskSpec,
) -> Result<Computed, ComputeError> {
    let snap = cache.snapshot(store)?;
    let rule = spec.release_rule();
    match spec {
        TaskSpec::SurveillanceSeries(r) => {
            let panel = PathogenPanel::shipped();
            let out = kakehashi_engine::surveillance::site_series(
                snap.as_ref(),
                site,
                None,
                &r.case_definition(),
                &panel,
                &r.series_spec(),
            )
            .map_err(engine("surveillance_series"))?;
            let (table, sensitivity) = surveillance::count_table(&out.series, r.by_age())?;
            Ok(Computed {
                table,
                key: crate::key::surveillance(r.definition(), &r.series_spec(), &snap.tag()),
                // One patient changes at most k weeks, each by one in cases, ICU, deaths and
                // each pathogen's tests and positives: the noise is scaled to that bound.
                sensitivity,
                snapshot_tag: snap.tag(),
                notes: r.notes(),
                series: rule.series,
                denominator: rule
                    .denominator
                    .then(|| surveillance::denominator_table(out.patients)),
            })
        }
        TaskSpec::Cohort(r) => {
            // the agent fills in the day the task was made when the hub sent none
            let date = r.evaluation_date().ok_or(ComputeError::NoEvaluationDate)?;
            kakehashi_cohort::check_evaluation_date(date, chrono::Utc::now().date_naive())
                .map_err(|e| ComputeError::EvaluationDate {
                    reason: e.to_string(),
                })?;
            let ix = cache.cohort(&snap)?;
            let c = ix.count_as_of(r.query(), date).map_err(engine("cohort"))?;
            Ok(Computed {
                table: cohort::count_table(c.count),
                key: crate::key::cohort(r.query(), date, &snap.tag()),
                sensitivity: cohort::SENSITIVITY,
                snapshot_tag: snap.tag(),
                notes: r.notes(),
                series: rule.series,
                denominator: None,
            })
        }
        TaskSpec::Samples(r) => {
            let date = r
                .cohort()
                .evaluation_date()
                .ok_or(ComputeError::NoEvaluationDate)?;
            kakehashi_cohort::check_evaluation_date(date, chrono::Utc::now().date_naive())
                .map_err(|e| ComputeError::EvaluationDate {
                    reason: e.to_string(),
                })?;
            let (catalogue_text, collections) = match site_catalogue(store.dir())? {
                Some((text, c)) => (
                    text,
                    samples::catalogue_domain(c.collections.into_iter().map(|c| c.id)),
                ),
                None => (String::new(), Vec::new()),
            };
            let ix = cache.cohort_with_ids(&snap)?;
            let cohort = ix
                .matching_patients(r.cohort().query(), date)
                .map_err(engine("samples"))?;
            let caps = kakehashi_engine::samples::Caps {
                cells: samples::MAX_CELLS_PER_DONOR,
                samples: samples::MAX_SAMPLES_PER_DONOR,
            };
            let cells = kakehashi_engine::samples::site_samples(
                snap.as_ref(),
                &cohort,
                r.specimen(),
                &collections,
                caps,
            )
            .map_err(engine("samples"))?;
            let cells: Vec<samples::SampleCell> = cells
                .into_iter()
                .map(|c| samples::SampleCell {
                    collection: c.collection,
                    material: c.material,
                    donors: c.donors,
                    samples: c.samples,
                })
                .collect();
            Ok(Computed {
                table: samples::count_table(r, &collections, &cells)?,
                key: crate::key::samples(
                    r.cohort().query(),
                    &r.canonical(),
                    date,
                    &catalogue_text,
                    &snap.tag(),
                ),
                sensitivity: samples::SENSITIVITY,
                snapshot_tag: snap.tag(),
                notes: r.notes(),
                series: rule.series,
                denominator: None,
            })
        }
        TaskSpec::Statistics(_) => Err(ComputeError::Engine {
            task: "statistics",
            source: "a statistics task is answered by compute_statistics".into(),
        }),
        TaskSpec::Antibiogram(r) => {
            let counts = kakehashi_engine::amr::site_antibiogram(&snap, r.spec())
                .map_err(engine("antibiogram"))?;
            let (table, sensitivity) = antibiogram::count_table(r.spec(), &counts)?;
            Ok(Computed {
                table,
                key: crate::key::antibiogram(
                    &r.canonical()?,
                    kakehashi_amr::Reference::shared()?,
                    &snap.tag(),
                ),
                sensitivity,
                snapshot_tag: snap.tag(),
                notes: r.notes(),
                series: rule.series,
                denominator: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_without_a_catalogue_has_none_and_a_broken_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert!(site_catalogue(dir.path()).unwrap().is_none());
        std::fs::write(
            dir.path().join("catalogue.toml"),
            "[[biobank]]\nid = \"bb\"\nname = \"B\"\njuristic_person = \"U\"\ncountry = \"DE\"\ndescription = \"d\"\n",
        )
        .unwrap();
        let e = site_catalogue(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("catalogue.toml") && e.contains("biobank \"bb\" (line 2), contact"),
            "{e}"
        );
        std::fs::write(
            dir.path().join("catalogue.toml"),
            "[[biobank]]\nid = \"bb\"\nname = \"B\"\njuristic_person = \"U\"\ncountry = \"DE\"\ndescription = \"d\"\ncontact = { email = \"b@x.de\" }\n",
        )
        .unwrap();
        let (_, c) = site_catalogue(dir.path()).unwrap().unwrap();
        assert_eq!(c.biobanks[0].id, "bb");
    }
}
