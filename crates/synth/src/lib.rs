//! Synthetic German and Japanese hospital sites as FHIR R4 NDJSON, for the demo, the tests and
//! the benchmarks. No real patient data: every value is drawn from the distributions in a
//! profile file (`profiles/*.toml`, each figure with its source).
//!
//! Deterministic: patient `i` draws from a ChaCha RNG seeded by `(seed, i)`, so blocks of
//! patients are generated in parallel and written in a fixed order: same profile, size and seed
//! give identical bytes. The JSON is written by hand into buffers (every string written is
//! either generated here or a profile value checked for JSON safety at load time).

mod profile;
mod write;

pub use profile::{Profile, ProfileError, builtin_profiles};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use write::Out;

/// A generation failure.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The profile is invalid.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Patients.
    pub patients: u64,
    /// Resources by type.
    pub resources: BTreeMap<String, u64>,
    /// Isolates written to the WHONET-style CSV.
    pub whonet_rows: u64,
    /// Files written.
    pub files: Vec<PathBuf>,
}

impl Summary {
    /// All resources.
    pub fn total(&self) -> u64 {
        self.resources.values().sum()
    }
}

/// The resource files written, in this order.
pub const FILES: [&str; 6] = [
    "Patient",
    "Encounter",
    "Condition",
    "Observation",
    "Specimen",
    "Consent",
];

const BLOCK: u64 = 512;

/// Generates a site: `patients` patients, FHIR NDJSON files (one per resource type) and
/// `whonet.csv` in `out_dir`. `progress` is called with the patients done so far.
pub fn generate(
    profile: &Profile,
    patients: u64,
    seed: u64,
    out_dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, SynthError> {
    std::fs::create_dir_all(out_dir).map_err(|source| SynthError::Io {
        path: out_dir.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    let mut writers = Vec::new();
    for name in FILES {
        let p = out_dir.join(format!("{name}.ndjson"));
        let f = std::fs::File::create(&p).map_err(|source| SynthError::Io {
            path: p.clone(),
            source,
        })?;
        writers.push((p.clone(), std::io::BufWriter::with_capacity(1 << 20, f)));
        files.push(p);
    }
    let wp = out_dir.join("whonet.csv");
    let mut whonet =
        std::io::BufWriter::new(std::fs::File::create(&wp).map_err(|source| SynthError::Io {
            path: wp.clone(),
            source,
        })?);
    whonet
        .write_all(write::WHONET_HEADER.as_bytes())
        .map_err(|source| SynthError::Io {
            path: wp.clone(),
            source,
        })?;
    files.push(wp.clone());
    let mut summary = Summary {
        patients,
        files,
        ..Summary::default()
    };
    let blocks = patients.div_ceil(BLOCK);
    let mut done = 0u64;
    // a window of blocks in parallel, written in order: memory stays bounded
    let window = (rayon::current_num_threads() as u64 * 4).max(4);
    let mut start = 0;
    while start < blocks {
        let end = (start + window).min(blocks);
        let outs: Vec<Out> = (start..end)
            .into_par_iter()
            .map(|b| {
                let mut out = Out::default();
                for i in (b * BLOCK)..((b + 1) * BLOCK).min(patients) {
                    patient(profile, seed, i, &mut out);
                }
                out
            })
            .collect();
        for out in outs {
            for (k, (path, w)) in writers.iter_mut().enumerate() {
                w.write_all(&out.files[k])
                    .map_err(|source| SynthError::Io {
                        path: path.clone(),
                        source,
                    })?;
                *summary.resources.entry(FILES[k].to_owned()).or_default() += out.counts[k];
            }
            whonet
                .write_all(&out.whonet)
                .map_err(|source| SynthError::Io {
                    path: wp.clone(),
                    source,
                })?;
            summary.whonet_rows += out.whonet_rows;
        }
        done = (end * BLOCK).min(patients);
        progress(done);
        start = end;
    }
    let _ = done;
    for (path, mut w) in writers {
        w.flush()
            .map_err(|source| SynthError::Io { path, source })?;
    }
    whonet
        .flush()
        .map_err(|source| SynthError::Io { path: wp, source })?;
    summary.resources.retain(|_, n| *n > 0);
    Ok(summary)
}

fn rng_for(seed: u64, i: u64) -> ChaCha8Rng {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8..16].copy_from_slice(&i.to_le_bytes());
    s[16..24].copy_from_slice(b"kkhs-pt!");
    ChaCha8Rng::from_seed(s)
}

/// A season-level random draw shared by all patients of a site (peak week and height of each
/// pathogen in each season), derived from the seed only.
fn season_shape(
    seed: u64,
    site: &str,
    pathogen: usize,
    season: i32,
    peak: f64,
    sd: f64,
    cv: f64,
) -> (f64, f64) {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8..12].copy_from_slice(&(season as u32).to_le_bytes());
    s[12] = pathogen as u8;
    let h = site
        .bytes()
        .fold(0u64, |a, b| a.wrapping_mul(131).wrapping_add(b as u64));
    s[16..24].copy_from_slice(&h.to_le_bytes());
    let mut r = ChaCha8Rng::from_seed(s);
    let peak = peak + normal(&mut r) * sd;
    let height = (1.0 + normal(&mut r) * cv).max(0.2);
    (peak, height)
}

fn normal(r: &mut impl Rng) -> f64 {
    // Box–Muller
    let u1: f64 = r.random::<f64>().max(1e-12);
    let u2: f64 = r.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn poisson(r: &mut impl Rng, lambda: f64) -> u32 {
    // Knuth for the small rates used here
    let l = (-lambda).exp();
    let mut k = 0;
    let mut p = 1.0;
    loop {
        p *= r.random::<f64>();
        if p <= l || k > 50 {
            return k;
        }
        k += 1;
    }
}

fn pick<'a, T>(r: &mut impl Rng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|x| x.1).sum();
    let mut x = r.random::<f64>() * total;
    for (t, w) in items {
        if x < *w {
            return t;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

/// The Monday of ISO week `w` (may be 53) of the season starting in `season` (week 40 on).
fn week_start(season: i32, week_in_season: f64) -> NaiveDate {
    let w40 = NaiveDate::from_isoywd_opt(season, 40, chrono::Weekday::Mon).expect("week 40 exists");
    w40 + Duration::days((week_in_season * 7.0).round() as i64)
}

/// Weeks from week 40 of the season to ISO week `peak` (which falls after new year when < 40).
fn peak_offset(season: i32, peak_week: f64) -> f64 {
    let weeks_in_year = NaiveDate::from_ymd_opt(season, 12, 28)
        .expect("date")
        .iso_week()
        .week() as f64;
    if peak_week >= 40.0 {
        peak_week - 40.0
    } else {
        weeks_in_year - 40.0 + peak_week
    }
}

struct Pt<'p> {
    p: &'p Profile,
    id: String,
    birth: NaiveDate,
    female: bool,
    seq: u32,
    deceased: Option<NaiveDateTime>,
}

impl Pt<'_> {
    fn next_id(&mut self, kind: &str) -> String {
        self.seq += 1;
        format!("{}-{}{}", self.id, kind, self.seq)
    }
    fn age_at(&self, d: NaiveDate) -> i32 {
        let mut a = d.year() - self.birth.year();
        if (d.month(), d.day()) < (self.birth.month(), self.birth.day()) {
            a -= 1;
        }
        a
    }
}

fn band_share(bands: &[(i32, i32, f64)], age: i32) -> f64 {
    bands
        .iter()
        .find(|b| age >= b.0 && age <= b.1)
        .map_or(0.0, |b| b.2)
}

fn patient(p: &Profile, seed: u64, i: u64, out: &mut Out) {
    let mut r = rng_for(seed, i);
    let start = p.site.start;
    let end = p.site.end;
    let span_days = (end - start).num_days();
    // age at the start of the span
    let band = *pick(&mut r, &p.age_band_weights());
    let age0 = r.random_range(band.0..=band.1);
    let birth = start - Duration::days(age0 as i64 * 365 + r.random_range(0..365));
    let female = r.random::<f64>() < p.demographics.female_share;
    let mut pt = Pt {
        p,
        id: format!("{}-p{:07}", p.site.code, i),
        birth,
        female,
        seq: 0,
        deceased: None,
    };
    let years = span_days as f64 / 365.25;

    // events collected first, so a death ends everything after it
    let mut body = Out::default();

    // respiratory infections, season by season
    let first_season = start.year();
    let mut season = first_season;
    while week_start(season, 0.0) < end {
        for (k, path) in p.respiratory.pathogen.iter().enumerate() {
            if season < path.first_season {
                continue;
            }
            let (peak, height) = season_shape(
                seed,
                &p.site.code,
                k,
                season,
                path.peak_week,
                path.peak_sd,
                path.height_cv,
            );
            if r.random::<f64>() >= path.attack_per_season * height {
                continue;
            }
            let offset = peak_offset(season, peak) + normal(&mut r) * path.width_weeks;
            let onset = week_start(season, offset.max(0.0)) + Duration::days(r.random_range(0..7));
            if onset < start || onset >= end || pt.deceased.is_some_and(|d| d.date() <= onset) {
                continue;
            }
            let age = pt.age_at(onset);
            if age < 0 {
                continue;
            }
            respiratory_episode(&mut pt, &mut r, k, onset, age, &mut body);
        }
        season += 1;
    }

    // SFTS (Japan)
    if let Some(s) = &p.sfts {
        let rate = s.cases_per_100k / 100_000.0 * years;
        if r.random::<f64>() < rate {
            let year = r.random_range(start.year() + 1..end.year());
            let month = s.months[r.random_range(0..s.months.len())];
            let onset =
                NaiveDate::from_ymd_opt(year, month, r.random_range(1..=28)).expect("valid day");
            if pt.age_at(onset) >= s.min_age || r.random::<f64>() < 0.1 {
                sfts_case(&mut pt, &mut r, onset, &mut body);
            }
        }
    }
    // imported VHF (German treatment centres)
    if let Some(v) = &p.imported_vhf {
        for (code, display, rate) in v.cases() {
            if r.random::<f64>() < rate / 100_000.0 * years {
                let onset = start + Duration::days(r.random_range(0..span_days));
                vhf_case(&mut pt, &mut r, onset, code, display, &mut body);
            }
        }
    }
    // background contacts
    let n_out = poisson(&mut r, p.encounters.outpatient_per_year * years);
    for _ in 0..n_out {
        let d = start + Duration::days(r.random_range(0..span_days));
        if pt.deceased.is_some_and(|x| x.date() < d) {
            continue;
        }
        let at = d
            .and_hms_opt(r.random_range(8..17), r.random_range(0..60), 0)
            .expect("time");
        let eid = pt.next_id("e");
        write::encounter(
            &mut body,
            &pt.id,
            &eid,
            "AMB",
            None,
            at,
            at + Duration::minutes(30),
            None,
            None,
            &p.site.country,
        );
        if r.random::<f64>() < 0.5 {
            blood_count(&mut pt, &mut r, &eid, at, false, &mut body);
        }
    }
    // microbiology
    amr_isolates(&mut pt, &mut r, years, &mut body);

    // consent
    if let Some(c) = &p.consent
        && r.random::<f64>() < c.broad_consent_share
    {
        let d = start + Duration::days(r.random_range(0..span_days.min(365)));
        let cid = pt.next_id("consent");
        write::consent(&mut body, &pt.id, &cid, d);
    }
    // background mortality
    if pt.deceased.is_none()
        && r.random::<f64>()
            < p.demographics.background_mortality * (1.0 + pt.age_at(end) as f64 / 60.0)
    {
        let d = start + Duration::days(r.random_range(0..span_days));
        pt.deceased = Some(d.and_hms_opt(12, 0, 0).expect("time"));
    }
    write::patient(out, &pt.id, pt.female, pt.birth, pt.deceased, &p.site);
    out.append(body);
}

fn respiratory_episode(
    pt: &mut Pt<'_>,
    r: &mut ChaCha8Rng,
    k: usize,
    onset: NaiveDate,
    age: i32,
    out: &mut Out,
) {
    let p = pt.p;
    let path = &p.respiratory.pathogen[k];
    let hospitalised = r.random::<f64>() < band_share(&path.sari, age);
    let admit = (onset + Duration::days(r.random_range(0..4)))
        .and_hms_opt(r.random_range(0..24), r.random_range(0..60), 0)
        .expect("time");
    let (code, display) = &path.codes[r.random_range(0..path.codes.len())];
    if hospitalised {
        let los = r.random_range(3..14);
        let discharge = admit + Duration::days(los);
        let died = r.random::<f64>()
            < path.death
                * if age >= 80 {
                    1.8
                } else if age >= 60 {
                    1.0
                } else {
                    0.3
                };
        let eid = pt.next_id("e");
        write::encounter(
            out,
            &pt.id,
            &eid,
            "IMP",
            Some("normalstationaer"),
            admit,
            discharge,
            died.then_some(()),
            None,
            &p.site.country,
        );
        if r.random::<f64>() < path.icu {
            let icu = pt.next_id("e");
            let icu_start = admit + Duration::hours(r.random_range(2..48));
            write::encounter(
                out,
                &pt.id,
                &icu,
                "IMP",
                Some("intensivstationaer"),
                icu_start,
                icu_start + Duration::days(r.random_range(1..7)).min(discharge - icu_start),
                None,
                Some(&eid),
                &p.site.country,
            );
        }
        let cid = pt.next_id("c");
        write::condition(
            out,
            &pt.id,
            &cid,
            Some(&eid),
            &p.codes,
            code,
            display,
            onset,
            admit,
        );
        // COVID-19 is coded U07.1 with the pneumonia code as secondary diagnosis (ICOSARI)
        if code == "U07.1" && path.codes.len() > 1 {
            let cid2 = pt.next_id("c");
            write::condition(
                out,
                &pt.id,
                &cid2,
                Some(&eid),
                &p.codes,
                &path.codes[1].0,
                &path.codes[1].1,
                onset,
                admit,
            );
        }
        temperature(pt, r, &eid, admit, true, out);
        pcr_panel(pt, r, &eid, admit, &path.pcr, out);
        blood_count(pt, r, &eid, admit, false, out);
        if r.random::<f64>() < p.biobank.sari_sample_share {
            let sid = pt.next_id("s");
            let kind = if r.random::<bool>() {
                ("119364003", "Serum specimen")
            } else {
                ("119361006", "Plasma specimen")
            };
            write::specimen(
                out,
                &pt.id,
                &sid,
                kind,
                admit + Duration::hours(6),
                Some(&cid),
            );
        }
        if died {
            pt.deceased = Some(discharge);
        }
    } else {
        let eid = pt.next_id("e");
        let at = onset
            .and_hms_opt(r.random_range(8..20), 0, 0)
            .expect("time");
        write::encounter(
            out,
            &pt.id,
            &eid,
            "AMB",
            None,
            at,
            at + Duration::hours(1),
            None,
            None,
            &p.site.country,
        );
        let cid = pt.next_id("c");
        let (c, d) = if k + 1 == p.respiratory.pathogen.len() {
            ("J06.9", "acute upper respiratory infection")
        } else {
            (code.as_str(), display.as_str())
        };
        write::condition(out, &pt.id, &cid, Some(&eid), &p.codes, c, d, onset, at);
        if r.random::<f64>() < p.respiratory.outpatient_test_share {
            pcr_panel(pt, r, &eid, at, &path.pcr, out);
        }
    }
}

fn pcr_panel(
    pt: &mut Pt<'_>,
    r: &mut ChaCha8Rng,
    eid: &str,
    at: NaiveDateTime,
    positive: &str,
    out: &mut Out,
) {
    let sid = pt.next_id("s");
    write::specimen(out, &pt.id, &sid, ("258529004", "Throat swab"), at, None);
    for lab in ["influenza", "rsv", "sars-cov-2"] {
        // not every pathogen is tested every time; the causative one always
        if lab != positive && r.random::<f64>() < 0.3 {
            continue;
        }
        let oid = pt.next_id("o");
        write::pcr(
            out,
            &pt.id,
            &oid,
            eid,
            &sid,
            lab,
            lab == positive,
            at + Duration::hours(4),
            &pt.p.codes,
        );
    }
}

fn temperature(
    pt: &mut Pt<'_>,
    r: &mut ChaCha8Rng,
    eid: &str,
    at: NaiveDateTime,
    fever: bool,
    out: &mut Out,
) {
    let oid = pt.next_id("o");
    let t = if fever {
        38.0 + r.random::<f64>() * 1.8
    } else {
        36.3 + r.random::<f64>() * 0.9
    };
    write::vital_temperature(out, &pt.id, &oid, eid, at, (t * 10.0).round() / 10.0);
}

fn blood_count(
    pt: &mut Pt<'_>,
    r: &mut ChaCha8Rng,
    eid: &str,
    at: NaiveDateTime,
    sfts: bool,
    out: &mut Out,
) {
    let (plt, wbc, crp) = if sfts {
        (
            20.0 + r.random::<f64>() * 60.0,
            1.0 + r.random::<f64>() * 2.5,
            2.0 + r.random::<f64>() * 20.0,
        )
    } else {
        (
            150.0 + r.random::<f64>() * 250.0,
            4.0 + r.random::<f64>() * 7.0,
            r.random::<f64>() * 60.0,
        )
    };
    for (lab, v) in [
        ("platelets", plt.round()),
        ("wbc", (wbc * 10.0).round() / 10.0),
        ("crp", (crp * 10.0).round() / 10.0),
    ] {
        let oid = pt.next_id("o");
        write::lab_value(
            out,
            &pt.id,
            &oid,
            eid,
            at + Duration::hours(2),
            lab,
            v,
            &pt.p.codes,
        );
    }
}

fn sfts_case(pt: &mut Pt<'_>, r: &mut ChaCha8Rng, onset: NaiveDate, out: &mut Out) {
    let s = pt.p.sfts.as_ref().expect("sfts profile");
    let admit = (onset + Duration::days(r.random_range(2..6)))
        .and_hms_opt(14, 0, 0)
        .expect("time");
    let discharge = admit + Duration::days(r.random_range(7..21));
    let died = r.random::<f64>() < s.fatality;
    let eid = pt.next_id("e");
    write::encounter(
        out,
        &pt.id,
        &eid,
        "IMP",
        Some("normalstationaer"),
        admit,
        discharge,
        died.then_some(()),
        None,
        &pt.p.site.country,
    );
    if r.random::<f64>() < 0.4 {
        let icu = pt.next_id("e");
        write::encounter(
            out,
            &pt.id,
            &icu,
            "IMP",
            Some("intensivstationaer"),
            admit + Duration::days(1),
            admit + Duration::days(5),
            None,
            Some(&eid),
            &pt.p.site.country,
        );
    }
    let cid = pt.next_id("c");
    write::condition(
        out,
        &pt.id,
        &cid,
        Some(&eid),
        &pt.p.codes,
        &s.code.0,
        &s.code.1,
        onset,
        admit,
    );
    temperature(pt, r, &eid, admit, true, out);
    blood_count(pt, r, &eid, admit, true, out);
    if died {
        pt.deceased = Some(discharge);
    }
}

fn vhf_case(
    pt: &mut Pt<'_>,
    r: &mut ChaCha8Rng,
    onset: NaiveDate,
    code: &str,
    display: &str,
    out: &mut Out,
) {
    let admit = (onset + Duration::days(r.random_range(1..5)))
        .and_hms_opt(10, 0, 0)
        .expect("time");
    let eid = pt.next_id("e");
    let severe = code != "A97.1" || r.random::<f64>() < 0.1;
    let died = code != "A97.1" && r.random::<f64>() < 0.25;
    let discharge = admit + Duration::days(r.random_range(5..25));
    write::encounter(
        out,
        &pt.id,
        &eid,
        "IMP",
        Some("normalstationaer"),
        admit,
        discharge,
        died.then_some(()),
        None,
        &pt.p.site.country,
    );
    if severe {
        let icu = pt.next_id("e");
        write::encounter(
            out,
            &pt.id,
            &icu,
            "IMP",
            Some("intensivstationaer"),
            admit + Duration::hours(6),
            admit + Duration::days(4),
            None,
            Some(&eid),
            &pt.p.site.country,
        );
    }
    let cid = pt.next_id("c");
    write::condition(
        out,
        &pt.id,
        &cid,
        Some(&eid),
        &pt.p.codes,
        code,
        display,
        onset,
        admit,
    );
    temperature(pt, r, &eid, admit, true, out);
    blood_count(pt, r, &eid, admit, code != "A97.1", out);
    let sid = pt.next_id("s");
    write::specimen(
        out,
        &pt.id,
        &sid,
        ("119364003", "Serum specimen"),
        admit + Duration::hours(2),
        Some(&cid),
    );
    if died {
        pt.deceased = Some(discharge);
    }
}

fn amr_isolates(pt: &mut Pt<'_>, r: &mut ChaCha8Rng, years: f64, out: &mut Out) {
    let p = pt.p;
    let span = (p.site.end - p.site.start).num_days();
    for (kind, rate) in [
        ("blood", p.amr.blood_isolates_per_year),
        ("urine", p.amr.urine_isolates_per_year),
    ] {
        let n = poisson(r, rate * years);
        for _ in 0..n {
            let day = p.site.start + Duration::days(r.random_range(0..span));
            if pt.deceased.is_some_and(|d| d.date() < day) {
                continue;
            }
            let mix = if kind == "blood" {
                &p.amr.organism_mix_blood
            } else {
                &p.amr.organism_mix_urine
            };
            let org = pick(r, mix).clone();
            // the strain's resistance is drawn once; repeat isolates share it
            let strain: Vec<(String, bool)> = p
                .panel_for(&org)
                .iter()
                .map(|bp| {
                    (
                        bp.drug.clone(),
                        r.random::<f64>() < p.resistance_share(&org, &bp.drug),
                    )
                })
                .collect();
            let repeats = if r.random::<f64>() < p.amr.repeat_isolate_share {
                r.random_range(1..=2)
            } else {
                0
            };
            let at0 = day
                .and_hms_opt(r.random_range(0..24), r.random_range(0..60), 0)
                .expect("time");
            let eid = pt.next_id("e");
            write::encounter(
                out,
                &pt.id,
                &eid,
                "IMP",
                Some("normalstationaer"),
                at0,
                at0 + Duration::days(r.random_range(3..20)),
                None,
                None,
                &p.site.country,
            );
            for k in 0..=repeats {
                let at = at0 + Duration::days(k as i64 * r.random_range(2..15));
                isolate(pt, r, &eid, at, kind, &org, &strain, out);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn isolate(
    pt: &mut Pt<'_>,
    r: &mut ChaCha8Rng,
    eid: &str,
    at: NaiveDateTime,
    kind: &str,
    org: &str,
    strain: &[(String, bool)],
    out: &mut Out,
) {
    let p = pt.p;
    let sid = pt.next_id("s");
    let spec = if kind == "blood" {
        ("119297000", "Blood specimen")
    } else {
        ("122575003", "Urine specimen")
    };
    write::specimen(out, &pt.id, &sid, spec, at, None);
    let iso = pt.next_id("o");
    let organism = p.organism(org);
    let mut members = Vec::new();
    let mut results = Vec::new();
    for (drug, resistant) in strain {
        let bp = p
            .panel_for(org)
            .iter()
            .find(|b| &b.drug == drug)
            .expect("panel drug");
        let (mic, cmp) = draw_mic(r, bp, *resistant, p.uses_eucast());
        let (s_bp, r_bp) = if p.uses_eucast() {
            (bp.eucast_s, bp.eucast_r)
        } else {
            (bp.clsi_s, bp.clsi_r)
        };
        let sir = interpret(mic, cmp, s_bp, r_bp, p.uses_eucast());
        let oid = pt.next_id("o");
        members.push(oid.clone());
        results.push((oid, drug.clone(), mic, cmp, sir));
    }
    write::isolate(
        out,
        &pt.id,
        &iso,
        eid,
        &sid,
        at + Duration::days(2),
        kind,
        organism,
        &members,
    );
    for (oid, drug, mic, cmp, sir) in &results {
        write::susceptibility(
            out,
            &pt.id,
            oid,
            eid,
            &iso,
            at + Duration::days(2),
            p.drug(drug),
            *mic,
            *cmp,
            sir,
            &p.amr.guideline,
        );
    }
    out.whonet_row(
        &p.site.code,
        &pt.id,
        pt.female,
        pt.age_at(at.date()),
        &sid,
        kind,
        at.date(),
        organism,
        &results,
        p,
    );
}

/// Doubling dilutions from 0.03 to 256 mg/L.
const DILUTIONS: [f64; 14] = [
    0.03, 0.06, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0,
];

/// An MIC for a susceptible or resistant strain: a few dilutions below the S breakpoint or
/// above the R breakpoint of the lab's guideline, off-scale values with a comparator.
fn draw_mic(
    r: &mut ChaCha8Rng,
    bp: &profile::Breakpoint,
    resistant: bool,
    eucast: bool,
) -> (f64, Option<&'static str>) {
    let (s, rr) = if eucast {
        (bp.eucast_s, bp.eucast_r)
    } else {
        (bp.clsi_s, bp.clsi_r)
    };
    let idx = |v: f64| {
        DILUTIONS
            .iter()
            .position(|d| *d >= v - 1e-9)
            .unwrap_or(DILUTIONS.len() - 1) as i64
    };
    let i = if resistant {
        let base = if eucast { idx(rr) + 1 } else { idx(rr) };
        base + r.random_range(0..3)
    } else {
        let top = if s < DILUTIONS[0] { 0 } else { idx(s) };
        top - r.random_range(0..4)
    };
    if i <= 0 {
        (DILUTIONS[0], Some("<="))
    } else if i as usize >= DILUTIONS.len() - 1 {
        (DILUTIONS[DILUTIONS.len() - 1], Some(">="))
    } else {
        (DILUTIONS[i as usize], None)
    }
}

/// The lab's own reading: EUCAST S ≤ S-bp, R > R-bp; CLSI S ≤ S-bp, R ≥ R-bp.
fn interpret(mic: f64, cmp: Option<&str>, s: f64, r: f64, eucast: bool) -> &'static str {
    let _ = cmp;
    if mic <= s + 1e-9 {
        "S"
    } else if (eucast && mic > r + 1e-9) || (!eucast && mic >= r - 1e-9) {
        "R"
    } else {
        "I"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_and_peaks() {
        // 2020 has 53 ISO weeks: week 7 of 2021 is 53-40+7 weeks after week 40 of 2020
        assert_eq!(peak_offset(2020, 7.0), 20.0);
        assert_eq!(peak_offset(2021, 7.0), 19.0);
        assert_eq!(peak_offset(2021, 48.0), 8.0);
        assert_eq!(
            week_start(2021, 0.0),
            NaiveDate::from_ymd_opt(2021, 10, 4).unwrap()
        );
    }

    #[test]
    fn lab_reading_follows_each_guideline() {
        assert_eq!(interpret(2.0, None, 2.0, 2.0, true), "S");
        assert_eq!(interpret(4.0, None, 2.0, 2.0, true), "R");
        assert_eq!(interpret(4.0, None, 2.0, 8.0, true), "I");
        assert_eq!(interpret(8.0, None, 2.0, 8.0, true), "I");
        assert_eq!(interpret(8.0, None, 2.0, 8.0, false), "R");
    }
}
