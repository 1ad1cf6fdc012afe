//! The repeat key of each task type ([`kakehashi_disclosure::key`]): the canonical request of
//! the domain crate, the evaluation date where the answer depends on it, the snapshot, the
//! versions of exactly the reference files the task reads, and the software version. A
//! question whose key is new gets fresh noise and spends ε; one whose key was seen gets the
//! stored answer for free.

use chrono::NaiveDate;
use kakehashi_amr::Reference;
use kakehashi_cohort::Query;
use kakehashi_disclosure::{KeyParts, ReferenceVersions, RepeatKey, software_version};
use kakehashi_surveillance::SeriesSpec;

fn key(
    canonical: &str,
    evaluation_date: Option<NaiveDate>,
    snapshot: &str,
    references: &ReferenceVersions,
) -> RepeatKey {
    RepeatKey::new(&KeyParts {
        canonical,
        evaluation_date,
        snapshot,
        references: &references.to_string(),
        software: software_version(),
    })
}

/// A cohort count: the query's canonical form; the evaluation date only when the query has an
/// age criterion (otherwise the count is the same on every day); the context mapping, consent
/// table and terminology maps.
pub fn cohort(q: &Query, evaluation_date: NaiveDate, snapshot: &str) -> RepeatKey {
    let mut refs = ReferenceVersions::new();
    for (name, text) in kakehashi_cohort::reference_data() {
        refs.add_text(name, text);
    }
    let date = q.depends_on_evaluation_date().then_some(evaluation_date);
    key(&format!("cohort:{}", q.canonical()), date, snapshot, &refs)
}

/// A sample-locator answer: the cohort's key parts, the specimen criteria, and the site's
/// catalogue as read (its collection ids are the table's rows).
pub fn samples(
    q: &Query,
    canonical: &str,
    evaluation_date: NaiveDate,
    catalogue: &str,
    snapshot: &str,
) -> RepeatKey {
    let mut refs = ReferenceVersions::new();
    for (name, text) in kakehashi_cohort::reference_data() {
        refs.add_text(name, text);
    }
    refs.add_text("catalogue", catalogue);
    let date = q.depends_on_evaluation_date().then_some(evaluation_date);
    key(&format!("samples:{canonical}"), date, snapshot, &refs)
}

/// An antibiogram: the spec's canonical form (`kakehashi_federation::antibiogram::canonical`)
/// and the AMR tables it was read with.
pub fn antibiogram(canonical: &str, r: &Reference, snapshot: &str) -> RepeatKey {
    let mut refs = ReferenceVersions::new();
    for (name, version) in r.versions() {
        refs.add_version(name, version);
    }
    key(canonical, None, snapshot, &refs)
}

/// A surveillance series: its canonical form, its case definition, the pathogen panel and the
/// terminology maps.
pub fn surveillance(definition: &str, spec: &SeriesSpec, snapshot: &str) -> RepeatKey {
    let mut refs = ReferenceVersions::new();
    for (name, text) in kakehashi_surveillance::request::reference_data(definition) {
        refs.add_text(&name, text);
    }
    key(
        &kakehashi_surveillance::request::canonical(definition, spec),
        None,
        snapshot,
        &refs,
    )
}

/// A statistics answer: the request's canonical form (dataset, analysis with a GLM round's
/// coefficients), the evaluation date, the cohort's reference data and the snapshot.
pub fn statistics(canonical: &str, evaluation_date: NaiveDate, snapshot: &str) -> RepeatKey {
    let mut refs = ReferenceVersions::new();
    for (name, text) in kakehashi_cohort::reference_data() {
        refs.add_text(name, text);
    }
    key(
        &format!("statistics:{canonical}"),
        Some(evaluation_date),
        snapshot,
        &refs,
    )
}

/// The site's patient count, the denominator of rates: data only.
pub fn denominator(snapshot: &str) -> RepeatKey {
    RepeatKey::of_data(
        kakehashi_federation::surveillance::DENOMINATOR_CANONICAL,
        snapshot,
    )
}

#[cfg(test)]
mod tests;
