//! Clinical episodes: respiratory infections by season, SFTS, imported VHF, inpatient stays for
//! background diagnoses, births, and the intensive care they may need.

use crate::morbidity::Diagnosis;
use crate::write::{self, Out};
use crate::{Pt, band_share};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub(crate) fn respiratory_episode(
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
    let admit = crate::at(
        onset + Duration::days(r.random_range(0..4)),
        r.random_range(0..24),
        r.random_range(0..60),
    );
    let (code, display) = &path.codes[r.random_range(0..path.codes.len())];
    if hospitalised {
        sari_stay(pt, r, k, onset, admit, code, display, age, out);
    } else {
        let at = crate::at(onset, r.random_range(8..20), 0);
        let eid = pt.outpatient(out, at, at + Duration::hours(1));
        match path.name.as_str() {
            "influenza" => pt.treat(out, "influenza-outpatient", &eid, at, 5),
            // nirmatrelvir/ritonavir for outpatients at high risk (here: 60 and older)
            "sars-cov-2" if age >= 60 => pt.treat(out, "covid-outpatient", &eid, at, 5),
            _ => {}
        }
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

/// The SARI admission of a catchment inhabitant (who enters the hospital's records only with
/// it): the stay of a hospitalised episode of pathogen `k` with onset `onset`.
/// Returns the stay's encounter id and admission time.
pub(crate) fn sari_admission(
    pt: &mut Pt<'_>,
    r: &mut ChaCha8Rng,
    k: usize,
    onset: NaiveDate,
    out: &mut Out,
) -> (String, NaiveDateTime) {
    let path = &pt.p.respiratory.pathogen[k];
    let age = pt.age_at(onset);
    let admit = crate::at(
        onset + Duration::days(r.random_range(0..4)),
        r.random_range(0..24),
        r.random_range(0..60),
    );
    let (code, display) = &path.codes[r.random_range(0..path.codes.len())];
    let eid = sari_stay(pt, r, k, onset, admit, code, display, age, out);
    (eid, admit)
}

/// A SARI stay: admission, intensive care, treatment, diagnoses, PCR panel, labs, biobank.
/// Returns the stay's encounter id.
#[allow(clippy::too_many_arguments)]
fn sari_stay(
    pt: &mut Pt<'_>,
    r: &mut ChaCha8Rng,
    k: usize,
    onset: NaiveDate,
    admit: NaiveDateTime,
    code: &str,
    display: &str,
    age: i32,
    out: &mut Out,
) -> String {
    let p = pt.p;
    let path = &p.respiratory.pathogen[k];
    {
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
        let (eid, _) = pt.stay(
            out,
            admit,
            discharge,
            died,
            if age < 15 { "1000" } else { "0800" },
        );
        let icu = r.random::<f64>() < path.icu;
        if icu {
            let icu_start = admit + Duration::hours(r.random_range(2..48));
            let icu_end =
                icu_start + Duration::days(r.random_range(1..7)).min(discharge - icu_start);
            let icu_id = pt.icu(out, &eid, icu_start, icu_end);
            icu_care(pt, out, &icu_id, icu_start, icu_end);
        }
        match path.name.as_str() {
            "influenza" => pt.treat(out, "influenza-inpatient", &eid, admit, 5),
            "sars-cov-2" => {
                pt.treat(out, "covid-inpatient", &eid, admit, 5);
                if icu {
                    pt.treat(out, "covid-severe", &eid, admit, 10);
                }
            }
            _ => {}
        }
        pt.treat(out, "pneumonia-ward", &eid, admit, 7);
        pt.treat(out, "pneumonia-atypical", &eid, admit, 3);
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
            crate::biobank::sari_sample(
                pt.p,
                out,
                &pt.id,
                &sid,
                kind,
                admit + Duration::hours(6),
                &cid,
            );
        }
        if died {
            pt.deceased = Some(discharge);
        }
        eid
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

pub(crate) fn blood_count(
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

pub(crate) fn sfts_case(pt: &mut Pt<'_>, r: &mut ChaCha8Rng, onset: NaiveDate, out: &mut Out) {
    // only profiles with an `[sfts]` table draw SFTS onsets; without one there is nothing to write
    let Some(s) = pt.p.sfts.as_ref() else {
        return;
    };
    let admit = crate::at(onset + Duration::days(r.random_range(2..6)), 14, 0);
    let discharge = admit + Duration::days(r.random_range(7..21));
    let died = r.random::<f64>() < s.fatality;
    let (eid, _) = pt.stay(out, admit, discharge, died, "0100");
    if r.random::<f64>() < 0.4 {
        let (a, b) = (admit + Duration::days(1), admit + Duration::days(5));
        let icu = pt.icu(out, &eid, a, b);
        icu_care(pt, out, &icu, a, b);
    }
    pt.treat(out, "sfts", &eid, admit, 10);
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
    // the sera the outbreak collection keeps (ids from the diagnosis: no draw, no id shift)
    crate::biobank::outbreak_sera(
        pt.p,
        out,
        &pt.id,
        &format!("{cid}-serum"),
        admit + Duration::hours(20),
        &cid,
    );
    if died {
        pt.deceased = Some(discharge);
    }
}

pub(crate) fn vhf_case(
    pt: &mut Pt<'_>,
    r: &mut ChaCha8Rng,
    onset: NaiveDate,
    code: &str,
    display: &str,
    out: &mut Out,
) {
    let admit = crate::at(onset + Duration::days(r.random_range(1..5)), 10, 0);
    let severe = code != "A97.1" || r.random::<f64>() < 0.1;
    let died = code != "A97.1" && r.random::<f64>() < 0.25;
    let discharge = admit + Duration::days(r.random_range(5..25));
    let (eid, _) = pt.stay(out, admit, discharge, died, "0100");
    if severe {
        let (a, b) = (admit + Duration::hours(6), admit + Duration::days(4));
        let icu = pt.icu(out, &eid, a, b);
        icu_care(pt, out, &icu, a, b);
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
    crate::biobank::outbreak_sera(pt.p, out, &pt.id, &sid, admit + Duration::hours(2), &cid);
    if died {
        pt.deceased = Some(discharge);
    }
}

/// Ventilation, ECMO, renal replacement and empirical antibiotics of an intensive-care stay.
pub(crate) fn icu_care(
    pt: &mut Pt<'_>,
    out: &mut Out,
    icu: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) {
    let rates = pt.p.care.icu.clone();
    let end = end.max(start + Duration::hours(4));
    if pt.cr.random::<f64>() < rates.invasive_ventilation {
        pt.procedure(out, icu, "intubation", start, start + Duration::minutes(30));
        pt.procedure(out, icu, "ventilation", start, end);
        if pt.cr.random::<f64>() < rates.ecmo {
            pt.procedure(out, icu, "ecmo", start + Duration::hours(12), end);
        }
    } else if pt.cr.random::<f64>() < rates.noninvasive {
        let key = if pt.cr.random::<bool>() {
            "niv"
        } else {
            "hfnc"
        };
        if !pt.procedure(out, icu, key, start, end) {
            pt.procedure(out, icu, "niv", start, end);
        }
    }
    if pt.cr.random::<f64>() < rates.renal_replacement {
        pt.procedure(
            out,
            icu,
            "hemodiafiltration",
            start + Duration::hours(6),
            end,
        );
    }
    pt.treat(out, "icu-empirical", icu, start, 7);
}

/// Fachabteilungsschlüssel (§ 301 SGB V) of the department treating a diagnosis.
fn department(code: &str, age: i32) -> &'static str {
    let c = code.as_bytes()[0];
    if code.starts_with('P') || code.starts_with("Z38") {
        return "1200";
    }
    if code.starts_with('O') {
        return "2400";
    }
    if age < 15 {
        return "1000";
    }
    match c {
        b'C' | b'D' if code < "D50" => "0500",
        b'I' if code.starts_with("I6") => "2800",
        b'I' => "0300",
        b'N' => "0400",
        b'J' => "0800",
        b'K' => "0700",
        b'S' | b'T' => "1600",
        b'G' => "2800",
        b'F' => "2900",
        b'M' => "2300",
        b'H' => "2700",
        _ => "0100",
    }
}

/// An inpatient stay for a background diagnosis: the stay, the diagnosis, maybe intensive care,
/// an operation (German contact level Versorgungsstellenkontakt) or a death in hospital.
pub(crate) fn morbidity_stay(pt: &mut Pt<'_>, out: &mut Out, d: &Diagnosis, admit: NaiveDateTime) {
    let age = pt.age_at(admit.date());
    let code = d.code.as_str();
    let grave = ["A41", "I46", "I21", "I60", "I61", "J96", "C"]
        .iter()
        .any(|p| code.starts_with(p));
    let los = pt.cr.random_range(2..if grave { 16 } else { 9 });
    let discharge = admit + Duration::days(los);
    let icu_share = if grave {
        0.4
    } else {
        pt.p.encounters.icu_share_of_inpatient
    };
    let base = if code.starts_with("A41") || code.starts_with("I46") {
        0.15
    } else if grave || code.starts_with("I50") {
        0.05
    } else {
        0.005
    };
    let age_factor = if age >= 80 {
        2.0
    } else if age >= 60 {
        1.0
    } else {
        0.4
    };
    let died = pt.cr.random::<f64>() < base * age_factor;
    let (eid, dept_id) = pt.stay(out, admit, discharge, died, department(code, age));
    if pt.cr.random::<f64>() < icu_share {
        let a = admit + Duration::hours(pt.cr.random_range(1..24));
        let b = (a + Duration::days(pt.cr.random_range(1..5))).min(discharge);
        let icu = pt.icu(out, &eid, a, b);
        icu_care(pt, out, &icu, a, b);
    }
    // cancer surgery: an operation contact inside the department contact (MII contact levels)
    if code.starts_with('C') && pt.p.site.country == "DE" && pt.cr.random::<f64>() < 0.4 {
        let at = admit + Duration::days(1);
        pt.operation(out, &dept_id, at, at + Duration::hours(3));
    }
    let onset = admit.date() - Duration::days(pt.cr.random_range(0..3));
    let cid = pt.next_id("c");
    write::condition(
        out,
        &pt.id,
        &cid,
        Some(&eid),
        &pt.p.codes,
        code,
        &d.display,
        onset.max(pt.birth),
        admit,
    );
    let situation = if code.starts_with("A04.7") {
        Some("c-difficile")
    } else if code.starts_with("A41") || code.starts_with("I33") {
        Some("bacteraemia-susceptible")
    } else if code.starts_with("J44.0") || code.starts_with("J69") {
        Some("pneumonia-ward")
    } else if code.starts_with("N10") || code.starts_with("N13") {
        Some("urinary")
    } else {
        None
    };
    if let Some(s) = situation {
        pt.treat(out, s, &eid, admit, 7);
    }
    if died {
        pt.deceased = Some(discharge);
    }
}

/// The birth stay of a patient born during the span, with the newborn diagnoses drawn for them.
pub(crate) fn birth_stay(pt: &mut Pt<'_>, out: &mut Out, z: &[f64; 8]) {
    let p = pt.p;
    let at = crate::at(
        pt.birth,
        pt.cr.random_range(0..24),
        pt.cr.random_range(0..60),
    );
    let female = pt.female;
    let mut found: Vec<&Diagnosis> = Vec::new();
    for d in p
        .morbidity
        .iter()
        .filter(|d| d.setting == crate::morbidity::Setting::Birth)
    {
        if d.present(0, female, z, pt.cr.random()) {
            found.push(d);
        }
    }
    let preterm = found.iter().any(|d| d.code == "P07.3");
    let los = if preterm {
        pt.cr.random_range(10..35)
    } else {
        pt.cr.random_range(2..6)
    };
    let end = (at + Duration::days(los)).min(crate::at(p.site.end, 0, 0));
    let (eid, _) = pt.stay(
        out,
        at,
        end.max(at + Duration::hours(6)),
        false,
        if preterm { "1200" } else { "2400" },
    );
    for d in found {
        let cid = pt.next_id("c");
        write::condition(
            out,
            &pt.id,
            &cid,
            Some(&eid),
            &p.codes,
            &d.code,
            &d.display,
            pt.birth,
            at,
        );
    }
}
