//! The CLSI breakpoints of the synthetic labs that read with CLSI (the Japanese profiles), read
//! at run time from the AMR reference data folder's removable `breakpoints-clsi.tsv` through
//! `kakehashi-amr`, the same rows the product's own CLSI interpretation uses. No CLSI number is
//! compiled into the program (LICENSES.md, "CLSI"): when the file is absent, a CLSI profile is
//! refused with a message naming it, and EUCAST profiles, which never read it, work as before.

use crate::profile::{Organism, ProfileError};
use kakehashi_amr::breakpoints::{InfectionSite, Interpreter, Options, Resolution};
use kakehashi_amr::table::{Guideline, Method};
use kakehashi_amr::{AmrError, Reference};
use std::collections::HashMap;

/// `(organism key, drug code)` → `(S, R)` MIC breakpoints in mg/L.
pub(crate) type Pairs = HashMap<(String, String), (f64, f64)>;

/// The `(S, R)` MIC breakpoints in mg/L of `guideline` for every organism–drug pair of the
/// panel: the organism's own row, else its genus, group or order, as in the reference tables,
/// for a non-meningitis, non-urinary infection, without screening rows or intrinsic
/// resistance.
pub(crate) fn pairs(
    profile: &str,
    guideline: &str,
    organisms: &[Organism],
) -> Result<Pairs, ProfileError> {
    let err = |message: String| ProfileError::Clsi {
        name: profile.to_owned(),
        guideline: guideline.to_owned(),
        message,
    };
    let g: Guideline = guideline
        .parse()
        .map_err(|e: AmrError| err(e.to_string()))?;
    let reference = Reference::shared().map_err(|e| err(e.to_string()))?;
    let options = Options {
        intrinsic: false,
        pkpd: false,
        screening: false,
        censored_as_value: false,
    };
    let reader = Interpreter::new(reference, g, options).map_err(|e| err(e.to_string()))?;
    let mut out = HashMap::new();
    for o in organisms {
        let mo = reference.find_organism(&o.name).ok_or_else(|| {
            err(format!(
                "organism {:?} of the AMR panel is not in the reference tables",
                o.name
            ))
        })?;
        for b in &o.breakpoints {
            let drug = &b.0;
            let ab = reference.find_antimicrobial(drug).ok_or_else(|| {
                err(format!(
                    "drug {drug:?} of the AMR panel is not in the reference tables"
                ))
            })?;
            match reader.resolve(mo, ab, Method::Mic, InfectionSite::Unspecified) {
                Resolution::Row {
                    s_mm: Some(s),
                    r_mm: Some(r),
                    ..
                } => {
                    out.insert((o.key.clone(), drug.clone()), (s, r));
                }
                _ => {
                    return Err(err(format!(
                        "no MIC breakpoints with S and R for {} and {drug} in {}",
                        o.name,
                        reference.dir().display()
                    )));
                }
            }
        }
    }
    Ok(out)
}
