//! The federated antibiogram: the question ([`AntibiogramSpec`]) and a site's answer
//! ([`AntibiogramCounts`]), which holds integer counts only: per (year, organism, drug) the
//! isolates tested and how many read S, I, R, SDD and NI under the requested guideline, and per
//! (year, organism) the first isolates and their MDRO classes. No isolate, patient or date
//! leaves a site in it.

use crate::AmrError;
use crate::breakpoints::{
    Guideline, InfectionSite, Interpreter, Measurement, Method, Resolution, Sir,
};
use crate::isolate::{FirstIsolateRule, Isolate, select_first};
use crate::mdro::{Magiorakos, Mrgn};
use crate::per_patient;
use crate::reference::{AbId, MoId, Reference};
use chrono::{Datelike, NaiveDate};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, HashSet};

/// An inclusive date range; open ends allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// First specimen date counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// Last specimen date counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
}

impl Period {
    /// Is the date inside?
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t)
    }
}

/// A cumulative antibiogram question, as a researcher states it and every site answers it.
///
/// JSON example:
/// `{"guideline":"EUCAST 2025","organisms":["Escherichia coli","K. pneumoniae"],
///   "antimicrobials":["MEM","Ciprofloxacin"],"period":{"from":"2023-01-01","to":"2024-12-31"},
///   "specimen_types":["blood"],"first_isolate":{"method":"m39"},"by_year":true}`
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AntibiogramSpec {
    /// Guideline and version every site reads the raw values with, e.g. `EUCAST 2025`.
    pub guideline: Guideline,
    /// Organisms (names, codes, SNOMED CT; species or higher taxa, an isolate counts under
    /// every one in its lineage, so the order of the list means nothing); empty = every species
    /// found.
    #[serde(default)]
    pub organisms: Vec<String>,
    /// Antimicrobials (names, codes, ATC); empty = every drug tested.
    #[serde(default)]
    pub antimicrobials: Vec<String>,
    /// Specimen dates counted.
    #[serde(default)]
    pub period: Period,
    /// Specimen types (`blood`, `urine`, `csf`, `sputum`, or SNOMED CT codes); empty = all.
    #[serde(default)]
    pub specimen_types: Vec<String>,
    /// Which isolates count (default CLSI M39 first isolates).
    #[serde(default)]
    pub first_isolate: FirstIsolateRule,
    /// One antibiogram per calendar year (M39 first isolates per year), for trends.
    #[serde(default)]
    pub by_year: bool,
    /// Site of infection the breakpoints are chosen for (default: systemic).
    #[serde(default)]
    pub infection_site: InfectionSite,
    /// At most this many first isolates of one patient are counted in the whole table (the
    /// patient's earliest), so one patient moves the released counts by a bounded amount
    /// ([`crate::per_patient`]); 1 to
    /// [`MAX_ISOLATES_PER_PATIENT_LIMIT`](crate::per_patient::MAX_ISOLATES_PER_PATIENT_LIMIT),
    /// default [`DEFAULT_MAX_ISOLATES_PER_PATIENT`](crate::per_patient::DEFAULT_MAX_ISOLATES_PER_PATIENT).
    #[serde(
        default = "per_patient::default_max_isolates",
        deserialize_with = "per_patient::deserialize_max_isolates"
    )]
    pub max_isolates_per_patient: u32,
}

/// Specimen-type short names and the SNOMED CT specimen concepts (and LOINC culture codes)
/// they stand for.
const SPECIMEN_ALIASES: &[(&str, &[&str])] = &[
    ("blood", &["119297000", "600-7"]),
    ("urine", &["122575003", "630-4"]),
    ("csf", &["258450006", "606-0"]),
    ("sputum", &["119334006", "624-5"]),
];

/// The canonical short name of a specimen type (alias or code), lower case.
pub fn specimen_key(s: &str) -> String {
    let t = s.trim().to_lowercase();
    for (name, codes) in SPECIMEN_ALIASES {
        if t == *name || codes.contains(&t.as_str()) {
            return name.to_string();
        }
    }
    t
}

/// A spec with every name resolved.
pub struct ResolvedSpec {
    /// Organisms asked for (in spec order), empty = all.
    pub organisms: Vec<MoId>,
    /// Drugs asked for, empty = all tested.
    pub antimicrobials: Vec<AbId>,
    /// Specimen keys asked for, empty = all.
    pub specimen_types: HashSet<String>,
}

impl AntibiogramSpec {
    /// Resolves every organism and drug name; an unknown one is an error naming it.
    pub fn resolve(&self, r: &Reference) -> Result<ResolvedSpec, AmrError> {
        let mut organisms = Vec::new();
        for (i, o) in self.organisms.iter().enumerate() {
            let m = r.find_organism(o).ok_or_else(|| AmrError::Field {
                field: format!("organisms[{i}]"),
                problem: format!("unknown organism {o:?}"),
            })?;
            if !organisms.contains(&m) {
                organisms.push(m);
            }
        }
        let mut antimicrobials = Vec::new();
        for (i, a) in self.antimicrobials.iter().enumerate() {
            let m = r.find_antimicrobial(a).ok_or_else(|| AmrError::Field {
                field: format!("antimicrobials[{i}]"),
                problem: format!("unknown antimicrobial {a:?}"),
            })?;
            if !antimicrobials.contains(&m) {
                antimicrobials.push(m);
            }
        }
        if let (Some(f), Some(t)) = (self.period.from, self.period.to)
            && f > t
        {
            return Err(AmrError::Field {
                field: "period".into(),
                problem: format!("from {f} is after to {t}"),
            });
        }
        per_patient::check_max_isolates(i64::from(self.max_isolates_per_patient))?;
        r.check_guideline(self.guideline)?;
        Ok(ResolvedSpec {
            organisms,
            antimicrobials,
            specimen_types: self
                .specimen_types
                .iter()
                .map(|s| specimen_key(s))
                .collect(),
        })
    }

    /// The same question always gives the same string: names resolved to codes, lists sorted
    /// and de-duplicated, specimen aliases folded, defaults written out. Unresolvable names are
    /// kept (trimmed, lower case) so that the string still exists; [`Self::resolve`] rejects them.
    pub fn canonical(&self, r: &Reference) -> String {
        let mut orgs: Vec<String> = self
            .organisms
            .iter()
            .map(|o| {
                r.find_organism(o)
                    .map(|m| r.organism(m).code.clone())
                    .unwrap_or_else(|| o.trim().to_lowercase())
            })
            .collect();
        orgs.sort();
        orgs.dedup();
        let mut abs: Vec<String> = self
            .antimicrobials
            .iter()
            .map(|a| {
                r.find_antimicrobial(a)
                    .map(|m| r.antimicrobial(m).code.clone())
                    .unwrap_or_else(|| a.trim().to_lowercase())
            })
            .collect();
        abs.sort();
        abs.dedup();
        let mut spec: Vec<String> = self
            .specimen_types
            .iter()
            .map(|s| specimen_key(s))
            .collect();
        spec.sort();
        spec.dedup();
        let c = AntibiogramSpec {
            guideline: self.guideline,
            organisms: orgs,
            antimicrobials: abs,
            period: self.period,
            specimen_types: spec,
            first_isolate: self.first_isolate,
            by_year: self.by_year,
            infection_site: self.infection_site,
            max_isolates_per_patient: self.max_isolates_per_patient,
        };
        serde_json::to_string(&c).expect("a spec serialises")
    }
}

/// The most organism rows one isolate can count under: how many of the listed organisms the
/// lineage of any organism of the reference holds (1 for an open list, where an isolate counts
/// under its own species only). `["Enterobacterales", "Escherichia coli"]` gives 2. The
/// sensitivity of the released counts is multiplied by it. It depends on the question and the
/// reference tables only, never on the data.
pub fn max_rows_per_isolate(r: &Reference, listed: &[MoId]) -> u32 {
    if listed.len() < 2 {
        return 1;
    }
    r.organism_ids()
        .map(|mo| {
            let lineage = r.lineage(mo);
            listed
                .iter()
                .filter(|o| **o == mo || lineage.iter().any(|(l, _)| l == *o))
                .count() as u32
        })
        .max()
        .unwrap_or(1)
        .max(1)
}

/// Counts of one (year, organism, drug) cell.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CellCounts {
    /// Calendar year (when by year).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Organism code (the spec's organism, or the isolate's species).
    pub organism: String,
    /// Antimicrobial code.
    pub antimicrobial: String,
    /// First isolates with a result for the drug.
    pub tested: u64,
    /// Read S.
    pub s: u64,
    /// Read I.
    pub i: u64,
    /// Read R.
    pub r: u64,
    /// Read SDD.
    pub sdd: u64,
    /// Not interpretable under the guideline (no breakpoint, no raw value, zone from another
    /// guideline's disk, censored MIC spanning a breakpoint).
    pub ni: u64,
}

impl CellCounts {
    fn add(&mut self, s: Sir) {
        self.tested += 1;
        match s {
            Sir::S => self.s += 1,
            Sir::I => self.i += 1,
            Sir::R => self.r += 1,
            Sir::Sdd => self.sdd += 1,
            Sir::Ni => self.ni += 1,
        }
    }
}

/// Counts of one (year, organism): first isolates and their MDRO classes.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct MdroCounts {
    /// Calendar year (when by year).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Organism code.
    pub organism: String,
    /// First isolates.
    pub isolates: u64,
    /// Magiorakos MDR (not XDR or PDR).
    pub mdr: u64,
    /// Magiorakos XDR (not PDR).
    pub xdr: u64,
    /// Magiorakos PDR.
    pub pdr: u64,
    /// KRINKO 3MRGN.
    pub mrgn3: u64,
    /// KRINKO 4MRGN.
    pub mrgn4: u64,
    /// MRSA.
    pub mrsa: u64,
    /// VRE.
    pub vre: u64,
    /// Third-generation cephalosporin resistant (ESBL/AmpC type) Enterobacterales.
    pub g3cr: u64,
    /// Carbapenem-resistant.
    pub carbapenem_r: u64,
}

/// A site's answer: integer counts only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AntibiogramCounts {
    /// The guideline every value was read with.
    pub guideline: Guideline,
    /// Per (year, organism, drug).
    pub cells: Vec<CellCounts>,
    /// Per (year, organism).
    pub organisms: Vec<MdroCounts>,
}

impl Interpreter<'_> {
    /// Reads a measurement with a resolution made for it (a zone needs this guideline's disk).
    #[inline]
    pub fn read(&self, res: &Resolution, m: &Measurement) -> Sir {
        match m {
            Measurement::Mic(mic) if self.options().censored_as_value => {
                res.mic_range((mic.step, mic.step))
            }
            Measurement::Mic(mic) => res.mic(mic),
            Measurement::Zone(z, disk) => {
                if matches!(res, Resolution::Intrinsic) {
                    Sir::R
                } else if *disk == Some(self.guideline().body) {
                    res.zone(*z)
                } else {
                    Sir::Ni
                }
            }
        }
    }
}

/// Reads tests again with one interpreter, remembering each (organism, drug, method) choice.
pub struct Reader<'a, 'r> {
    interp: &'a Interpreter<'r>,
    site: InfectionSite,
    cache: FxHashMap<(MoId, AbId, bool), Resolution>,
}

impl<'a, 'r> Reader<'a, 'r> {
    /// A reader.
    pub fn new(interp: &'a Interpreter<'r>, site: InfectionSite) -> Self {
        Reader {
            interp,
            site,
            cache: FxHashMap::default(),
        }
    }

    /// The reading of one value (NI when there is none).
    pub fn read(&mut self, mo: MoId, ab: AbId, value: Option<&Measurement>) -> Sir {
        let Some(m) = value else { return Sir::Ni };
        let mic = matches!(m, Measurement::Mic(_));
        let (interp, site) = (self.interp, self.site);
        let res = *self.cache.entry((mo, ab, mic)).or_insert_with(|| {
            interp.resolve(mo, ab, if mic { Method::Mic } else { Method::Disk }, site)
        });
        interp.read(&res, m)
    }
}

/// Computes a site's antibiogram counts from its isolates.
pub fn antibiogram(
    isolates: &[Isolate],
    spec: &AntibiogramSpec,
    interp: &Interpreter<'_>,
) -> Result<AntibiogramCounts, AmrError> {
    let r = interp.reference();
    if interp.guideline() != spec.guideline {
        return Err(AmrError::GuidelineMismatch {
            interpreter: interp.guideline(),
            spec: spec.guideline,
        });
    }
    let rs = spec.resolve(r)?;
    let defs = r.mdro();
    // organism keys of each isolate: every spec organism in its lineage (an E. coli isolate
    // counts under "Escherichia coli" and under "Enterobacterales" when both are asked, so the
    // order of the list means nothing), or its own code; sets kept once per organism
    let mut key_sets: Vec<Vec<MoId>> = Vec::new();
    let mut set_of: FxHashMap<MoId, usize> = FxHashMap::default();
    let mut org_keys = |mo: MoId| -> Option<usize> {
        let k = *set_of.entry(mo).or_insert_with(|| {
            let keys = if rs.organisms.is_empty() {
                vec![mo]
            } else {
                let lineage = r.lineage(mo);
                rs.organisms
                    .iter()
                    .copied()
                    .filter(|o| *o == mo || lineage.iter().any(|(l, _)| l == o))
                    .collect()
            };
            key_sets.push(keys);
            key_sets.len() - 1
        });
        (!key_sets[k].is_empty()).then_some(k)
    };
    let mut kept: Vec<&Isolate> = Vec::new();
    let mut keys: Vec<usize> = Vec::new();
    for iso in isolates {
        if !spec.period.contains(iso.date) {
            continue;
        }
        if !rs.specimen_types.is_empty()
            && !iso
                .specimen_type
                .as_deref()
                .is_some_and(|t| rs.specimen_types.contains(&specimen_key(t)))
        {
            continue;
        }
        let Some(k) = org_keys(iso.organism) else {
            continue;
        };
        kept.push(iso);
        keys.push(k);
    }
    let by_year = spec.by_year;
    // first-isolate selection works on the organism as identified (species level)
    let firsts = select_first(&kept, spec.first_isolate, |i| {
        if by_year { i.date.year() } else { 0 }
    });
    // privacy per person: at most k first isolates of one patient in the whole table
    let firsts = per_patient::clip_per_patient(&kept, firsts, spec.max_isolates_per_patient);
    let wanted: Option<FxHashSet<AbId>> =
        (!rs.antimicrobials.is_empty()).then(|| rs.antimicrobials.iter().copied().collect());
    let mut reader = Reader::new(interp, spec.infection_site);
    // keyed by ids while counting (no string per test), by codes at the end
    let mut cells: FxHashMap<(Option<i32>, MoId, AbId), CellCounts> = FxHashMap::default();
    let mut orgs: FxHashMap<(Option<i32>, MoId), MdroCounts> = FxHashMap::default();
    let mut readings: Vec<(AbId, Sir)> = Vec::new();
    for fi in firsts {
        let iso = kept[fi];
        let year = by_year.then(|| iso.date.year());
        readings.clear();
        for t in &iso.tests {
            let s = reader.read(iso.organism, t.ab, t.value.as_ref());
            // one reading per drug and isolate (an MIC and a zone of the same drug count once:
            // the first interpretable one), so one isolate changes one category per drug row
            match readings.iter_mut().find(|(a, _)| *a == t.ab) {
                Some(prev) if prev.1 == Sir::Ni => prev.1 = s,
                Some(_) => {}
                None => readings.push((t.ab, s)),
            }
        }
        let f = defs.classify(r, spec.guideline, iso.organism, &readings);
        for &key in &key_sets[keys[fi]] {
            let org_code = &r.organism(key).code;
            for &(ab, s) in &readings {
                if wanted.as_ref().is_none_or(|w| w.contains(&ab)) {
                    cells
                        .entry((year, key, ab))
                        .or_insert_with(|| CellCounts {
                            year,
                            organism: org_code.clone(),
                            antimicrobial: r.antimicrobial(ab).code.clone(),
                            ..Default::default()
                        })
                        .add(s);
                }
            }
            let m = orgs.entry((year, key)).or_insert_with(|| MdroCounts {
                year,
                organism: org_code.clone(),
                ..Default::default()
            });
            m.isolates += 1;
            match f.magiorakos {
                Some(Magiorakos::Mdr) => m.mdr += 1,
                Some(Magiorakos::Xdr) => m.xdr += 1,
                Some(Magiorakos::Pdr) => m.pdr += 1,
                _ => {}
            }
            match f.krinko {
                Some(Mrgn::Mrgn3) => m.mrgn3 += 1,
                Some(Mrgn::Mrgn4) => m.mrgn4 += 1,
                _ => {}
            }
            m.mrsa += f.mrsa as u64;
            m.vre += f.vre as u64;
            m.g3cr += f.g3cr as u64;
            m.carbapenem_r += f.carbapenem_r as u64;
        }
    }
    let mut cells: Vec<CellCounts> = cells.into_values().collect();
    cells.sort_by(|a, b| {
        (a.year, &a.organism, &a.antimicrobial).cmp(&(b.year, &b.organism, &b.antimicrobial))
    });
    let mut organisms: Vec<MdroCounts> = orgs.into_values().collect();
    organisms.sort_by(|a, b| (a.year, &a.organism).cmp(&(b.year, &b.organism)));
    Ok(AntibiogramCounts {
        guideline: spec.guideline,
        cells,
        organisms,
    })
}

/// How a re-reading compares with the lab's own S/I/R, over tests the lab read with the same
/// guideline as the interpreter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Agreement {
    /// Tests with a raw value, a lab reading and the lab's guideline equal to ours.
    pub compared: u64,
    /// Same category.
    pub agree: u64,
    /// `ORGANISM DRUG: lab X / read Y` → count, for the disagreements.
    pub disagreements: BTreeMap<String, u64>,
}

/// Compares the re-reading with the lab's reading where the lab used the same guideline.
pub fn agreement(isolates: &[Isolate], interp: &Interpreter<'_>, site: InfectionSite) -> Agreement {
    let mut reader = Reader::new(interp, site);
    let mut a = Agreement::default();
    for iso in isolates {
        for t in &iso.tests {
            let (Some(lab), Some(g), Some(_)) = (t.lab_sir, t.lab_guideline, t.value.as_ref())
            else {
                continue;
            };
            if g != interp.guideline() {
                continue;
            }
            let ours = reader.read(iso.organism, t.ab, t.value.as_ref());
            a.compared += 1;
            if ours == lab {
                a.agree += 1;
            } else {
                let r = interp.reference();
                let key = format!(
                    "{} {}: lab {lab} / read {ours}",
                    r.organism(iso.organism).code,
                    r.antimicrobial(t.ab).code
                );
                *a.disagreements.entry(key).or_default() += 1;
            }
        }
    }
    a
}
