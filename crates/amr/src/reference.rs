//! The reference tables: organisms (taxonomy, Gram stain, lab and SNOMED codes),
//! antimicrobials (codes, names, ATC, LOINC, classes), clinical breakpoints and intrinsic
//! resistance, read at run time from the data folder ([`crate::data`]; sources and licences in
//! `data/amr/SOURCES.md`).

use crate::data::{Located, ReferenceError, read_table};
use crate::mdro::Definitions;
pub use crate::table::{AbId, MoId};
use crate::table::{Body, BreakpointRow, Guideline};
use crate::{AmrError, GuidelineError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Organisms: taxonomy, Gram stain, oxygen tolerance, SNOMED CT, synonyms.
pub const ORGANISMS: &str = "organisms.tsv";
/// Lab and WHONET organism codes.
pub const ORGANISM_CODES: &str = "organism_codes.tsv";
/// Species groups and complexes.
pub const ORGANISM_GROUPS: &str = "organism_groups.tsv";
/// Antimicrobials.
pub const ANTIMICROBIALS: &str = "antimicrobials.tsv";
/// EUCAST clinical breakpoints.
pub const BREAKPOINTS_EUCAST: &str = "breakpoints-eucast.tsv";
/// CLSI clinical breakpoints: optional (a site may remove the file; CLSI guidelines are then
/// refused with a message naming it).
pub const BREAKPOINTS_CLSI: &str = "breakpoints-clsi.tsv";
/// Intrinsic resistance (EUCAST Expected Resistant Phenotypes).
pub const INTRINSIC: &str = "intrinsic_resistance.tsv";

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
    mdro: Definitions,
    dir: PathBuf,
    clsi: bool,
    versions: Vec<(String, String)>,
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
    /// Reads and parses the tables of one folder (see [`crate::data`] for which folder;
    /// [`Reference::shared`] loads once per process). A missing table, a malformed line or an
    /// unknown code is an error naming the file and line; only [`BREAKPOINTS_CLSI`] may be absent.
    pub fn load(at: &Located) -> Result<Reference, ReferenceError> {
        let read = |name: &str| read_table(at, name, false).map(|t| t.unwrap_or_default());
        let (organisms, codes, groups, antimicrobials, eucast, intrinsic) = (
            read(ORGANISMS)?,
            read(ORGANISM_CODES)?,
            read(ORGANISM_GROUPS)?,
            read(ANTIMICROBIALS)?,
            read(BREAKPOINTS_EUCAST)?,
            read(INTRINSIC)?,
        );
        let clsi = read_table(at, BREAKPOINTS_CLSI, true)?;
        let mut breakpoints = vec![(Body::Eucast, eucast)];
        breakpoints.extend(clsi.map(|t| (Body::Clsi, t)));
        let mut r = Reference::parse(
            &organisms,
            &codes,
            &groups,
            &antimicrobials,
            &breakpoints,
            &intrinsic,
        )?;
        r.dir = at.dir.clone();
        let version = |text: &str| {
            let d = Sha256::digest(text.as_bytes());
            format!("sha256:{}", hex::encode(&d[..8]))
        };
        r.versions = [
            (ORGANISMS, &organisms),
            (ORGANISM_CODES, &codes),
            (ORGANISM_GROUPS, &groups),
            (ANTIMICROBIALS, &antimicrobials),
            (BREAKPOINTS_EUCAST, &breakpoints[0].1),
            (INTRINSIC, &intrinsic),
        ]
        .into_iter()
        .map(|(name, (_, text))| (name.to_owned(), version(text)))
        .chain(
            breakpoints
                .get(1)
                .map(|(_, (_, text))| (BREAKPOINTS_CLSI.to_owned(), version(text))),
        )
        .chain([("mdro.toml".to_owned(), version(crate::mdro::MDRO))])
        .collect();
        r.mdro = Definitions::parse(crate::mdro::MDRO, &r).map_err(|e| match e {
            AmrError::Reference(e) => e,
            other => ReferenceError::Definitions(other.to_string()),
        })?;
        Ok(r)
    }

    /// The version of each table this reference was loaded from: file name → `sha256:` and
    /// the first 16 hex digits of its content (with `mdro.toml`, compiled in), sorted by
    /// name. A question's answer depends on them, so they are part of its repeat key. Empty
    /// for tables parsed from text rather than loaded from a folder.
    pub fn versions(&self) -> &[(String, String)] {
        &self.versions
    }

    /// The ids of every organism, in file order.
    pub fn organism_ids(&self) -> impl Iterator<Item = MoId> + '_ {
        (0..self.organisms.len() as u32).map(MoId)
    }

    /// The folder the tables were read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Are the CLSI breakpoints installed ([`BREAKPOINTS_CLSI`] present)?
    pub fn has_clsi(&self) -> bool {
        self.clsi
    }

    /// The MDRO definitions (`data/mdro.toml`, compiled in), resolved against these tables.
    pub fn mdro(&self) -> &Definitions {
        &self.mdro
    }

    /// Checks that these tables hold breakpoints of `g`; the error says why not (CLSI not
    /// installed at this site, or a year the tables do not have).
    pub fn check_guideline(&self, g: Guideline) -> Result<(), AmrError> {
        if self.guidelines.contains(&g) {
            return Ok(());
        }
        if g.body == Body::Clsi && !self.clsi {
            return Err(GuidelineError::ClsiAbsent {
                guideline: g,
                path: self.dir.join(BREAKPOINTS_CLSI),
            }
            .into());
        }
        Err(GuidelineError::NotAvailable {
            guideline: g,
            available: self.guidelines.clone(),
        }
        .into())
    }

    fn parse(
        (org_path, org_text): &(PathBuf, String),
        (codes_path, codes_text): &(PathBuf, String),
        (groups_path, groups_text): &(PathBuf, String),
        (ab_path, ab_text): &(PathBuf, String),
        breakpoint_files: &[(Body, (PathBuf, String))],
        (ir_path, ir_text): &(PathBuf, String),
    ) -> Result<Reference, ReferenceError> {
        let bad = |path: &Path, line: usize, msg: &str| ReferenceError::Malformed {
            path: path.to_path_buf(),
            line,
            message: msg.to_string(),
        };
        let mut organisms = Vec::new();
        let mut mo_by_code = HashMap::new();
        let mut pending_current = Vec::new();
        for (line, f) in rows(org_text) {
            if f.len() < 17 {
                return Err(bad(
                    org_path,
                    line,
                    &format!("expected 17 tab-separated columns, found {}", f.len()),
                ));
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
        for (line, f) in rows(codes_text) {
            let mo = f.get(1).copied().unwrap_or("");
            let id = *mo_by_code
                .get(mo)
                .ok_or_else(|| bad(codes_path, line, &format!("unknown organism {mo:?}")))?;
            mo_by_lab_code.entry(f[0].to_lowercase()).or_insert(id);
        }
        let mut groups_of: HashMap<MoId, Vec<MoId>> = HashMap::new();
        for (line, f) in rows(groups_text) {
            let (Some(g), Some(m)) = (
                mo_by_code.get(f[0]),
                f.get(1).and_then(|m| mo_by_code.get(*m)),
            ) else {
                return Err(bad(groups_path, line, "unknown organism"));
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
        for (line, f) in rows(ab_text) {
            if f.len() < 9 {
                return Err(bad(
                    ab_path,
                    line,
                    &format!("expected 9 tab-separated columns, found {}", f.len()),
                ));
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
        for (body, (path, text)) in breakpoint_files {
            for (line, f) in rows(text) {
                let ab = ab_by_code.get(f.get(5).copied().unwrap_or("")).copied();
                let mo = mo_by_code.get(f.get(3).copied().unwrap_or("")).copied();
                let mut row = BreakpointRow::from_fields(&f, mo, ab)
                    .map_err(|e| bad(path, line, &e.to_string()))?;
                if row.guideline.body != *body {
                    return Err(bad(
                        path,
                        line,
                        &format!(
                            "a {} row in the file of {} breakpoints",
                            row.guideline,
                            body.as_str()
                        ),
                    ));
                }
                row.line = line as u32;
                if !guidelines.contains(&row.guideline) {
                    guidelines.push(row.guideline);
                }
                breakpoints.push(row);
            }
        }
        guidelines.sort();

        let mut intrinsic = rustc_hash::FxHashSet::default();
        for (line, f) in rows(ir_text) {
            let mo = *mo_by_code
                .get(f[0])
                .ok_or_else(|| bad(ir_path, line, &format!("unknown organism {:?}", f[0])))?;
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
            mdro: Definitions::empty(),
            dir: PathBuf::new(),
            versions: Vec::new(),
            clsi: breakpoint_files.iter().any(|(b, _)| *b == Body::Clsi),
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
