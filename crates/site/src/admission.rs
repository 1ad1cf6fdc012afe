//! The agent's admission path: what a task will cost, estimated before anything is computed,
//! for [`kakehashi_disclosure::Gate::admit`] (project, rate limit, rows scanned, cells), and
//! the bound on compute time ([`compute_limit`]).

use kakehashi_disclosure::Admission;
use kakehashi_federation::{Task, TaskSpec, antibiogram};
use kakehashi_model::View;
use kakehashi_store::Snapshot;
use std::time::Duration;

/// The stored views a task type reads (`None`: every view, an upper bound).
fn views(kind: &str) -> Option<&'static [View]> {
    match kind {
        "antibiogram" => Some(&[
            View::Specimen,
            View::MicrobiologyIsolate,
            View::MicrobiologySusceptibility,
        ]),
        "surveillance_series" => Some(&[
            View::Patient,
            View::Encounter,
            View::Condition,
            View::Observation,
        ]),
        // A cohort's index reads every mapped view once per snapshot.
        _ => None,
    }
}

/// Rows a task of this type scans on this snapshot: the live rows of the views it reads.
pub fn rows_scanned(snap: &Snapshot, kind: &str) -> u64 {
    match views(kind) {
        Some(vs) => vs.iter().filter_map(|v| snap.rows.get(v)).sum(),
        None => snap.rows.values().sum(),
    }
}

/// Cells an answer will have, where known before computing: one for a cohort count, the
/// declared grid of an antibiogram ([`antibiogram::declared_cells`]; a grid of thousands of
/// years is refused here, not after computing it). A surveillance series is checked against
/// the per-task and daily cell limits by the gate at release, before anything is sent or spent.
pub fn cells(spec: &TaskSpec) -> Option<u64> {
    match spec {
        TaskSpec::Cohort(_) => Some(1),
        TaskSpec::Antibiogram(r) => antibiogram::declared_cells(r.spec()),
        TaskSpec::SurveillanceSeries(_) => None,
        // the grid is the catalogue's collections × the materials asked; bounded by MAX_CODES
        // each, checked by the gate at release
        TaskSpec::Samples(_) => None,
        // known once computed (a GLM round: p² + p + 3 numbers per model); checked by the gate
        TaskSpec::Statistics(_) => None,
    }
}

/// The admission of a task on a snapshot (none when the site holds no data yet).
pub fn admission<'a>(task: &'a Task, snap: Option<&Snapshot>) -> Admission<'a> {
    let kind = task.spec.kind();
    Admission {
        project: &task.project,
        researcher: &task.requested_by,
        rows_scanned: snap.map_or(0, |s| rows_scanned(s, kind)),
        cells: cells(&task.spec),
    }
}

/// How long a task may compute (the policy's `max_seconds`).
pub fn compute_limit(max_seconds: u64) -> Duration {
    Duration::from_secs(max_seconds.max(1))
}
