//! Kaplan–Meier as a grouped (actuarial) life table: per declared interval, a site's number
//! at risk at its start, events and censored; counts between 1 and `m − 1` are suppressed at
//! the site; pooled over sites by adding, with survival withheld from the first interval in
//! which any site suppressed a count (an estimate past it would not be the pooled one).

use serde::{Deserialize, Serialize};

/// One interval at one site (`None`: suppressed, between 1 and `m − 1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteInterval {
    /// The interval's first day.
    pub from: u32,
    /// At risk at its start.
    pub at_risk: Option<u64>,
    /// Events in it.
    pub events: Option<u64>,
    /// Censored in it.
    pub censored: Option<u64>,
}

/// A site's life table over `breaks` (ascending first days), under the minimum `min`. Rows
/// before the first break are left out.
pub fn site_table(time: &[u32], event: &[bool], breaks: &[u32], min: u64) -> Vec<SiteInterval> {
    let g = breaks.len();
    let (mut d, mut c) = (vec![0u64; g], vec![0u64; g]);
    for (t, e) in time.iter().zip(event) {
        if let Some(k) = breaks.iter().rposition(|&b| b <= *t) {
            if *e {
                d[k] += 1;
            } else {
                c[k] += 1;
            }
        }
    }
    let gate = |n: u64| (n == 0 || n >= min).then_some(n);
    let mut at_risk: u64 = d.iter().chain(&c).sum();
    (0..g)
        .map(|k| {
            let row = SiteInterval {
                from: breaks[k],
                at_risk: gate(at_risk),
                events: gate(d[k]),
                censored: gate(c[k]),
            };
            at_risk -= d[k] + c[k];
            row
        })
        .collect()
}

/// One pooled interval with the actuarial survival at its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledInterval {
    /// The interval's first day.
    pub from: u32,
    /// At risk at its start, all sites (`None` once withheld).
    pub at_risk: Option<u64>,
    /// Events.
    pub events: Option<u64>,
    /// Censored.
    pub censored: Option<u64>,
    /// Survival at the interval's end (`None`: withheld).
    pub survival: Option<f64>,
    /// Its Greenwood standard error.
    pub std_error: Option<f64>,
}

/// Adds the sites' tables (same intervals) and estimates survival until the first interval
/// with a suppressed count at any site.
pub fn pool(sites: &[Vec<SiteInterval>]) -> Vec<PooledInterval> {
    let g = sites.first().map_or(0, Vec::len);
    let (mut s, mut greenwood, mut open) = (1.0_f64, 0.0_f64, true);
    (0..g)
        .map(|k| {
            let sum = |f: fn(&SiteInterval) -> Option<u64>| -> Option<u64> {
                sites.iter().map(|t| t.get(k).and_then(f)).sum()
            };
            let (n, d, c) = (sum(|r| r.at_risk), sum(|r| r.events), sum(|r| r.censored));
            open = open && n.is_some() && d.is_some() && c.is_some();
            let (mut survival, mut std_error) = (None, None);
            if let (true, Some(n), Some(d), Some(c)) = (open, n, d, c) {
                let exposed = n as f64 - c as f64 / 2.0;
                if exposed > 0.0 {
                    s *= 1.0 - d as f64 / exposed;
                    if exposed > d as f64 {
                        greenwood += d as f64 / (exposed * (exposed - d as f64));
                    }
                }
                survival = Some(s);
                std_error = Some(s * greenwood.sqrt());
            }
            PooledInterval {
                from: sites[0][k].from,
                at_risk: n,
                events: d,
                censored: c,
                survival,
                std_error,
            }
        })
        .collect()
}
