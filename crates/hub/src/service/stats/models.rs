//! Survival and meta-analysis driven by the hub: a Kaplan–Meier life table (one round), a Cox
//! model by federated Newton (one round per iteration, every site at once, on the declared
//! grid) and a study-level meta-analysis (one round of site fits, pooled per term by fixed
//! effect, DerSimonian–Laird and REML).

use super::{StatsAsk, start};
use crate::db::User;
use crate::service::ApiResult;
use crate::{ApiError, Hub};
use kakehashi_federation::task::stats::{
    KmResult, MetaResult, MetaTerm, StatsReport, StatsRequest, parts,
};
use kakehashi_stats::analysis::{Analysis, SiteAnswer, model_columns, survival_formula};
use kakehashi_stats::meta::{self, Method, Study};
use kakehashi_stats::survival::{CoxSummary, Newton, life_table};
use kakehashi_stats::{Family, Formula};
use std::sync::Arc;

/// Checks a question before any site is asked (a bad one is a `400` naming the field).
fn check(ask: &StatsAsk, analysis: Analysis) -> ApiResult<()> {
    StatsRequest::new(ask.dataset.clone(), None, analysis)
        .map(|_| ())
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// A Kaplan–Meier life table over declared intervals, per site and pooled.
pub async fn km(
    hub: &Arc<Hub>,
    user: &User,
    ask: StatsAsk,
    time: String,
    event: String,
    breaks: Vec<u32>,
) -> ApiResult<StatsReport<KmResult>> {
    let analysis = Analysis::LifeTable {
        time: time.clone(),
        event: event.clone(),
        breaks,
    };
    check(&ask, analysis.clone())?;
    let mut run = start(hub, user, ask);
    let m = run.round(analysis).await?;
    let (sites, answers) = parts(&m);
    let Some(answers) = answers else {
        return Ok(run.incomplete(sites));
    };
    let per_site: Vec<_> = answers
        .into_iter()
        .filter_map(|(name, a)| match a {
            SiteAnswer::LifeTable { intervals } => Some((name, intervals)),
            _ => None,
        })
        .collect();
    let pooled = life_table::pool(&per_site.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>());
    let result = KmResult {
        time,
        event,
        per_site,
        pooled,
    };
    Ok(run.report(sites, Some(result), None))
}

/// What a Cox model asks: time, event, covariates and the grid.
#[derive(Debug, Clone)]
pub struct CoxAsk {
    /// The time variable (days).
    pub time: String,
    /// The event variable.
    pub event: String,
    /// The covariates, the right side of a formula.
    pub covariates: String,
    /// The intervals' first days.
    pub breaks: Vec<u32>,
}

impl CoxAsk {
    fn round(&self, iteration: u32, beta: Vec<f64>) -> Analysis {
        Analysis::CoxRound {
            time: self.time.clone(),
            event: self.event.clone(),
            covariates: self.covariates.clone(),
            breaks: self.breaks.clone(),
            iteration,
            beta,
        }
    }
}

/// A Cox model (Breslow ties) by federated Newton: one round of tasks per iteration.
pub async fn cox(
    hub: &Arc<Hub>,
    user: &User,
    ask: StatsAsk,
    c: CoxAsk,
) -> ApiResult<StatsReport<CoxSummary>> {
    check(&ask, c.round(0, Vec::new()))?;
    let f = Formula::parse(&survival_formula(&c.time, &c.event, &c.covariates))
        .map_err(|e| ApiError::bad_request(format!("covariates: {e}")))?;
    // the covariate columns every site codes alike, from the declared levels
    let terms: Vec<String> = model_columns(ask.dataset.spec(), &f)
        .map_err(|e| ApiError::bad_request(format!("covariates: {e}")))?
        .into_iter()
        .filter(|t| t != kakehashi_stats::design::INTERCEPT)
        .collect();
    if terms.is_empty() {
        return Err(ApiError::bad_request(
            "covariates: a Cox model needs at least one covariate (use km for survival alone)",
        ));
    }
    let mut newton = Newton::new(terms.len());
    let mut run = start(hub, user, ask);
    loop {
        let analysis = c.round(newton.iteration(), newton.beta().to_vec());
        let m = run.round(analysis).await?;
        let (sites, answers) = parts(&m);
        let Some(answers) = answers else {
            return Ok(run.incomplete(sites));
        };
        let sums: Vec<_> = answers
            .into_iter()
            .filter_map(|(_, a)| match a {
                SiteAnswer::CoxRound { sums } => Some(sums),
                _ => None,
            })
            .collect();
        match newton.absorb(&sums) {
            Ok(None) => {}
            Ok(Some(fit)) => {
                let n = sums.iter().map(|s| s.n).sum();
                let events = sums.iter().flat_map(|s| &s.d).sum();
                let summary = CoxSummary::new(&fit, &terms, n, events, &c.breaks);
                return Ok(run.report(sites, Some(summary), None));
            }
            Err(e) => return Ok(run.report(sites, None, Some(e.to_string()))),
        }
    }
}

/// A study-level meta-analysis: each site fits the model on its own rows; every term (or the
/// one asked) is pooled by fixed effect, DerSimonian–Laird and REML.
pub async fn meta(
    hub: &Arc<Hub>,
    user: &User,
    ask: StatsAsk,
    formula: String,
    family: Family,
    term: Option<String>,
) -> ApiResult<StatsReport<MetaResult>> {
    let analysis = Analysis::SiteFit { formula, family };
    check(&ask, analysis.clone())?;
    let mut run = start(hub, user, ask);
    let m = run.round(analysis).await?;
    let (sites, answers) = parts(&m);
    let Some(answers) = answers else {
        return Ok(run.incomplete(sites));
    };
    let per_site: Vec<_> = answers
        .into_iter()
        .filter_map(|(name, a)| match a {
            SiteAnswer::SiteFit { fit } => Some((name, fit)),
            _ => None,
        })
        .collect();
    let names: Vec<String> = match &term {
        Some(t) => vec![t.clone()],
        None => per_site
            .first()
            .map(|(_, f)| f.terms.clone())
            .unwrap_or_default(),
    };
    let mut terms = Vec::new();
    for name in names {
        let mut studies = Vec::new();
        for (site, fit) in &per_site {
            let Some(j) = fit.terms.iter().position(|t| *t == name) else {
                let problem = format!("site {site}: the model has no term {name}");
                return Ok(run.report(sites, None, Some(problem)));
            };
            studies.push(Study {
                name: site.clone(),
                estimate: fit.estimate[j],
                std_error: fit.std_error[j],
            });
        }
        let pooled = [Method::Fixed, Method::DerSimonianLaird, Method::Reml]
            .into_iter()
            .map(|m| meta::pool(&studies, m))
            .collect::<Result<Vec<_>, _>>();
        match pooled {
            Ok(pooled) => terms.push(MetaTerm {
                term: name,
                studies,
                pooled,
            }),
            Err(e) => return Ok(run.report(sites, None, Some(format!("{name}: {e}")))),
        }
    }
    Ok(run.report(sites, Some(MetaResult { per_site, terms }), None))
}
