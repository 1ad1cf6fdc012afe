//! The shipped reference tables: organisms (taxonomy, Gram stain, lab and SNOMED codes),
//! antimicrobials (codes, names, ATC, LOINC, classes), clinical breakpoints and intrinsic
//! resistance. Sources and licences: `crates/amr/data/SOURCES.md`.

use crate::AmrError;
pub use crate::table::{AbId, MoId};
use crate::table::{BreakpointRow, Guideline};
use std::collections::HashMap;
use std::sync::OnceLock;

const ORGANISMS: &str = include_str!("../data/organisms.tsv");
const ORGANISM_CODES: &str = include_str!("../data/organism_codes.tsv");
const ORGANISM_GROUPS: &str = include_str!("../data/organism_groups.tsv");
const ANTIMICROBIALS: &str = include_str!("../data/antimicrobials.tsv");
const BREAKPOINTS: &str = include_str!("../data/breakpoints.tsv");
const INTRINSIC: &str = include_str!("../data/intrinsic_resistance.tsv");

/// Gram stain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gram {
    /// Gram-positive.
    Positive,
    /// Gram-negative.
    Negative,
}

/// One organism (any rank: subspecies to order, plus the AMR package's placeholder groups).
#[derive(Debug, Clone)]
pub struct Organism {
    /// AMR package code, e.g. `B_KLBSL_PNMN`.
    pub code: String,
    /// Full name, e.g. `Klebsiella pneumoniae`.
    pub name: String,
    /// `accepted`, `synonym`, `unknown`, ...
    pub status: String,
    /// For a synonym: the current organism.
    pub current: Option<MoId>,
    /// Kingdom.
    pub kingdom: String,
    /// Phylum.
    pub phylum: String,
    /// Class.
    pub class: String,
    /// Order.
    pub order: String,
    /// Family.
    pub family: String,
    /// Genus.
    pub genus: String,
    /// Species epithet.
    pub species: String,
    /// Subspecies epithet.
    pub subspecies: String,
    /// Rank: subspecies, species, genus, family, order, species group...
    pub rank: String,
    /// Gram stain (bacteria only).
    pub gram: Option<Gram>,
    /// Strict anaerobe (BacDive oxygen tolerance).
    pub anaerobe: bool,
    /// SNOMED CT concept codes.
    pub snomed: Vec<String>,
}

/// One antimicrobial.
#[derive(Debug, Clone)]
pub struct Antimicrobial {
    /// EARS-Net/WHONET-style code, e.g. `MEM`.
    pub code: String,
    /// Name, e.g. `Meropenem`.
    pub name: String,
    /// Group, e.g. `Carbapenems`.
    pub group: String,
    /// ATC codes.
    pub atc: Vec<String>,
    /// ATC level-3/4 group names.
    pub atc_groups: [String; 2],
    /// LOINC codes of its susceptibility tests.
    pub loinc: Vec<String>,
}

/// The reference tables, indexed.
pub struct Reference {
    /// Every organism, in file order.
    pub organisms: Vec<Organism>,
    /// Every antimicrobial, in file order.
    pub antimicrobials: Vec<Antimicrobial>,
    /// Every human clinical breakpoint row (EUCAST and CLSI, every year shipped).
    pub breakpoints: Vec<BreakpointRow>,
    mo_by_code: HashMap<String, MoId>,
    mo_by_name: HashMap<String, MoId>,
    mo_by_lab_code: HashMap<String, MoId>,
    mo_by_snomed: HashMap<String, MoId>,
    mo_by_taxon: HashMap<(String, String), MoId>,
    groups_of: HashMap<MoId, Vec<MoId>>,
    ab_by_code: HashMap<String, AbId>,
    ab_by_name: HashMap<String, AbId>,
    ab_by_atc: HashMap<String, Option<AbId>>,
    ab_by_loinc: HashMap<String, AbId>,
    ab_by_other: HashMap<String, AbId>,
    intrinsic: rustc_hash::FxHashSet<(MoId, AbId)>,
    guidelines: Vec<Guideline>,
}

fn rows(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| (i + 1, l.split('\t').collect()))
}

fn list(s: &str) -> Vec<String> {
    s.split('|')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl Reference {
    /// The tables shipped with the crate, parsed once per process.
    pub fn shipped() -> &'static Reference {
        static REF: OnceLock<Reference> = OnceLock::new();
        REF.get_or_init(|| {
            Reference::parse()
                .expect("the shipped AMR reference tables are well-formed (checked by tests)")
        })
    }

    fn parse() -> Result<Reference, AmrError> {
        let bad = |file: &str, line: usize, msg: &str| {
            AmrError::Reference(format!("{file} line {line}: {msg}"))
        };
        let mut organisms = Vec::new();
        let mut mo_by_code = HashMap::new();
        let mut pending_current = Vec::new();
        for (line, f) in rows(ORGANISMS) {
            if f.len() < 17 {
                return Err(bad("organisms.tsv", line, "expected 17 columns"));
            }
            let id = MoId(organisms.len() as u32);
            mo_by_code.insert(f[0].to_string(), id);
            if !f[3].is_empty() {
                pending_current.push((id, f[3].to_string()));
            }
            organisms.push(Organism {
                code: f[0].into(),
                name: f[1].into(),
                status: f[2].into(),
                current: None,
                kingdom: f[4].into(),
                phylum: f[5].into(),
                class: f[6].into(),
                order: f[7].into(),
                family: f[8].into(),
                genus: f[9].into(),
                species: f[10].into(),
                subspecies: f[11].into(),
                rank: f[12].into(),
                gram: match f[13] {
                    "positive" => Some(Gram::Positive),
                    "negative" => Some(Gram::Negative),
                    _ => None,
                },
                anaerobe: f[14] == "anaerobe",
                snomed: list(f[16]),
            });
        }
        for (id, cur) in pending_current {
            organisms[id.0 as usize].current = mo_by_code.get(&cur).copied();
        }
        let mut mo_by_name = HashMap::new();
        let mut mo_by_snomed = HashMap::new();
        let mut mo_by_taxon = HashMap::new();
        // accepted names first, so a synonym never shadows a current name
        for pass in [false, true] {
            for (i, o) in organisms.iter().enumerate() {
                if (o.status == "synonym") != pass {
                    continue;
                }
                let target = o.current.unwrap_or(MoId(i as u32));
                mo_by_name.entry(o.name.to_lowercase()).or_insert(target);
                for s in &o.snomed {
                    mo_by_snomed.entry(s.clone()).or_insert(target);
                }
                if !pass {
                    mo_by_taxon
                        .entry((o.rank.clone(), o.name.clone()))
                        .or_insert(MoId(i as u32));
                }
            }
        }
        let mut mo_by_lab_code = HashMap::new();
        for (line, f) in rows(ORGANISM_CODES) {
            let id = *mo_by_code
                .get(f.get(1).copied().unwrap_or(""))
                .ok_or_else(|| bad("organism_codes.tsv", line, "unknown organism"))?;
            mo_by_lab_code.entry(f[0].to_lowercase()).or_insert(id);
        }
        let mut groups_of: HashMap<MoId, Vec<MoId>> = HashMap::new();
        for (line, f) in rows(ORGANISM_GROUPS) {
            let (Some(g), Some(m)) = (
                mo_by_code.get(f[0]),
                f.get(1).and_then(|m| mo_by_code.get(*m)),
            ) else {
                return Err(bad("organism_groups.tsv", line, "unknown organism"));
            };
            groups_of.entry(*m).or_default().push(*g);
        }

        let mut antimicrobials = Vec::new();
        let (mut ab_by_code, mut ab_by_name, mut ab_by_atc, mut ab_by_loinc, mut ab_by_other) = (
            HashMap::new(),
            HashMap::new(),
            HashMap::new(),
            HashMap::new(),
            HashMap::new(),
        );
        for (line, f) in rows(ANTIMICROBIALS) {
            if f.len() < 9 {
                return Err(bad("antimicrobials.tsv", line, "expected 9 columns"));
            }
            let id = AbId(antimicrobials.len() as u16);
            ab_by_code.insert(f[0].to_uppercase(), id);
            ab_by_name.entry(f[1].to_lowercase()).or_insert(id);
            for a in list(f[3]) {
                // an ATC code shared by several drugs (J01CR05: piperacillin with tazobactam or
                // sulbactam) identifies none of them
                ab_by_atc
                    .entry(a)
                    .and_modify(|v: &mut Option<AbId>| *v = None)
                    .or_insert(Some(id));
            }
            for a in list(f[6]).into_iter().chain(list(f[7])) {
                ab_by_other.entry(a.to_lowercase()).or_insert(id);
            }
            let loinc = list(f[8]);
            for l in &loinc {
                ab_by_loinc.entry(l.clone()).or_insert(id);
            }
            antimicrobials.push(Antimicrobial {
                code: f[0].into(),
                name: f[1].into(),
                group: f[2].into(),
                atc: list(f[3]),
                atc_groups: [f[4].into(), f[5].into()],
                loinc,
            });
        }

        let mut breakpoints = Vec::new();
        let mut guidelines: Vec<Guideline> = Vec::new();
        for (line, f) in rows(BREAKPOINTS) {
            let ab = ab_by_code.get(f.get(5).copied().unwrap_or("")).copied();
            let mo = mo_by_code.get(f.get(3).copied().unwrap_or("")).copied();
            let mut row = BreakpointRow::from_fields(&f, mo, ab)
                .map_err(|m| bad("breakpoints.tsv", line, &m))?;
            row.line = line as u32;
            if !guidelines.contains(&row.guideline) {
                guidelines.push(row.guideline);
            }
            breakpoints.push(row);
        }
        guidelines.sort();

        let mut intrinsic = rustc_hash::FxHashSet::default();
        for (line, f) in rows(INTRINSIC) {
            let mo = *mo_by_code
                .get(f[0])
                .ok_or_else(|| bad("intrinsic_resistance.tsv", line, "unknown organism"))?;
            for ab in f.get(1).copied().unwrap_or("").split('|') {
                if let Some(a) = ab_by_code.get(ab) {
                    intrinsic.insert((mo, *a));
                }
            }
        }
        Ok(Reference {
            organisms,
            antimicrobials,
            breakpoints,
            mo_by_code,
            mo_by_name,
            mo_by_lab_code,
            mo_by_snomed,
            mo_by_taxon,
            groups_of,
            ab_by_code,
            ab_by_name,
            ab_by_atc,
            ab_by_loinc,
            ab_by_other,
            intrinsic,
            guidelines,
        })
    }

    /// The organism.
    pub fn organism(&self, id: MoId) -> &Organism {
        &self.organisms[id.0 as usize]
    }

    /// The antimicrobial.
    pub fn antimicrobial(&self, id: AbId) -> &Antimicrobial {
        &self.antimicrobials[id.0 as usize]
    }

    /// Every guideline with breakpoints, oldest first.
    pub fn guidelines(&self) -> &[Guideline] {
        &self.guidelines
    }

    /// The organism with this exact AMR code (no synonym resolution).
    pub fn mo_by_code(&self, code: &str) -> Option<MoId> {
        self.mo_by_code.get(code).copied()
    }

    /// Finds an organism by AMR code, full name (synonyms give the current name), lab/WHONET
    /// code, SNOMED CT code or abbreviated name (`E. coli`); case-insensitive.
    pub fn find_organism(&self, text: &str) -> Option<MoId> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        if let Some(id) = self.mo_by_code.get(&t.to_uppercase()) {
            return Some(self.organism(*id).current.unwrap_or(*id));
        }
        let lower = t.to_lowercase();
        if let Some(id) = self.mo_by_name.get(&lower) {
            return Some(*id);
        }
        if let Some(id) = self.mo_by_lab_code.get(&lower) {
            return Some(*id);
        }
        if let Some(id) = self.mo_by_snomed.get(t) {
            return Some(*id);
        }
        // "E. coli", "K.pneumoniae"
        if let Some((g, s)) = lower.split_once('.') {
            let (g, s) = (g.trim(), s.trim());
            if g.len() == 1 && !s.is_empty() {
                return self
                    .organisms
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| {
                        o.rank == "species"
                            && o.status == "accepted"
                            && o.species.to_lowercase() == s
                            && o.genus.to_lowercase().starts_with(g)
                    })
                    .map(|(i, _)| MoId(i as u32))
                    .next();
            }
        }
        None
    }

    /// The name of the organism with this code (`B_ESCHR_COLI` → "Escherichia coli"), for
    /// reports that show names where the data carry codes.
    pub fn organism_name(&self, code: &str) -> Option<&str> {
        self.mo_by_code(code)
            .map(|m| self.organism(m).name.as_str())
    }

    /// The name of the antimicrobial with this code, or any text [`Reference::find_antimicrobial`]
    /// takes (`CIP` → "Ciprofloxacin").
    pub fn antimicrobial_name(&self, code: &str) -> Option<&str> {
        self.find_antimicrobial(code)
            .map(|a| self.antimicrobial(a).name.as_str())
    }

    /// Finds an antimicrobial by code, name, ATC code (unless several drugs share it), LOINC
    /// code, abbreviation or synonym; case-insensitive.
    pub fn find_antimicrobial(&self, text: &str) -> Option<AbId> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        self.ab_by_code
            .get(&t.to_uppercase())
            .or_else(|| self.ab_by_name.get(&t.to_lowercase()))
            .copied()
            .or_else(|| self.ab_by_atc.get(&t.to_uppercase()).copied().flatten())
            .or_else(|| self.ab_by_loinc.get(t).copied())
            .or_else(|| self.ab_by_other.get(&t.to_lowercase()).copied())
    }

    /// Is the organism intrinsically resistant to the drug (EUCAST Expected Resistant
    /// Phenotypes v1.2)?
    pub fn is_intrinsic(&self, mo: MoId, ab: AbId) -> bool {
        self.intrinsic.contains(&(mo, ab))
    }

    /// The organism's taxa from most to least specific, each with the breakpoint table's rank
    /// index: subspecies (1), species (2), species groups (2.5), genus (3), family (4), order
    /// (5), anaerobes / Gram-negative / Gram-positive (6).
    pub fn lineage(&self, mo: MoId) -> Vec<(MoId, f32)> {
        let o = self.organism(mo);
        let mut out = Vec::new();
        let taxon =
            |rank: &str, name: String| self.mo_by_taxon.get(&(rank.to_string(), name)).copied();
        let species = if o.rank == "subspecies" {
            out.push((mo, 1.0));
            taxon("species", format!("{} {}", o.genus, o.species))
        } else if o.rank == "species" {
            Some(mo)
        } else {
            None
        };
        if let Some(s) = species {
            out.push((s, 2.0));
            for g in self.groups_of.get(&s).into_iter().flatten() {
                out.push((*g, 2.5));
            }
        }
        if o.rank == "species group" {
            out.push((mo, 2.5));
        }
        for (rank, name, idx) in [
            ("genus", &o.genus, 3.0),
            ("family", &o.family, 4.0),
            ("order", &o.order, 5.0),
        ] {
            if o.rank == rank {
                out.push((mo, idx));
            } else if let Some(t) = taxon(rank, name.clone()) {
                out.push((t, idx));
            }
        }
        let code = |c: &str| self.mo_by_code.get(c).copied();
        if o.anaerobe {
            let g = match o.gram {
                Some(Gram::Positive) => "B_ANAER-POS",
                _ => "B_ANAER-NEG",
            };
            out.extend(code(g).map(|m| (m, 6.0)));
            out.extend(code("B_ANAER").map(|m| (m, 6.0)));
        }
        match o.gram {
            Some(Gram::Negative) => out.extend(code("B_GRAMN").map(|m| (m, 6.0))),
            Some(Gram::Positive) => out.extend(code("B_GRAMP").map(|m| (m, 6.0))),
            None => {}
        }
        out
    }

    /// The "unknown organism" row used by PK/PD (non-species-related) breakpoints.
    pub fn unknown_organism(&self) -> Option<MoId> {
        self.mo_by_code.get("UNKNOWN").copied()
    }
}
