//! Count tables: what a site computes (true counts, never sent) and what it releases (gated
//! counts, the only payload a site→hub message can carry).
//!
//! A table has dimensions (e.g. week × age band, organism × antimicrobial) and measures (e.g.
//! cases, ICU, deaths; tested, S, I, R). Every dimension has a [`DimKind`] that accepts values
//! of one shape only (an ISO week, an age band, a code from a closed list the *task* declared),
//! so a patient id, a date of birth or free text cannot become a row key.

use crate::policy::Noise;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The shape of a dimension's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DimKind {
    /// ISO 8601 week, `2024-W03`.
    Week,
    /// Calendar year, `2024`.
    Year,
    /// Age band, `0-4`, `80+`, or `unknown` (no age recorded).
    AgeBand,
    /// Administrative sex: `male`, `female`, `other`, `unknown`.
    Sex,
    /// Country, `DE` or `JP`.
    Country,
    /// A code from the closed list the task declared (organisms, antimicrobials, pathogens,
    /// criteria, classes...). Values outside the list are refused.
    Code,
}

/// One dimension of a count table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dim {
    /// Its name, e.g. `week`, `organism`.
    pub name: String,
    /// The shape of its values.
    pub kind: DimKind,
    /// For [`DimKind::Code`]: the values allowed, taken from the task or shipped reference
    /// data, never from patient data.
    pub domain: BTreeSet<String>,
}

impl Dim {
    /// A dimension of a fixed-shape kind (week, year, age band, sex, country).
    pub fn new(name: &str, kind: DimKind) -> Dim {
        Dim {
            name: name.to_owned(),
            kind,
            domain: BTreeSet::new(),
        }
    }

    /// A code dimension whose values must come from `domain`.
    pub fn codes<I, S>(name: &str, domain: I) -> Dim
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Dim {
            name: name.to_owned(),
            kind: DimKind::Code,
            domain: domain.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether `v` is a value this dimension may carry.
    pub fn accepts(&self, v: &str) -> bool {
        let digits = |s: &str, min: usize, max: usize| {
            s.len() >= min && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        match self.kind {
            DimKind::Week => {
                v.len() == 8
                    && digits(&v[..4], 4, 4)
                    && &v[4..6] == "-W"
                    && digits(&v[6..], 2, 2)
                    && (1..=53).contains(&v[6..].parse::<u8>().unwrap_or(0))
            }
            DimKind::Year => digits(v, 4, 4),
            DimKind::AgeBand if v == "unknown" => true,
            DimKind::AgeBand => match v.strip_suffix('+') {
                Some(lo) => digits(lo, 1, 3),
                None => v
                    .split_once('-')
                    .is_some_and(|(a, b)| digits(a, 1, 3) && digits(b, 1, 3)),
            },
            DimKind::Sex => matches!(v, "male" | "female" | "other" | "unknown"),
            DimKind::Country => matches!(v, "DE" | "JP"),
            DimKind::Code => self.domain.contains(v),
        }
    }
}

/// A count table was built wrongly (a programming error in a task module, reported, not
/// panicked on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// A key has the wrong number of values.
    #[error("a row key has {got} values, the table has {want} dimensions")]
    KeyArity {
        /// Values given.
        got: usize,
        /// Dimensions of the table.
        want: usize,
    },
    /// A value does not fit its dimension.
    #[error("value {value:?} is not allowed in dimension `{dim}` ({kind:?})")]
    BadValue {
        /// The dimension.
        dim: String,
        /// Its kind.
        kind: DimKind,
        /// The refused value (shown to the site's own operator only).
        value: String,
    },
    /// A measure index or name is unknown.
    #[error("unknown measure `{0}`")]
    Measure(String),
    /// The task does not declare the grid of rows it releases, so which rows appear would
    /// depend on the data (the presence of a row would reveal existence).
    #[error("the answer's rows must be declared by the task: {0}")]
    Undeclared(String),
}

/// True counts computed at a site. Deliberately neither `Serialize` nor `Clone`: it can only be
/// turned into something that leaves the site by the gate ([`crate::Gate::release`]).
#[derive(Debug)]
pub struct CountTable {
    pub(crate) dims: Vec<Dim>,
    pub(crate) measures: Vec<String>,
    pub(crate) rows: BTreeMap<Vec<String>, Vec<u64>>,
    pub(crate) margins: Vec<Margin>,
}

/// A released total and the cells it bounds: `total ≥ Σ parts`, often with equality (e.g. an
/// organism's isolates and the five S/I/R categories of one drug).
#[derive(Debug)]
pub(crate) struct Margin {
    /// (row key, measure index) of the total.
    pub(crate) total: (Vec<String>, usize),
    /// (row key, measure index) of each part.
    pub(crate) parts: Vec<(Vec<String>, usize)>,
}

impl CountTable {
    /// An empty table with these dimensions and measures.
    pub fn new(dims: Vec<Dim>, measures: &[&str]) -> CountTable {
        CountTable {
            dims,
            measures: measures.iter().map(|m| (*m).to_owned()).collect(),
            rows: BTreeMap::new(),
            margins: Vec::new(),
        }
    }

    /// A single count without dimensions (e.g. a cohort size).
    pub fn scalar(measure: &str, n: u64) -> CountTable {
        let mut t = CountTable::new(Vec::new(), &[measure]);
        t.rows.insert(Vec::new(), vec![n]);
        t
    }

    fn check_key(&self, key: &[&str]) -> Result<Vec<String>, TableError> {
        if key.len() != self.dims.len() {
            return Err(TableError::KeyArity {
                got: key.len(),
                want: self.dims.len(),
            });
        }
        for (d, v) in self.dims.iter().zip(key) {
            if !d.accepts(v) {
                return Err(TableError::BadValue {
                    dim: d.name.clone(),
                    kind: d.kind,
                    value: (*v).to_owned(),
                });
            }
        }
        Ok(key.iter().map(|v| (*v).to_owned()).collect())
    }

    /// Adds `n` to a measure of the row `key` (the row is created with zeros).
    pub fn add(&mut self, key: &[&str], measure: &str, n: u64) -> Result<(), TableError> {
        let m = self
            .measures
            .iter()
            .position(|x| x == measure)
            .ok_or_else(|| TableError::Measure(measure.to_owned()))?;
        let key = self.check_key(key)?;
        let width = self.measures.len();
        self.rows.entry(key).or_insert_with(|| vec![0; width])[m] += n;
        Ok(())
    }

    /// Makes sure a row exists (all zero when new), so that empty strata are released as
    /// suppressed rather than missing.
    pub fn ensure_row(&mut self, key: &[&str]) -> Result<(), TableError> {
        let key = self.check_key(key)?;
        let width = self.measures.len();
        self.rows.entry(key).or_insert_with(|| vec![0; width]);
        Ok(())
    }

    /// Declares that, in `measure`, the cell of row `total` is at least the sum of the cells of
    /// the rows `parts` (often equal), so that a released total could give away a withheld
    /// part. With noise on this is harmless (every released value is noisy, the threshold is
    /// decided on noisy values); with noise off the gate withholds the total whenever exactly
    /// one of its parts is withheld (secondary suppression). The rows are created when missing.
    pub fn add_margin(
        &mut self,
        measure: &str,
        total: &[&str],
        parts: &[Vec<&str>],
    ) -> Result<(), TableError> {
        let m = self
            .measures
            .iter()
            .position(|x| x == measure)
            .ok_or_else(|| TableError::Measure(measure.to_owned()))?;
        self.ensure_row(total)?;
        let total = (self.check_key(total)?, m);
        let mut cells = Vec::with_capacity(parts.len());
        for p in parts {
            self.ensure_row(p)?;
            cells.push((self.check_key(p)?, m));
        }
        self.margins.push(Margin {
            total,
            parts: cells,
        });
        Ok(())
    }

    /// Number of counts the table holds (rows × measures): the cells a release sends.
    pub fn cells(&self) -> u64 {
        (self.rows.len() * self.measures.len()) as u64
    }

    /// The measures' names.
    pub fn measures(&self) -> &[String] {
        &self.measures
    }

    /// The dimensions.
    pub fn dims(&self) -> &[Dim] {
        &self.dims
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The true value of one cell, for the site's own local display (never for sending).
    pub fn get(&self, key: &[&str], measure: &str) -> Option<u64> {
        let m = self.measures.iter().position(|x| x == measure)?;
        let key: Vec<String> = key.iter().map(|v| (*v).to_owned()).collect();
        self.rows.get(&key).map(|r| r[m])
    }
}

/// A released count: a number that passed the gate, or the fact that it was withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GatedCount {
    /// The value after rounding and noise.
    Value(u64),
    /// Withheld: with noise on, the noisy value was below the site's minimum (the true count
    /// may be above it); with noise off, the true count was below it (or its rounded value, or
    /// the cell was withheld so that a released total cannot give it away).
    Suppressed {
        /// The site's minimum.
        below: u64,
    },
}

impl GatedCount {
    /// The released value, if not suppressed.
    pub fn value(self) -> Option<u64> {
        match self {
            GatedCount::Value(v) => Some(v),
            GatedCount::Suppressed { .. } => None,
        }
    }
}

/// A dimension's header as released: its name and kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimHeader {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: DimKind,
}

/// One released row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatedRow {
    /// One value per dimension.
    pub key: Vec<String>,
    /// One gated count per measure.
    pub values: Vec<GatedCount>,
}

/// What the gate did to a table: enough for a reader to judge the numbers, and what the
/// asking project and researcher have left to spend at this site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "DisclosureWire")]
pub struct Disclosure {
    /// Counts below this were withheld: decided on the noisy value when noise is on, on the
    /// true count when it is off.
    pub min_count: u64,
    /// Values were rounded to the nearest multiple of this (1: not rounded).
    pub rounding: u64,
    /// Whether noise was added. [`Noise::Off`]: the site publishes exact aggregates by its own
    /// decision, and every reader must be told.
    pub noise: Noise,
    /// ε of the Laplace noise added to each count, if any.
    pub epsilon: Option<f64>,
    /// How many counts one patient can change at most (the task's stated sensitivity), which
    /// scales the noise.
    pub sensitivity: u32,
    /// True when this exact question was already answered on this data: nothing new was
    /// revealed and no budget was spent.
    pub repeated: bool,
    /// ε spent by this project at this site so far, including this answer.
    pub budget_spent: f64,
    /// The project's total ε budget at this site, if limited.
    pub budget: Option<f64>,
    /// ε spent by the asking researcher at this site so far (all projects), including this
    /// answer.
    pub researcher_spent: f64,
    /// The researcher's total ε budget at this site, if limited.
    pub researcher_budget: Option<f64>,
    /// ε the researcher can still spend in this project at this site: the smaller of what is
    /// left of the project's and of the researcher's budget (none: not limited, or no noise).
    pub remaining: Option<f64>,
}

impl Disclosure {
    /// True when the site released exact aggregates (no noise).
    pub fn noise_off(&self) -> bool {
        self.noise == Noise::Off
    }
}

/// [`Disclosure`] as read from the wire: answers stored by older versions lack the noise flag
/// and the researcher's ledger (no noise then means an ε of none).
#[derive(Deserialize)]
struct DisclosureWire {
    min_count: u64,
    rounding: u64,
    #[serde(default)]
    noise: Option<Noise>,
    epsilon: Option<f64>,
    sensitivity: u32,
    repeated: bool,
    budget_spent: f64,
    budget: Option<f64>,
    #[serde(default)]
    researcher_spent: f64,
    #[serde(default)]
    researcher_budget: Option<f64>,
    #[serde(default)]
    remaining: Option<f64>,
}

impl From<DisclosureWire> for Disclosure {
    fn from(w: DisclosureWire) -> Self {
        Disclosure {
            min_count: w.min_count,
            rounding: w.rounding,
            noise: w.noise.unwrap_or(if w.epsilon.is_some() {
                Noise::On
            } else {
                Noise::Off
            }),
            epsilon: w.epsilon,
            sensitivity: w.sensitivity,
            repeated: w.repeated,
            budget_spent: w.budget_spent,
            budget: w.budget,
            researcher_spent: w.researcher_spent,
            researcher_budget: w.researcher_budget,
            remaining: w.remaining,
        }
    }
}

/// A gated table: the only result payload a site sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatedTable {
    /// Dimensions.
    pub dims: Vec<DimHeader>,
    /// Measures.
    pub measures: Vec<String>,
    /// Rows in key order.
    pub rows: Vec<GatedRow>,
    /// What the gate did.
    pub disclosure: Disclosure,
}

impl GatedTable {
    /// The gated value of one cell.
    pub fn get(&self, key: &[&str], measure: &str) -> Option<GatedCount> {
        let m = self.measures.iter().position(|x| x == measure)?;
        self.rows
            .iter()
            .find(|r| r.key.iter().map(String::as_str).eq(key.iter().copied()))
            .map(|r| r.values[m])
    }
}

/// A value that passed the disclosure gate. Only [`crate::Gate`] can make one, so a function
/// that takes `Released<T>` is known to send only gated data. It serialises as `T`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Released<T>(pub(crate) T);

impl<T> Released<T> {
    /// Reads the released value.
    pub fn get(&self) -> &T {
        &self.0
    }

    /// Takes the released value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_accept_only_their_shape() {
        let w = Dim::new("week", DimKind::Week);
        assert!(w.accepts("2024-W03") && w.accepts("2020-W53"));
        assert!(!w.accepts("2024-W54") && !w.accepts("2024-03-01") && !w.accepts("patient-17"));
        let a = Dim::new("age", DimKind::AgeBand);
        assert!(
            a.accepts("0-4")
                && a.accepts("80+")
                && a.accepts("unknown")
                && !a.accepts("1950-03-02")
                && !a.accepts("x+")
        );
        let o = Dim::codes("organism", ["B_ESCHR_COLI"]);
        assert!(o.accepts("B_ESCHR_COLI") && !o.accepts("Patient/123"));
        assert!(Dim::new("sex", DimKind::Sex).accepts("female"));
        assert!(!Dim::new("country", DimKind::Country).accepts("FR"));
        assert!(
            Dim::new("year", DimKind::Year).accepts("2024")
                && !Dim::new("year", DimKind::Year).accepts("24")
        );
    }

    #[test]
    fn a_row_key_outside_the_dimension_is_refused() {
        let mut t = CountTable::new(vec![Dim::codes("organism", ["B_ESCHR_COLI"])], &["tested"]);
        assert!(t.add(&["B_ESCHR_COLI"], "tested", 3).is_ok());
        assert!(matches!(
            t.add(&["0815-4711"], "tested", 1),
            Err(TableError::BadValue { .. })
        ));
        assert!(matches!(
            t.add(&["B_ESCHR_COLI"], "resistant", 1),
            Err(TableError::Measure(_))
        ));
        assert!(matches!(
            t.add(&[], "tested", 1),
            Err(TableError::KeyArity { got: 0, want: 1 })
        ));
        assert_eq!(t.get(&["B_ESCHR_COLI"], "tested"), Some(3));
    }
}
