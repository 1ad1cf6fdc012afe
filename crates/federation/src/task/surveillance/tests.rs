//! The surveillance series both ways: a site's series through the gate and the pooled result.

use super::*;
use crate::merge::{HubRules, Merged};
use crate::merge::{Received, SiteRef, merge};
use crate::protocol::Task;
use crate::protocol::{Answer, Outcome};
use crate::task::TaskSpec;
use chrono::{Duration, Utc};
use kakehashi_disclosure::GatedTable;
use kakehashi_disclosure::{Gate, Policy, Question};
use kakehashi_model::Country;
use kakehashi_model::{ProjectId, SiteId, TaskId};
use kakehashi_surveillance::pooled;
use kakehashi_surveillance::series::Series;
use kakehashi_surveillance::series::{Positivity, SeriesRow};

fn series(weeks: &[(u32, u64, u64, u64)]) -> Series {
    Series {
        definition: "sari-icosari".into(),
        pathogens: vec!["influenza".into(), "rsv".into()],
        by: Vec::new(),
        rows: weeks
            .iter()
            .map(|&(w, cases, tests, pos)| SeriesRow {
                site: None,
                country: None,
                age_group: None,
                week: kakehashi_surveillance::IsoWeek::new(2025, w).unwrap(),
                cases,
                icu: cases / 4,
                deaths: 0,
                positivity: vec![
                    Positivity {
                        tests,
                        positives: pos,
                    },
                    Positivity {
                        tests,
                        positives: 0,
                    },
                ],
            })
            .collect(),
        notes: Vec::new(),
        population: Some(1000),
        max_weeks_per_patient: Some(2),
    }
}

fn release(policy: Policy, s: &Series, patients: u64) -> (GatedTable, GatedTable) {
    let gate = Gate::new(
        Policy {
            projects: vec!["*".into()],
            ..policy
        },
        [7; 32],
        Box::new(kakehashi_disclosure::MemoryLedger::new()),
    )
    .unwrap();
    let p = ProjectId::new("p").unwrap();
    let (t, sens) = count_table(s, false).unwrap();
    let series = gate
        .release_series(
            &Question {
                project: &p,
                researcher: "r",
                key: &kakehashi_disclosure::RepeatKey::of_data("s", "1"),
                sensitivity: sens,
            },
            t,
        )
        .unwrap()
        .into_inner();
    let den = gate
        .release(
            &Question {
                project: &p,
                researcher: "r",
                key: &kakehashi_disclosure::RepeatKey::of_data(DENOMINATOR_CANONICAL, "1"),
                sensitivity: 1,
            },
            denominator_table(patients),
        )
        .unwrap()
        .into_inner();
    (series, den)
}

fn merged(answers: Vec<(&str, Country, GatedTable, GatedTable)>) -> Merged {
    let task = Task {
        id: TaskId::new("t").unwrap(),
        project: ProjectId::new("p").unwrap(),
        requested_by: "r".into(),
        created: Utc::now(),
        deadline: Utc::now() + Duration::seconds(60),
        spec: TaskSpec::SurveillanceSeries(SurveillanceRequest::of("sari-icosari").unwrap()),
    };
    let refs: Vec<SiteRef> = answers
        .iter()
        .map(|(id, c, ..)| SiteRef {
            id: SiteId::new(*id).unwrap(),
            name: (*id).into(),
            country: *c,
            last_seen: Some(Utc::now()),
        })
        .collect();
    let received = answers
        .into_iter()
        .map(|(id, _, table, den)| Received {
            answer: Answer {
                task: task.id.clone(),
                site: SiteId::new(id).unwrap(),
                snapshot: None,
                elapsed_ms: 1,
                audit_head: String::new(),
                outcome: Outcome::Answered {
                    table,
                    notes: Vec::new(),
                    denominator: Some(Box::new(den)),
                },
            },
            at: Utc::now(),
        })
        .collect::<Vec<_>>();
    merge(
        &task,
        &refs,
        &received,
        Utc::now(),
        Duration::seconds(60),
        &HubRules::default(),
    )
}

fn exact() -> Policy {
    Policy {
        min_count: 0,
        rounding: 1,
        noise: kakehashi_disclosure::Noise::Off,
        ..Policy::default()
    }
}

/// Without noise, pooled counts are the sums of the sites' series, positivity is P/T with
/// Wilson's interval and rates are per 100,000 patients of the country's sites.
/// The released table's sensitivity is per patient (k weeks × measures of a week), and a
/// series counted per event cannot be turned into a released table at all.
#[test]
fn only_per_patient_series_are_released_with_their_bound() {
    let mut s = series(&[(50, 3, 4, 1)]);
    s.max_weeks_per_patient = Some(3);
    assert_eq!(count_table(&s, false).unwrap().1, 3 * (3 + 2 * 2));
    s.max_weeks_per_patient = None;
    let e = count_table(&s, false).unwrap_err().to_string();
    assert!(e.contains("max_weeks_per_patient"), "{e}");
}

#[test]
fn exact_series_pool_to_their_sums() {
    let a = series(&[(50, 30, 40, 10), (51, 45, 60, 30)]);
    let b = series(&[(50, 10, 20, 5), (51, 15, 0, 0)]);
    let (ta, da) = release(exact(), &a, 20_000);
    let (tb, db) = release(exact(), &b, 30_000);
    let r = result(
        &merged(vec![
            ("de-a", Country::Germany, ta, da),
            ("de-b", Country::Germany, tb, db),
        ]),
        &HubRules::default(),
    );
    assert_eq!(r.pathogens, ["influenza", "rsv"]);
    let de = r.country(Country::Germany).unwrap();
    assert_eq!(de.population.unwrap().exact(), Some(50_000));
    let w = &de.weeks[0];
    assert_eq!(
        (
            w.week.as_str(),
            w.cases.exact(),
            w.pathogens[0].tests.exact(),
            w.pathogens[0].positives.exact()
        ),
        ("2025-W50", Some(40), Some(60), Some(15))
    );
    assert_eq!(w.rate, Some(40.0 * 100_000.0 / 50_000.0));
    let share = w.pathogens[0].positivity.unwrap();
    assert_eq!(share.value, Some(0.25));
    let (l, h) = pooled::wilson(15, 60).unwrap();
    assert!((share.ci_low - l).abs() < 1e-12 && (share.ci_high - h).abs() < 1e-12);
    assert!(w.pathogens[0].reportable);
    assert_eq!(
        de.weeks[1].pathogens[1].positivity.unwrap().value,
        Some(0.0)
    );
}

/// Under the series rule noisy counts are pooled with their variance, which widens the
/// interval; a country with fewer answering sites than the hub's minimum is withheld.
#[test]
fn noisy_series_widen_the_interval_and_lone_countries_are_withheld() {
    let a = series(&[(50, 300, 400, 100)]);
    let noisy = Policy {
        min_count: 10,
        rounding: 10,
        epsilon: Some(1.0),
        ..Policy::default()
    };
    let (ta, da) = release(noisy.clone(), &a, 20_000);
    assert_eq!(
        (ta.disclosure.min_count, ta.disclosure.rounding),
        (0, 1),
        "the series rule: noise only"
    );
    assert_eq!(
        da.disclosure.rounding, 10,
        "the denominator follows the ordinary rule"
    );
    let (tb, db) = release(noisy, &a, 20_000);
    let (tj, dj) = release(exact(), &a, 20_000);
    let r = result(
        &merged(vec![
            ("de-a", Country::Germany, ta, da),
            ("de-b", Country::Germany, tb, db),
            ("jp-a", Country::Japan, tj, dj),
        ]),
        &HubRules::default(),
    );
    assert!(
        r.country(Country::Japan).is_none() && r.withheld.iter().any(|w| w.starts_with("JP")),
        "{:?}",
        r.withheld
    );
    let w = &r.country(Country::Germany).unwrap().weeks[0];
    let var = pooled::release_variance(Some(1.0), sensitivity(2, 2), 1);
    assert!((w.cases.variance - 2.0 * var).abs() < 1e-9);
    let s = w.pathogens[0].positivity.unwrap();
    let (t, p) = (w.pathogens[0].tests.lo, w.pathogens[0].positives.lo);
    let (l, h) = pooled::wilson(p, t).unwrap();
    assert!(
        s.ci_low < l && s.ci_high > h,
        "noise widens Wilson's interval: {s:?} vs {l}-{h}"
    );
    // the noise is honest: the pooled count is near the truth (6 sd of the noise)
    assert!(
        (w.cases.lo as f64 - 600.0).abs() < 6.0 * w.cases.sd(),
        "{:?}",
        w.cases
    );
}
