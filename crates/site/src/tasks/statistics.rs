//! A statistics task at the site: the analysis dataset compiled against the current snapshot
//! (`engine::dataset`, kept while the snapshot and question stay the same, so the rounds of a
//! GLM do not compile it again), then the analysis over it (`kakehashi_stats::analysis`; a
//! GLM's design is built and checked against the rules in its first round and kept for the
//! others), and the differencing rule against the row sets this site released before
//! (`row_sets.rs`).

use super::row_sets::{RowSets, fingerprint};
use super::{Cache, ComputeError, engine};
use kakehashi_disclosure::{RepeatKey, StatisticsRule};
use kakehashi_federation::task::stats::{StatsAnswer, StatsRequest};
use kakehashi_stats::analysis::overlap::{RowSet, rows_used};
use kakehashi_stats::analysis::{self, Analysis, SiteError};
use kakehashi_stats::dataset::DatasetSpec;
use kakehashi_stats::glm::CheckedDesign;
use kakehashi_stats::{Family, Frame};
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
    let key = crate::key::statistics(&r.canonical(), date, &snap.tag());
    let rule = |rule: analysis::Rule| StatisticsRule {
        rule: rule.rule.to_owned(),
        message: rule.message,
    };
    let (rows, answer) = match r.analysis() {
        Analysis::GlmRound {
            formula,
            family,
            round,
        } => match glm(
            cache,
            &kept,
            d.spec(),
            r.analysis(),
            (formula, *family),
            min,
        ) {
            Ok(g) => (g.rows.clone(), analysis::glm_round(&g.design, round)),
            Err(e) => (RowSet::default(), Err(e)),
        },
        a => (
            rows_of(&kept, a),
            analysis::answer(&kept.0, &d.spec().levels(), a, min),
        ),
    };
    let answer = match answer {
        Ok(a) => match released.check(&rows, min).map_err(engine("statistics"))? {
            Ok(()) => Ok(StatsAnswer(a)),
            Err(r) => Err(rule(r)),
        },
        Err(SiteError::Refused(r)) => Err(rule(r)),
        Err(e) => return Err(engine("statistics")(e)),
    };
    Ok(Statistics { answer, key, rows })
}

/// The patients of the rows an analysis uses.
fn rows_of(kept: &(Frame, Vec<u64>), a: &Analysis) -> RowSet {
    match rows_used(&kept.0, a) {
        Ok(used) => RowSet::new(used.into_iter().map(|i| kept.1[i]).collect()),
        // a variable the frame lacks: the analysis names it in its own error
        Err(_) => RowSet::default(),
    }
}

/// A GLM's design and rows kept between its rounds: the dataset they were made from, the
/// model (formula, family and the site's minimum), the checked design and its rows' patients.
pub(super) struct KeptGlm {
    frame: Arc<(Frame, Vec<u64>)>,
    model: (String, Family, u64),
    design: Arc<CheckedDesign>,
    rows: RowSet,
}

/// The checked design of a GLM over the kept dataset: built and checked in its first round,
/// reused by the later ones while the dataset (same snapshot and question) and the model
/// stay the same. A design the rules refuse is not kept (the run stops there).
fn glm(
    cache: &Cache,
    kept: &Arc<(Frame, Vec<u64>)>,
    spec: &DatasetSpec,
    analysis: &Analysis,
    (formula, family): (&str, Family),
    min: u64,
) -> Result<Arc<KeptGlm>, SiteError> {
    let model = (formula.to_owned(), family, min);
    let mut slot = cache.glm.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(g) = slot.as_ref()
        && Arc::ptr_eq(&g.frame, kept)
        && g.model == model
    {
        return Ok(g.clone());
    }
    let design = analysis::glm_design(&kept.0, &spec.levels(), formula, family, min)?;
    let g = Arc::new(KeptGlm {
        frame: kept.clone(),
        rows: rows_of(kept, analysis),
        model,
        design: Arc::new(design),
    });
    *slot = Some(g.clone());
    Ok(g)
}
