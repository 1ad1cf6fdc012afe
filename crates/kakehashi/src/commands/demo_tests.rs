//! The demo network's surveillance curves are readable: each country's weekly SARI cases have
//! a clear seasonal peak above the noise its sites' gates add.

use super::SITES;
use kakehashi_surveillance::definition::CaseDefinition;
use kakehashi_surveillance::series::{PathogenPanel, SeriesSpec};
use std::collections::BTreeMap;

/// The demo sites are made at 1/SCALE of their size (patients and catchment alike); their
/// weekly counts times SCALE estimate the demo's.
const SCALE: u64 = 20;

/// The peak (highest 3-week mean of weekly SARI cases, the demo's size) of every season with
/// its winter inside the data must be at least this many standard deviations of the noise on
/// one week's pooled count (the noise on a 3-week mean is that over √3, so this is about 7 of
/// its own standard deviations).
const MIN_PEAK_TO_NOISE: f64 = 4.0;

/// The `site.toml` the demo writes is one the agent reads back unchanged, also when the demo's
/// directory has quotes, backslashes, non-ASCII letters and a zero-width space in its name.
#[test]
fn the_demo_site_toml_is_read_back_by_the_agent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a \"quoted\" \\ 東京\u{200b} dir");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("site.toml");
    let (token_file, site_dir, state_dir) =
        (dir.join("site.token"), dir.join("sites"), dir.join("state"));
    super::write_site_toml(
        &cfg,
        &super::DemoSiteToml {
            site_id: "jp-tokyo",
            hub: "http://127.0.0.1:8080",
            token_file: &token_file,
            site_dir: &site_dir,
            state_dir: &state_dir,
            poll_seconds: 20,
            allow_insecure: true,
            disclosure: super::demo_policy(10),
            prefill: super::demo_prefill(),
        },
    )
    .unwrap();
    let back = kakehashi_site::agent::AgentConfig::load(&cfg).unwrap();
    assert_eq!(back.site_id.as_str(), "jp-tokyo");
    assert_eq!(back.token_file.as_deref(), Some(token_file.as_path()));
    assert_eq!(back.site_dir, site_dir);
    assert_eq!(back.state_dir(), state_dir);
    assert_eq!(back.disclosure, super::demo_policy(10));
    assert_eq!(back.prefill, super::demo_prefill());
    assert_eq!(back.disclosure.tasks_per_minute, super::DEMO_RATE);
    back.disclosure.validate().unwrap();
}

#[test]
fn every_country_has_a_clear_seasonal_peak_above_the_noise() {
    let tmp = tempfile::tempdir().unwrap();
    let def = CaseDefinition::shipped("sari-icosari").unwrap();
    let panel = PathogenPanel::shipped();
    // counted as a site counts a released series: each patient at most once a week, in at
    // most k weeks (docs/privacy.md, privacy per person)
    let k = kakehashi_surveillance::per_patient::DEFAULT_MAX_WEEKS_PER_PATIENT;
    let spec = SeriesSpec {
        by: Vec::new(),
        max_weeks_per_patient: Some(k),
        ..SeriesSpec::default()
    };
    // country → (season → week → cases at the demo's size), noise variance of a pooled week
    type Seasons = BTreeMap<i32, BTreeMap<(i32, u32), f64>>;
    let mut countries: BTreeMap<&str, (Seasons, f64)> = BTreeMap::new();
    for (id, _, country, patients, min_count) in SITES {
        let fhir = tmp.path().join(format!("{id}-fhir"));
        let dir = tmp.path().join(id);
        let profile = kakehashi_synth::Profile::load(id).unwrap();
        // the demo's seed (1): the season shapes come from the seed, so these are its seasons
        kakehashi_synth::generate(&profile, patients / SCALE, 1, &fhir, &|_| {}).unwrap();
        let s = kakehashi_ingest::ingest(
            &dir,
            &[fhir],
            &kakehashi_ingest::IngestOptions::default(),
            &|_| {},
        )
        .unwrap();
        assert_eq!(s.rejected, 0);
        let snap = kakehashi_store::Store::open(&dir).current().unwrap();
        let out = kakehashi_engine::surveillance::site_series(&snap, id, None, &def, &panel, &spec)
            .unwrap();
        let (seasons, variance) = countries.entry(country).or_default();
        for r in &out.series.rows {
            let (y, w) = (r.week.year(), r.week.week());
            *seasons
                .entry(if w >= 36 { y } else { y - 1 })
                .or_default()
                .entry((y, w))
                .or_default() += (r.cases * SCALE) as f64;
        }
        // what this site's gate adds to each released weekly count (docs/privacy.md)
        *variance += kakehashi_surveillance::pooled::release_variance(
            super::demo_policy(min_count).epsilon,
            kakehashi_federation::surveillance::sensitivity(k, panel.pathogens.len()),
            1,
        );
    }
    let mut failures = Vec::new();
    for (country, (seasons, variance)) in &countries {
        let sd = variance.sqrt();
        for (season, weeks) in seasons {
            // seasons whose winter (weeks 45 to 10) lies inside the data
            if !weeks.contains_key(&(*season, 45)) || !weeks.contains_key(&(season + 1, 10)) {
                continue;
            }
            let cases: Vec<f64> = weeks.values().copied().collect();
            let peak = cases
                .windows(3)
                .map(|w| w.iter().sum::<f64>() / 3.0)
                .fold(0.0, f64::max);
            let mut sorted = cases.clone();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            eprintln!(
                "{country} {season}/{:02}: peak {peak:.0} SARI cases a week (3-week mean), median week {median:.0}, noise sd {sd:.1}: peak/noise {:.1}",
                (season + 1) % 100,
                peak / sd
            );
            if peak < MIN_PEAK_TO_NOISE * sd || peak < 2.0 * median {
                failures.push(format!(
                    "{country} {season}: peak {peak:.0}, median {median:.0}, noise sd {sd:.1}"
                ));
            }
        }
        let winters = seasons
            .iter()
            .filter(|(s, w)| w.contains_key(&(**s, 45)) && w.contains_key(&(**s + 1, 10)))
            .count();
        assert!(winters >= 7, "{country}: {winters} winters in the data");
    }
    assert_eq!(countries.len(), 2);
    assert!(
        failures.is_empty(),
        "seasons without a clear peak above the noise (at least {MIN_PEAK_TO_NOISE} noise sd and twice the median week): {failures:#?}"
    );
}
