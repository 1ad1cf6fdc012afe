//! Microbiology: blood-culture and urine isolates with MICs read by the lab's guideline, the
//! WHONET-style export, and the antibiotics the isolates are treated with.

use crate::write::{self, Out};
use crate::{Pt, pick, poisson, profile};
use chrono::{Duration, NaiveDateTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub(crate) fn amr_isolates(pt: &mut Pt<'_>, r: &mut ChaCha8Rng, years: f64, out: &mut Out) {
    let p = pt.p;
    let span = (p.site.end - p.site.start).num_days();
    for (kind, rate) in [
        ("blood", p.amr.blood_isolates_per_year),
        ("urine", p.amr.urine_isolates_per_year),
    ] {
        let n = poisson(r, rate * years);
        for _ in 0..n {
            let day = p.site.start + Duration::days(r.random_range(0..span));
            if !pt.alive_on(day) {
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
            let at0 = crate::at(day, r.random_range(0..24), r.random_range(0..60));
            let (eid, _) = pt.stay(
                out,
                at0,
                at0 + Duration::days(r.random_range(3..20)),
                false,
                if pt.age_at(day) < 15 { "1000" } else { "0100" },
            );
            for k in 0..=repeats {
                let at = at0 + Duration::days(k as i64 * r.random_range(2..15));
                isolate(pt, r, &eid, at, kind, &org, &strain, out);
            }
            // treatment follows the isolate's resistance (targeted therapy)
            let resistant = |d: &str| strain.iter().any(|(x, res)| x == d && *res);
            let situation = if kind == "urine" {
                "urinary"
            } else if (matches!(org.as_str(), "eco" | "kpn")
                && (resistant("CTX") || resistant("CAZ") || resistant("MEM")))
                || (matches!(org.as_str(), "pae" | "aba")
                    && (resistant("MEM") || resistant("TZP") || resistant("CAZ")))
            {
                "bacteraemia-resistant-gram-negative"
            } else if (org == "sau" && resistant("OXA")) || (org == "efm" && resistant("VAN")) {
                "bacteraemia-mrsa-or-vre"
            } else {
                "bacteraemia-susceptible"
            };
            pt.treat(out, situation, &eid, at0 + Duration::days(2), 10);
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
    crate::biobank::isolate(p, out, &pt.id, &sid, at);
    let iso = pt.next_id("o");
    let organism = p.organism(org);
    let mut members = Vec::new();
    let mut results = Vec::new();
    for (drug, resistant) in strain {
        // the strain's drugs are drawn from this organism's panel, so each is found
        let Some(bp) = p.panel_for(org).iter().find(|b| &b.drug == drug) else {
            continue;
        };
        let (mic, cmp) = draw_mic(r, bp, *resistant, p.uses_eucast());
        let sir = interpret(mic, cmp, bp.s, bp.r, p.uses_eucast());
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
    let (s, rr) = (bp.s, bp.r);
    let idx = |v: f64| {
        DILUTIONS
            .iter()
            .position(|d| *d >= v - 1e-9)
            .unwrap_or(DILUTIONS.len() - 1) as i64
    };
    let i = if resistant {
        let base = if eucast { idx(rr) + 1 } else { idx(rr) };
        base + r.random_range(0..3)
    } else if s < DILUTIONS[0] {
        // no S category (EUCAST's "I" for the wild type): MICs up to the R breakpoint
        idx(rr) - r.random_range(0..3)
    } else {
        idx(s) - r.random_range(0..4)
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
    fn lab_reading_follows_each_guideline() {
        assert_eq!(interpret(2.0, None, 2.0, 2.0, true), "S");
        assert_eq!(interpret(4.0, None, 2.0, 2.0, true), "R");
        assert_eq!(interpret(4.0, None, 2.0, 8.0, true), "I");
        assert_eq!(interpret(8.0, None, 2.0, 8.0, true), "I");
        assert_eq!(interpret(8.0, None, 2.0, 8.0, false), "R");
    }
}
