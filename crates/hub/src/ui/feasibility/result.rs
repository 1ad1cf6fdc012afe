//! A feasibility result as the page shows it: each site's state and released count, and the
//! pooled total or why it is withheld.

use super::super::note_texts;
use kakehashi_federation::{Merged, SiteState, TaskSpec};
use kakehashi_web::Locale;
use kakehashi_web::pages::{QueryResult, Released, SiteResult};

fn released_of(t: &kakehashi_disclosure::GatedTable) -> Option<Released> {
    let v = t.rows.first()?.values.first().copied()?;
    let d = &t.disclosure;
    Some(match v {
        kakehashi_disclosure::GatedCount::Suppressed { below } => Released::Suppressed { below },
        kakehashi_disclosure::GatedCount::Value(value) => match (d.epsilon, d.rounding) {
            (Some(epsilon), _) => Released::Noisy { value, epsilon },
            (None, step) if step > 1 => Released::Rounded { value, step },
            _ => Released::Exact { value },
        },
    })
}

pub(super) fn state_name(s: SiteState) -> &'static str {
    match s {
        SiteState::Pending => "pending",
        SiteState::Answered => "answered",
        SiteState::Refused | SiteState::Failed => "refused",
        SiteState::Late => "late",
        SiteState::Offline => "offline",
        SiteState::AwaitingApproval => "awaiting_approval",
    }
}

pub(super) fn query_result(m: &Merged, locale: Locale) -> QueryResult {
    let total = m
        .total
        .as_ref()
        .and_then(|t| t.rows.first())
        .and_then(|r| r.values.first())
        .and_then(|p| p.sum);
    let withheld = match &m.total {
        Some(t) if t.withheld.is_some() => Some("total-withheld-min-sites".to_owned()),
        Some(_) if total.is_none() => Some("total-withheld-min-total".to_owned()),
        None => Some("total-withheld-min-sites".to_owned()),
        _ => None,
    };
    QueryResult {
        task: m.task.id.to_string(),
        created: m.task.created,
        sites: m
            .sites
            .iter()
            .map(|s| SiteResult {
                site: s.name.clone(),
                country: s.country,
                status: state_name(s.state).to_owned(),
                released: if s.state == SiteState::Answered {
                    s.table.as_ref().and_then(released_of)
                } else {
                    None
                },
                // the status says it ("awaiting approval at the site") in the page's language
                reason: s
                    .reason
                    .clone()
                    .filter(|_| s.state != SiteState::AwaitingApproval),
                notes: note_texts(&s.notes, locale),
                noise_off: s.state == SiteState::Answered
                    && s.table.as_ref().is_some_and(|t| t.disclosure.noise_off()),
            })
            .collect(),
        total,
        total_withheld: withheld,
        chart_svg: String::new(),
    }
}

pub(super) fn ccdl_summary(spec: &TaskSpec) -> String {
    match spec {
        TaskSpec::Cohort(r) => r.summary(),
        TaskSpec::Samples(r) => r.summary(),
        other => other.kind().to_owned(),
    }
}
