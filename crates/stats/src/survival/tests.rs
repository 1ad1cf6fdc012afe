use super::*;

// 90 rows drawn once by numpy (seed 11); the expected values are statsmodels 0.15's PHReg
// (ties="breslow", Newton to 1e-14) on the same rows.
const TIME: [u32; 90] = [
    24, 1, 5, 11, 7, 4, 2, 31, 15, 8, 4, 6, 23, 8, 7, 13, 2, 7, 27, 7, 2, 21, 8, 21, 6, 12, 29, 16,
    4, 4, 9, 26, 2, 12, 25, 1, 14, 5, 6, 21, 4, 26, 6, 19, 3, 16, 31, 1, 30, 23, 21, 11, 11, 19,
    11, 2, 9, 10, 11, 26, 11, 10, 6, 4, 10, 1, 9, 26, 14, 33, 5, 24, 17, 16, 7, 3, 14, 7, 12, 1, 2,
    15, 29, 2, 6, 26, 3, 25, 15, 9,
];
const EVENT: [u8; 90] = [
    0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1,
    1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1,
];
const X1: [f64; 90] = [
    50.3, 63.6, 62.2, 44.9, 47.0, 44.7, 55.7, 49.4, 57.5, 31.5, 65.7, 49.0, 56.8, 48.6, 46.2, 54.6,
    58.2, 48.0, 48.5, 56.9, 41.3, 34.9, 53.9, 43.3, 30.8, 41.9, 45.3, 38.1, 35.1, 50.4, 59.0, 47.7,
    42.6, 53.8, 57.2, 47.0, 55.4, 60.4, 47.9, 41.9, 53.5, 52.5, 61.0, 37.2, 43.4, 41.6, 32.7, 51.3,
    55.3, 42.6, 63.9, 58.2, 56.3, 54.0, 59.6, 36.7, 56.1, 56.0, 32.3, 53.5, 47.5, 57.8, 45.6, 49.8,
    53.4, 41.2, 56.0, 49.0, 54.9, 44.8, 60.9, 56.1, 48.2, 56.3, 62.6, 67.9, 34.3, 58.8, 54.7, 49.1,
    39.9, 62.6, 37.4, 55.7, 63.0, 34.0, 47.0, 36.9, 52.4, 65.1,
];
const X2: [f64; 90] = [
    0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0,
    0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0,
    1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0,
    0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0,
];

struct Site {
    x: DMatrix<f64>,
    time: Vec<u32>,
    event: Vec<bool>,
}

fn site(rows: std::ops::Range<usize>) -> Site {
    Site {
        x: DMatrix::from_fn(rows.len(), 2, |i, j| {
            if j == 0 {
                X1[rows.start + i]
            } else {
                X2[rows.start + i]
            }
        }),
        time: TIME[rows.clone()].to_vec(),
        event: EVENT[rows].iter().map(|&e| e == 1).collect(),
    }
}

fn fit_sites(sites: &[Site], breaks: &[u32], min: u64) -> Result<CoxFit, CoxError> {
    fit(2, |beta| {
        sites
            .iter()
            .map(|s| site_sums(&s.x, &s.time, &s.event, breaks, beta, min))
            .collect()
    })
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs())
}

#[test]
fn the_daily_fit_equals_statsmodels_breslow_and_the_federated_fit_the_pooled() {
    let days: Vec<u32> = (0..=40).collect();
    let pooled = fit_sites(&[site(0..90)], &days, 1).unwrap();
    let want = [
        (0.0346545045962645, 0.015347685239209596),
        (0.7761459318063284, 0.26001761608301305),
    ];
    for (j, (b, se)) in want.iter().enumerate() {
        assert!(
            rel(pooled.beta[j], *b) < 1e-8,
            "{j}: {} vs {b}",
            pooled.beta[j]
        );
        assert!(
            rel(pooled.std_error[j], *se) < 1e-8,
            "{j}: {}",
            pooled.std_error[j]
        );
    }
    assert!(rel(pooled.log_likelihood, -237.6977238947352) < 1e-10);
    assert!(rel(pooled.null_log_likelihood, -243.52302630144806) < 1e-10);
    let fed = fit_sites(&[site(0..30), site(30..55), site(55..90)], &days, 1).unwrap();
    for j in 0..2 {
        assert!(rel(fed.beta[j], pooled.beta[j]) < 1e-10);
        assert!(rel(fed.std_error[j], pooled.std_error[j]) < 1e-10);
    }
    // on a weekly grid too (both sides on the same grid)
    let weeks = [0, 7, 14, 21, 28];
    let (a, b) = (
        fit_sites(&[site(0..90)], &weeks, 1).unwrap(),
        fit_sites(&[site(0..45), site(45..90)], &weeks, 1).unwrap(),
    );
    assert!(rel(a.beta[1], b.beta[1]) < 1e-10 && rel(a.beta[1], pooled.beta[1]) > 1e-6);
}

#[test]
fn a_site_refuses_intervals_with_few_leavers() {
    let days: Vec<u32> = (0..=40).collect();
    match fit_sites(&[site(0..45), site(45..90)], &days, 3) {
        Err(CoxError::Refused(CoxRefusal::FewLeavers {
            leavers, min: 3, ..
        })) => {
            assert!((1..3).contains(&leavers))
        }
        other => panic!("{other:?}"),
    }
    // wide enough intervals pass the same rule
    assert!(fit_sites(&[site(0..45), site(45..90)], &[0, 7, 14, 21], 3).is_ok());
    assert!(matches!(
        fit_sites(&[site(0..2)], &days, 3),
        Err(CoxError::Refused(CoxRefusal::TooFewRows {
            rows: 2,
            min: 3
        }))
    ));
}

#[test]
fn the_life_table_pools_exactly_and_withholds_from_a_suppressed_interval_on() {
    use life_table::{pool, site_table};
    let weeks = [0, 7, 14, 21];
    let all = site(0..90);
    let (a, b) = (site(0..45), site(45..90));
    let one = pool(&[site_table(&all.time, &all.event, &weeks, 1)]);
    let two = pool(&[
        site_table(&a.time, &a.event, &weeks, 1),
        site_table(&b.time, &b.event, &weeks, 1),
    ]);
    assert_eq!(one, two);
    assert_eq!(one[0].at_risk, Some(90));
    // counted with Python from the same rows: first week 29 events and 1 censored of 90
    // (actuarial: 89.5 exposed)
    assert_eq!((one[0].events, one[0].censored), (Some(29), Some(1)));
    assert!((one[0].survival.unwrap() - (1.0 - 29.0 / 89.5)).abs() < 1e-12);
    // a minimum of 5: a site's small count is suppressed and the pooled curve stops there
    let tables = [
        site_table(&a.time, &a.event, &weeks, 5),
        site_table(&b.time, &b.event, &weeks, 5),
    ];
    // no count between 1 and 4 leaves a site
    assert!(tables.iter().flatten().all(|r| {
        [r.at_risk, r.events, r.censored]
            .iter()
            .all(|c| c.is_none_or(|n| n == 0 || n >= 5))
    }));
    let small = pool(&tables);
    let first_withheld = small.iter().position(|r| r.survival.is_none()).unwrap();
    assert!(tables.iter().any(|t| t[first_withheld].censored.is_none()
        || t[first_withheld].events.is_none()
        || t[first_withheld].at_risk.is_none()));
    assert!(small[first_withheld..].iter().all(|r| r.survival.is_none()));
    assert_eq!(small[..first_withheld], one[..first_withheld]);
}
