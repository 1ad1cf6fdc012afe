//! Synthetic German and Japanese hospital sites as FHIR R4 NDJSON, for the demo, the tests and
//! the benchmarks. No real patient data: every value is drawn from the distributions in a
//! profile file (`profiles/*.toml`, each figure with its source).
//!
//! Deterministic: patient `i` draws from a ChaCha RNG seeded by `(seed, i)`, so blocks of
//! patients are generated in parallel and written in a fixed order: same profile, size and seed
//! give identical bytes. The JSON is written by hand into buffers (every string written is
//! either generated here or a profile value checked for JSON safety at load time).

mod biobank;
mod care;
mod clsi;
mod episodes;
mod micro;
mod morbidity;
mod profile;
mod write;

pub use biobank::catalogue_toml;
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
pub const FILES: [&str; 11] = [
    "Patient",
    "Encounter",
    "Condition",
    "Observation",
    "Specimen",
    "Consent",
    "Procedure",
    "Medication",
    "MedicationAdministration",
    "MedicationRequest",
    "MedicationStatement",
];

const BLOCK: u64 = 512;

/// One part of a site split by patient number: the patients `i` with `i % of == index`.
/// Generating every part of a site gives exactly the resources of generating it whole (each
/// patient draws from a random stream of its own number), so a site too large for one folder
/// of NDJSON is made and loaded part by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part (0-based).
    pub index: u64,
    /// Of how many.
    pub of: u64,
}

impl Shard {
    /// The whole site.
    pub const WHOLE: Shard = Shard { index: 0, of: 1 };

    /// Parses `K/N` (part K of N, 0 ≤ K < N).
    pub fn parse(text: &str) -> Option<Shard> {
        let (k, n) = text.split_once('/')?;
        let (index, of) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
        (of > 0 && index < of).then_some(Shard { index, of })
    }

    fn holds(self, patient: u64) -> bool {
        patient % self.of == self.index
    }
}

/// Generates a site: `patients` patients, FHIR NDJSON files (one per resource type) and
/// `whonet.csv` in `out_dir`. `progress` is called with the patients done so far.
pub fn generate(
    profile: &Profile,
    patients: u64,
    seed: u64,
    out_dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, SynthError> {
    generate_shard(profile, patients, seed, Shard::WHOLE, out_dir, progress)
}

/// [`generate`] for one part of the site ([`Shard`]); the shared Medication resources are
/// written with part 0. The summary counts the part's patients.
pub fn generate_shard(
    profile: &Profile,
    patients: u64,
    seed: u64,
    shard: Shard,
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
    // one Medication resource per drug, referenced by the patients' medication records
    let mut meds = Out::default();
    if shard.index == 0 {
        profile
            .care
            .write_medications(&profile.site.code, &mut meds);
    }
    for (k, (path, w)) in writers.iter_mut().enumerate() {
        w.write_all(&meds.files[k])
            .map_err(|source| SynthError::Io {
                path: path.clone(),
                source,
            })?;
        *summary.resources.entry(FILES[k].to_owned()).or_default() += meds.counts[k];
    }
    // SARI admissions from the catchment, one patient each after the generated patients
    let admissions = catchment_admissions(profile, patients, seed);
    let total = patients + admissions.len() as u64;
    // the numbers index, index + of, ... below total
    summary.patients = total
        .checked_sub(shard.index)
        .map_or(0, |n| n.div_ceil(shard.of));
    let blocks = total.div_ceil(BLOCK);
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
                for i in (b * BLOCK)..((b + 1) * BLOCK).min(total) {
                    if !shard.holds(i) {
                        continue;
                    }
                    match i.checked_sub(patients) {
                        None => patient(profile, seed, i, &mut out),
                        Some(j) => {
                            catchment_patient(profile, seed, i, &admissions[j as usize], &mut out)
                        }
                    }
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
        done = (end * BLOCK).min(total);
        progress(done.min(patients));
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
    stream(seed, i, b"kkhs-pt!")
}

/// A patient's random stream `tag` (8 bytes).
fn stream(seed: u64, i: u64, tag: &[u8; 8]) -> ChaCha8Rng {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8..16].copy_from_slice(&i.to_le_bytes());
    s[16..24].copy_from_slice(tag);
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

pub(crate) fn normal(r: &mut impl Rng) -> f64 {
    // Box–Muller
    let u1: f64 = r.random::<f64>().max(1e-12);
    let u2: f64 = r.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

pub(crate) fn poisson(r: &mut impl Rng, lambda: f64) -> u32 {
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

pub(crate) fn pick<'a, T>(r: &mut impl Rng, items: &'a [(T, f64)]) -> &'a T {
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

pub(crate) struct Pt<'p> {
    p: &'p Profile,
    id: String,
    birth: NaiveDate,
    female: bool,
    seq: u32,
    deceased: Option<NaiveDateTime>,
    /// The latest end of anything recorded so far (a background death comes after it).
    last: NaiveDateTime,
    /// A second stream for morbidity, procedures and medications, so that the seasonal and
    /// microbiological draws do not depend on the care tables.
    cr: ChaCha8Rng,
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
    /// Born by `d` and not dead before it.
    fn alive_on(&self, d: NaiveDate) -> bool {
        d >= self.birth && self.deceased.is_none_or(|x| d <= x.date())
    }
    fn german(&self) -> bool {
        self.p.site.country == "DE"
    }
    fn seen(&mut self, t: NaiveDateTime) {
        self.last = self.last.max(t);
    }
    fn write_stay(&mut self, out: &mut Out, e: &write::Stay<'_>) -> String {
        let id = self.next_id("e");
        write::encounter(out, &self.id, &id, e, &self.p.site.country);
        self.seen(e.end);
        id
    }
    /// An inpatient stay: in Germany an Einrichtungskontakt with its Abteilungskontakt in the
    /// department `dept` (MII contact levels); in Japan one encounter. Returns the ids of the
    /// stay and of the department contact (the same in Japan).
    fn stay(
        &mut self,
        out: &mut Out,
        start: NaiveDateTime,
        end: NaiveDateTime,
        died: bool,
        dept: &str,
    ) -> (String, String) {
        let de = self.german();
        let level = de.then_some("einrichtungskontakt");
        let top = self.write_stay(
            out,
            &write::Stay {
                class: "IMP",
                level,
                kontaktart: Some("normalstationaer"),
                dept: None,
                start,
                end,
                died,
                part_of: None,
            },
        );
        if !de {
            return (top.clone(), top);
        }
        let d = self.write_stay(
            out,
            &write::Stay {
                class: "IMP",
                level: Some("abteilungskontakt"),
                kontaktart: Some("normalstationaer"),
                dept: Some(dept),
                start,
                end,
                died,
                part_of: Some(&top),
            },
        );
        (top, d)
    }
    /// Intensive care inside a stay (Germany: an Abteilungskontakt of department 3600).
    fn icu(
        &mut self,
        out: &mut Out,
        top: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> String {
        let de = self.german();
        self.write_stay(
            out,
            &write::Stay {
                class: "IMP",
                level: de.then_some("abteilungskontakt"),
                kontaktart: Some("intensivstationaer"),
                dept: de.then_some("3600"),
                start,
                end,
                died: false,
                part_of: Some(top),
            },
        )
    }
    /// An operation inside a department contact (Germany: a Versorgungsstellenkontakt).
    fn operation(
        &mut self,
        out: &mut Out,
        dept_contact: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> String {
        self.write_stay(
            out,
            &write::Stay {
                class: "IMP",
                level: Some("versorgungsstellenkontakt"),
                kontaktart: Some("operation"),
                dept: Some("1500"),
                start,
                end,
                died: false,
                part_of: Some(dept_contact),
            },
        )
    }
    /// An outpatient contact (Germany: an Einrichtungskontakt).
    fn outpatient(&mut self, out: &mut Out, start: NaiveDateTime, end: NaiveDateTime) -> String {
        let level = self.german().then_some("einrichtungskontakt");
        self.write_stay(
            out,
            &write::Stay {
                class: "AMB",
                level,
                kontaktart: None,
                dept: None,
                start,
                end,
                died: false,
                part_of: None,
            },
        )
    }
    /// A procedure by key, if the country records it.
    fn procedure(
        &mut self,
        out: &mut Out,
        encounter: &str,
        key: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> bool {
        let p = self.p;
        let id = format!("{}-x{}", self.id, self.seq + 1);
        if p.care
            .procedure(out, &self.id, &id, encounter, key, start, end)
        {
            self.seq += 1;
            true
        } else {
            false
        }
    }
    /// The drug for `situation`, if one is given (drawn from the care tables).
    fn treat(
        &mut self,
        out: &mut Out,
        situation: &str,
        encounter: &str,
        at: NaiveDateTime,
        days: i64,
    ) {
        let p = self.p;
        if let Some((atc, kind)) = p.care.pick(&mut self.cr, situation, at) {
            let id = self.next_id("m");
            p.care.medication(
                out,
                &p.site.code,
                &self.id,
                &id,
                encounter,
                atc,
                kind,
                at,
                at + Duration::days(days),
            );
        }
    }
}

fn band_share(bands: &[(i32, i32, f64)], age: i32) -> f64 {
    bands
        .iter()
        .find(|b| age >= b.0 && age <= b.1)
        .map_or(0.0, |b| b.2)
}

/// `day` at `hour:minute`. Every caller passes an hour below 24 and a minute below 60, drawn or
/// fixed; anything else falls back to midnight instead of panicking.
pub(crate) fn at(day: NaiveDate, hour: u32, minute: u32) -> NaiveDateTime {
    day.and_time(chrono::NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(chrono::NaiveTime::MIN))
}

/// A uniformly drawn moment between `from` and `to` (dates), at a daytime hour.
fn moment(r: &mut impl Rng, from: NaiveDate, to: NaiveDate) -> Option<NaiveDateTime> {
    let days = (to - from).num_days();
    (days > 0).then(|| {
        crate::at(
            from + Duration::days(r.random_range(0..days)),
            r.random_range(8..18),
            r.random_range(0..60),
        )
    })
}

fn patient(p: &Profile, seed: u64, i: u64, out: &mut Out) {
    let mut r = rng_for(seed, i);
    let start = p.site.start;
    let end = p.site.end;
    let span_days = (end - start).num_days();
    let years = span_days as f64 / 365.25;
    // born during the span (births per 1,000 and year), else of an age at the span's start
    let born_in_span = r.random::<f64>() < p.demographics.births_per_1000_per_year / 1000.0 * years;
    let birth = if born_in_span {
        start + Duration::days(r.random_range(0..span_days))
    } else {
        let band = *pick(&mut r, &p.age_band_weights());
        let age0 = r.random_range(band.0..=band.1);
        start - Duration::days(age0 as i64 * 365 + r.random_range(0..365))
    };
    let female = r.random::<f64>() < p.demographics.female_share;
    let mut cr = stream(seed, i, b"kkhs-mb!");
    let mut pt = Pt {
        p,
        id: format!("{}-p{:07}", p.site.code, i),
        birth,
        female,
        seq: 0,
        deceased: None,
        last: crate::at(start, 0, 0),
        cr: stream(seed, i, b"kkhs-cr!"),
    };
    let band = morbidity::band_of(pt.age_at(start).max(0));

    // events collected first, so a death ends everything after it
    let mut body = Out::default();
    if born_in_span {
        pt.seen(crate::at(birth, 0, 0));
    }

    // background morbidity: latent risks, then each diagnosis of the table
    let z: [f64; 8] = std::array::from_fn(|_| normal(&mut cr));
    if born_in_span {
        episodes::birth_stay(&mut pt, &mut body, &z);
    }
    let mut chronic = Vec::new();
    let mut acute = Vec::new();
    for d in &p.morbidity {
        let u: f64 = cr.random();
        match d.setting {
            morbidity::Setting::Birth => {}
            morbidity::Setting::Amb if d.present(band, female, &z, u) => chronic.push(d),
            morbidity::Setting::Imp if d.present(band, female, &z, u) => acute.push(d),
            _ => {}
        }
    }
    let from = start.max(birth);
    // inpatient stays for acute diagnoses, in date order: a death in hospital ends the series
    let mut stays: Vec<(NaiveDateTime, &morbidity::Diagnosis)> = acute
        .into_iter()
        .filter_map(|d| moment(&mut cr, from, end).map(|t| (t, d)))
        .collect();
    stays.sort_by_key(|s| s.0);
    for (at, d) in stays {
        if pt.alive_on(at.date()) && at > pt.last {
            episodes::morbidity_stay(&mut pt, &mut body, d, at);
        }
    }

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
            if onset < start
                || onset >= end
                || !pt.alive_on(onset)
                || pt.deceased.is_some_and(|d| d.date() <= onset)
            {
                continue;
            }
            let age = pt.age_at(onset);
            episodes::respiratory_episode(&mut pt, &mut r, k, onset, age, &mut body);
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
            if pt.alive_on(onset) && (pt.age_at(onset) >= s.min_age || r.random::<f64>() < 0.1) {
                episodes::sfts_case(&mut pt, &mut r, onset, &mut body);
            }
        }
    }
    // imported VHF (German treatment centres)
    if let Some(v) = &p.imported_vhf {
        for (code, display, rate) in v.cases() {
            if r.random::<f64>() < rate / 100_000.0 * years {
                let onset = start + Duration::days(r.random_range(0..span_days));
                if pt.alive_on(onset) {
                    episodes::vhf_case(&mut pt, &mut r, onset, code, display, &mut body);
                }
            }
        }
    }
    // background contacts
    let n_out = poisson(&mut r, p.encounters.outpatient_per_year * years);
    for _ in 0..n_out {
        let d = start + Duration::days(r.random_range(0..span_days));
        if !pt.alive_on(d) {
            continue;
        }
        let at = crate::at(d, r.random_range(8..17), r.random_range(0..60));
        let eid = pt.outpatient(&mut body, at, at + Duration::minutes(30));
        if r.random::<f64>() < 0.5 {
            episodes::blood_count(&mut pt, &mut r, &eid, at, false, &mut body);
        }
    }
    // microbiology
    micro::amr_isolates(&mut pt, &mut r, years, &mut body);

    // chronic diagnoses, their long-term drugs and dialysis, recorded at an outpatient contact
    if !chronic.is_empty() {
        let until = pt.deceased.map_or(end, |d| d.date());
        if let Some(at) = moment(&mut cr, from, until) {
            chronic_contact(&mut pt, &mut body, &chronic, at, until);
        }
    }

    // consent
    if let Some(c) = &p.consent
        && r.random::<f64>() < c.broad_consent_share
    {
        let d = from + Duration::days(r.random_range(0..span_days.min(365)));
        if d < end && pt.alive_on(d) {
            let cid = pt.next_id("consent");
            write::consent(&mut body, &pt.id, &cid, d);
        }
    }
    // background mortality, after everything recorded
    if pt.deceased.is_none()
        && r.random::<f64>()
            < p.demographics.background_mortality * (1.0 + pt.age_at(end) as f64 / 60.0)
    {
        let after = pt.last.date() + Duration::days(1);
        if let Some(t) = moment(&mut r, after.max(start), end) {
            pt.deceased = Some(crate::at(t.date(), 12, 0));
        }
    }
    write::patient(out, &pt.id, pt.female, pt.birth, pt.deceased, &p.site);
    out.append(body);
}

/// A SARI admission of a catchment inhabitant: pathogen, onset, sex and age band drawn.
struct Admission {
    pathogen: usize,
    onset: NaiveDate,
    age: i32,
    female: bool,
}

/// The SARI admissions of the site's catchment beyond its generated patients: for a population
/// `catchment × patients` with the profile's age and sex structure, season by season and per
/// pathogen, a Poisson number of admissions with mean `Σ_age inhabitants × attack × height ×
/// hospitalised share(age)`, the same expectation as the generated patients' own SARI
/// episodes, on the same season shapes. Only the admissions are drawn, never the inhabitants,
/// so the cost grows with the admissions, not with the catchment.
fn catchment_admissions(p: &Profile, patients: u64, seed: u64) -> Vec<Admission> {
    let population = patients as f64 * p.respiratory.catchment;
    let mut out = Vec::new();
    if population <= 0.0 {
        return out;
    }
    let (start, end) = (p.site.start, p.site.end);
    // inhabitants per year of age
    let bands = p.age_band_weights();
    let total_w: f64 = bands.iter().map(|b| b.1).sum();
    let mut season = start.year();
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
            let attack = (path.attack_per_season * height).min(1.0);
            let ages: Vec<(i32, f64)> = bands
                .iter()
                .flat_map(|((lo, hi), w)| {
                    let per_year = population * w / total_w / f64::from(hi - lo + 1);
                    (*lo..=*hi).map(move |a| (a, per_year))
                })
                .map(|(a, n)| (a, n * attack * band_share(&path.sari, a)))
                .collect();
            let mean: f64 = ages.iter().map(|a| a.1).sum();
            let mut r = stream(seed, (season as u64) << 8 | k as u64, b"kkhs-ca!");
            let n = poisson_any(&mut r, mean);
            for _ in 0..n {
                let age = *pick(&mut r, &ages);
                let female = r.random::<f64>() < p.demographics.female_share;
                let offset = peak_offset(season, peak) + normal(&mut r) * path.width_weeks;
                let onset =
                    week_start(season, offset.max(0.0)) + Duration::days(r.random_range(0..7));
                if onset >= start && onset < end {
                    out.push(Admission {
                        pathogen: k,
                        onset,
                        age,
                        female,
                    });
                }
            }
        }
        season += 1;
    }
    out
}

/// A Poisson draw for any mean: Knuth's method for small means, the normal approximation
/// (rounded, at least 0) from 30 on.
fn poisson_any(r: &mut impl Rng, mean: f64) -> u64 {
    if mean < 30.0 {
        u64::from(poisson(r, mean))
    } else {
        (mean + mean.sqrt() * normal(r)).round().max(0.0) as u64
    }
}

/// A catchment inhabitant admitted with SARI: a patient with that stay only.
fn catchment_patient(p: &Profile, seed: u64, i: u64, a: &Admission, out: &mut Out) {
    let mut r = rng_for(seed, i);
    let birth = a
        .onset
        .with_year(a.onset.year() - a.age)
        .unwrap_or_else(|| a.onset - Duration::days(i64::from(a.age) * 365))
        - Duration::days(r.random_range(0..365));
    let mut pt = Pt {
        p,
        id: format!("{}-p{:07}", p.site.code, i),
        birth,
        female: a.female,
        seq: 0,
        deceased: None,
        last: crate::at(p.site.start, 0, 0),
        cr: stream(seed, i, b"kkhs-cr!"),
    };
    let mut body = Out::default();
    let (eid, admit) = episodes::sari_admission(&mut pt, &mut r, a.pathogen, a.onset, &mut body);
    // the chronic diagnoses of the background population, recorded as those of the stay
    let mut cr = stream(seed, i, b"kkhs-mb!");
    let z: [f64; 8] = std::array::from_fn(|_| normal(&mut cr));
    let band = morbidity::band_of(a.age);
    for d in &p.morbidity {
        let u: f64 = cr.random();
        if matches!(d.setting, morbidity::Setting::Amb) && d.present(band, a.female, &z, u) {
            let onset = (admit.date() - Duration::days(cr.random_range(0..(3 * 365)))).max(birth);
            let cid = pt.next_id("c");
            write::condition(
                &mut body,
                &pt.id,
                &cid,
                Some(&eid),
                &p.codes,
                &d.code,
                &d.display,
                onset,
                admit,
            );
        }
    }
    write::patient(out, &pt.id, pt.female, pt.birth, pt.deceased, &p.site);
    out.append(body);
}

/// The outpatient contact where a patient's chronic diagnoses are recorded, with long-term
/// drugs (MedicationStatement) and, for kidney failure, dialysis sessions until `until`.
fn chronic_contact(
    pt: &mut Pt<'_>,
    out: &mut Out,
    chronic: &[&morbidity::Diagnosis],
    at: NaiveDateTime,
    until: NaiveDate,
) {
    let p = pt.p;
    let eid = pt.outpatient(out, at, at + Duration::minutes(30));
    let mut drugs: Vec<&str> = Vec::new();
    for d in chronic {
        let back = pt.cr.random_range(0..(3 * 365));
        let onset = (at.date() - Duration::days(back)).max(pt.birth);
        let cid = pt.next_id("c");
        write::condition(
            out,
            &pt.id,
            &cid,
            Some(&eid),
            &p.codes,
            &d.code,
            &d.display,
            onset,
            at,
        );
        for (atc, share) in p.care.long_term_for(&d.code) {
            if !drugs.contains(&atc.as_str()) && pt.cr.random::<f64>() < *share {
                drugs.push(atc);
                let id = pt.next_id("m");
                p.care.medication(
                    out,
                    &p.site.code,
                    &pt.id,
                    &id,
                    &eid,
                    atc,
                    care::Kind::Statement,
                    at,
                    at,
                );
            }
        }
    }
    if chronic
        .iter()
        .any(|d| d.code.starts_with("N18.5") || d.code.starts_with("Z99.2"))
        && p.care.dialysis_per_year > 0.0
    {
        let step = Duration::days((365.0 / p.care.dialysis_per_year).round().max(1.0) as i64);
        let mut t = at + Duration::days(1);
        while t.date() < until {
            let e = pt.outpatient(out, t, t + Duration::hours(4));
            pt.procedure(out, &e, "dialysis", t, t + Duration::hours(4));
            t += step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catchment's admissions grow with it, none without one, all inside the span, and
    /// they follow the seasons (more in winter weeks 40-13 than in summer weeks 14-39).
    #[test]
    fn catchment_admissions_scale_with_the_catchment_and_follow_the_seasons() {
        let mut p = Profile::load("de-berlin").unwrap();
        p.respiratory.catchment = 0.0;
        assert!(catchment_admissions(&p, 1000, 1).is_empty());
        p.respiratory.catchment = 10.0;
        let a = catchment_admissions(&p, 1000, 1);
        p.respiratory.catchment = 20.0;
        let b = catchment_admissions(&p, 1000, 1);
        let ratio = b.len() as f64 / a.len() as f64;
        assert!(
            a.len() > 300 && (1.7..2.3).contains(&ratio),
            "{} vs {}",
            a.len(),
            b.len()
        );
        assert!(
            b.iter()
                .all(|x| x.onset >= p.site.start && x.onset < p.site.end)
        );
        let winter = b
            .iter()
            .filter(|x| !(14..40).contains(&x.onset.iso_week().week()))
            .count();
        assert!(
            winter as f64 > 2.0 * (b.len() - winter) as f64,
            "{winter} of {}",
            b.len()
        );
        assert!(b.iter().all(|x| (0..=99).contains(&x.age)));
    }

    #[test]
    fn japanese_labs_carry_the_jlac10_table_codes() {
        for (loinc, want) in [
            ("6690-2", "2A990000001930952"),
            ("777-3", "2A050000001930901"),
            ("94500-6", "5F625145006387511"),
            ("92131-2", "5F430145006387511"),
        ] {
            assert_eq!(write::jlac10_for(loinc), Some(want), "{loinc}");
        }
    }

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
}
