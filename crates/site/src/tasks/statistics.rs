//! A statistics task at the site: the analysis dataset compiled against the current snapshot
//! (`engine::dataset`, kept while the snapshot and question stay the same, so the rounds of a
//! GLM do not compile it again), then the analysis over it (`kakehashi_stats::analysis`).

use super::{Cache, ComputeError, engine};
use kakehashi_disclosure::{RepeatKey, StatisticsRule};
use kakehashi_federation::task::stats::{StatsAnswer, StatsRequest};
use kakehashi_stats::Frame;
use kakehashi_stats::analysis::{self, SiteError};
use kakehashi_store::Store;
use std::sync::Arc;

/// The dataset frame kept between rounds: (snapshot id, dataset and date, frame).
pub(super) type KeptFrame = Option<(u64, String, Arc<Frame>)>;

/// A statistics task's answer before the gate (the sums, or the rule that refuses them) and
/// its repeat key. A question the dataset cannot answer (an unknown variable, a factor with
/// one level) is an error, sent as the site's failure with its reason.
pub fn compute_statistics(
    store: &Store,
    cache: &Cache,
    site: &str,
    r: &StatsRequest,
    min: u64,
) -> Result<(Result<StatsAnswer, StatisticsRule>, RepeatKey), ComputeError> {
    let snap = cache.snapshot(store)?;
    let date = r.evaluation_date().ok_or(ComputeError::NoEvaluationDate)?;
    let d = r.dataset();
    let id = format!(
        "{date}\u{1f}{}",
        serde_json::to_string(&d.to_wire()).unwrap_or_default()
    );
    let frame = {
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
                let f = Arc::new(built.frame);
                *slot = Some((snap.id, id, f.clone()));
                f
            }
        }
    };
    let key = crate::key::statistics(&r.canonical(), date, &snap.tag());
    let answer = match analysis::answer(&frame, &d.spec().levels(), r.analysis(), min) {
        Ok(a) => Ok(StatsAnswer(a)),
        Err(SiteError::Refused(rule)) => Err(StatisticsRule {
            rule: rule.rule.to_owned(),
            message: rule.message,
        }),
        Err(e) => return Err(engine("statistics")(e)),
    };
    Ok((answer, key))
}
