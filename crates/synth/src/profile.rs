//! Site profiles: TOML files with the site, its country's coding conventions and the rates the
//! generator draws from. Four ship with the binary; a user can pass a path to their own.

use chrono::NaiveDate;
use serde::Deserialize;
use std::path::Path;

/// A profile that cannot be used, with the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Unknown built-in name and no such file.
    #[error(
        "no profile `{0}`: use one of de-berlin, de-frankfurt, jp-tokyo, jp-osaka, or a path to a .toml file"
    )]
    Unknown(String),
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML does not fit the profile schema (the message names the field and line).
    #[error("profile {name}: {message}")]
    Invalid {
        /// The profile.
        name: String,
        /// What is wrong, naming the field.
        message: String,
    },
    /// The profile's lab reads with CLSI, whose breakpoints are read at run time from the AMR
    /// reference data folder, and they are not there (or do not cover the panel).
    #[error(
        "profile {name}: its lab reads with {guideline}; {message}. CLSI numbers are not part of the program: \
         give a data folder with amr/breakpoints-clsi.tsv (--reference-data or KAKEHASHI_DATA_DIR), or \
         use a profile whose lab reads with EUCAST (de-berlin, de-frankfurt)"
    )]
    Clsi {
        /// The profile.
        name: String,
        /// The lab's guideline, e.g. `CLSI 2025`.
        guideline: String,
        /// What is missing, naming the file.
        message: String,
    },
}

const BUILTIN: [(&str, &str); 4] = [
    ("de-berlin", include_str!("../profiles/de-berlin.toml")),
    (
        "de-frankfurt",
        include_str!("../profiles/de-frankfurt.toml"),
    ),
    ("jp-tokyo", include_str!("../profiles/jp-tokyo.toml")),
    ("jp-osaka", include_str!("../profiles/jp-osaka.toml")),
];

const PANEL: &str = include_str!("../data/amr-panel.toml");
const MORBIDITY: &str = include_str!("../data/morbidity.tsv");
const CARE: &str = include_str!("../data/care.toml");

/// The names of the built-in profiles.
pub fn builtin_profiles() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// The site.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Short code, prefix of every id (`de-berlin`).
    pub code: String,
    /// Display name.
    pub name: String,
    /// `DE` or `JP`.
    pub country: String,
    /// Bundesland / prefecture.
    pub region: String,
    /// First day of data.
    pub start: NaiveDate,
    /// Last day of data.
    pub end: NaiveDate,
}

/// Demographics.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demographics {
    /// Share of women.
    pub female_share: f64,
    /// `[min age, max age, share]`.
    pub age_bands: Vec<(i32, i32, f64)>,
    /// Deaths from causes not modelled, share over the span.
    pub background_mortality: f64,
    /// Live births per 1,000 population and year: the share of patients born during the span.
    #[serde(default)]
    pub births_per_1000_per_year: f64,
}

/// Background contacts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Encounters {
    /// Outpatient contacts per patient-year.
    pub outpatient_per_year: f64,
    /// Background inpatient stays per patient-year.
    pub inpatient_per_year: f64,
    /// ICU share of inpatient stays.
    pub icu_share_of_inpatient: f64,
}

/// One respiratory pathogen's seasons.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pathogen {
    /// `influenza`, `rsv`, `sars-cov-2` or `other`.
    pub name: String,
    /// ARI episodes with hospital contact per patient and season.
    pub attack_per_season: f64,
    /// Mean ISO week of the peak.
    pub peak_week: f64,
    /// Season-to-season standard deviation of the peak week.
    pub peak_sd: f64,
    /// Spread of onsets around the peak (weeks, SD).
    pub width_weeks: f64,
    /// Season-to-season coefficient of variation of the height.
    pub height_cv: f64,
    /// First season (year of its week 40) with this pathogen.
    pub first_season: i32,
    /// Hospitalised share by age band `[min, max, share]`.
    pub sari: Vec<(i32, i32, f64)>,
    /// ICU share of hospitalised.
    pub icu: f64,
    /// Death share of hospitalised (scaled by age).
    pub death: f64,
    /// ICD-10 `[code, display]` of the diagnosis.
    pub codes: Vec<(String, String)>,
    /// Which PCR is positive (`influenza`, `rsv`, `sars-cov-2`, `none`).
    pub pcr: String,
}

/// ARI/SARI.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Respiratory {
    /// The pathogens.
    pub pathogen: Vec<Pathogen>,
    /// Share of outpatient ARI that is PCR-tested.
    pub outpatient_test_share: f64,
    /// The hospital's catchment for respiratory admissions, as a multiple of the patients
    /// generated: people of a population `catchment` times as large (same age and sex
    /// structure, same seasons) enter the records only when admitted with SARI, each as a
    /// patient with that one stay. 0 (the default): only the generated patients' own episodes.
    #[serde(default)]
    pub catchment: f64,
}

/// SFTS (Japan).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sfts {
    /// Cases per 100,000 patients per year.
    pub cases_per_100k: f64,
    /// Months of onset.
    pub months: Vec<u32>,
    /// Minimum age of most cases.
    pub min_age: i32,
    /// Case fatality.
    pub fatality: f64,
    /// `[code, display]`.
    pub code: (String, String),
}

/// Imported viral haemorrhagic fevers (German treatment centres).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedVhf {
    /// Dengue with warning signs, per 100,000 patients per year.
    pub dengue_per_100k: f64,
    /// Lassa fever.
    pub lassa_per_100k: f64,
    /// Ebola virus disease.
    pub ebola_per_100k: f64,
    /// Crimean-Congo haemorrhagic fever.
    pub cchf_per_100k: f64,
}

impl ImportedVhf {
    /// `(ICD-10 code, display, rate per 100,000 per year)`.
    pub fn cases(&self) -> [(&'static str, &'static str, f64); 4] {
        [
            ("A97.1", "Dengue mit Warnzeichen", self.dengue_per_100k),
            ("A96.2", "Lassa-Fieber", self.lassa_per_100k),
            ("A98.4", "Ebola-Viruskrankheit", self.ebola_per_100k),
            (
                "A98.0",
                "Hämorrhagisches Krim-Kongo-Fieber",
                self.cchf_per_100k,
            ),
        ]
    }
}

/// Microbiology.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amr {
    /// Blood-culture isolates per patient-year.
    pub blood_isolates_per_year: f64,
    /// Urine isolates per patient-year.
    pub urine_isolates_per_year: f64,
    /// Share followed by repeat isolates.
    pub repeat_isolate_share: f64,
    /// The lab's guideline, e.g. `EUCAST 2024`.
    pub guideline: String,
    /// Organism mix in blood `[key, weight]`.
    pub organism_mix_blood: Vec<(String, f64)>,
    /// Organism mix in urine.
    pub organism_mix_urine: Vec<(String, f64)>,
    /// Resistant share `[organism, drug, share]`.
    pub resistance: Vec<(String, String, f64)>,
}

/// Biobank.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Biobank {
    /// Share of SARI admissions with a serum/plasma sample.
    pub sari_sample_share: f64,
}

/// Research consent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRates {
    /// MII broad consent share.
    pub broad_consent_share: f64,
}

/// Coding conventions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Codes {
    /// ICD-10 system URI.
    pub icd10_system: String,
    /// ICD-10-GM version (Germany).
    #[serde(default)]
    pub icd10_version: Option<String>,
    /// `loinc` or `jlac10`.
    pub lab_system: String,
}

/// A drug of the panel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drug {
    /// Short code (WHONET style).
    pub code: String,
    /// Name.
    pub name: String,
    /// ATC.
    pub atc: String,
    /// LOINC MIC code.
    pub loinc: String,
    /// Its LOINC long common name.
    pub loinc_display: String,
}

/// An organism of the panel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organism {
    /// Key used in profiles.
    pub key: String,
    /// SNOMED CT code.
    pub snomed: String,
    /// Name.
    pub name: String,
    /// Gram stain (kept for the WHONET export's organism table; not used by the generator).
    #[allow(dead_code)]
    pub gram: String,
    /// `[drug, EUCAST S, EUCAST R]`: the drugs tested, with their EUCAST MIC breakpoints (the
    /// CLSI ones are read at run time, see `clsi.rs`).
    pub breakpoints: Vec<(String, f64, f64)>,
}

/// A drug of an organism's panel with the MIC breakpoints of the lab's guideline.
#[derive(Debug, Clone)]
pub struct Breakpoint {
    /// Drug code.
    pub drug: String,
    /// S breakpoint (S ≤ it).
    pub s: f64,
    /// R breakpoint (EUCAST: R > it; CLSI: R ≥ it).
    pub r: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct Panel {
    drug: Vec<Drug>,
    organism: Vec<Organism>,
}

/// A site profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The site.
    pub site: Site,
    /// Demographics.
    pub demographics: Demographics,
    /// Background contacts.
    pub encounters: Encounters,
    /// ARI/SARI.
    pub respiratory: Respiratory,
    /// SFTS (Japanese sites).
    #[serde(default)]
    pub sfts: Option<Sfts>,
    /// Imported VHF (German treatment centres).
    #[serde(default)]
    pub imported_vhf: Option<ImportedVhf>,
    /// Microbiology.
    pub amr: Amr,
    /// Biobank.
    pub biobank: Biobank,
    /// Research consent (MII broad consent).
    #[serde(default)]
    pub consent: Option<ConsentRates>,
    /// Coding conventions.
    pub codes: Codes,
    #[serde(skip)]
    panel_drugs: Vec<Drug>,
    /// Background morbidity, prepared for this site's country.
    #[serde(skip)]
    pub(crate) morbidity: Vec<crate::morbidity::Diagnosis>,
    /// Procedures and medications, prepared for this site's country.
    #[serde(skip)]
    pub(crate) care: crate::care::Care,
    #[serde(skip)]
    panel_organisms: Vec<(Organism, Vec<Breakpoint>)>,
}

fn json_safe(s: &str) -> bool {
    !s.chars().any(|c| c == '"' || c == '\\' || c.is_control())
}

impl Profile {
    /// A built-in profile by name, or a profile file by path.
    pub fn load(name_or_path: &str) -> Result<Profile, ProfileError> {
        if let Some((n, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Profile::parse(n, text);
        }
        let p = Path::new(name_or_path);
        if p.extension().is_some_and(|e| e == "toml") || p.exists() {
            let text = std::fs::read_to_string(p).map_err(|source| ProfileError::Io {
                path: name_or_path.to_owned(),
                source,
            })?;
            return Profile::parse(name_or_path, &text);
        }
        Err(ProfileError::Unknown(name_or_path.to_owned()))
    }

    /// Parses and checks a profile's TOML.
    pub fn parse(name: &str, text: &str) -> Result<Profile, ProfileError> {
        let invalid = |message: String| ProfileError::Invalid {
            name: name.to_owned(),
            message,
        };
        let mut p: Profile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let panel: Panel = toml::from_str(PANEL).map_err(|e| invalid(format!("AMR panel: {e}")))?;
        if !matches!(p.site.country.as_str(), "DE" | "JP") {
            return Err(invalid(format!(
                "site.country: `{}` must be DE or JP",
                p.site.country
            )));
        }
        if p.site.end <= p.site.start {
            return Err(invalid("site.end must be after site.start".into()));
        }
        if !p
            .site
            .code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            || p.site.code.is_empty()
        {
            return Err(invalid(format!(
                "site.code: `{}` may hold only letters, digits and '-'",
                p.site.code
            )));
        }
        let share = |field: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(invalid(format!(
                    "{field}: {v} is not a share between 0 and 1"
                )))
            }
        };
        share("demographics.female_share", p.demographics.female_share)?;
        if p.demographics.age_bands.is_empty()
            || p.demographics
                .age_bands
                .iter()
                .any(|b| b.0 > b.1 || b.2 < 0.0)
        {
            return Err(invalid(
                "demographics.age_bands: need [min, max, weight] rows with min <= max".into(),
            ));
        }
        if !(0.0..=1000.0).contains(&p.respiratory.catchment) {
            return Err(invalid(format!(
                "respiratory.catchment: {} must be between 0 and 1000 (a multiple of the patients generated)",
                p.respiratory.catchment
            )));
        }
        for (i, path) in p.respiratory.pathogen.iter().enumerate() {
            let f = |n: &str| format!("respiratory.pathogen[{i}].{n}");
            share(&f("attack_per_season"), path.attack_per_season)?;
            share(&f("icu"), path.icu)?;
            share(&f("death"), path.death)?;
            if path.codes.is_empty() {
                return Err(invalid(format!(
                    "{}: at least one [code, display]",
                    f("codes")
                )));
            }
            if !matches!(
                path.pcr.as_str(),
                "influenza" | "rsv" | "sars-cov-2" | "none"
            ) {
                return Err(invalid(format!(
                    "{}: `{}` must be influenza, rsv, sars-cov-2 or none",
                    f("pcr"),
                    path.pcr
                )));
            }
            for (c, d) in &path.codes {
                if !json_safe(c) || !json_safe(d) {
                    return Err(invalid(format!(
                        "{}: quotes, backslashes and control characters are not allowed",
                        f("codes")
                    )));
                }
            }
        }
        if !json_safe(&p.site.name) || !json_safe(&p.site.region) {
            return Err(invalid("site.name / site.region: quotes, backslashes and control characters are not allowed".into()));
        }
        if !matches!(p.codes.lab_system.as_str(), "loinc" | "jlac10") {
            return Err(invalid(format!(
                "codes.lab_system: `{}` must be loinc or jlac10",
                p.codes.lab_system
            )));
        }
        if !p.amr.guideline.starts_with("EUCAST") && !p.amr.guideline.starts_with("CLSI") {
            return Err(invalid(format!(
                "amr.guideline: `{}` must start with EUCAST or CLSI",
                p.amr.guideline
            )));
        }
        for (org, w) in p
            .amr
            .organism_mix_blood
            .iter()
            .chain(&p.amr.organism_mix_urine)
        {
            if !panel.organism.iter().any(|o| &o.key == org) {
                return Err(invalid(format!(
                    "amr.organism_mix: unknown organism `{org}` (known: eco, kpn, sau, pae, aba, efm)"
                )));
            }
            if *w < 0.0 {
                return Err(invalid(format!(
                    "amr.organism_mix: negative weight for `{org}`"
                )));
            }
        }
        for (org, drug, s) in &p.amr.resistance {
            share(&format!("amr.resistance[{org}, {drug}]"), *s)?;
        }
        if !(0.0..=100.0).contains(&p.demographics.births_per_1000_per_year) {
            return Err(invalid(format!(
                "demographics.births_per_1000_per_year: {} is not between 0 and 100",
                p.demographics.births_per_1000_per_year
            )));
        }
        p.morbidity = crate::morbidity::parse("data/morbidity.tsv", MORBIDITY, &p.site.country)?;
        p.care = crate::care::Care::parse("data/care.toml", CARE, &p.site.country)?;
        p.panel_drugs = panel.drug;
        // a CLSI lab's breakpoints come from the reference data folder, never from the program
        let clsi = if p.uses_eucast() {
            None
        } else {
            Some(crate::clsi::pairs(name, &p.amr.guideline, &panel.organism)?)
        };
        p.panel_organisms = panel
            .organism
            .into_iter()
            .map(|o| {
                let bps = o
                    .breakpoints
                    .iter()
                    .map(|b| {
                        let (s, r) = match &clsi {
                            None => (b.1, b.2),
                            Some(c) => c[&(o.key.clone(), b.0.clone())],
                        };
                        Breakpoint {
                            drug: b.0.clone(),
                            s,
                            r,
                        }
                    })
                    .collect();
                (o, bps)
            })
            .collect();
        Ok(p)
    }

    pub(crate) fn age_band_weights(&self) -> Vec<((i32, i32), f64)> {
        self.demographics
            .age_bands
            .iter()
            .map(|b| ((b.0, b.1), b.2))
            .collect()
    }

    pub(crate) fn panel_for(&self, org: &str) -> &[Breakpoint] {
        self.panel_organisms
            .iter()
            .find(|(o, _)| o.key == org)
            .map(|(_, b)| b.as_slice())
            .unwrap_or(&[])
    }

    pub(crate) fn organism(&self, org: &str) -> &Organism {
        &self
            .panel_organisms
            .iter()
            .find(|(o, _)| o.key == org)
            .expect("checked at load")
            .0
    }

    pub(crate) fn drug(&self, code: &str) -> &Drug {
        self.panel_drugs
            .iter()
            .find(|d| d.code == code)
            .expect("panel drugs are complete")
    }

    pub(crate) fn resistance_share(&self, org: &str, drug: &str) -> f64 {
        self.amr
            .resistance
            .iter()
            .find(|(o, d, _)| o == org && d == drug)
            .map_or(0.0, |r| r.2)
    }

    pub(crate) fn uses_eucast(&self) -> bool {
        self.amr.guideline.starts_with("EUCAST")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_load() {
        for n in builtin_profiles() {
            let p = Profile::load(n).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!(p.site.code, n);
            assert!(
                (p.site.end - p.site.start).num_days() > 6 * 365,
                "{n}: at least 6 seasons"
            );
        }
    }

    #[test]
    fn a_bad_field_is_named() {
        let text = BUILTIN[0]
            .1
            .replace("female_share = 0.506", "female_share = 1.7");
        let e = Profile::parse("x", &text).unwrap_err().to_string();
        assert!(e.contains("demographics.female_share"), "{e}");
        let text = BUILTIN[0].1.replace("country = \"DE\"", "country = \"FR\"");
        assert!(
            Profile::parse("x", &text)
                .unwrap_err()
                .to_string()
                .contains("site.country")
        );
        let text = BUILTIN[0]
            .1
            .replace("outpatient_per_year", "outpatients_per_year");
        assert!(
            Profile::parse("x", &text)
                .unwrap_err()
                .to_string()
                .contains("outpatients_per_year")
        );
        assert!(matches!(
            Profile::load("xx-nowhere"),
            Err(ProfileError::Unknown(_))
        ));
    }
}
