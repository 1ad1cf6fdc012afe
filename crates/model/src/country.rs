//! The countries of the network.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A country of the network. Sites, results and comparisons are grouped by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Country {
    /// Germany (NUM sites, MII core data set, ICD-10-GM, LOINC, EUCAST).
    #[serde(rename = "DE")]
    Germany,
    /// Japan (JIHS and partner hospitals, JP Core, ICD-10, JLAC10, CLSI).
    #[serde(rename = "JP")]
    Japan,
}

impl Country {
    /// ISO 3166-1 alpha-2 code.
    pub fn iso(self) -> &'static str {
        match self {
            Country::Germany => "DE",
            Country::Japan => "JP",
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.iso())
    }
}

impl FromStr for Country {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "DE" | "DEU" | "GERMANY" => Ok(Country::Germany),
            "JP" | "JPN" | "JAPAN" => Ok(Country::Japan),
            other => Err(format!("unknown country {other:?}: expected DE or JP")),
        }
    }
}
