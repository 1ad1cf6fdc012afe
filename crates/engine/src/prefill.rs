//! Pre-fill at the site: the values a study's declared items ([`kakehashi_edc::prefill`])
//! take for one local patient in the site's snapshot, each with where it was read. The
//! patient's admission is the start of their latest inpatient stay (class `IMP`, top level)
//! that began on or before the request; lab and PCR windows count days from its day.
//! Nothing here leaves the site by itself: the site agent sends what its policy allows.

use crate::surveillance::columns::{dates, floats, strings, times};
use chrono::{DateTime, NaiveDate, Utc};
use kakehashi_edc::prefill::{LabSource, PcrSource, Pick, PrefillItem, Source};
use kakehashi_model::View;
use kakehashi_model::coding::systems;
use kakehashi_store::Snapshot;
use std::collections::HashSet;

/// A snapshot table that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("reading table {view}: {message}")]
pub struct PrefillReadError {
    /// The table.
    pub view: View,
    /// Why.
    pub message: String,
}

/// A value found, with its source.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The value as the field stores it.
    pub value: String,
    /// The FHIR resource type read.
    pub resource: &'static str,
    /// The element or `system|code` read.
    pub code: String,
    /// When the value was taken.
    pub at: Option<String>,
    /// The value as stored.
    pub original: String,
    /// Its unit as stored.
    pub unit: Option<String>,
}

/// What one item came to: a value, or why there is none.
pub type Outcome = Result<Found, String>;

#[derive(Debug, Default)]
struct PatientRow {
    found: bool,
    gender: Option<String>,
    birth: Option<NaiveDate>,
}

#[derive(Debug)]
struct Obs {
    system: String,
    code: String,
    at: Option<DateTime<Utc>>,
    value: Option<f64>,
    ucum: Option<String>,
    unit: Option<String>,
    value_code: Option<String>,
    interpretation: Option<String>,
    text: Option<String>,
}

fn read_err(view: View) -> impl Fn(crate::surveillance::SurveillanceError) -> PrefillReadError {
    move |e| PrefillReadError {
        view,
        message: e.to_string(),
    }
}

fn scan(
    snap: &Snapshot,
    view: View,
    columns: &[&str],
    mut f: impl FnMut(&arrow::array::RecordBatch) -> Result<(), PrefillReadError>,
) -> Result<(), PrefillReadError> {
    for b in snap.scan(view, Some(columns)) {
        let b = b.map_err(|e| PrefillReadError {
            view,
            message: e.to_string(),
        })?;
        f(&b)?;
    }
    Ok(())
}

/// The stored (system, code) pairs a lab or PCR source reads: its codes and their JLAC10 ↔
/// LOINC counterparts in the shipped map.
fn wanted(loinc: &[String], jlac10: &[String]) -> HashSet<(String, String)> {
    let mut out = HashSet::new();
    for l in loinc {
        out.insert((systems::LOINC.to_owned(), l.clone()));
        for j in kakehashi_terminology::lab::loinc_to_jlac10(l) {
            out.insert((systems::JLAC10.to_owned(), j.clone()));
        }
    }
    for j in jlac10 {
        out.insert((systems::JLAC10.to_owned(), j.clone()));
        if let Some(l) = kakehashi_terminology::lab::jlac10_to_loinc(j) {
            out.insert((systems::LOINC.to_owned(), l.to_owned()));
        }
    }
    out
}

fn canonical(system: &str) -> &str {
    if kakehashi_terminology::is_jlac10(system) {
        systems::JLAC10
    } else {
        system
    }
}

/// Whole years from `birth` to `on`.
fn age(birth: NaiveDate, on: NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut a = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    a
}

/// A number as a form stores it: up to two decimals, no trailing zeros.
fn number(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Proposes values for `items` for the local patient `patient` (the store's patient key), as
/// of `asked` (the admission is the latest inpatient stay that began on or before it).
/// `Ok(None)` when the store has no such patient.
pub fn propose(
    snap: &Snapshot,
    patient: &str,
    asked: DateTime<Utc>,
    items: &[PrefillItem],
) -> Result<Option<Vec<(String, Outcome)>>, PrefillReadError> {
    let mut p = PatientRow::default();
    let v = View::Patient;
    scan(snap, v, &["id", "gender", "birth_date"], |b| {
        let id = strings(b, v, "id").map_err(read_err(v))?;
        let gender = strings(b, v, "gender").map_err(read_err(v))?;
        let birth = dates(b, v, "birth_date").map_err(read_err(v))?;
        for (i, born) in birth.into_iter().enumerate() {
            if id.value(i) == Some(patient) {
                p = PatientRow {
                    found: true,
                    gender: gender.value(i).map(str::to_owned),
                    birth: born,
                };
            }
        }
        Ok(())
    })?;
    if !p.found {
        return Ok(None);
    }
    let mut admission: Option<DateTime<Utc>> = None;
    let v = View::Encounter;
    scan(
        snap,
        v,
        &["patient_id", "class_code", "period_start", "part_of_id"],
        |b| {
            let pid = strings(b, v, "patient_id").map_err(read_err(v))?;
            let class = strings(b, v, "class_code").map_err(read_err(v))?;
            let start = times(b, v, "period_start").map_err(read_err(v))?;
            let part_of = strings(b, v, "part_of_id").map_err(read_err(v))?;
            for (i, began) in start.into_iter().enumerate() {
                if pid.value(i) != Some(patient)
                    || part_of.value(i).is_some()
                    || class.value(i) != Some("IMP")
                {
                    continue;
                }
                if let Some(s) = began.filter(|s| *s <= asked)
                    && admission.is_none_or(|a| s > a)
                {
                    admission = Some(s);
                }
            }
            Ok(())
        },
    )?;
    let mut codes = HashSet::new();
    for item in items {
        match &item.source {
            Source::Lab(l) => codes.extend(wanted(&l.loinc, &l.jlac10)),
            Source::Pcr(p) => codes.extend(wanted(&p.loinc, &p.jlac10)),
            _ => {}
        }
    }
    let mut obs = Vec::new();
    if !codes.is_empty() {
        let v = View::Observation;
        let cols = [
            "patient_id",
            "code_system",
            "code",
            "effective_date_time",
            "value_quantity",
            "value_ucum",
            "value_unit",
            "value_code",
            "interpretation_code",
            "value_string",
        ];
        scan(snap, v, &cols, |b| {
            let pid = strings(b, v, "patient_id").map_err(read_err(v))?;
            let sys = strings(b, v, "code_system").map_err(read_err(v))?;
            let code = strings(b, v, "code").map_err(read_err(v))?;
            let at = times(b, v, "effective_date_time").map_err(read_err(v))?;
            let value = floats(b, v, "value_quantity").map_err(read_err(v))?;
            let ucum = strings(b, v, "value_ucum").map_err(read_err(v))?;
            let unit = strings(b, v, "value_unit").map_err(read_err(v))?;
            let vcode = strings(b, v, "value_code").map_err(read_err(v))?;
            let interp = strings(b, v, "interpretation_code").map_err(read_err(v))?;
            let text = strings(b, v, "value_string").map_err(read_err(v))?;
            for i in 0..b.num_rows() {
                if pid.value(i) != Some(patient) {
                    continue;
                }
                let (Some(s), Some(c)) = (sys.value(i), code.value(i)) else {
                    continue;
                };
                let key = (canonical(s).to_owned(), c.to_owned());
                if !codes.contains(&key) {
                    continue;
                }
                obs.push(Obs {
                    system: key.0,
                    code: key.1,
                    at: at[i],
                    value: value[i],
                    ucum: ucum.value(i).map(str::to_owned),
                    unit: unit.value(i).map(str::to_owned),
                    value_code: vcode.value(i).map(str::to_owned),
                    interpretation: interp.value(i).map(str::to_owned),
                    text: text.value(i).map(str::to_owned),
                });
            }
            Ok(())
        })?;
    }
    let out = items
        .iter()
        .map(|item| {
            let o = match &item.source {
                Source::Age => age_of(&p, admission, asked),
                Source::Sex { codes } => sex_of(&p, codes),
                Source::AdmissionDate => admission
                    .map(|a| Found {
                        value: a.date_naive().to_string(),
                        resource: "Encounter",
                        code: "period.start (class IMP)".into(),
                        at: None,
                        original: a.to_rfc3339(),
                        unit: None,
                    })
                    .ok_or_else(|| "no inpatient stay began before the request".to_owned()),
                Source::Lab(l) => lab_of(&obs, admission, l),
                Source::Pcr(r) => pcr_of(&obs, admission, r),
            };
            (item.field.clone(), o)
        })
        .collect();
    Ok(Some(out))
}

fn age_of(p: &PatientRow, admission: Option<DateTime<Utc>>, asked: DateTime<Utc>) -> Outcome {
    let birth = p.birth.ok_or("no birth date")?;
    let on = admission.unwrap_or(asked).date_naive();
    let years = age(birth, on).to_string();
    // the birth date is identifying (ARC marks it so): only the age leaves the site
    Ok(Found {
        value: years.clone(),
        resource: "Patient",
        code: "birthDate (age in years on the admission day, computed at the site)".into(),
        at: Some(on.to_string()),
        original: years,
        unit: Some("a".into()),
    })
}

fn sex_of(p: &PatientRow, codes: &std::collections::BTreeMap<String, String>) -> Outcome {
    let g = p.gender.as_deref().ok_or("no gender recorded")?;
    let code = codes
        .get(g)
        .ok_or_else(|| format!("gender {g:?} has no choice in the declaration"))?;
    Ok(Found {
        value: code.clone(),
        resource: "Patient",
        code: "gender".into(),
        at: None,
        original: g.to_owned(),
        unit: None,
    })
}

fn in_window(at: Option<DateTime<Utc>>, admission: DateTime<Utc>, w: [i32; 2]) -> bool {
    at.is_some_and(|t| {
        let d = (t.date_naive() - admission.date_naive()).num_days();
        d >= i64::from(w[0]) && d <= i64::from(w[1])
    })
}

fn lab_of(obs: &[Obs], admission: Option<DateTime<Utc>>, l: &LabSource) -> Outcome {
    let adm = admission.ok_or("no inpatient stay: no window to read labs in")?;
    let codes = wanted(&l.loinc, &l.jlac10);
    let mut found: Vec<(&Obs, f64)> = Vec::new();
    let mut unconvertible = 0;
    for o in obs {
        if !codes.contains(&(o.system.clone(), o.code.clone()))
            || !in_window(o.at, adm, l.window_days)
        {
            continue;
        }
        let Some(x) = o.value else { continue };
        let from = o.ucum.as_deref().or(o.unit.as_deref()).unwrap_or_default();
        match kakehashi_terminology::ucum::convert(x, from, &l.unit) {
            Some(y) => found.push((o, y)),
            None => unconvertible += 1,
        }
    }
    found.sort_by(|a, b| a.0.at.cmp(&b.0.at).then(a.1.total_cmp(&b.1)));
    let pick = match l.pick {
        Pick::First => found.first(),
        Pick::Last => found.last(),
        Pick::Min => found.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
        Pick::Max => found.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
    };
    let Some((o, y)) = pick else {
        return Err(if unconvertible > 0 {
            format!(
                "{unconvertible} value(s) in the window, in a unit that does not convert to {}",
                l.unit
            )
        } else {
            format!(
                "no value in days {} to {} of the stay",
                l.window_days[0], l.window_days[1]
            )
        });
    };
    Ok(Found {
        value: number(*y),
        resource: "Observation",
        code: format!("{}|{}", o.system, o.code),
        at: o.at.map(|t| t.to_rfc3339()),
        original: o.value.map(number).unwrap_or_default(),
        unit: o.ucum.clone().or(o.unit.clone()),
    })
}

fn pcr_of(obs: &[Obs], admission: Option<DateTime<Utc>>, r: &PcrSource) -> Outcome {
    let adm = admission.ok_or("no inpatient stay: no window to read tests in")?;
    let codes = wanted(&r.loinc, &r.jlac10);
    let mut found: Vec<(&Obs, bool)> = obs
        .iter()
        .filter(|o| {
            codes.contains(&(o.system.clone(), o.code.clone()))
                && in_window(o.at, adm, r.window_days)
        })
        .filter_map(|o| {
            kakehashi_surveillance::series::result_of(
                o.value_code.as_deref(),
                o.interpretation.as_deref(),
                o.text.as_deref(),
            )
            .map(|pos| (o, pos))
        })
        .collect();
    found.sort_by_key(|f| f.0.at);
    let (o, pos) = found.last().ok_or_else(|| {
        format!(
            "no readable result in days {} to {} of the stay",
            r.window_days[0], r.window_days[1]
        )
    })?;
    let original = o
        .value_code
        .clone()
        .or(o.interpretation.clone())
        .or(o.text.clone())
        .unwrap_or_default();
    Ok(Found {
        value: if *pos {
            r.positive.clone()
        } else {
            r.negative.clone()
        },
        resource: "Observation",
        code: format!("{}|{}", o.system, o.code),
        at: o.at.map(|t| t.to_rfc3339()),
        original: format!(
            "{original} ({})",
            if *pos { "positive" } else { "negative" }
        ),
        unit: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_numbers() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(age(d("1977-05-24"), d("2024-02-14")), 46);
        assert_eq!(age(d("1977-02-14"), d("2024-02-14")), 47);
        assert_eq!(number(355.0), "355");
        assert_eq!(number(8.9), "8.9");
        assert_eq!(number(0.123), "0.12");
    }
}
