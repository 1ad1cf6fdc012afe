//! Pairs of requests, both directions: the same meaning gives the same key (other spellings,
//! orders, displays, duplicates), a different meaning a different key.

use super::*;
use kakehashi_federation::antibiogram::{AntibiogramRequest, canonical};
use proptest::prelude::*;
use serde_json::json;

/// Each organism and drug under several names a researcher may use.
const ORGANISMS: [&[&str]; 4] = [
    &["Escherichia coli", "E. coli", "B_ESCHR_COLI"],
    &["Klebsiella pneumoniae", "K. pneumoniae", "B_KLBSL_PNMN"],
    &["Enterobacterales", "B_[ORD]_ENTRBCTR"],
    &["Staphylococcus aureus", "B_STPHY_AURS"],
];
const DRUGS: [&[&str]; 3] = [
    &["Ciprofloxacin", "CIP", "J01MA02"],
    &["Meropenem", "MEM"],
    &["Gentamicin", "GEN"],
];

/// A list naming each chosen item, in an order and with names and repeats drawn from `pick`.
fn names(table: &[&[&str]], chosen: &[usize], pick: &[usize]) -> Vec<String> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (n, &i) in chosen.iter().enumerate() {
        let p = pick[n % pick.len()];
        for k in 0..1 + p % 2 {
            out.push((
                p.wrapping_mul(31).wrapping_add(k),
                table[i][(p + k) % table[i].len()].to_owned(),
            ));
        }
    }
    out.sort();
    out.into_iter().map(|(_, s)| s).collect()
}

fn antibiogram_key(orgs: Vec<String>, drugs: Vec<String>, snapshot: &str) -> RepeatKey {
    let spec = AntibiogramRequest::from_json(
        &json!({"guideline": "EUCAST 2025", "organisms": orgs, "antimicrobials": drugs})
            .to_string(),
    )
    .unwrap()
    .spec()
    .clone();
    let r = Reference::shared().unwrap();
    antibiogram(&canonical(&spec).unwrap(), r, snapshot)
}

fn subset(n: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::btree_set(0..n, 1..=n).prop_map(|s| s.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// The same organisms and drugs, named and ordered differently (the reversed list of the
    /// issue among them), repeated: one key.
    #[test]
    fn an_antibiogram_asked_in_other_words_has_one_key(orgs in subset(4), drugs in subset(3),
            a in prop::collection::vec(0usize..6, 1..5), b in prop::collection::vec(0usize..6, 1..5)) {
        prop_assert_eq!(
            antibiogram_key(names(&ORGANISMS, &orgs, &a), names(&DRUGS, &drugs, &a), "s1"),
            antibiogram_key(names(&ORGANISMS, &orgs, &b), names(&DRUGS, &drugs, &b), "s1")
        );
    }

    /// Other organisms or drugs, or another snapshot: another key.
    #[test]
    fn a_different_antibiogram_has_another_key(o1 in subset(4), o2 in subset(4), d1 in subset(3), d2 in subset(3),
            pick in prop::collection::vec(0usize..6, 1..5)) {
        let k1 = antibiogram_key(names(&ORGANISMS, &o1, &pick), names(&DRUGS, &d1, &pick), "s1");
        let k2 = antibiogram_key(names(&ORGANISMS, &o2, &pick), names(&DRUGS, &d2, &pick), "s1");
        prop_assert_eq!(k1 == k2, o1 == o2 && d1 == d2);
        let k3 = antibiogram_key(names(&ORGANISMS, &o1, &pick), names(&DRUGS, &d1, &pick), "s2");
        prop_assert_ne!(k1, k3);
    }
}

fn cohort_query(age: bool, display: &str) -> Query {
    let crit = if age {
        json!({"context": {"system": "fdpg.mii.cds", "code": "Patient"}, "termCodes": [{"system": "http://loinc.org", "code": "30525-0", "display": display}],
               "valueFilter": {"type": "quantity-range", "minValue": 18, "maxValue": 65, "unit": {"code": "a"}}})
    } else {
        json!({"context": {"system": "fdpg.mii.cds", "code": "Diagnose", "display": display}, "termCodes": [{"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "J18", "display": display}]})
    };
    Query::from_value(&json!({"version": "2", "inclusionCriteria": [[crit]]})).unwrap()
}

#[test]
fn a_cohort_with_ages_is_keyed_on_its_evaluation_date_and_one_without_is_not() {
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    // ages: the same query on another day counts other patients
    assert_eq!(
        cohort(&cohort_query(true, "a"), day(1), "s1"),
        cohort(&cohort_query(true, "b"), day(1), "s1")
    );
    assert_ne!(
        cohort(&cohort_query(true, "a"), day(1), "s1"),
        cohort(&cohort_query(true, "a"), day(2), "s1")
    );
    // no ages: the day changes nothing, so it is the same question
    assert_eq!(
        cohort(&cohort_query(false, "a"), day(1), "s1"),
        cohort(&cohort_query(false, "b"), day(2), "s1")
    );
    assert_ne!(
        cohort(&cohort_query(false, "a"), day(1), "s1"),
        cohort(&cohort_query(false, "a"), day(1), "s2")
    );
    assert_ne!(
        cohort(&cohort_query(false, "a"), day(1), "s1"),
        cohort(&cohort_query(true, "a"), day(1), "s1")
    );
}

#[test]
fn a_series_is_keyed_on_its_definition_and_weeks() {
    let spec = |from: &str| SeriesSpec {
        by: Vec::new(),
        age_bands: Default::default(),
        from: Some(from.parse().unwrap()),
        to: None,
        max_weeks_per_patient: Some(2),
    };
    assert_eq!(
        surveillance("sari-who", &spec("2023-W40"), "s1"),
        surveillance("sari-who", &spec("2023W40"), "s1")
    );
    assert_ne!(
        surveillance("sari-who", &spec("2023-W40"), "s1"),
        surveillance("ili-who", &spec("2023-W40"), "s1")
    );
    assert_ne!(
        surveillance("sari-who", &spec("2023-W40"), "s1"),
        surveillance("sari-who", &spec("2023-W41"), "s1")
    );
    assert_ne!(denominator("s1"), denominator("s2"));
}
