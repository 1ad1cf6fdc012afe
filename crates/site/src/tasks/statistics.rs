//! A statistics task at the site: the analysis dataset compiled against the current snapshot
//! (`engine::dataset`, kept while the snapshot and question stay the same, so the rounds of a
//! GLM do not compile it again), then the analysis over it (`kakehashi_stats::analysis`), and
//! the differencing rule against the row sets this site released before (`row_sets.rs`).

use super::row_sets::{RowSets, fingerprint};
use super::{Cache, ComputeError, engine};
use kakehashi_disclosure::{RepeatKey, StatisticsRule};
use kakehashi_federation::task::stats::{StatsAnswer, StatsRequest};
use kakehashi_stats::Frame;
use kakehashi_stats::analysis::overlap::{RowSet, rows_used};
use kakehashi_stats::analysis::{self, SiteError};
use kakehashi_store::Store;
use std::sync::Arc;

/// The dataset kept between rounds: (snapshot id, dataset and date, frame, each row's
/// patient fingerprint).
pub(super) type KeptFrame = Option<(u64, String, Arc<(Frame, Vec<u64>)>)>;

/// A statistics task's answer before the gate (the sums, or the rule that refuses them), its
/// repeat key, and the rows it used (to record once the gate released it).
pub struct Statistics {
    /// The answer, or the rule that refuses it.
    pub answer: Result<StatsAnswer, StatisticsRule>,
    /// The repeat key.
    pub key: RepeatKey,
    /// The patients of the rows the analysis used.
    pub rows: RowSet,
}

/// Computes a statistics task. A question the dataset cannot answer (an unknown variable, a
/// factor with one level) is an error, sent as the site's failure with its reason.
pub fn compute_statistics(
    store: &Store,
    cache: &Cache,
    released: &RowSets,
    site: &str,
    r: &StatsRequest,
    min: u64,
) -> Result<Statistics, ComputeError> {
    let snap = cache.snapshot(store)?;
    let date = r.evaluation_date().ok_or(ComputeError::NoEvaluationDate)?;
    let d = r.dataset();
    let id = format!(
        "{date}\u{1f}{}",
        serde_json::to_string(&d.to_wire()).unwrap_or_default()
    );
    let kept = {
        let mut slot = cache.frame.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some((s, k, f)) if *s == snap.id && *k == id => f.clone(),
            _ => {
                let built = kakehashi_engine::dataset::build(
                    &snap,
                    d.cohort().query(),
                    d.spec(),
                    site,
                    date,
                )
                .map_err(engine("statistics"))?;
                let prints = built.keys.iter().map(|k| fingerprint(k)).collect();
                let f = Arc::new((built.frame, prints));
                *slot = Some((snap.id, id, f.clone()));
                f
            }
        }
    };
    let (frame, prints) = (&kept.0, &kept.1);
    let key = crate::key::statistics(&r.canonical(), date, &snap.tag());
    let rule = |rule: analysis::Rule| StatisticsRule {
        rule: rule.rule.to_owned(),
        message: rule.message,
    };
    let rows = match rows_used(frame, r.analysis()) {
        Ok(used) => RowSet::new(used.into_iter().map(|i| prints[i]).collect()),
        // a variable the frame lacks: the analysis names it in its own error below
        Err(_) => RowSet::default(),
    };
    let answer = match analysis::answer(frame, &d.spec().levels(), r.analysis(), min) {
        Ok(a) => match released.check(&rows, min).map_err(engine("statistics"))? {
            Ok(()) => Ok(StatsAnswer(a)),
            Err(r) => Err(rule(r)),
        },
        Err(SiteError::Refused(r)) => Err(rule(r)),
        Err(e) => return Err(engine("statistics")(e)),
    };
    Ok(Statistics { answer, key, rows })
}
