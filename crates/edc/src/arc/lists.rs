//! ARC's option lists (`data/arc/Lists/`), compiled in, keyed as ARC's `List` column names
//! them (`drugs_Antiviral` for `Lists/drugs/Antiviral.csv`).

use std::collections::BTreeMap;

/// One option of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    /// The label (the list's first column).
    pub label: String,
    /// The coded value (`Value`).
    pub code: String,
    /// `Selected` = 1.
    pub selected_default: bool,
    /// The preset columns whose value is 1.
    pub presets: Vec<String>,
}

/// The lists, by key.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    lists: BTreeMap<String, Vec<ListItem>>,
    with_preset: BTreeMap<String, Vec<String>>,
}

const FILES: &[(&str, &str)] = &[
    (
        "conditions_Comorbidities",
        include_str!("../../data/arc/Lists/conditions/Comorbidities.csv"),
    ),
    (
        "conditions_Complications",
        include_str!("../../data/arc/Lists/conditions/Complications.csv"),
    ),
    (
        "conditions_Site",
        include_str!("../../data/arc/Lists/conditions/Site.csv"),
    ),
    (
        "conditions_Symptoms",
        include_str!("../../data/arc/Lists/conditions/Symptoms.csv"),
    ),
    (
        "demographics_Country",
        include_str!("../../data/arc/Lists/demographics/Country.csv"),
    ),
    (
        "demographics_Occupation",
        include_str!("../../data/arc/Lists/demographics/Occupation.csv"),
    ),
    (
        "demographics_Race",
        include_str!("../../data/arc/Lists/demographics/Race.csv"),
    ),
    (
        "drugs_Antibiotics",
        include_str!("../../data/arc/Lists/drugs/Antibiotics.csv"),
    ),
    (
        "drugs_Anticoagulant",
        include_str!("../../data/arc/Lists/drugs/Anticoagulant.csv"),
    ),
    (
        "drugs_Antifungal",
        include_str!("../../data/arc/Lists/drugs/Antifungal.csv"),
    ),
    (
        "drugs_Antiviral",
        include_str!("../../data/arc/Lists/drugs/Antiviral.csv"),
    ),
    (
        "drugs_IVfluids",
        include_str!("../../data/arc/Lists/drugs/IVfluids.csv"),
    ),
    (
        "drugs_Immunosuppressants",
        include_str!("../../data/arc/Lists/drugs/Immunosuppressants.csv"),
    ),
    (
        "drugs_Steroids",
        include_str!("../../data/arc/Lists/drugs/Steroids.csv"),
    ),
    (
        "drugs_Type",
        include_str!("../../data/arc/Lists/drugs/Type.csv"),
    ),
    (
        "drugs_nsaids",
        include_str!("../../data/arc/Lists/drugs/nsaids.csv"),
    ),
    (
        "followup_outcome",
        include_str!("../../data/arc/Lists/followup/outcome.csv"),
    ),
    (
        "followup_sequelae",
        include_str!("../../data/arc/Lists/followup/sequelae.csv"),
    ),
    (
        "inclusion_Diseases",
        include_str!("../../data/arc/Lists/inclusion/Diseases.csv"),
    ),
    (
        "outcome_Diseases",
        include_str!("../../data/arc/Lists/outcome/Diseases.csv"),
    ),
    (
        "outcome_Outcome",
        include_str!("../../data/arc/Lists/outcome/Outcome.csv"),
    ),
    (
        "pathogens_All",
        include_str!("../../data/arc/Lists/pathogens/All.csv"),
    ),
    (
        "pathogens_GenomicRepository",
        include_str!("../../data/arc/Lists/pathogens/GenomicRepository.csv"),
    ),
    (
        "pathogens_Other",
        include_str!("../../data/arc/Lists/pathogens/Other.csv"),
    ),
    (
        "pathogens_SampleType",
        include_str!("../../data/arc/Lists/pathogens/SampleType.csv"),
    ),
];

impl Lists {
    /// The lists shipped with the crate.
    pub fn shipped() -> Self {
        let mut l = Lists::default();
        for (key, text) in FILES {
            l.add(key, text);
        }
        l
    }

    /// Adds a list from its CSV text (a row without a `Value` is skipped).
    pub fn add(&mut self, key: &str, text: &str) {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let Ok(headers) = rdr.headers().cloned() else {
            return;
        };
        let h: Vec<String> = headers.iter().map(|s| s.trim().to_owned()).collect();
        let value = h.iter().position(|c| c == "Value");
        let selected = h.iter().position(|c| c == "Selected");
        let preset_cols: Vec<(usize, String)> = h
            .iter()
            .enumerate()
            .filter(|(_, c)| c.starts_with("preset_"))
            .map(|(i, c)| (i, c.clone()))
            .collect();
        let mut items = Vec::new();
        for rec in rdr.records().flatten() {
            let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim().to_owned();
            let code = get(value);
            if code.is_empty() {
                continue;
            }
            items.push(ListItem {
                label: get(Some(0)),
                code,
                selected_default: get(selected) == "1",
                presets: preset_cols
                    .iter()
                    .filter(|(i, _)| rec.get(*i).map(str::trim) == Some("1"))
                    .map(|(_, c)| c.clone())
                    .collect(),
            });
        }
        self.with_preset.insert(
            key.into(),
            preset_cols.into_iter().map(|(_, c)| c).collect(),
        );
        self.lists.insert(key.into(), items);
    }

    /// A list's options.
    pub fn get(&self, key: &str) -> Option<&[ListItem]> {
        self.lists.get(key).map(Vec::as_slice)
    }

    /// A list's options selected for a preset: by the preset's column where the list has it,
    /// else by `Selected`.
    pub fn selected(&self, key: &str, preset_column: &str) -> Vec<&ListItem> {
        let has = self
            .with_preset
            .get(key)
            .is_some_and(|c| c.iter().any(|c| c == preset_column));
        self.get(key)
            .unwrap_or(&[])
            .iter()
            .filter(|i| {
                if has {
                    i.presets.iter().any(|p| p == preset_column)
                } else {
                    i.selected_default
                }
            })
            .collect()
    }
}
