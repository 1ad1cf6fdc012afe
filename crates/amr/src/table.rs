//! The plain data of the reference tables, below the modules that load and use them: organism
//! and antimicrobial indexes, guidelines, test methods, and the rows of the breakpoint table.
//! (`reference` parses the tables into these; `breakpoints` interprets with them.)

use crate::{AmrError, GuidelineError};
use std::fmt;
use std::str::FromStr;

/// Index of an organism in the reference tables (`Reference::organisms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MoId(pub u32);

/// Index of an antimicrobial in the reference tables (`Reference::antimicrobials`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AbId(pub u16);

/// The body that publishes a guideline.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Body {
    /// Clinical and Laboratory Standards Institute (M100).
    #[serde(rename = "CLSI")]
    Clsi,
    /// European Committee on Antimicrobial Susceptibility Testing.
    #[serde(rename = "EUCAST")]
    Eucast,
}

impl Body {
    /// `EUCAST` or `CLSI`.
    pub fn as_str(self) -> &'static str {
        match self {
            Body::Clsi => "CLSI",
            Body::Eucast => "EUCAST",
        }
    }
}

/// A guideline and its year, e.g. `EUCAST 2025`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Guideline {
    /// EUCAST or CLSI.
    pub body: Body,
    /// Year of the version (EUCAST 2025 = v15.0, CLSI 2025 = M100 Ed35).
    pub year: u16,
}

impl FromStr for Guideline {
    type Err = AmrError;
    fn from_str(s: &str) -> Result<Guideline, AmrError> {
        let t = s.trim().replace(['-', '_'], " ");
        let mut it = t.split_whitespace();
        let (b, y) = (it.next().unwrap_or(""), it.next());
        let body = match b.to_uppercase().as_str() {
            "EUCAST" => Body::Eucast,
            "CLSI" => Body::Clsi,
            _ => {
                return Err(GuidelineError::Body { text: s.to_owned() }.into());
            }
        };
        let year = y
            .and_then(|y| y.parse::<u16>().ok())
            .filter(|_| it.next().is_none())
            .ok_or_else(|| GuidelineError::Year {
                text: s.to_owned(),
                body: body.as_str(),
            })?;
        Ok(Guideline { body, year })
    }
}

impl TryFrom<String> for Guideline {
    type Error = AmrError;
    fn try_from(s: String) -> Result<Guideline, AmrError> {
        s.parse()
    }
}

impl From<Guideline> for String {
    fn from(g: Guideline) -> String {
        g.to_string()
    }
}

impl fmt::Display for Guideline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.body.as_str(), self.year)
    }
}

/// Test method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Minimum inhibitory concentration (broth/agar dilution, gradient strip, automated).
    Mic,
    /// Disk diffusion.
    Disk,
}

/// One breakpoint row of the breakpoint tables.
#[derive(Debug, Clone)]
pub struct BreakpointRow {
    /// Line in its table (`breakpoints-eucast.tsv` or `breakpoints-clsi.tsv`, by guideline).
    pub line: u32,
    /// Guideline and year.
    pub guideline: Guideline,
    /// MIC or disk.
    pub method: Method,
    /// Site of infection / route as printed ("Meningitis", "Oral", ...), empty if none.
    pub site: String,
    /// Organism code of the row (species, group, genus, order, `B_GRAMN`, `UNKNOWN`...).
    pub mo_code: String,
    /// The row's organism.
    pub mo: Option<MoId>,
    /// Drug code.
    pub ab_code: String,
    /// The row's drug.
    pub ab: Option<AbId>,
    /// Table of the guideline the row comes from, e.g. "Enterobacterales".
    pub table: String,
    /// Disk content, e.g. "10 mcg".
    pub disk_dose: String,
    /// S breakpoint (MIC mg/L or zone mm).
    pub s: Option<f64>,
    /// R breakpoint.
    pub r: Option<f64>,
    /// Breakpoint for uncomplicated urinary tract infection only.
    pub uti: bool,
    /// The S–R gap is "susceptible dose-dependent" rather than "I".
    pub sdd: bool,
    /// The row has no S category (EUCAST prints S ≤ 0.001 / zone ≥ 50 for these).
    pub no_s: bool,
}

/// A row of a breakpoint table that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    /// Fewer than the 12 columns.
    #[error("expected 12 columns, found {found}")]
    Columns {
        /// Columns found.
        found: usize,
    },
    /// The guideline column.
    #[error(transparent)]
    Guideline(AmrError),
    /// The method is neither MIC nor DISK.
    #[error("unknown method {text:?}")]
    Method {
        /// The text read.
        text: String,
    },
    /// A breakpoint column is not a number.
    #[error("{column}: not a number: {text:?}")]
    Number {
        /// The column.
        column: &'static str,
        /// The text read.
        text: String,
    },
}

impl BreakpointRow {
    pub(crate) fn from_fields(
        f: &[&str],
        mo: Option<MoId>,
        ab: Option<AbId>,
    ) -> Result<BreakpointRow, RowError> {
        if f.len() < 12 {
            return Err(RowError::Columns { found: f.len() });
        }
        let guideline: Guideline = f[0].parse().map_err(RowError::Guideline)?;
        let method = match f[1] {
            "MIC" => Method::Mic,
            "DISK" => Method::Disk,
            m => return Err(RowError::Method { text: m.to_owned() }),
        };
        let num = |s: &str, column: &'static str| -> Result<Option<f64>, RowError> {
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse().map(Some).map_err(|_| RowError::Number {
                    column,
                    text: s.to_owned(),
                })
            }
        };
        let s = num(f[8], "breakpoint_S")?;
        let r = num(f[9], "breakpoint_R")?;
        let no_s = match (method, s) {
            (Method::Mic, Some(v)) => v <= 0.001,
            (Method::Disk, Some(v)) => v >= 50.0,
            _ => false,
        };
        Ok(BreakpointRow {
            line: 0,
            guideline,
            method,
            site: f[2].into(),
            mo_code: f[3].into(),
            mo,
            ab_code: f[5].into(),
            ab,
            table: f[6].into(),
            disk_dose: f[7].into(),
            s,
            r,
            uti: f[10] == "TRUE",
            sdd: f[11] == "TRUE",
            no_s,
        })
    }

    /// A readable name of the row: guideline, method, table, organism, drug, site, rule.
    pub fn label(&self) -> String {
        let num = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_else(|| "-".into());
        let rule = match (self.method, self.guideline.body) {
            (Method::Mic, Body::Eucast) => format!("S<={} R>{}", num(self.s), num(self.r)),
            (Method::Mic, Body::Clsi) => format!("S<={} R>={}", num(self.s), num(self.r)),
            (Method::Disk, Body::Eucast) => format!("S>={} R<{}", num(self.s), num(self.r)),
            (Method::Disk, Body::Clsi) => format!("S>={} R<={}", num(self.s), num(self.r)),
        };
        let mut out = format!(
            "{} {} {} {} [{}]",
            self.guideline,
            if self.method == Method::Mic {
                "MIC"
            } else {
                "DISK"
            },
            self.ab_code,
            self.table,
            self.mo_code
        );
        if !self.site.is_empty() {
            out.push_str(&format!(" ({})", self.site));
        }
        if self.uti && !self.site.to_lowercase().contains("urinary") {
            out.push_str(" (UTI)");
        }
        if self.method == Method::Disk && !self.disk_dose.is_empty() {
            out.push_str(&format!(" disk {}", self.disk_dose));
        }
        out.push(' ');
        out.push_str(&rule);
        if self.sdd {
            out.push_str(" SDD");
        }
        out
    }

    pub(crate) fn is_screen(&self) -> bool {
        self.site.contains("Screen") || self.table.to_lowercase().contains("screen")
    }

    pub(crate) fn is_meningitis(&self) -> bool {
        self.site.split(',').any(|p| p.trim() == "Meningitis")
    }

    pub(crate) fn is_non_meningitis(&self) -> bool {
        self.site.contains("Non-meningitis")
    }
}
