//! MEM on examples small enough to follow on paper, and on `flucyl`, `mem`'s own data set.

use kakehashi_surveillance::mem::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn table(cols: &[(&str, &[f64])]) -> MemInput {
    let n = cols[0].1.len();
    MemInput {
        weeks: (0..n).map(|i| (40 + i).to_string()).collect(),
        seasons: cols
            .iter()
            .map(|(name, v)| SeasonSeries {
                name: name.to_string(),
                values: v.iter().map(|&x| Some(x)).collect(),
            })
            .collect(),
    }
}

/// Two seasons of 11 weeks.
///
/// Season A = 1 2 1 10 20 40 20 10 2 1 1 (total 108). The maximum sums of s consecutive weeks are
/// 40, 60, 80, 90, 100, 102, 103, 105, 106, 107, 108, i.e. MAP = 37.04, 55.56, 74.07, 83.33,
/// 92.59, 94.44, 95.37, 97.22, 98.15, 99.07, 100 %. Smoothing the curve (with 0 at s = 0) by a
/// local-linear Gaussian kernel of bandwidth 1 — at each s, weights w_i = exp(-(i-s)²/2),
/// estimate = (S2·T0 − S1·T1)/(S0·S2 − S1²) with S_k = Σ w_i (i−s)^k, T_k = Σ w_i (i−s)^k y_i —
/// gives increments 29.82, 22.60, 16.64, 11.68, 7.53, 3.89, 1.86, ...: the first below δ = 2.8 is
/// at s = 7, so the epidemic lasts 6 weeks. The first 6-week window with the maximum sum 102 is
/// 10 20 40 20 10 2 (weeks 3..8, 0-based): 102/108 = 94.44 %. Pre-epidemic: 1 2 1; post: 1 1.
///
/// Season B = 2 1 3 10 30 40 10 2 1 1 3 (total 103): MAP 38.83, 67.96, 77.67, 87.38, 90.29,
/// 92.23, ...; smoothed increments 33.95, 25.43, 15.54, 8.78, 4.70, 2.40: first below 2.8 at
/// s = 6, length 5. The first 5-week window summing to 93 is 3 10 30 40 10 (weeks 2..6):
/// 93/103 = 90.29 %. Pre: 2 1; post: 2 1 1 3.
///
/// n = round(30 / 2) = 15, so every pre/post/epidemic value is used.
/// Pre values {2,1,1, 2,1}: mean 1.4, sd 0.547723; threshold = 1.4 + 1.644854·0.547723 = 2.300923.
/// Post values {1,1, 3,2,1,1}: mean 1.5, sd 0.836660; threshold = 1.5 + 1.644854·0.836660 = 2.876183.
/// Epidemic values {40,20,20,10,10,2, 40,30,10,10,3}: mean of logs 2.524775, sd 0.975104;
/// medium = exp(2.524775 − 0.253347·0.975104) = 9.7546, high = exp(… + 1.281552·…) = 43.572,
/// very high = exp(… + 1.959964·…) = 84.432.
/// (R `mem` 2.19 `memmodel` gives the same: 2.3009234353 2.8761832792 | 9.7545606874
/// 43.5722349199 84.4316655925.)
#[test]
fn two_season_worked_example() {
    let a = [1., 2., 1., 10., 20., 40., 20., 10., 2., 1., 1.];
    let b = [2., 1., 3., 10., 30., 40., 10., 2., 1., 1., 3.];
    let m = mem_model(&table(&[("A", &a), ("B", &b)]), &MemParams::default()).unwrap();
    assert_eq!(m.n_max, 15);
    let ta = &m.timings[0];
    assert_eq!((ta.start, ta.end, ta.length), (3, 8, 6));
    assert!(close(ta.percentage, 100.0 * 102.0 / 108.0, 1e-9));
    assert_eq!(ta.pre_values, vec![2., 1., 1.]);
    assert_eq!(ta.post_values, vec![1., 1.]);
    let tb = &m.timings[1];
    assert_eq!((tb.start, tb.end, tb.length), (2, 6, 5));
    assert!(close(tb.percentage, 100.0 * 93.0 / 103.0, 1e-9));
    assert_eq!(tb.post_values, vec![3., 2., 1., 1.]);
    let t = m.thresholds;
    assert!(close(t.epidemic.unwrap(), 2.300923, 1e-6), "{t:?}");
    assert!(close(t.post_epidemic.unwrap(), 2.876183, 1e-6));
    assert!(close(t.medium.unwrap(), 9.754561, 1e-5));
    assert!(close(t.high.unwrap(), 43.572235, 1e-5));
    assert!(close(t.very_high.unwrap(), 84.431666, 1e-5));
    // Median length of 6 and 5 is 5.5, which R's round() takes to the even 6.
    assert_eq!(m.typical_length, 6);
}

/// The smoother is exact on straight lines (a local-linear fit reproduces any line), so on a
/// linear MAP curve every increment equals the slope.
#[test]
fn smoother_reproduces_lines_and_clips_negatives() {
    let y: Vec<f64> = (0..12).map(|i| 3.0 + 2.5 * i as f64).collect();
    for (a, b) in local_linear_smooth(&y, 1.0).iter().zip(&y) {
        assert!(close(*a, *b, 1e-9));
    }
    let neg: Vec<f64> = (0..6).map(|i| -1.0 - i as f64).collect();
    assert!(local_linear_smooth(&neg, 1.0).iter().all(|&v| v == 0.0));
}

/// The number of values per season: round(30 / seasons) with R's half-to-even rounding:
/// 4 seasons → 7.5 → 8; 12 seasons → 2.5 → 2; 8 seasons → 3.75 → 4; 70 seasons → 0.43 → 1.
#[test]
fn n_max_rounds_half_to_even() {
    let s = [0., 1., 5., 20., 5., 1., 0.];
    for (k, n) in [(4usize, 8usize), (12, 2), (8, 4)] {
        let cols: Vec<(String, &[f64])> = (0..k).map(|i| (format!("S{i}"), &s[..])).collect();
        let cols: Vec<(&str, &[f64])> = cols.iter().map(|(a, b)| (a.as_str(), *b)).collect();
        let p = MemParams {
            max_seasons: None,
            ..MemParams::default()
        };
        assert_eq!(
            mem_model(&table(&cols), &p).unwrap().n_max,
            n,
            "{k} seasons"
        );
    }
}

/// Thresholds with n fixed at 2, by hand. Seasons 3 2 0 0 0 30 60 30 0 … and 2 1 0 0 0 40 50 20 0 …
/// (14 weeks): whatever the epidemic window, it starts after the first two weeks, so the two
/// highest pre-epidemic values are {3,2} and {2,1}: mean 2, sd √(2/3) = 0.816497; threshold
/// 2 + 1.644854·0.816497 = 3.343017. With a two-sided 95% interval the multiplier is 1.959964:
/// 2 + 1.959964·0.816497 = 3.600304. The arithmetic-mean interval (type 1) divides the sd by √4:
/// 2 + 1.644854·0.408248 = 2.671509. The post-epidemic values are all 0: threshold 0.
/// (R `mem` 2.19 with i.n.max = 2 agrees: 3.343017, 3.600304, 2.671509, post 0.)
#[test]
fn threshold_methods_and_tails() {
    let a = [3., 2., 0., 0., 0., 30., 60., 30., 0., 0., 0., 0., 0., 0.];
    let b = [2., 1., 0., 0., 0., 40., 50., 20., 0., 0., 0., 0., 0., 0.];
    let input = table(&[("A", &a), ("B", &b)]);
    let p = MemParams {
        n_max: NMax::Fixed(2),
        ..MemParams::default()
    };
    let m = mem_model(&input, &p).unwrap();
    assert_eq!(m.timings[0].pre_values, vec![3., 2.]);
    assert_eq!(m.timings[1].pre_values, vec![2., 1.]);
    assert!(
        close(m.thresholds.epidemic.unwrap(), 3.343017, 1e-6),
        "{:?}",
        m.thresholds
    );
    assert_eq!(m.thresholds.post_epidemic, Some(0.0));
    let two = mem_model(
        &input,
        &MemParams {
            threshold_tails: 2,
            ..p.clone()
        },
    )
    .unwrap();
    assert!(close(two.thresholds.epidemic.unwrap(), 3.600304, 1e-6));
    let mean = mem_model(
        &input,
        &MemParams {
            threshold_method: IntervalMethod::ArithmeticMean,
            ..p.clone()
        },
    )
    .unwrap();
    assert!(close(mean.thresholds.epidemic.unwrap(), 2.671509, 1e-6));
}

/// The current season judged week by week against fixed thresholds: epidemic 10, post 8,
/// medium 20, high 40, very high 60. Values 5 12 25 45 70 30 9 7 6: the epidemic starts at the
/// first value above 10 (12, week 1), peaks at 70 (week 4) and ends at the first value below 8
/// after the peak (7, week 7).
#[test]
fn current_season_levels_and_phases() {
    let t = Thresholds {
        epidemic: Some(10.0),
        post_epidemic: Some(8.0),
        medium: Some(20.0),
        high: Some(40.0),
        very_high: Some(60.0),
    };
    let v = [5., 12., 25., 45., 70., 30., 9., 7., 6.];
    let weeks: Vec<String> = (40..49).map(|w| w.to_string()).collect();
    let a = t.assess(&weeks, &v.iter().map(|&x| Some(x)).collect::<Vec<_>>());
    let levels: Vec<Level> = a.iter().map(|w| w.level.unwrap()).collect();
    use Level::*;
    assert_eq!(
        levels,
        vec![
            Baseline, Low, Medium, High, VeryHigh, Medium, Baseline, Baseline, Baseline
        ]
    );
    let phases: Vec<Phase> = a.iter().map(|w| w.phase).collect();
    use Phase::*;
    assert_eq!(
        phases,
        vec![
            PreEpidemic,
            Epidemic,
            Epidemic,
            Epidemic,
            Epidemic,
            Epidemic,
            Epidemic,
            PostEpidemic,
            PostEpidemic
        ]
    );
    // A missing week has no level but keeps its phase.
    let mut gaps: Vec<Option<f64>> = v.iter().map(|&x| Some(x)).collect();
    gaps[2] = None;
    let a = t.assess(&weeks, &gaps);
    assert_eq!(a[2].level, None);
    assert_eq!(a[2].phase, Epidemic);
}

/// flucyl (8 seasons of ILI per 100,000 in Castilla y León), default parameters. Reference: R
/// package `mem` 2.19 (`memmodel(flucyl)`), run on this machine: epidemic thresholds 53.3364493501
/// (pre) and 60.4864309717 (post); intensity 249.9234334643, 441.8986300204, 568.4895963501;
/// n.max 4; mean length 10; start row 12 (1-based); per-season optimum (length, %, start, end):
/// 2001/02 10 89.49422 14–23, 2002/03 16 87.77649 11–26, 2003/04 10 85.30154 3–12,
/// 2004/05 8 83.35983 12–19, 2005/06 10 84.66944 19–28, 2006/07 8 87.00042 15–22,
/// 2007/08 11 82.77035 12–22, 2008/09 10 80.8676 11–20.
#[test]
fn flucyl_matches_the_r_package() {
    let input = parse_table(include_str!("../data/flucyl.csv")).unwrap();
    assert_eq!(input.seasons.len(), 8);
    assert_eq!(input.weeks.len(), 33);
    assert_eq!(input.weeks[0], "40");
    let m = mem_model(&input, &MemParams::default()).unwrap();
    assert_eq!(m.n_max, 4);
    let t = m.thresholds;
    assert!(close(t.epidemic.unwrap(), 53.3364493501, 1e-8));
    assert!(close(t.post_epidemic.unwrap(), 60.4864309717, 1e-8));
    assert!(close(t.medium.unwrap(), 249.9234334643, 1e-8));
    assert!(close(t.high.unwrap(), 441.8986300204, 1e-8));
    assert!(close(t.very_high.unwrap(), 568.4895963501, 1e-8));
    assert_eq!(m.typical_length, 10);
    assert_eq!(m.typical_start + 1, 12);
    let expect = [
        (10, 14, 23),
        (16, 11, 26),
        (10, 3, 12),
        (8, 12, 19),
        (10, 19, 28),
        (8, 15, 22),
        (11, 12, 22),
        (10, 11, 20),
    ];
    for (s, (len, a, b)) in m.timings.iter().zip(expect) {
        assert_eq!(
            (s.length, s.start + 1, s.end + 1),
            (len, a, b),
            "{}",
            s.season
        );
    }
    assert!(close(m.timings[0].percentage, 89.49422, 1e-5));
    // Restricting to the 3 most recent seasons (i.seasons = 3) keeps the last three columns.
    let m3 = mem_model(
        &input,
        &MemParams {
            max_seasons: Some(3),
            ..MemParams::default()
        },
    )
    .unwrap();
    assert_eq!(m3.seasons, vec!["2006/2007", "2007/2008", "2008/2009"]);
    assert_eq!(m3.n_max, 10);
}

#[test]
fn too_few_seasons_and_bad_parameters_are_errors() {
    let a = [0., 1., 5., 1.];
    let z = [0., 0., 0., 0.];
    assert_eq!(
        mem_model(&table(&[("A", &a), ("Z", &z)]), &MemParams::default()).unwrap_err(),
        MemError::TooFewSeasons(1)
    );
    let p = MemParams {
        intensity_levels: [0.9, 0.4, 0.975],
        ..MemParams::default()
    };
    assert!(matches!(
        mem_model(&table(&[("A", &a), ("B", &a)]), &p),
        Err(MemError::Param(_))
    ));
    assert!(
        IntervalMethod::parse("3")
            .unwrap_err()
            .to_string()
            .contains("not offered")
    );
}

#[test]
fn bad_tables_name_line_and_column() {
    let e = parse_table("week,2019/2020,2020/2021\n40,1.5,2\n41,x,3\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 3, column 2 (2019/2020): \"x\" is not a number"
    );
    let e = parse_table("week,a,b\n40,1,2\n41,3\n").unwrap_err();
    assert_eq!(e.to_string(), "line 3: 2 cells, but the header has 3");
    let e = parse_table("week,a,b\n40,1,-2\n").unwrap_err();
    assert!(
        e.to_string().starts_with("line 2, column 3 (b): negative"),
        "{e}"
    );
    assert!(parse_table("").is_err());
    assert!(
        parse_table("week,a,a\n40,1,2\n")
            .unwrap_err()
            .to_string()
            .contains("twice")
    );
    // Missing cells are missing, tabs and semicolons work, NA is missing.
    let t = parse_table("week\ta\tb\n40\t1\tNA\n41\t\t2\n").unwrap();
    assert_eq!(t.seasons[0].values, vec![Some(1.0), None]);
    assert_eq!(t.seasons[1].values, vec![None, Some(2.0)]);
    let t = parse_table("a;b\n1,5;2\n").unwrap_err();
    assert!(t.to_string().contains("1,5"), "{t}");
}

/// With 6 or fewer reported weeks a gap is interpolated linearly: neighbours 10 and 30 give 20.
#[test]
fn short_gaps_are_interpolated() {
    let f = fill_inside_missing(&[None, Some(1.0), Some(10.0), None, Some(30.0), None]);
    assert_eq!(
        f,
        vec![None, Some(1.0), Some(10.0), Some(20.0), Some(30.0), None]
    );
}

/// Missing weeks inside a long season are filled by the kernel smoother as `mem` does. Taking
/// weeks 15 and 20 (1-based) out of flucyl's 2001/2002 season, R `mem` 2.19
/// (`mem:::fill.missing`, bandwidth h.select = 2.830532) fills 220.3397 and 203.4910 (the true
/// values were 562.59 and 108.50; linear interpolation would give 332.59 and 168.42), and
/// `memmodel` on the gapped table gives thresholds 53.336449 60.486431 | 244.071176 417.158714
/// 528.676826.
#[test]
fn gaps_are_filled_like_mem() {
    let mut input = parse_table(include_str!("../data/flucyl.csv")).unwrap();
    input.seasons[0].values[14] = None;
    input.seasons[0].values[19] = None;
    let f = fill_inside_missing(&input.seasons[0].values);
    assert!(close(f[14].unwrap(), 220.3397, 2e-3), "{:?}", f[14]);
    assert!(close(f[19].unwrap(), 203.4910, 2e-3), "{:?}", f[19]);
    let xs: Vec<f64> = (0..33)
        .filter(|&i| i != 14 && i != 19)
        .map(|i| i as f64)
        .collect();
    assert!(close(df_bandwidth(&xs, 6.0).unwrap(), 2.830532, 1e-4));
    let m = mem_model(&input, &MemParams::default()).unwrap();
    let t = m.thresholds;
    assert!(close(t.epidemic.unwrap(), 53.336449, 1e-5));
    assert!(close(t.medium.unwrap(), 244.071176, 1e-3), "{t:?}");
    assert!(close(t.high.unwrap(), 417.158714, 1e-3));
    assert!(close(t.very_high.unwrap(), 528.676826, 1e-3));
}

/// Non-default parameters on flucyl, each against R `mem` 2.19 `memmodel(flucyl, ...)` run on
/// this machine: (epidemic pre, post, medium, high, very high, n.max, mean length).
#[test]
fn flucyl_with_other_parameters_matches_the_r_package() {
    let input = parse_table(include_str!("../data/flucyl.csv")).unwrap();
    let d = MemParams::default;
    let cases: Vec<(&str, MemParams, [f64; 5], usize, usize)> = vec![
        (
            "i.param = 2.0",
            MemParams { delta: 2.0, ..d() },
            [
                41.74946879,
                39.37246297,
                249.92343346,
                441.89863002,
                568.48959635,
            ],
            4,
            12,
        ),
        (
            "i.n.max = 5",
            MemParams {
                n_max: NMax::Fixed(5),
                ..d()
            },
            [
                50.53771953,
                56.88783807,
                228.60755350,
                412.05212187,
                534.61463128,
            ],
            5,
            10,
        ),
        (
            "i.seasons = 5",
            MemParams {
                max_seasons: Some(5),
                ..d()
            },
            [
                48.38860152,
                59.01179875,
                203.49154731,
                399.63223487,
                538.53572391,
            ],
            6,
            10,
        ),
        (
            "i.type.threshold = 6, i.type.intensity = 5",
            MemParams {
                threshold_method: IntervalMethod::GeometricPoint,
                intensity_method: IntervalMethod::ArithmeticPoint,
                ..d()
            },
            [
                66.64370207,
                85.58668368,
                264.07283596,
                450.42438483,
                532.79021629,
            ],
            4,
            10,
        ),
        (
            "i.type.threshold = 1, i.tails.threshold = 2",
            MemParams {
                threshold_method: IntervalMethod::ArithmeticMean,
                threshold_tails: 2,
                ..d()
            },
            [
                34.98215580,
                36.08940372,
                249.92343346,
                441.89863002,
                568.48959635,
            ],
            4,
            10,
        ),
        (
            "i.use.t = TRUE",
            MemParams { use_t: true, ..d() },
            [
                54.51099721,
                61.93242383,
                249.35364165,
                449.88108451,
                592.44756736,
            ],
            4,
            10,
        ),
        (
            "i.level.intensity = c(0.5, 0.8, 0.95)",
            MemParams {
                intensity_levels: [0.5, 0.8, 0.95],
                ..d()
            },
            [
                53.33644935,
                60.48643097,
                274.57525062,
                375.30131557,
                505.71781470,
            ],
            4,
            10,
        ),
    ];
    for (name, p, want, n_max, length) in cases {
        let m = mem_model(&input, &p).unwrap();
        let t = m.thresholds;
        let got = [t.epidemic, t.post_epidemic, t.medium, t.high, t.very_high].map(Option::unwrap);
        for (g, w) in got.iter().zip(want) {
            assert!(close(*g, w, 1e-6), "{name}: got {got:?}, R gives {want:?}");
        }
        assert_eq!((m.n_max, m.typical_length), (n_max, length), "{name}");
    }
}
