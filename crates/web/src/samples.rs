//! The feasibility page's samples tab: what the sample locator's answer shows — per site,
//! collection and material type the donors and samples as each site's gate released them —
//! and a bar chart of the donors per material type over the sites that answered.

use crate::Locale;
use crate::chart::{Bar, BarChart};
use serde::Serialize;

/// One released cell: a site's collection and material type.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SampleRow {
    /// The site.
    pub site: String,
    /// Its country code (`DE`, `JP`).
    pub country: String,
    /// The catalogue collection (`-`: samples in no catalogued collection).
    pub collection: String,
    /// The MIABIS material type (`-`: unknown).
    pub material: String,
    /// Donors as released: a number, or `< n` when suppressed.
    pub donors: String,
    /// Samples as released.
    pub samples: String,
    /// The donors' released value, when there is one (for the chart).
    pub donors_value: Option<u64>,
}

/// A site that did not answer, and why.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SampleSite {
    /// The site.
    pub site: String,
    /// Its state (`answered`, `refused`, ...; message key `status-…`).
    pub status: String,
    /// The reason, if any.
    pub reason: Option<String>,
    /// How its gate released the numbers (noise, threshold), in words.
    pub disclosure: String,
}

/// The locator's answer as the samples tab shows it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SamplesResult {
    /// The task.
    pub task: String,
    /// The cells with donors or samples, by site, collection, material.
    pub rows: Vec<SampleRow>,
    /// Every site's state.
    pub sites: Vec<SampleSite>,
    /// The chart, rendered by `pages::render`.
    pub chart_svg: String,
}

impl SamplesResult {
    /// Donors per material type over the sites (released values added; a suppressed cell is
    /// counted as "some", named in the bar's note).
    pub fn chart(&self, title: &str, value_label: &str, locale: Locale) -> BarChart {
        let mut by: Vec<(String, u64, usize)> = Vec::new();
        for r in &self.rows {
            let i = match by.iter().position(|(m, _, _)| *m == r.material) {
                Some(i) => i,
                None => {
                    by.push((r.material.clone(), 0, 0));
                    by.len() - 1
                }
            };
            match r.donors_value {
                Some(v) => by[i].1 += v,
                None => by[i].2 += 1,
            }
        }
        by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        BarChart {
            id: "samples-by-material".into(),
            title: title.into(),
            description: title.into(),
            value_label: value_label.into(),
            bars: by
                .into_iter()
                .map(|(m, v, suppressed)| Bar {
                    label: m,
                    value: Some(v as f64),
                    note: if suppressed > 0 {
                        format!(
                            "{} (+{suppressed} < min)",
                            crate::format::integer(locale, v as i64)
                        )
                    } else {
                        crate::format::integer(locale, v as i64)
                    },
                })
                .collect(),
        }
    }
}
