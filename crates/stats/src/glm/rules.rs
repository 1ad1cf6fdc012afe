//! The disclosure rules a site applies before it answers a GLM round.
//!
//! - at least `min_rows` complete cases (the site's minimum cell size);
//! - at most `max_parameter_share` × n coefficients (DataSHIELD's `nfilter.glm`, 0.33);
//! - not saturated at the site: with as many independent columns as distinct covariate
//!   patterns, XᵀWz gives every pattern's outcome total (an intercept-only model is exempt:
//!   its one total is the site's mean, released by a summary under the same minimum);
//! - no separation: fitted values at the boundary (checked per round, see
//!   [`super::site_round`]).

use super::Family;
use crate::design::Design;
use serde::{Deserialize, Serialize};

/// A site's GLM disclosure rules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GlmRules {
    /// The fewest complete cases a site answers with.
    pub min_rows: u64,
    /// The largest share of coefficients per complete case.
    pub max_parameter_share: f64,
}

impl Default for GlmRules {
    /// 3 rows (DataSHIELD's `nfilter.subset`) and 0.33 (its `nfilter.glm`).
    fn default() -> GlmRules {
        GlmRules {
            min_rows: 3,
            max_parameter_share: 0.33,
        }
    }
}

/// Why a site refuses a GLM round. Each says why in words a researcher can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum GlmRefusal {
    /// No complete case at the site.
    #[error("no rows: the dataset has no complete case for this model at the site")]
    NoRows,
    /// Fewer complete cases than the site's minimum.
    #[error("too few rows: {rows} complete cases, the site's minimum is {min}")]
    TooFewRows {
        /// Complete cases.
        rows: u64,
        /// The minimum.
        min: u64,
    },
    /// Too many coefficients for the site's rows.
    #[error(
        "too many parameters: {parameters} coefficients for {rows} rows; at most {share} × rows are allowed"
    )]
    TooManyParameters {
        /// Coefficients.
        parameters: usize,
        /// Complete cases.
        rows: u64,
        /// The allowed share.
        share: f64,
    },
    /// The model is saturated at the site.
    #[error(
        "saturated model: {patterns} distinct covariate patterns and {rank} independent columns at the site, so the answer would give each pattern's outcome total; use fewer terms, or a table (`kakehashi stats table`), which has its own cell rule"
    )]
    Saturated {
        /// Distinct covariate patterns.
        patterns: usize,
        /// Rank of the site's model matrix.
        rank: usize,
    },
    /// Fitted values at the boundary: (quasi-)complete separation.
    #[error(
        "separation: a fitted {family} mean reached {mu:.3e} (response {response}), so some group's outcome is all the same and its coefficient has no finite estimate; merge or drop that group"
    )]
    Separation {
        /// The family.
        family: Family,
        /// The fitted value.
        mu: f64,
        /// The response of that row.
        response: f64,
    },
}

impl GlmRules {
    /// Checks the design against the rules (all but separation, which needs the round).
    pub fn check(&self, design: &Design) -> Result<(), GlmRefusal> {
        self.check_counts(design.rows() as u64, design.parameters())?;
        let patterns = design.patterns();
        let rank = design.rank();
        // an intercept-only model is exempt: its one total is the site's mean, which a
        // summary releases under the same minimum
        if rank > 1 && patterns <= rank {
            return Err(GlmRefusal::Saturated { patterns, rank });
        }
        Ok(())
    }

    /// The rules an answer shows by itself: its rows and its coefficients.
    pub fn check_counts(&self, rows: u64, parameters: usize) -> Result<(), GlmRefusal> {
        if rows == 0 {
            return Err(GlmRefusal::NoRows);
        }
        if rows < self.min_rows {
            return Err(GlmRefusal::TooFewRows {
                rows,
                min: self.min_rows,
            });
        }
        if parameters as f64 > self.max_parameter_share * rows as f64 {
            return Err(GlmRefusal::TooManyParameters {
                parameters,
                rows,
                share: self.max_parameter_share,
            });
        }
        Ok(())
    }
}
