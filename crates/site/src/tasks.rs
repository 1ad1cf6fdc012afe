//! Answering each task type over the site's current snapshot: the site compiles the
//! declarative question itself and returns a table of true counts for the gate.

use kakehashi_disclosure::CountTable;
use kakehashi_federation::TaskSpec;
use kakehashi_store::{Snapshot, Store};
use kakehashi_surveillance::series::{AgeBands, SeriesSpec, Stratum};
use kakehashi_surveillance::{CaseDefinition, IsoWeek, PathogenPanel};
use std::sync::{Arc, Mutex};

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
    /// Notes for the researcher.
    pub notes: Vec<String>,
    /// A weekly time series: released under the gate's series rule
    /// ([`kakehashi_disclosure::Gate::release_series`]).
    pub series: bool,
    /// The denominator of rates (true count), released as its own question
    /// ([`kakehashi_federation::surveillance::DENOMINATOR_CANONICAL`]).
    pub denominator: Option<CountTable>,
}

/// What the agent keeps between tasks: the current snapshot and its cohort index.
#[derive(Default)]
pub struct Cache {
    snapshot: Mutex<Option<Arc<Snapshot>>>,
    cohort: Mutex<Option<(u64, Arc<kakehashi_engine::cohort::CohortIndex>)>>,
}

impl Cache {
    /// The store's current snapshot, reusing the loaded one while it is still current.
    pub fn snapshot(&self, store: &Store) -> Result<Arc<Snapshot>, String> {
        let current = store
            .current_id()
            .map_err(|e| e.to_string())?
            .ok_or("this site holds no data yet")?;
        let mut slot = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref()
            && s.id == current
        {
            return Ok(s.clone());
        }
        let s = Arc::new(store.current().map_err(|e| e.to_string())?);
        *slot = Some(s.clone());
        Ok(s)
    }

    /// The cohort index of the current snapshot, built on first use.
    pub fn cohort(
        &self,
        snap: &Snapshot,
    ) -> Result<Arc<kakehashi_engine::cohort::CohortIndex>, String> {
        let mut slot = self.cohort.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((id, ix)) = slot.as_ref()
            && *id == snap.id
        {
            return Ok(ix.clone());
        }
        let ix =
            Arc::new(kakehashi_engine::cohort::CohortIndex::open(snap).map_err(|e| e.to_string())?);
        *slot = Some((snap.id, ix.clone()));
        Ok(ix)
    }
}

/// Computes a task's true counts.
pub fn compute(
    store: &Store,
    cache: &Cache,
    site: &str,
    spec: &TaskSpec,
) -> Result<Computed, String> {
    let snap = cache.snapshot(store)?;
    match spec {
        TaskSpec::SurveillanceSeries {
            definition,
            by,
            from,
            to,
        } => surveillance(&snap, site, definition, by, from.as_deref(), to.as_deref()),
        TaskSpec::Cohort {
            ccdl,
            evaluation_date,
        } => {
            let q = kakehashi_cohort::Query::from_value(ccdl)
                .map_err(|e| format!("the CCDL query is not valid: {e}"))?;
            // the agent fills in the day the task was made when the hub sent none
            let date = evaluation_date.ok_or("evaluation_date: the task has none")?;
            kakehashi_cohort::check_evaluation_date(date, chrono::Utc::now().date_naive())
                .map_err(|e| e.to_string())?;
            let ix = cache.cohort(&snap)?;
            let c = ix.count_as_of(&q, date).map_err(|e| e.to_string())?;
            let mut notes: Vec<String> = c
                .unmapped
                .iter()
                .map(|u| format!("no data at this site for {u}"))
                .collect();
            if c.unit_mismatches > 0 {
                notes.push(format!("{} results with units that do not convert to the filter's unit were not counted", c.unit_mismatches));
            }
            Ok(Computed {
                table: CountTable::scalar("patients", c.count),
                key: crate::key::cohort(&q, date, &snap.tag()),
                sensitivity: 1,
                snapshot_tag: snap.tag(),
                notes,
                series: false,
                denominator: None,
            })
        }
        TaskSpec::Antibiogram { spec } => antibiogram(&snap, spec),
    }
}

fn surveillance(
    snap: &Snapshot,
    site: &str,
    definition: &str,
    by: &[String],
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Computed, String> {
    let def = CaseDefinition::shipped(definition).map_err(|e| e.to_string())?;
    let week = |w: Option<&str>, f: &str| {
        w.map(|w| w.parse::<IsoWeek>().map_err(|e| format!("{f}: {e}")))
            .transpose()
    };
    let by_age = by.iter().any(|b| b == "age");
    if let Some(b) = by.iter().find(|b| *b != "age") {
        return Err(format!(
            "breakdown {b:?} is not released by this site (only \"age\")"
        ));
    }
    let spec = SeriesSpec {
        by: if by_age {
            vec![Stratum::Age]
        } else {
            Vec::new()
        },
        age_bands: AgeBands::default(),
        from: week(from, "from")?,
        to: week(to, "to")?,
    };
    let panel = PathogenPanel::shipped();
    let out = kakehashi_engine::surveillance::site_series(snap, site, None, &def, &panel, &spec)
        .map_err(|e| e.to_string())?;
    let (table, sensitivity) = kakehashi_federation::surveillance::count_table(&out.series, by_age)
        .map_err(|e| e.to_string())?;
    let key = crate::key::surveillance(definition, &spec, &snap.tag());
    Ok(Computed {
        table,
        key,
        // One admission changes at most cases, ICU and deaths of one week; one test changes a
        // pathogen's tests and positives: the noise is scaled to that (event-level) bound.
        sensitivity,
        snapshot_tag: snap.tag(),
        notes: out.series.notes.clone(),
        series: true,
        denominator: Some(kakehashi_federation::surveillance::denominator_table(
            out.patients,
        )),
    })
}

fn antibiogram(snap: &Snapshot, v: &serde_json::Value) -> Result<Computed, String> {
    let spec = kakehashi_federation::antibiogram::parse_spec(v)?;
    let counts = kakehashi_engine::amr::site_antibiogram(snap, &spec).map_err(|e| e.to_string())?;
    let (table, sensitivity) = kakehashi_federation::antibiogram::count_table(&spec, &counts)
        .map_err(|e| e.to_string())?;
    let mut notes = vec![format!(
        "every raw MIC and zone re-read with {}; zones only where this guideline's disk was used",
        spec.guideline
    )];
    if counts.cells.is_empty() {
        notes.push("no isolate at this site matches the question".into());
    }
    let canonical = kakehashi_federation::antibiogram::canonical(&spec)?;
    let r = kakehashi_amr::Reference::shared().map_err(|e| e.to_string())?;
    Ok(Computed {
        table,
        key: crate::key::antibiogram(&canonical, r, &snap.tag()),
        sensitivity,
        snapshot_tag: snap.tag(),
        notes,
        series: false,
        denominator: None,
    })
}
