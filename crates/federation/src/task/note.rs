//! What a site may say besides its gated table: a closed set of codes whose parameters come
//! from the question, the site's software or its policy, never from its data. A note such as
//! "no data at this site for code X" or "N results were not counted" would tell whether a code
//! occurs at a site, or a count that never passed the gate: there is no such note.
//!
//! Per note produced before this set existed, where it went:
//! - cohort "no data at this site for …": gone (reveals absence of a code in the data);
//! - cohort "N results with units that do not convert …": the count is gone; the rule is
//!   stated per criterion with a unit filter ([`Note::UnitsNotConverted`]);
//! - antibiogram "every raw MIC and zone re-read with …": [`Note::GuidelineReread`];
//! - antibiogram "no isolate at this site matches the question": gone (reveals absence);
//! - surveillance "the main-diagnosis rule was applied as any diagnosis": a property of the
//!   definition and the site schema, [`Note::MainDiagnosisAsAnyDiagnosis`];
//! - surveillance "unmapped: N test results carried only a JLAC10 code …": gone (an ungated
//!   count);
//! - agent "no denominator for rates: …": [`Note::DenominatorRefused`] with the gate's refusal.

use kakehashi_amr::Guideline;
use kakehashi_disclosure::Refusal;
use serde::{Deserialize, Serialize};

/// One note from a site to the researcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case", deny_unknown_fields)]
pub enum Note {
    /// The criterion filters on a quantity with a unit: results in a unit that does not convert
    /// to it are not counted (a rule of the question, stated whatever the data hold).
    UnitsNotConverted {
        /// The criterion's place among all criteria of the query (inclusion, then exclusion,
        /// in order), from 0.
        criterion_index: u32,
    },
    /// Every raw MIC and zone was re-read with the question's guideline; zones only where the
    /// guideline's disk was used.
    GuidelineReread {
        /// The guideline.
        guideline: Guideline,
    },
    /// The definition asks for the main diagnosis, which the site tables cannot tell: any
    /// diagnosis of the stay was used.
    MainDiagnosisAsAnyDiagnosis,
    /// The denominator of rates was refused by the site's gate (rates are not shown for it).
    DenominatorRefused {
        /// The gate's reason.
        refusal: Refusal,
    },
}

impl Note {
    /// The message key of the note in the UI's `.ftl` files and its arguments (already text).
    pub fn message(&self) -> (&'static str, Vec<(&'static str, String)>) {
        match self {
            Note::UnitsNotConverted { criterion_index } => (
                "note-units-not-converted",
                vec![("criterion", (criterion_index + 1).to_string())],
            ),
            Note::GuidelineReread { guideline } => (
                "note-guideline-reread",
                vec![("guideline", guideline.to_string())],
            ),
            Note::MainDiagnosisAsAnyDiagnosis => ("note-main-diagnosis-as-any", Vec::new()),
            Note::DenominatorRefused { refusal } => (
                "note-denominator-refused",
                vec![("reason", refusal.to_string())],
            ),
        }
    }

    /// Every message key a note can have (for the UI's check that each is translated).
    pub const KEYS: [&'static str; 4] = [
        "note-units-not-converted",
        "note-guideline-reread",
        "note-main-diagnosis-as-any",
        "note-denominator-refused",
    ];
}

impl std::fmt::Display for Note {
    /// English, for the CLI and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::UnitsNotConverted { criterion_index } => write!(
                f,
                "criterion {}: results in units that do not convert to the filter's unit are not counted",
                criterion_index + 1
            ),
            Note::GuidelineReread { guideline } => write!(
                f,
                "every raw MIC and zone re-read with {guideline}; zones only where this guideline's disk was used"
            ),
            Note::MainDiagnosisAsAnyDiagnosis => f.write_str(
                "the main-diagnosis rule was applied as 'any diagnosis of the stay' (the site tables hold no diagnosis rank)",
            ),
            Note::DenominatorRefused { refusal } => {
                write!(f, "no denominator for rates: {refusal}")
            }
        }
    }
}
