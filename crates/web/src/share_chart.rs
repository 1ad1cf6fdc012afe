//! A weekly share chart with its counts: for each line (e.g. a pathogen) the share positive with
//! a shaded 95 % interval on the left scale, and the number of tests behind it as a dashed line
//! on the right scale, so a share is never read without its denominator. Accessible SVG like the
//! other charts ([`crate::chart`]), with the data as CSV.

use crate::chart::{
    CsvText, LABEL_GAP, esc, label_width, nice_ticks, open_svg, thin_labels, write_x_ticks,
};
use crate::format;
use crate::i18n::Locale;
use std::fmt::Write as _;

/// Okabe–Ito colours (the line charts' palette).
const PALETTE: [&str; 4] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"];
const W: f64 = 760.0;
const H: f64 = 340.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 236.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;

/// One week of one line.
#[derive(Debug, Clone, PartialEq)]
pub struct SharePoint {
    /// Position on the x axis (e.g. the week's index).
    pub x: f64,
    /// The share (0–1); `None` leaves a gap (too few tests, or none).
    pub share: Option<f64>,
    /// Lower end of its interval.
    pub low: f64,
    /// Upper end of its interval.
    pub high: f64,
    /// Tests behind it; `None` when unknown.
    pub tests: Option<f64>,
}

/// One line: a share with its interval and its counts.
#[derive(Debug, Clone)]
pub struct ShareLine {
    /// Legend name of the share (e.g. "influenza").
    pub name: String,
    /// Points in x order.
    pub points: Vec<SharePoint>,
}

/// Shares per week with intervals, and the tests behind them.
#[derive(Debug, Clone, Default)]
pub struct ShareChart {
    /// Unique id within the page.
    pub id: String,
    /// Heading and accessible name.
    pub title: String,
    /// What the chart shows, for screen readers.
    pub description: String,
    /// X axis label.
    pub x_label: String,
    /// Left axis label (the share).
    pub y_label: String,
    /// Right axis label (the counts).
    pub y2_label: String,
    /// Legend suffix of the count lines (e.g. "tests").
    pub count_label: String,
    /// Legend text of the interval band (e.g. "95 % interval").
    pub band_label: String,
    /// A label for every x (each week); the axis shows as many as fit.
    pub x_labels: Vec<(f64, String)>,
    /// The lines.
    pub lines: Vec<ShareLine>,
}

impl ShareChart {
    /// The chart as SVG, numbers formatted for `locale`.
    pub fn svg(&self, locale: Locale) -> String {
        let xs = self
            .x_labels
            .iter()
            .map(|l| l.0)
            .chain(self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.x)));
        let (xmin, xmax) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let (xmin, xmax) = if xmin.is_finite() && xmax > xmin {
            (xmin, xmax)
        } else {
            (0.0, 1.0)
        };
        let pw = W - LEFT - RIGHT;
        let ph = H - TOP - BOTTOM;
        let sx = |x: f64| LEFT + (x - xmin) / (xmax - xmin) * pw;
        let sy = |share: f64| TOP + ph - share.clamp(0.0, 1.0) * ph;
        let tmax_data = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().filter_map(|p| p.tests))
            .fold(0.0f64, f64::max);
        let tticks = nice_ticks(tmax_data * 1.05, 5);
        let tmax = *tticks.last().unwrap_or(&1.0);
        let st = |n: f64| TOP + ph - (n / tmax).clamp(0.0, 1.0) * ph;
        let mut out = String::new();
        open_svg(&mut out, &self.id, &self.title, &self.description, H);
        for k in 0..=5 {
            let share = k as f64 / 5.0;
            let y = sy(share);
            let _ = write!(
                out,
                "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                LEFT + pw,
                LEFT - 6.0,
                y + 4.0,
                esc(&format::percent(locale, share, 0))
            );
        }
        let xr = LEFT + pw;
        for t in &tticks {
            let y = st(*t);
            let _ = write!(
                out,
                "<line x1=\"{xr:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#333\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" class=\"y2-tick\">{}</text>",
                xr + 4.0,
                xr + 6.0,
                y + 4.0,
                esc(&format::integer(locale, *t as i64))
            );
        }
        write_x_ticks(
            &mut out,
            &thin_labels(&self.x_labels, pw / (xmax - xmin)),
            sx,
            TOP + ph,
        );
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{xr:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>\
             <line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"#333\"/>\
             <line x1=\"{xr:.1}\" x2=\"{xr:.1}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"#333\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
             <text transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>\
             <text transform=\"translate({:.1} {:.1}) rotate(90)\" text-anchor=\"middle\">{}</text>",
            TOP + ph,
            TOP + ph,
            TOP + ph,
            TOP + ph,
            LEFT + pw / 2.0,
            H - 12.0,
            esc(&self.x_label),
            TOP + ph / 2.0,
            esc(&self.y_label),
            xr + 52.0,
            TOP + ph / 2.0,
            esc(&self.y2_label)
        );
        for (i, line) in self.lines.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            // the interval: one band per run of consecutive shown points
            for run in runs(&line.points) {
                let mut d = String::new();
                for p in run {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1} ",
                        if d.is_empty() { "M" } else { "L" },
                        sx(p.x),
                        sy(p.high)
                    );
                }
                for p in run.iter().rev() {
                    let _ = write!(d, "L{:.1},{:.1} ", sx(p.x), sy(p.low));
                }
                let _ = write!(
                    out,
                    "<path d=\"{}Z\" fill=\"{colour}\" fill-opacity=\"0.18\" stroke=\"none\" class=\"band\"/>",
                    d
                );
            }
            let mut d = String::new();
            let mut pen = false;
            for p in &line.points {
                match p.share {
                    Some(v) => {
                        let _ = write!(
                            d,
                            "{}{:.1},{:.1} ",
                            if pen { "L" } else { "M" },
                            sx(p.x),
                            sy(v)
                        );
                        pen = true;
                    }
                    None => pen = false,
                }
            }
            let _ = write!(
                out,
                "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"><title>{}</title></path>",
                d.trim_end(),
                esc(&line.name)
            );
            let mut d = String::new();
            let mut pen = false;
            for p in &line.points {
                match p.tests {
                    Some(n) => {
                        let _ = write!(
                            d,
                            "{}{:.1},{:.1} ",
                            if pen { "L" } else { "M" },
                            sx(p.x),
                            st(n)
                        );
                        pen = true;
                    }
                    None => pen = false,
                }
            }
            let _ = write!(
                out,
                "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1\" stroke-dasharray=\"4 3\"><title>{}: {}</title></path>",
                d.trim_end(),
                esc(&line.name),
                esc(&self.count_label)
            );
        }
        // legend
        let lx = xr + 64.0;
        let mut ly = TOP + 4.0;
        for (i, line) in self.lines.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let _ = write!(
                out,
                "<line x1=\"{lx}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"3\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>\
                 <line x1=\"{lx}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-dasharray=\"4 3\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                lx + 18.0,
                lx + 24.0,
                ly + 4.0,
                esc(&line.name),
                lx + 18.0,
                ly + 16.0,
                ly + 16.0,
                lx + 24.0,
                ly + 20.0,
                esc(&self.count_label)
            );
            ly += 38.0;
        }
        let _ = write!(
            out,
            "<rect x=\"{lx}\" y=\"{:.1}\" width=\"18\" height=\"10\" fill=\"#555\" fill-opacity=\"0.18\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text></svg>",
            ly - 5.0,
            lx + 24.0,
            ly + 4.0,
            esc(&self.band_label)
        );
        out
    }

    /// The data as CSV: x label, then per line its tests, share, and interval.
    pub fn csv(&self) -> String {
        let mut header = vec![self.x_label.clone()];
        for l in &self.lines {
            for what in [self.count_label.as_str(), "share", "ci_low", "ci_high"] {
                header.push(format!("{} {what}", l.name));
            }
        }
        let mut out = CsvText::new();
        out.row(&header);
        for (x, label) in &self.x_labels {
            let mut row = vec![label.clone()];
            for l in &self.lines {
                match l.points.iter().find(|p| p.x == *x) {
                    Some(p) => {
                        row.push(p.tests.map(|t| t.to_string()).unwrap_or_default());
                        row.push(p.share.map(|v| format!("{v:.4}")).unwrap_or_default());
                        row.push(p.share.map(|_| format!("{:.4}", p.low)).unwrap_or_default());
                        row.push(
                            p.share
                                .map(|_| format!("{:.4}", p.high))
                                .unwrap_or_default(),
                        );
                    }
                    None => row.extend(std::iter::repeat_n(String::new(), 4)),
                }
            }
            out.row(&row);
        }
        out.finish()
    }
}

/// Runs of consecutive points that have a share.
fn runs(points: &[SharePoint]) -> Vec<&[SharePoint]> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, p) in points.iter().enumerate() {
        match (p.share.is_some(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(&points[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&points[s..]);
    }
    out
}

/// The x positions and texts of a chart's x-axis labels, read back from its SVG (for tests and
/// checks that labels never overlap).
pub fn x_tick_labels(svg: &str) -> Vec<(f64, String)> {
    svg.split("class=\"x-tick\">")
        .skip(1)
        .zip(svg.split("class=\"x-tick\">").map(|before| {
            before
                .rsplit("<text x=\"")
                .next()
                .and_then(|t| t.split('"').next())
                .and_then(|x| x.parse::<f64>().ok())
        }))
        .filter_map(|(after, x)| Some((x?, after.split("</text>").next()?.to_owned())))
        .collect()
}

/// Whether neighbouring labels of [`x_tick_labels`] keep at least half of each one's width plus
/// [`LABEL_GAP`] apart (centred labels then never touch).
pub fn labels_apart(labels: &[(f64, String)]) -> bool {
    labels.windows(2).all(|w| {
        w[1].0 - w[0].0 >= (label_width(&w[0].1) + label_width(&w[1].1)) / 2.0 + LABEL_GAP - 1e-6
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{LineChart, Series};

    fn weeks(n: usize) -> Vec<(f64, String)> {
        (0..n)
            .map(|i| {
                (
                    i as f64,
                    format!("20{:02}-W{:02}", 25 + (i + 40) / 52, (i + 39) % 52 + 1),
                )
            })
            .collect()
    }

    /// Week labels never overlap, however many weeks a chart covers, in both chart kinds.
    #[test]
    fn week_labels_never_overlap() {
        for n in [2, 8, 20, 53, 104, 156, 365] {
            let line = LineChart {
                id: "c".into(),
                x_labels: weeks(n),
                series: vec![Series {
                    name: "DE".into(),
                    points: (0..n).map(|i| (i as f64, Some(i as f64))).collect(),
                }],
                ..Default::default()
            };
            let labels = x_tick_labels(&line.svg(Locale::En));
            assert!(
                !labels.is_empty() && labels_apart(&labels),
                "{n} weeks: {labels:?}"
            );
            assert_eq!(labels[0].1, weeks(n)[0].1, "the first week is labelled");
            let share = ShareChart {
                id: "s".into(),
                x_labels: weeks(n),
                lines: vec![ShareLine {
                    name: "influenza".into(),
                    points: (0..n)
                        .map(|i| SharePoint {
                            x: i as f64,
                            share: Some(0.2),
                            low: 0.1,
                            high: 0.3,
                            tests: Some(50.0),
                        })
                        .collect(),
                }],
                ..Default::default()
            };
            let labels = x_tick_labels(&share.svg(Locale::De));
            assert!(
                !labels.is_empty() && labels_apart(&labels),
                "{n} weeks: {labels:?}"
            );
        }
        // a season is labelled every 4 or 13 weeks, not every week
        let season = LineChart {
            id: "c".into(),
            x_labels: weeks(52),
            series: vec![Series {
                name: "x".into(),
                points: vec![(0.0, Some(1.0)), (51.0, Some(1.0))],
            }],
            ..Default::default()
        };
        let n = x_tick_labels(&season.svg(Locale::En)).len();
        assert!((4..=13).contains(&n), "{n} labels for a season");
        // the check itself catches overlap
        assert!(!labels_apart(&[
            (0.0, "2025-W40".into()),
            (30.0, "2025-W41".into())
        ]));
    }

    #[test]
    fn intervals_are_bands_with_gaps_and_the_csv_has_every_week() {
        let chart = ShareChart {
            id: "p".into(),
            title: "Positivity <DE>".into(),
            x_label: "week".into(),
            count_label: "tests".into(),
            x_labels: weeks(4),
            lines: vec![ShareLine {
                name: "influenza".into(),
                points: vec![
                    SharePoint {
                        x: 0.0,
                        share: Some(0.25),
                        low: 0.2,
                        high: 0.3,
                        tests: Some(120.0),
                    },
                    SharePoint {
                        x: 1.0,
                        share: Some(0.5),
                        low: 0.4,
                        high: 0.6,
                        tests: Some(100.0),
                    },
                    SharePoint {
                        x: 2.0,
                        share: None,
                        low: 0.0,
                        high: 1.0,
                        tests: Some(3.0),
                    },
                    SharePoint {
                        x: 3.0,
                        share: Some(0.1),
                        low: 0.0,
                        high: 0.3,
                        tests: Some(12.0),
                    },
                ],
            }],
            ..Default::default()
        };
        let svg = chart.svg(Locale::En);
        assert!(svg.contains("<title id=\"p-title\">Positivity &lt;DE&gt;</title>"));
        assert_eq!(
            svg.matches("class=\"band\"").count(),
            2,
            "a gap splits the band"
        );
        assert!(
            svg.contains(">100%<") && svg.contains(">150<"),
            "both scales: {svg}"
        );
        let csv = chart.csv();
        assert_eq!(csv.lines().count(), 5);
        assert_eq!(
            csv.lines().nth(1).unwrap(),
            "2025-W40,120,0.2500,0.2000,0.3000"
        );
        assert_eq!(csv.lines().nth(3).unwrap(), "2025-W42,3,,,");
    }
}
