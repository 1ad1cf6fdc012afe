//! CSV input: the long form (`organism, antimicrobial, mic | disk` per row) and WHONET-style
//! exports (one row per isolate, one column per drug named `<CODE>_<guideline><method><potency>`,
//! e.g. `AMP_ND10` = ampicillin, CLSI (N) disk (D) 10 µg; `CIP_EM` = ciprofloxacin, EUCAST MIC;
//! `E` as method = gradient strip (an MIC)).

use crate::AmrError;
use crate::breakpoints::{
    Body, Guideline, InfectionSite, Interpretation, Interpreter, Measurement, Sir,
};
use crate::isolate::{Isolate, Test};
use crate::reference::{AbId, Reference};
use crate::value::{Mic, Zone};
use chrono::NaiveDate;
use std::io::Read;

/// One interpreted row of a long CSV.
#[derive(Debug, Clone)]
pub struct Row {
    /// The input fields, as read.
    pub fields: Vec<String>,
    /// The interpretation.
    pub result: Interpretation,
}

fn col(headers: &[String], names: &[&str]) -> Option<usize> {
    headers
        .iter()
        .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
}

/// Is this header a long-form CSV (has `organism` and `antimicrobial` columns)?
pub fn is_long(headers: &[String]) -> bool {
    col(headers, &["organism", "mo"]).is_some()
        && col(headers, &["antimicrobial", "ab", "drug", "antibiotic"]).is_some()
}

/// Reads a long CSV (`organism`, `antimicrobial`, `mic` and/or `disk`; optional
/// `disk_guideline` or `guideline` naming the guideline whose disk was used, and
/// `infection_site`) and interprets every row. `source` names the input in errors.
pub fn interpret_long(
    input: impl Read,
    source: &str,
    interp: &Interpreter<'_>,
) -> Result<(Vec<String>, Vec<Row>), AmrError> {
    let r = interp.reference();
    let mut rd = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = rd
        .headers()
        .map_err(|e| AmrError::input(source, None, None, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let oc = col(&headers, &["organism", "mo"])
        .ok_or_else(|| AmrError::input(source, None, None, "no `organism` column"))?;
    let ac = col(&headers, &["antimicrobial", "ab", "drug", "antibiotic"])
        .ok_or_else(|| AmrError::input(source, None, None, "no `antimicrobial` column"))?;
    let mc = col(&headers, &["mic"]);
    let dc = col(&headers, &["disk", "zone"]);
    if mc.is_none() && dc.is_none() {
        return Err(AmrError::input(
            source,
            None,
            None,
            "needs a `mic` or a `disk` column",
        ));
    }
    let gc = col(&headers, &["disk_guideline", "guideline"]);
    let sc = col(&headers, &["infection_site", "site"]);
    let mut out = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| AmrError::input(source, Some(line), None, e.to_string()))?;
        let at = |c: usize, name: &str| -> Result<&str, AmrError> {
            rec.get(c).ok_or_else(|| {
                AmrError::input(source, Some(line), None, format!("missing column {name}"))
            })
        };
        let o = at(oc, "organism")?;
        let mo = r.find_organism(o).ok_or_else(|| {
            AmrError::input(
                source,
                Some(line),
                Some("organism"),
                format!("unknown organism {o:?}"),
            )
        })?;
        let a = at(ac, "antimicrobial")?;
        let ab = r.find_antimicrobial(a).ok_or_else(|| {
            AmrError::input(
                source,
                Some(line),
                Some("antimicrobial"),
                format!("unknown antimicrobial {a:?}"),
            )
        })?;
        let site = match sc {
            Some(c) => at(c, "infection_site")?
                .parse::<InfectionSite>()
                .map_err(|e| {
                    AmrError::input(source, Some(line), Some("infection_site"), e.to_string())
                })?,
            None => InfectionSite::Unspecified,
        };
        let mic = mc
            .map(|c| at(c, "mic"))
            .transpose()?
            .filter(|s| !s.is_empty());
        let disk = dc
            .map(|c| at(c, "disk"))
            .transpose()?
            .filter(|s| !s.is_empty());
        let m = match (mic, disk) {
            (Some(v), _) => Measurement::Mic(
                Mic::parse(v)
                    .map_err(|e| AmrError::input(source, Some(line), Some("mic"), e.to_string()))?,
            ),
            (None, Some(v)) => {
                let z = Zone::parse(v).map_err(|e| {
                    AmrError::input(source, Some(line), Some("disk"), e.to_string())
                })?;
                let body = match gc
                    .map(|c| at(c, "disk_guideline"))
                    .transpose()?
                    .filter(|s| !s.is_empty())
                {
                    Some(g) => Some(body_of(g).ok_or_else(|| {
                        AmrError::input(
                            source,
                            Some(line),
                            Some(&headers[gc.unwrap_or(0)]),
                            format!("{g:?} is neither EUCAST nor CLSI"),
                        )
                    })?),
                    None => None,
                };
                Measurement::Zone(z, body)
            }
            (None, None) => {
                out.push(Row {
                    fields: rec.iter().map(str::to_string).collect(),
                    result: Interpretation {
                        sir: Sir::Ni,
                        basis: "no value (mic and disk empty)".into(),
                    },
                });
                continue;
            }
        };
        out.push(Row {
            fields: rec.iter().map(str::to_string).collect(),
            result: interp.interpret(mo, ab, &m, site),
        });
    }
    Ok((headers, out))
}

fn body_of(s: &str) -> Option<Body> {
    let u = s.trim().to_uppercase();
    if u.starts_with("EUCAST") || u == "E" {
        Some(Body::Eucast)
    } else if u.starts_with("CLSI") || u.starts_with("NCCLS") || u == "N" {
        Some(Body::Clsi)
    } else {
        None
    }
}

/// A WHONET drug column: the drug, the guideline letter's body, and whether it holds zones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrugColumn {
    /// Column index.
    pub index: usize,
    /// The drug.
    pub ab: AbId,
    /// Guideline of the column (N = CLSI, E = EUCAST), if stated.
    pub body: Option<Body>,
    /// Disk diffusion (zones) rather than MIC / gradient strip.
    pub disk: bool,
}

/// Recognises WHONET drug columns (`AMP_ND10`, `CIP_NM`, `MEM_EE`, `VAN`).
pub fn drug_columns(headers: &[String], r: &Reference) -> Vec<DrugColumn> {
    let mut out = Vec::new();
    for (index, h) in headers.iter().enumerate() {
        let h = h.trim();
        let (code, suffix) = h.split_once('_').unwrap_or((h, ""));
        if code.len() != 3 || !code.chars().all(|c| c.is_ascii_uppercase()) {
            continue;
        }
        let Some(ab) = r
            .find_antimicrobial(code)
            .filter(|a| r.antimicrobial(*a).code == code)
        else {
            continue;
        };
        let mut ch = suffix.chars();
        let (body, method) = match (ch.next(), ch.next()) {
            (Some(g @ ('N' | 'E' | 'D' | 'B')), Some(m @ ('D' | 'M' | 'E'))) => (
                match g {
                    'N' => Some(Body::Clsi),
                    'E' => Some(Body::Eucast),
                    _ => None,
                },
                m,
            ),
            (None, _) => (None, 'M'),
            _ => continue,
        };
        out.push(DrugColumn {
            index,
            ab,
            body,
            disk: method == 'D',
        });
    }
    out
}

/// Reads a WHONET-style isolate CSV into isolates. Columns (case-insensitive, WHONET or
/// plain names): organism (`ORGANISM`, `Organism`), patient (`PATIENT_ID`, `Identification
/// number`), specimen date (`SPEC_DATE`, `Specimen date`), specimen type (`SPEC_TYPE`,
/// `Specimen type`; WHONET `bl`/`ur`), the lab's guideline (`GUIDELINE`), and drug columns.
/// A drug cell holds an MIC, a zone, or the lab's S/I/R.
pub fn read_whonet(
    input: impl Read,
    source: &str,
    r: &Reference,
) -> Result<Vec<Isolate>, AmrError> {
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = rd
        .headers()
        .map_err(|e| AmrError::input(source, None, None, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let oc = col(&headers, &["organism", "ORGANISM"])
        .ok_or_else(|| AmrError::input(source, None, None, "no ORGANISM column"))?;
    let pc = col(
        &headers,
        &["patient_id", "identification number", "patient"],
    );
    let dc = col(&headers, &["spec_date", "specimen date", "date"])
        .ok_or_else(|| AmrError::input(source, None, None, "no SPEC_DATE column"))?;
    let tc = col(&headers, &["spec_type", "specimen type"]);
    let gc = col(&headers, &["guideline"]);
    let ic = col(&headers, &["spec_num", "specimen number", "isolate number"]);
    let drugs = drug_columns(&headers, r);
    if drugs.is_empty() {
        return Err(AmrError::input(
            source,
            None,
            None,
            "no drug columns (expected WHONET names such as AMP_ND10 or CIP_NM)",
        ));
    }
    let mut out = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| AmrError::input(source, Some(line), None, e.to_string()))?;
        let get = |c: usize| rec.get(c).unwrap_or("");
        let o = get(oc);
        if o.is_empty() {
            continue;
        }
        let organism = r.find_organism(o).ok_or_else(|| {
            AmrError::input(
                source,
                Some(line),
                Some(&headers[oc]),
                format!("unknown organism {o:?}"),
            )
        })?;
        let d = get(dc);
        let date = NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(d, "%d.%m.%Y"))
            .or_else(|_| NaiveDate::parse_from_str(d, "%Y/%m/%d"))
            .map_err(|_| {
                AmrError::input(
                    source,
                    Some(line),
                    Some(&headers[dc]),
                    format!("not a date: {d:?}"),
                )
            })?;
        let lab_guideline = match gc.map(get).filter(|s| !s.is_empty()) {
            Some(g) => Some(g.parse::<Guideline>().map_err(|e| {
                AmrError::input(
                    source,
                    Some(line),
                    Some(&headers[gc.unwrap_or(0)]),
                    e.to_string(),
                )
            })?),
            None => None,
        };
        let specimen_type =
            tc.map(get)
                .filter(|s| !s.is_empty())
                .map(|s| match s.to_lowercase().as_str() {
                    "bl" => "blood".to_string(),
                    "ur" => "urine".to_string(),
                    "sf" | "cf" => "csf".to_string(),
                    "sp" => "sputum".to_string(),
                    other => other.to_string(),
                });
        let mut tests = Vec::new();
        for dcol in &drugs {
            let v = get(dcol.index);
            if v.is_empty() {
                continue;
            }
            if let Some(s) = Sir::parse(v) {
                tests.push(Test {
                    ab: dcol.ab,
                    value: None,
                    lab_sir: Some(s),
                    lab_guideline,
                });
                continue;
            }
            let value = if dcol.disk {
                let z = Zone::parse(v).map_err(|e| {
                    AmrError::input(
                        source,
                        Some(line),
                        Some(&headers[dcol.index]),
                        e.to_string(),
                    )
                })?;
                Measurement::Zone(z, dcol.body.or(lab_guideline.map(|g| g.body)))
            } else {
                Measurement::Mic(Mic::parse(v).map_err(|e| {
                    AmrError::input(
                        source,
                        Some(line),
                        Some(&headers[dcol.index]),
                        e.to_string(),
                    )
                })?)
            };
            tests.push(Test {
                ab: dcol.ab,
                value: Some(value),
                lab_sir: None,
                lab_guideline,
            });
        }
        let id = match ic.map(get).filter(|s| !s.is_empty()) {
            Some(s) => format!("{s}#{line}"),
            None => format!("line {line}"),
        };
        out.push(Isolate {
            id,
            patient: pc.map(get).unwrap_or("").to_string(),
            date,
            organism,
            specimen_type,
            tests,
        });
    }
    Ok(out)
}
