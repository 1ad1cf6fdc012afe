//! Compiling a CCDL query into a plan over the site's views: each criterion becomes a view,
//! a code matcher (with hierarchy and cross-country expansion), value, time and attribute
//! conditions. What the engine cannot evaluate is refused naming the construct.

use crate::ccdl::{Comparator, Criterion, Filter, Query};
pub use crate::codes::CodeMatcher;
use crate::consent;
use kakehashi_model::View;
use kakehashi_terminology as term;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// A query the engine cannot evaluate at this site.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The context has no mapping to a view.
    #[error("{path}.context: {context:?} is not a context this site can evaluate (known: {known})")]
    Context {
        /// Criterion path.
        path: String,
        /// The context code.
        context: String,
        /// Known contexts.
        known: String,
    },
    /// The context is one of the MII ontology that this site cannot evaluate.
    #[error("{path}.context: {context:?} cannot be evaluated at this site: {reason}")]
    Refused {
        /// Criterion path.
        path: String,
        /// The context code.
        context: String,
        /// Why (from the mapping file).
        reason: String,
    },
    /// A construct is not supported for this context.
    #[error("{path}: {message}")]
    Unsupported {
        /// Where.
        path: String,
        /// What.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    context: Vec<ContextMap>,
    #[serde(default)]
    refused: Vec<RefusedContext>,
}

/// A context of the MII ontology a site cannot evaluate, and why.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusedContext {
    /// Context codes.
    pub names: Vec<String>,
    /// Why a site cannot evaluate them.
    pub reason: String,
}

/// Codes a row takes from the resource it references (an administration's `Medication`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CodeVia {
    /// The column holding the referenced resource's key.
    pub column: String,
    /// The referenced resource's view.
    pub view: View,
    /// Its code system and code columns.
    pub code: [String; 2],
}

/// How one CCDL context reads the site's tables.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContextMap {
    /// Context codes this entry serves.
    pub names: Vec<String>,
    /// The view.
    pub view: View,
    /// Code system and code columns. The system column is empty where the view's coding has a
    /// fixed system (`system`).
    pub code: [String; 2],
    /// The code system of every row, for views without a system column (`Encounter.class` is a
    /// v3 ActCode).
    #[serde(default)]
    pub system: Option<String>,
    /// Codes the row also takes from a referenced resource (an administration's `Medication`).
    #[serde(default)]
    pub code_via: Option<CodeVia>,
    /// Start-time columns, first non-null wins.
    pub time_start: Vec<String>,
    /// End-time columns (for periods).
    #[serde(default)]
    pub time_end: Vec<String>,
    /// Quantity value column.
    #[serde(default)]
    pub value_quantity: Option<String>,
    /// UCUM unit column of the value.
    #[serde(default)]
    pub value_unit: Option<String>,
    /// Coded value columns (system, code).
    #[serde(default)]
    pub value_concept: Option<[String; 2]>,
    /// Fixed column = value filters every row must pass.
    #[serde(default)]
    pub fixed: Vec<[String; 2]>,
    /// Attribute filters the context supports.
    #[serde(default)]
    pub attributes: Vec<AttributeMap>,
}

/// An attribute a context supports.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMap {
    /// Attribute codes.
    pub codes: Vec<String>,
    /// The column.
    pub column: String,
    /// For references: the view of the referenced resource (the column holds its id).
    #[serde(default)]
    pub reference: Option<View>,
}

/// The text of `data/mapping.toml`.
pub(crate) const MAPPING_TOML: &str = include_str!("../data/mapping.toml");

fn mapping_file() -> &'static MappingFile {
    static M: OnceLock<MappingFile> = OnceLock::new();
    M.get_or_init(|| {
        toml::from_str(MAPPING_TOML).expect("the shipped mapping file is valid (tested)")
    })
}

/// The shipped context mapping.
pub fn mapping() -> &'static [ContextMap] {
    &mapping_file().context
}

/// The contexts of the MII ontology the shipped mapping refuses, with the reason.
pub fn refused() -> &'static [RefusedContext] {
    &mapping_file().refused
}

impl ContextMap {
    /// The site table this context reads: its view, told apart by the code column where one view
    /// serves contexts with different term-code columns (an observation's code or its value).
    pub fn table(&self) -> (View, &str) {
        (self.view, self.code[1].as_str())
    }
}

/// A numeric condition, in a unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum NumCond {
    /// Compare.
    Cmp(Comparator, f64),
    /// Closed range.
    Range(f64, f64),
}

impl NumCond {
    /// Whether `v` satisfies it.
    pub fn holds(&self, v: f64) -> bool {
        match self {
            NumCond::Cmp(c, x) => c.holds(v, *x),
            NumCond::Range(a, b) => v >= *a && v <= *b,
        }
    }
}

/// A condition on the criterion's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ValueCond {
    /// The coded value is one of these (system may be empty: code only).
    Concept(BTreeSet<(String, String)>),
    /// The quantity satisfies this, after converting the row's unit to `unit`.
    Quantity {
        /// The condition.
        cond: NumCond,
        /// The filter's UCUM unit; `None` compares as recorded.
        unit: Option<String>,
    },
}

/// A condition on an attribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum AttrCond {
    /// The column's code is one of these.
    Concept {
        /// Column.
        column: String,
        /// Allowed codes.
        codes: BTreeSet<String>,
    },
    /// The column references a resource (by id) that matches any of these criteria.
    Reference {
        /// Column holding the referenced id.
        column: String,
        /// Criteria on the referenced resource.
        targets: Vec<CritPlan>,
    },
}

/// A time window (micros since the epoch, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    /// Start.
    pub from: i64,
    /// End.
    pub to: i64,
}

/// One compiled criterion.
// a query compiles to a handful of criteria, once: the size of the largest variant costs nothing
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CritPlan {
    /// Rows of a view.
    Resource {
        /// Path in the query.
        path: String,
        /// The context mapping.
        map: ContextMap,
        /// Codes.
        codes: CodeMatcher,
        /// Value condition.
        value: Option<ValueCond>,
        /// Time window (overlap rule).
        time: Option<Window>,
        /// Attribute conditions.
        attrs: Vec<AttrCond>,
    },
    /// Any of the alternatives; an alternative holds for a patient when one resource (the same
    /// id) matches every criterion in it. A combined consent code is such an alternative: all the
    /// provisions it stands for permitted in one Consent.
    SameResource {
        /// Path.
        path: String,
        /// Alternatives (OR) of criteria on one resource (AND), all of one view.
        alternatives: Vec<Vec<CritPlan>>,
    },
    /// Age in years now.
    Age {
        /// Path.
        path: String,
        /// Condition on age in years.
        cond: NumCond,
    },
    /// Administrative gender.
    Gender {
        /// Path.
        path: String,
        /// FHIR gender codes allowed.
        allowed: BTreeSet<String>,
    },
}

/// A compiled query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Inclusion groups (AND of ORs).
    pub inclusion: Vec<Vec<CritPlan>>,
    /// Exclusion groups (OR of ANDs).
    pub exclusion: Vec<Vec<CritPlan>>,
}

const AGE_CODES: [(&str, &str); 3] = [
    ("http://loinc.org", "30525-0"),
    ("http://snomed.info/sct", "424144002"),
    ("http://snomed.info/sct", "397669002"),
];
const GENDER_CODES: [(&str, &str); 4] = [
    ("http://loinc.org", "76689-9"),
    ("http://loinc.org", "LL2191-6"),
    ("http://snomed.info/sct", "263495000"),
    ("http://hl7.org/fhir/administrative-gender", "gender"),
];

fn gender_code(c: &str) -> Option<&'static str> {
    Some(match c.to_ascii_lowercase().as_str() {
        "f" | "female" | "la3-6" | "248152002" | "w" => "female",
        "m" | "male" | "la2-8" | "248153007" => "male",
        "d" | "diverse" | "other" | "la46-8" | "x" => "other",
        "u" | "unknown" | "la4489-6" => "unknown",
        _ => return None,
    })
}

/// Whether a criterion is about age (a Patient criterion with an age code): its count depends
/// on the day it is evaluated.
pub(crate) fn is_age(c: &Criterion) -> bool {
    c.context.code.eq_ignore_ascii_case("Patient")
        && c.term_codes.iter().any(|t| {
            AGE_CODES
                .iter()
                .any(|(s, k)| *s == t.system && *k == t.code)
        })
}

fn years(v: f64, unit: Option<&str>, path: &str) -> Result<f64, PlanError> {
    match unit.unwrap_or("a") {
        "a" => Ok(v),
        u => term::ucum::convert(v, u, "a").ok_or_else(|| PlanError::Unsupported {
            path: format!("{path}.valueFilter.unit"),
            message: format!("{u:?} is not a unit of age (a, mo, wk, d)"),
        }),
    }
}

fn day_start(d: chrono::NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_micros()
}

fn window(c: &Criterion) -> Option<Window> {
    c.time_restriction.as_ref().map(|t| Window {
        from: t.after.map(day_start).unwrap_or(i64::MIN),
        to: t
            .before
            .map(|d| day_start(d) + 86_400_000_000 - 1)
            .unwrap_or(i64::MAX),
    })
}

pub(crate) fn find_context(code: &str) -> Option<&'static ContextMap> {
    mapping()
        .iter()
        .find(|m| m.names.iter().any(|n| n.eq_ignore_ascii_case(code)))
}

fn find_refused(code: &str) -> Option<&'static RefusedContext> {
    refused()
        .iter()
        .find(|m| m.names.iter().any(|n| n.eq_ignore_ascii_case(code)))
}

fn known_contexts() -> String {
    let mut v: Vec<&str> = mapping().iter().map(|m| m.names[0].as_str()).collect();
    v.push("Patient");
    v.join(", ")
}

/// Compiles one criterion.
pub fn compile_criterion(c: &Criterion) -> Result<CritPlan, PlanError> {
    let path = c.path.clone();
    let unsupported = |p: String, m: &str| PlanError::Unsupported {
        path: p,
        message: m.to_owned(),
    };
    if c.context.code.eq_ignore_ascii_case("Patient") {
        if !c.attribute_filters.is_empty() {
            return Err(unsupported(
                format!("{path}.attributeFilters"),
                "patient criteria take no attribute filters",
            ));
        }
        let is = |set: &[(&str, &str)]| {
            c.term_codes
                .iter()
                .all(|t| set.iter().any(|(s, k)| *s == t.system && *k == t.code))
        };
        if is(&AGE_CODES) {
            let cond = match &c.value_filter {
                Some(Filter::QuantityComparator {
                    comparator,
                    value,
                    unit,
                }) => NumCond::Cmp(*comparator, years(*value, unit.as_deref(), &path)?),
                Some(Filter::QuantityRange { min, max, unit }) => NumCond::Range(
                    years(*min, unit.as_deref(), &path)?,
                    years(*max, unit.as_deref(), &path)?,
                ),
                _ => {
                    return Err(unsupported(
                        format!("{path}.valueFilter"),
                        "an age criterion needs a quantity filter (comparator or range)",
                    ));
                }
            };
            if c.time_restriction.is_some() {
                return Err(unsupported(
                    format!("{path}.timeRestriction"),
                    "age is evaluated at the query date; a time restriction on age is not supported",
                ));
            }
            return Ok(CritPlan::Age { path, cond });
        }
        if is(&GENDER_CODES) {
            let Some(Filter::Concept { concepts }) = &c.value_filter else {
                return Err(unsupported(
                    format!("{path}.valueFilter"),
                    "a gender criterion needs a concept filter",
                ));
            };
            let mut allowed = BTreeSet::new();
            for (i, k) in concepts.iter().enumerate() {
                allowed.insert(
                    gender_code(&k.code)
                        .ok_or_else(|| {
                            unsupported(
                                format!("{path}.valueFilter.selectedConcepts[{i}].code"),
                                &format!("{:?} is not a gender code this site knows", k.code),
                            )
                        })?
                        .to_owned(),
                );
            }
            return Ok(CritPlan::Gender { path, allowed });
        }
        return Err(unsupported(
            format!("{path}.termCodes"),
            "a Patient criterion is age (LOINC 30525-0, SNOMED 424144002) or gender (LOINC 76689-9, SNOMED 263495000)",
        ));
    }
    let Some(map) = find_context(&c.context.code) else {
        return Err(match find_refused(&c.context.code) {
            Some(r) => PlanError::Refused {
                path,
                context: c.context.code.clone(),
                reason: r.reason.clone(),
            },
            None => PlanError::Context {
                path,
                context: c.context.code.clone(),
                known: known_contexts(),
            },
        });
    };
    let mut codes = CodeMatcher::default();
    // combined consent codes, each standing for several provisions (index in termCodes, entry)
    let mut combined = Vec::new();
    for (i, t) in c.term_codes.iter().enumerate() {
        if map.view == View::Consent && t.system == consent::combined_system() {
            let entry = consent::combined(&t.code).ok_or_else(|| {
                let known: Vec<&str> = consent::combined_codes()
                    .iter()
                    .map(|k| k.code.as_str())
                    .collect();
                unsupported(
                    format!("{path}.termCodes[{i}].code"),
                    &format!(
                        "{:?} is not a combined consent code of {} (known: {})",
                        t.code,
                        t.system,
                        known.join(", ")
                    ),
                )
            })?;
            combined.push((i, entry));
        } else {
            codes.add(t);
        }
    }
    let value = match &c.value_filter {
        None => None,
        Some(Filter::Concept { concepts }) => {
            if map.value_concept.is_none() {
                return Err(unsupported(
                    format!("{path}.valueFilter"),
                    &format!("context {} has no coded value", c.context.code),
                ));
            }
            let set = concepts
                .iter()
                .map(|k| {
                    if k.system.contains("$lookup") || k.system.is_empty() {
                        (String::new(), k.code.clone())
                    } else {
                        (k.system.clone(), k.code.clone())
                    }
                })
                .collect();
            Some(ValueCond::Concept(set))
        }
        Some(Filter::QuantityComparator {
            comparator,
            value,
            unit,
        }) => {
            if map.value_quantity.is_none() {
                return Err(unsupported(
                    format!("{path}.valueFilter"),
                    &format!("context {} has no quantity value", c.context.code),
                ));
            }
            Some(ValueCond::Quantity {
                cond: NumCond::Cmp(*comparator, *value),
                unit: unit.clone(),
            })
        }
        Some(Filter::QuantityRange { min, max, unit }) => {
            if map.value_quantity.is_none() {
                return Err(unsupported(
                    format!("{path}.valueFilter"),
                    &format!("context {} has no quantity value", c.context.code),
                ));
            }
            Some(ValueCond::Quantity {
                cond: NumCond::Range(*min, *max),
                unit: unit.clone(),
            })
        }
        Some(Filter::Reference { .. }) => {
            return Err(unsupported(
                format!("{path}.valueFilter"),
                "a value filter cannot be a reference",
            ));
        }
    };
    let mut attrs = Vec::new();
    for (i, a) in c.attribute_filters.iter().enumerate() {
        let apath = format!("{path}.attributeFilters[{i}]");
        let am = map
            .attributes
            .iter()
            .find(|m| {
                m.codes
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(&a.attribute.code))
            })
            .ok_or_else(|| {
                unsupported(
                    format!("{apath}.attributeCode"),
                    &format!(
                        "attribute {:?} of context {} is not supported here",
                        a.attribute.code, c.context.code
                    ),
                )
            })?;
        match (&a.filter, am.reference) {
            (Filter::Reference { criteria }, Some(target_view)) => {
                let targets = criteria
                    .iter()
                    .map(compile_criterion)
                    .collect::<Result<Vec<_>, _>>()?;
                for t in &targets {
                    if !matches!(t, CritPlan::Resource { map, .. } if map.view == target_view) {
                        return Err(unsupported(
                            format!("{apath}.criteria"),
                            &format!(
                                "the referenced criteria must be of the {} view",
                                target_view.name()
                            ),
                        ));
                    }
                }
                attrs.push(AttrCond::Reference {
                    column: am.column.clone(),
                    targets,
                });
            }
            (Filter::Concept { concepts }, None) => attrs.push(AttrCond::Concept {
                column: am.column.clone(),
                codes: concepts.iter().map(|k| k.code.clone()).collect(),
            }),
            _ => {
                return Err(unsupported(
                    apath,
                    &format!(
                        "attribute {:?} takes a {} filter",
                        a.attribute.code,
                        if am.reference.is_some() {
                            "reference"
                        } else {
                            "concept"
                        }
                    ),
                ));
            }
        }
    }
    if combined.is_empty() {
        return Ok(CritPlan::Resource {
            path,
            map: map.clone(),
            codes,
            value,
            time: window(c),
            attrs,
        });
    }
    // A combined consent code: every provision it stands for, permitted in one Consent, under
    // the criterion's own time window and attribute filters; other term codes stay synonyms.
    let one = |p: String, codes: CodeMatcher| CritPlan::Resource {
        path: p,
        map: map.clone(),
        codes,
        value: value.clone(),
        time: window(c),
        attrs: attrs.clone(),
    };
    let mut alternatives: Vec<Vec<CritPlan>> = combined
        .iter()
        .map(|(i, entry)| {
            entry
                .provisions
                .iter()
                .map(|p| {
                    let mut m = CodeMatcher::default();
                    m.exact
                        .insert((consent::provision_system().to_owned(), p.clone()));
                    one(format!("{path}.termCodes[{i}] ({})", entry.code), m)
                })
                .collect()
        })
        .collect();
    if !codes.exact.is_empty() {
        alternatives.push(vec![one(path.clone(), codes)]);
    }
    Ok(CritPlan::SameResource { path, alternatives })
}

/// Compiles a query.
pub fn compile(q: &Query) -> Result<Plan, PlanError> {
    let g = |gs: &[Vec<Criterion>]| {
        gs.iter()
            .map(|g| {
                g.iter()
                    .map(compile_criterion)
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(Plan {
        inclusion: g(&q.inclusion)?,
        exclusion: g(&q.exclusion)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Every `context` code of the MII ontology's querying metadata
    /// (medizininformatik-initiative/fhir-ontology-generator release v5.0.0,
    /// projects/fdpg-ontology/input/cohort_selection_ontology/modules/*/QueryingMetaData and the
    /// disabled ones), besides Patient.
    const MII_CONTEXTS: &[&str] = &[
        "Diagnose",
        "Einwilligung",
        "Fall",
        "Laboruntersuchung",
        "Vitaldaten",
        "Vitalstatus",
        "Todesursache",
        "Specimen",
        "Procedure",
        "Procedure Category",
        "Medikamentenverabreichung",
        "Medikamentenanordnung",
        "Medikamentenverordnung",
        "Molekulargenetischer Befundbericht",
        "Molekulargenetische Studie",
        "Molekulargenetische Studienanalyse",
        "Molekulargenetische Variante",
        "MII_Onkologie_Lymphknoten_Assessment",
        "MII_Onkologie_Bestrahlung",
        "MII_Onkologie_Bioprobe",
        "MII_Onkologie_Leistungszustand",
        "MII_Onkologie_Fernmetastasen",
        "MII_Onkologie_Histologiebefund",
        "MII_Onkologie_Histologiegrading",
        "MII_Onkologie_Nebenwirkung",
        "MII_Onkologie_Operation",
        "MII_Onkologie_Therapie",
        "MII_Onkologie_Diagnose",
        "MII_Onkologie_Residualstatus",
        "MII_Onkologie_Strahlentherapie",
        "MII_Onkologie_Studienteilnahme",
        "MII_Onkologie_Systemtherapie",
        "MII_Onkologie_TNM",
        "MII_Onkologie_TNM_Klassifikation",
        "MII_Onkologie_Tod",
        "MII_Onkologie_Tumorkonferenz",
        "MII_Onkologie_Verlauf",
    ];

    #[test]
    fn the_mapping_names_real_columns() {
        for m in mapping() {
            let has = |c: &str| m.view.columns().iter().any(|x| x.name == c);
            // a fixed code system stands in for the system column
            assert_eq!(
                m.code[0].is_empty(),
                m.system.is_some(),
                "{}: a system column or a fixed system",
                m.names[0]
            );
            let mut cols: Vec<&String> = m
                .code
                .iter()
                .filter(|c| !c.is_empty())
                .chain(&m.time_start)
                .chain(&m.time_end)
                .collect();
            cols.extend(m.value_quantity.iter().chain(&m.value_unit));
            cols.extend(m.value_concept.iter().flatten());
            cols.extend(m.fixed.iter().map(|f| &f[0]));
            cols.extend(m.attributes.iter().map(|a| &a.column));
            cols.extend(m.code_via.iter().map(|v| &v.column));
            for c in cols {
                assert!(
                    has(c),
                    "{}: no column {c} in view {}",
                    m.names[0],
                    m.view.name()
                );
            }
            if let Some(via) = &m.code_via {
                for c in &via.code {
                    assert!(
                        via.view.column(c).is_some() && via.view.column("id").is_some(),
                        "{}: no column {c} in view {}",
                        m.names[0],
                        via.view.name()
                    );
                }
            }
            // the engine gives a row per element of a list attribute: one list per context
            let lists = m
                .attributes
                .iter()
                .filter(|a| {
                    m.view.columns().iter().any(|x| {
                        x.name == a.column
                            && x.ty == kakehashi_model::schema::ColumnType::StringList
                    })
                })
                .count();
            assert!(lists <= 1, "{}: {lists} list attributes", m.names[0]);
        }
        // the engine reads one table per (view, code column): two entries must not share one
        let mut tables = HashSet::new();
        for m in mapping() {
            assert!(
                tables.insert(m.table()),
                "{}: a second entry for table {:?}",
                m.names[0],
                m.table()
            );
        }
    }

    #[test]
    fn every_mii_context_is_mapped_or_refused_with_a_reason_and_none_twice() {
        let mut seen = HashSet::new();
        for n in mapping()
            .iter()
            .flat_map(|m| &m.names)
            .chain(refused().iter().flat_map(|r| &r.names))
        {
            assert!(seen.insert(n.to_lowercase()), "{n} named twice");
        }
        for c in MII_CONTEXTS {
            assert!(
                find_context(c).is_some() || find_refused(c).is_some_and(|r| r.reason.len() > 40),
                "{c} is neither mapped nor refused with a reason"
            );
        }
        assert!(
            refused()
                .iter()
                .flat_map(|r| &r.names)
                .all(|n| MII_CONTEXTS.contains(&n.as_str())),
            "refuse only contexts of the MII ontology"
        );
    }

    fn crit(context: &str, codes: &[(&str, &str)]) -> Criterion {
        let v = serde_json::json!({"inclusionCriteria": [[{"context": {"code": context, "system": "fdpg.mii.cds", "display": context},
            "termCodes": codes.iter().map(|(s, c)| serde_json::json!({"system": s, "code": c, "display": c})).collect::<Vec<_>>()}]]});
        Query::from_value(&v).unwrap().inclusion.remove(0).remove(0)
    }

    #[test]
    fn medication_contexts_are_those_of_the_mii_ontology() {
        let view = |ctx: &str| match compile_criterion(&crit(ctx, &[(term::ATC_DE, "B01AB01")]))
            .unwrap()
        {
            CritPlan::Resource { map, .. } => map.view,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            view("Medikamentenverabreichung"),
            View::MedicationAdministration
        );
        assert_eq!(view("Medikamentenanordnung"), View::MedicationRequest);
        assert_eq!(view("Medikamentenverordnung"), View::MedicationStatement);
    }

    #[test]
    fn a_combined_consent_code_stands_for_all_its_provisions_on_one_consent() {
        let c = crit(
            "Einwilligung",
            &[
                ("fdpg.consent.combined", "yes-yes-no-no"),
                (
                    consent::provision_system(),
                    "2.16.840.1.113883.3.1937.777.24.5.3.6",
                ),
            ],
        );
        let CritPlan::SameResource { alternatives, .. } = compile_criterion(&c).unwrap() else {
            panic!("not expanded")
        };
        assert_eq!(
            alternatives.len(),
            2,
            "the combined code, or the plain provision"
        );
        let provisions: Vec<Vec<String>> = alternatives
            .iter()
            .map(|a| {
                a.iter()
                    .flat_map(|p| match p {
                        CritPlan::Resource { codes, map, .. } if map.view == View::Consent => codes
                            .exact
                            .iter()
                            .map(|(_, c)| c.clone())
                            .collect::<Vec<_>>(),
                        other => panic!("{other:?}"),
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            provisions[0],
            vec![
                "2.16.840.1.113883.3.1937.777.24.5.3.8".to_owned(),
                "2.16.840.1.113883.3.1937.777.24.5.3.46".to_owned()
            ]
        );
        assert_eq!(
            provisions[1],
            vec!["2.16.840.1.113883.3.1937.777.24.5.3.6".to_owned()]
        );
        let e = compile_criterion(&crit(
            "Einwilligung",
            &[
                (consent::provision_system(), "x"),
                ("fdpg.consent.combined", "yes-yes-maybe-no"),
            ],
        ))
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("inclusionCriteria[0][0].termCodes[1].code: \"yes-yes-maybe-no\" is not a combined consent code"), "{e}");
    }

    #[test]
    fn refused_contexts_say_why() {
        let e = compile_criterion(&crit(
            "Molekulargenetischer Befundbericht",
            &[("http://loinc.org", "51969-4")],
        ))
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("inclusionCriteria[0][0].context: \"Molekulargenetischer Befundbericht\" cannot be evaluated at this site: ") && e.contains("DiagnosticReport"), "{e}");
        let e = compile_criterion(&crit("Versorgungsfall", &[("s", "c")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a context this site can evaluate"), "{e}");
    }
}
