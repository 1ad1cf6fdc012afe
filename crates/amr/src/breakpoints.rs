//! Clinical breakpoints and interpretation of MICs and zones to S, I, R, SDD or NI.
//!
//! Rules (as the guidelines print them):
//! - MIC, EUCAST: S if MIC ≤ S-breakpoint, R if MIC > R-breakpoint, else I ("susceptible,
//!   increased exposure"). CLSI: S if ≤ S, R if ≥ R, else I (or SDD where the row says so).
//! - Zone, EUCAST: S if ≥ S, R if < R. CLSI: S if ≥ S, R if ≤ R. A zone is read only under the
//!   guideline whose disk was used (the two use different disk contents).
//! - The row: the organism's most specific taxon with a breakpoint (subspecies → species →
//!   species group → genus → family → order → Gram/anaerobe group), then the infection site
//!   (meningitis, uncomplicated UTI, unspecified = systemic), then table order. PK/PD
//!   (non-species-related) rows only when asked for.
//! - Intrinsic resistance (EUCAST Expected Resistant Phenotypes) gives R before any row.
//! - "No breakpoint" is the outcome NI, never a guess; so is a censored MIC whose range spans a
//!   breakpoint (`<=4` against S ≤ 1).

use crate::AmrError;
use crate::reference::Reference;
use crate::table::{AbId, MoId};
pub use crate::table::{Body, BreakpointRow, Guideline, Method};
use crate::value::{Dilution, Mic, Zone, dilution};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// Interpretation outcome.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Sir {
    /// Susceptible.
    S,
    /// Intermediate (CLSI) / susceptible, increased exposure (EUCAST).
    I,
    /// Resistant.
    R,
    /// Susceptible dose-dependent (CLSI).
    #[serde(rename = "SDD")]
    Sdd,
    /// Not interpretable: no breakpoint applies, or the value cannot be read under this
    /// guideline (censored MIC spanning a breakpoint, zone from another guideline's disk).
    #[serde(rename = "NI")]
    Ni,
}

impl Sir {
    /// `S`, `I`, `R`, `SDD`, `NI`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sir::S => "S",
            Sir::I => "I",
            Sir::R => "R",
            Sir::Sdd => "SDD",
            Sir::Ni => "NI",
        }
    }

    /// Parses a lab's reading (S, I, R, SDD, NI; v3 ObservationInterpretation codes).
    pub fn parse(s: &str) -> Option<Sir> {
        Some(match s.trim().to_uppercase().as_str() {
            "S" => Sir::S,
            "I" => Sir::I,
            "R" => Sir::R,
            "SDD" => Sir::Sdd,
            "NI" | "IE" | "NS" => Sir::Ni,
            _ => return None,
        })
    }
}

impl fmt::Display for Sir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The site of infection, which selects among a guideline's rows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum InfectionSite {
    /// Not stated: systemic (non-meningitis, non-UTI) breakpoints; a UTI-only or
    /// meningitis-only row is used only where nothing else exists, and the label says so.
    #[default]
    Unspecified,
    /// Meningitis: meningitis rows first, then rows without a site; never non-meningitis rows.
    Meningitis,
    /// Uncomplicated urinary tract infection: UTI rows first, then rows without a site.
    UncomplicatedUti,
}

impl FromStr for InfectionSite {
    type Err = AmrError;
    fn from_str(s: &str) -> Result<InfectionSite, AmrError> {
        match s.trim().to_lowercase().as_str() {
            "" | "unspecified" | "systemic" | "non-meningitis" => Ok(InfectionSite::Unspecified),
            "meningitis" | "csf" => Ok(InfectionSite::Meningitis),
            "uti" | "uncomplicated_uti" | "uncomplicated uti" | "urinary" => {
                Ok(InfectionSite::UncomplicatedUti)
            }
            other => Err(AmrError::InfectionSite {
                text: other.to_owned(),
            }),
        }
    }
}

/// Interpretation options.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Apply intrinsic resistance (R regardless of the value). Default on.
    pub intrinsic: bool,
    /// Use PK/PD (non-species-related) breakpoints when no organism row exists. Default off:
    /// EUCAST marks many such pairs "-" (no breakpoint), which the table cannot show.
    pub pkpd: bool,
    /// Use screening rows (e.g. EUCAST cefoxitin screen for S. aureus) when no other row of
    /// the same taxon exists. Default on.
    pub screening: bool,
    /// Read a censored MIC (`<=`, `>=`) as its value, as many lab systems do, instead of as the
    /// range it stands for. Default off (a range spanning a breakpoint is NI).
    pub censored_as_value: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            intrinsic: true,
            pkpd: false,
            screening: true,
            censored_as_value: false,
        }
    }
}

/// What reading a value needs, resolved once per (organism, drug, method, site).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolution {
    /// Intrinsically resistant: R whatever the value.
    Intrinsic,
    /// No breakpoint applies.
    NoBreakpoint,
    /// Read with this row.
    Row {
        /// Index into [`Reference::breakpoints`].
        row: u32,
        /// S breakpoint as a dilution step (MIC) or mm (disk); `None` = no S category.
        s_step: Option<Dilution>,
        /// R breakpoint as a dilution step; `None` = susceptible-only breakpoint.
        r_step: Option<Dilution>,
        /// S breakpoint, mm (disk).
        s_mm: Option<f64>,
        /// R breakpoint, mm (disk).
        r_mm: Option<f64>,
        /// EUCAST (strict R) or CLSI (R at the breakpoint).
        eucast: bool,
        /// The S–R gap is SDD.
        sdd: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cat {
    S,
    Mid,
    R,
    /// above a susceptible-only breakpoint: non-susceptible, not R
    Ns,
}

impl Resolution {
    #[inline]
    fn mic_cat(s: Option<Dilution>, r: Option<Dilution>, eucast: bool, x: Dilution) -> Cat {
        if let Some(s) = s
            && x <= s
        {
            return Cat::S;
        }
        match r {
            Some(r) if (eucast && x > r) || (!eucast && x >= r) => Cat::R,
            Some(_) => Cat::Mid,
            None => Cat::Ns,
        }
    }

    #[inline]
    fn cat_sir(c: Cat, sdd: bool) -> Sir {
        match c {
            Cat::S => Sir::S,
            Cat::R => Sir::R,
            Cat::Mid if sdd => Sir::Sdd,
            Cat::Mid => Sir::I,
            Cat::Ns => Sir::Ni,
        }
    }

    /// Reads an MIC (the censored range must fall in one category, else NI).
    #[inline]
    pub fn mic(&self, mic: &Mic) -> Sir {
        self.mic_range(mic.range())
    }

    /// Reads an MIC given as its dilution-step range (see [`Mic::range`]).
    #[inline]
    pub fn mic_range(&self, (lo, hi): (Dilution, Dilution)) -> Sir {
        match *self {
            Resolution::Intrinsic => Sir::R,
            Resolution::NoBreakpoint => Sir::Ni,
            Resolution::Row {
                s_step,
                r_step,
                eucast,
                sdd,
                ..
            } => {
                let a = Self::mic_cat(s_step, r_step, eucast, lo);
                if lo == hi {
                    return Self::cat_sir(a, sdd);
                }
                let b = Self::mic_cat(s_step, r_step, eucast, hi);
                if a == b {
                    Self::cat_sir(a, sdd)
                } else {
                    Sir::Ni
                }
            }
        }
    }

    /// Reads a zone diameter (the caller has checked the disk's guideline).
    pub fn zone(&self, z: Zone) -> Sir {
        match *self {
            Resolution::Intrinsic => Sir::R,
            Resolution::NoBreakpoint => Sir::Ni,
            Resolution::Row {
                s_mm,
                r_mm,
                eucast,
                sdd,
                s_step,
                ..
            } => {
                if s_step.is_some()
                    && let Some(s) = s_mm
                    && z.mm >= s
                {
                    return Sir::S;
                }
                let c = match r_mm {
                    Some(r) if (eucast && z.mm < r) || (!eucast && z.mm <= r) => Cat::R,
                    Some(_) => Cat::Mid,
                    None => Cat::Ns,
                };
                Self::cat_sir(c, sdd)
            }
        }
    }

    /// The row used, if any.
    pub fn row(&self) -> Option<u32> {
        match self {
            Resolution::Row { row, .. } => Some(*row),
            _ => None,
        }
    }
}

/// A value to interpret.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measurement {
    /// An MIC.
    Mic(Mic),
    /// A zone diameter and the guideline whose disk was used (if known).
    Zone(Zone, Option<Body>),
}

/// An interpretation and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Interpretation {
    /// The outcome.
    pub sir: Sir,
    /// What decided it: the table row's label, "intrinsic resistance ...", or why NI.
    pub basis: String,
}

/// Reads values under one guideline.
pub struct Interpreter<'r> {
    reference: &'r Reference,
    guideline: Guideline,
    options: Options,
    rows: HashMap<(AbId, bool), Vec<u32>>,
}

impl<'r> Interpreter<'r> {
    /// An interpreter for a guideline present in the reference tables.
    pub fn new(
        reference: &'r Reference,
        guideline: Guideline,
        options: Options,
    ) -> Result<Interpreter<'r>, AmrError> {
        reference.check_guideline(guideline)?;
        let mut rows: HashMap<(AbId, bool), Vec<u32>> = HashMap::new();
        for (i, b) in reference.breakpoints.iter().enumerate() {
            if b.guideline == guideline
                && let Some(ab) = b.ab
            {
                rows.entry((ab, b.method == Method::Mic))
                    .or_default()
                    .push(i as u32);
            }
        }
        Ok(Interpreter {
            reference,
            guideline,
            options,
            rows,
        })
    }

    /// The guideline.
    pub fn guideline(&self) -> Guideline {
        self.guideline
    }

    /// The reference tables.
    pub fn reference(&self) -> &'r Reference {
        self.reference
    }

    /// The options.
    pub fn options(&self) -> Options {
        self.options
    }

    /// Chooses what reads values of this organism, drug, method and site.
    pub fn resolve(&self, mo: MoId, ab: AbId, method: Method, site: InfectionSite) -> Resolution {
        if self.options.intrinsic && self.reference.is_intrinsic(mo, ab) {
            return Resolution::Intrinsic;
        }
        let Some(cands) = self.rows.get(&(ab, method == Method::Mic)) else {
            return Resolution::NoBreakpoint;
        };
        let mut lineage = self.reference.lineage(mo);
        if self.options.pkpd
            && let Some(u) = self.reference.unknown_organism()
        {
            lineage.push((u, 7.0));
        }
        let mut best: Option<(usize, u8, u32)> = None;
        for &i in cands {
            let b = &self.reference.breakpoints[i as usize];
            let Some(pos) = b.mo.and_then(|m| lineage.iter().position(|(l, _)| *l == m)) else {
                continue;
            };
            let Some(prio) = self.site_priority(b, site) else {
                continue;
            };
            let key = (pos, prio, i);
            if best.is_none_or(|k| key < k) {
                best = Some(key);
            }
        }
        let Some((_, _, i)) = best else {
            return Resolution::NoBreakpoint;
        };
        let b = &self.reference.breakpoints[i as usize];
        let step = |v: Option<f64>| v.map(dilution);
        Resolution::Row {
            row: i,
            s_step: if b.no_s { None } else { step(b.s) },
            r_step: step(b.r),
            s_mm: b.s,
            r_mm: b.r,
            eucast: self.guideline.body == Body::Eucast,
            sdd: b.sdd,
        }
    }

    /// Lower is preferred; `None` excludes the row for this site.
    fn site_priority(&self, b: &BreakpointRow, site: InfectionSite) -> Option<u8> {
        if b.is_screen() {
            return self.options.screening.then_some(9);
        }
        match site {
            InfectionSite::Unspecified => Some(if b.uti {
                3
            } else if b.is_meningitis() {
                2
            } else {
                0
            }),
            InfectionSite::Meningitis => {
                if b.uti || b.is_non_meningitis() {
                    None
                } else if b.is_meningitis() {
                    Some(0)
                } else {
                    Some(1)
                }
            }
            InfectionSite::UncomplicatedUti => {
                if b.is_meningitis() {
                    None
                } else if b.uti {
                    Some(0)
                } else {
                    Some(1)
                }
            }
        }
    }

    /// Interprets one value, with the reason.
    pub fn interpret(
        &self,
        mo: MoId,
        ab: AbId,
        m: &Measurement,
        site: InfectionSite,
    ) -> Interpretation {
        let method = match m {
            Measurement::Mic(_) => Method::Mic,
            Measurement::Zone(..) => Method::Disk,
        };
        let res = self.resolve(mo, ab, method, site);
        if let (Measurement::Zone(..), Resolution::Row { .. } | Resolution::NoBreakpoint) = (m, res)
            && let Measurement::Zone(_, disk) = m
            && *disk != Some(self.guideline.body)
        {
            let basis = match disk {
                Some(b) => format!(
                    "zone measured with a {} disk: only {} breakpoints can read it (disk contents differ); {} can re-read MICs only",
                    b.as_str(),
                    b.as_str(),
                    self.guideline
                ),
                None => format!(
                    "zone from a disk of unstated guideline: a zone is read only under the guideline whose disk was used (state it to read with {})",
                    self.guideline
                ),
            };
            return Interpretation {
                sir: Sir::Ni,
                basis,
            };
        }
        self.explain(mo, ab, m, res)
    }

    fn explain(&self, mo: MoId, ab: AbId, m: &Measurement, res: Resolution) -> Interpretation {
        let r = self.reference;
        match res {
            Resolution::Intrinsic => Interpretation {
                sir: Sir::R,
                basis: format!(
                    "intrinsic resistance of {} to {} (EUCAST Expected Resistant Phenotypes v1.2)",
                    r.organism(mo).name,
                    r.antimicrobial(ab).name
                ),
            },
            Resolution::NoBreakpoint => Interpretation {
                sir: Sir::Ni,
                basis: format!(
                    "no {} {} breakpoint for {} and {}",
                    self.guideline,
                    if matches!(m, Measurement::Mic(_)) {
                        "MIC"
                    } else {
                        "disk"
                    },
                    r.organism(mo).name,
                    r.antimicrobial(ab).name
                ),
            },
            Resolution::Row { row, .. } => {
                let b = &r.breakpoints[row as usize];
                let sir = match m {
                    Measurement::Mic(mic) if self.options.censored_as_value => {
                        res.mic_range((mic.step, mic.step))
                    }
                    Measurement::Mic(mic) => res.mic(mic),
                    Measurement::Zone(z, _) => res.zone(*z),
                };
                let mut basis = b.label();
                if sir == Sir::Ni {
                    if b.r.is_none() {
                        basis.push_str(
                            ": above a susceptible-only breakpoint (non-susceptible; confirm)",
                        );
                    } else {
                        basis.push_str(": censored value spans a breakpoint");
                    }
                }
                Interpretation { sir, basis }
            }
        }
    }
}
