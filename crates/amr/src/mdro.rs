//! Multidrug-resistant organisms from one isolate's readings: Magiorakos 2012 MDR/XDR/PDR,
//! KRINKO 3MRGN/4MRGN, MRSA, VRE, third-generation-cephalosporin resistance (ESBL/AmpC type)
//! and carbapenem resistance. Definitions: `data/mdro.toml` (sources there).

use crate::AmrError;
use crate::breakpoints::{Body, Guideline, Sir};
use crate::data::ReferenceError;
use crate::reference::{AbId, MoId, Reference};
use std::collections::BTreeMap;

/// The definitions, compiled in (written by the project from the publications cited in the
/// file); [`Reference::mdro`] holds them resolved against the loaded tables.
pub(crate) const MDRO: &str = include_str!("../data/mdro.toml");

#[derive(serde::Deserialize)]
struct File {
    magiorakos: Vec<MagiorakosFile>,
    krinko: Vec<KrinkoFile>,
    phenotypes: BTreeMap<String, Vec<String>>,
}

#[derive(serde::Deserialize)]
struct MagiorakosFile {
    name: String,
    applies: Vec<String>,
    categories: BTreeMap<String, Vec<String>>,
}

#[derive(serde::Deserialize)]
struct KrinkoFile {
    name: String,
    applies: Vec<String>,
    carbapenem_susceptible_for_3mrgn: bool,
    acylureidopenicillins: Vec<String>,
    cephalosporins: Vec<String>,
    carbapenems: Vec<String>,
    fluoroquinolones: Vec<String>,
}

struct Scheme {
    name: String,
    applies: Vec<MoId>,
    categories: Vec<(String, Vec<AbId>)>,
}

struct Krinko {
    applies: Vec<MoId>,
    carbapenem_s_for_3: bool,
    /// acylureidopenicillins, cephalosporins, carbapenems, fluoroquinolones
    classes: [Vec<AbId>; 4],
}

struct Phenotype {
    organisms: Vec<MoId>,
    agents: Vec<AbId>,
}

/// The MDRO definitions, resolved against the reference tables.
pub struct Definitions {
    magiorakos: Vec<Scheme>,
    krinko: Vec<Krinko>,
    mrsa: Phenotype,
    vre: Phenotype,
    g3cr: Phenotype,
    carbapenem_r: Phenotype,
}

/// Magiorakos class (exclusive: the highest that applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Magiorakos {
    /// Fewer than three non-susceptible categories.
    NotMdr,
    /// Multidrug-resistant.
    Mdr,
    /// Extensively drug-resistant.
    Xdr,
    /// Pandrug-resistant.
    Pdr,
}

/// KRINKO class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Mrgn {
    /// Not 3MRGN or 4MRGN.
    None,
    /// Resistant to three of the four lead classes.
    Mrgn3,
    /// Resistant to all four.
    Mrgn4,
}

/// One isolate's MDRO flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Flags {
    /// Magiorakos class, if a scheme covers the organism.
    pub magiorakos: Option<Magiorakos>,
    /// KRINKO class, if it covers the organism.
    pub krinko: Option<Mrgn>,
    /// Methicillin-resistant S. aureus (oxacillin or cefoxitin R).
    pub mrsa: bool,
    /// Vancomycin-resistant E. faecium / E. faecalis.
    pub vre: bool,
    /// Enterobacterales resistant to a third-generation cephalosporin (ESBL/AmpC type).
    pub g3cr: bool,
    /// Carbapenem-resistant Enterobacterales, P. aeruginosa or Acinetobacter.
    pub carbapenem_r: bool,
}

impl Definitions {
    /// No definitions (a placeholder while the tables they refer to are parsed).
    pub(crate) fn empty() -> Definitions {
        let none = || Phenotype {
            organisms: Vec::new(),
            agents: Vec::new(),
        };
        Definitions {
            magiorakos: Vec::new(),
            krinko: Vec::new(),
            mrsa: none(),
            vre: none(),
            g3cr: none(),
            carbapenem_r: none(),
        }
    }

    /// Parses definitions in the `mdro.toml` format; every code must be known.
    pub fn parse(text: &str, r: &Reference) -> Result<Definitions, AmrError> {
        let f: File = toml::from_str(text)
            .map_err(|e| AmrError::Reference(ReferenceError::Definitions(format!("{e}"))))?;
        let mo = |c: &String| {
            r.mo_by_code(c).ok_or_else(|| {
                AmrError::Reference(ReferenceError::Definitions(format!(
                    "unknown organism code {c}"
                )))
            })
        };
        let ab = |c: &String| {
            r.find_antimicrobial(c)
                .filter(|a| r.antimicrobial(*a).code == *c)
                .ok_or_else(|| {
                    AmrError::Reference(ReferenceError::Definitions(format!(
                        "unknown antimicrobial code {c}"
                    )))
                })
        };
        let mos = |v: &[String]| v.iter().map(mo).collect::<Result<Vec<_>, _>>();
        let abs = |v: &[String]| v.iter().map(ab).collect::<Result<Vec<_>, _>>();
        let mut magiorakos = Vec::new();
        for m in &f.magiorakos {
            let mut categories = Vec::new();
            for (name, agents) in &m.categories {
                categories.push((name.clone(), abs(agents)?));
            }
            magiorakos.push(Scheme {
                name: m.name.clone(),
                applies: mos(&m.applies)?,
                categories,
            });
        }
        let mut krinko = Vec::new();
        for k in &f.krinko {
            let _ = &k.name;
            krinko.push(Krinko {
                applies: mos(&k.applies)?,
                carbapenem_s_for_3: k.carbapenem_susceptible_for_3mrgn,
                classes: [
                    abs(&k.acylureidopenicillins)?,
                    abs(&k.cephalosporins)?,
                    abs(&k.carbapenems)?,
                    abs(&k.fluoroquinolones)?,
                ],
            });
        }
        let ph = |name: &str| -> Result<Phenotype, AmrError> {
            let get = |k: String| {
                f.phenotypes.get(&k).cloned().ok_or_else(|| {
                    AmrError::Reference(ReferenceError::Definitions(format!(
                        "phenotypes.{k} missing"
                    )))
                })
            };
            Ok(Phenotype {
                organisms: mos(&get(format!("{name}_organisms"))?)?,
                agents: abs(&get(format!("{name}_agents"))?)?,
            })
        };
        Ok(Definitions {
            magiorakos,
            krinko,
            mrsa: ph("mrsa")?,
            vre: ph("vre")?,
            g3cr: ph("g3cr")?,
            carbapenem_r: ph("carbapenem_r")?,
        })
    }

    /// Name of the Magiorakos scheme covering the organism, if any.
    pub fn scheme_name(&self, r: &Reference, mo: MoId) -> Option<&str> {
        let lineage = r.lineage(mo);
        self.magiorakos
            .iter()
            .find(|s| covers(&lineage, &s.applies))
            .map(|s| s.name.as_str())
    }

    /// How many of the MDRO classifications can apply to an organism at all: a Magiorakos
    /// scheme, a KRINKO scheme, and each of MRSA, VRE, 3GC-R and carbapenem-R whose organisms
    /// cover it. One isolate sets at most this many organism counts besides `isolates`.
    pub fn classes_possible(&self, r: &Reference, mo: MoId) -> u32 {
        let lineage = r.lineage(mo);
        let schemes = self.magiorakos.iter().any(|s| covers(&lineage, &s.applies)) as u32
            + self.krinko.iter().any(|k| covers(&lineage, &k.applies)) as u32;
        let phenotypes = [&self.mrsa, &self.vre, &self.g3cr, &self.carbapenem_r]
            .iter()
            .filter(|p| covers(&lineage, &p.organisms))
            .count() as u32;
        schemes + phenotypes
    }

    /// Classifies one isolate from its readings (under `guideline`; drugs not listed were
    /// not tested). Under EUCAST from 2019, "I" means susceptible (increased exposure) and only
    /// R counts as non-susceptible; under CLSI (and EUCAST before 2019) I and R do. Agents the
    /// organism is intrinsically resistant to are left out.
    pub fn classify(
        &self,
        r: &Reference,
        guideline: Guideline,
        mo: MoId,
        results: &[(AbId, Sir)],
    ) -> Flags {
        let lineage = r.lineage(mo);
        let i_is_ns = !(guideline.body == Body::Eucast && guideline.year >= 2019);
        let reading = |ab: AbId| -> Option<Sir> {
            if r.is_intrinsic(mo, ab) {
                return None;
            }
            results
                .iter()
                .find(|(a, s)| *a == ab && *s != Sir::Ni)
                .map(|(_, s)| *s)
        };
        let ns = |s: Sir| s == Sir::R || (i_is_ns && matches!(s, Sir::I | Sir::Sdd));
        let resistant = |agents: &[AbId]| agents.iter().any(|a| reading(*a) == Some(Sir::R));
        let pheno = |p: &Phenotype| covers(&lineage, &p.organisms) && resistant(&p.agents);
        let mrsa = pheno(&self.mrsa);

        let magiorakos = self
            .magiorakos
            .iter()
            .find(|s| covers(&lineage, &s.applies))
            .map(|s| {
                let mut total = 0;
                let mut ns_cats = 0;
                let mut all_tested_ns = true;
                for (_, agents) in &s.categories {
                    let usable: Vec<AbId> = agents
                        .iter()
                        .copied()
                        .filter(|a| !r.is_intrinsic(mo, *a))
                        .collect();
                    if usable.is_empty() {
                        continue;
                    }
                    total += 1;
                    let read: Vec<Option<Sir>> = usable.iter().map(|a| reading(*a)).collect();
                    if read.iter().any(|x| x.is_some_and(ns)) {
                        ns_cats += 1;
                    }
                    if !read.iter().all(|x| x.is_some_and(ns)) {
                        all_tested_ns = false;
                    }
                }
                if total > 0 && all_tested_ns {
                    Magiorakos::Pdr
                } else if total >= 3 && ns_cats >= total.max(3) - 2 && ns_cats >= 3 {
                    Magiorakos::Xdr
                } else if ns_cats >= 3 || mrsa {
                    Magiorakos::Mdr
                } else {
                    Magiorakos::NotMdr
                }
            });

        let krinko = self
            .krinko
            .iter()
            .find(|k| covers(&lineage, &k.applies))
            .map(|k| {
                let res: Vec<bool> = k.classes.iter().map(|c| resistant(c)).collect();
                let n = res.iter().filter(|x| **x).count();
                if n == 4 {
                    Mrgn::Mrgn4
                } else if k.carbapenem_s_for_3 {
                    if res[0] && res[1] && res[3] && !res[2] {
                        Mrgn::Mrgn3
                    } else {
                        Mrgn::None
                    }
                } else if n == 3 {
                    Mrgn::Mrgn3
                } else {
                    Mrgn::None
                }
            });
        Flags {
            magiorakos,
            krinko,
            mrsa,
            vre: pheno(&self.vre),
            g3cr: pheno(&self.g3cr),
            carbapenem_r: pheno(&self.carbapenem_r),
        }
    }
}

fn covers(lineage: &[(MoId, f32)], applies: &[MoId]) -> bool {
    // both lists are short (a lineage of a few ranks, a scheme's few taxa)
    lineage.iter().any(|(m, _)| applies.contains(m))
}
