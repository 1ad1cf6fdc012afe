//! Charts as self-contained, accessible SVG, rendered on the server: weekly epidemic curves with
//! threshold lines and intensity bands, bar charts of per-site results, and heat-maps of
//! resistance shares. Each chart also gives its data as CSV for download.
//!
//! Written here rather than with a plotting crate because the charts must carry `<title>` and
//! `<desc>` for screen readers, locale-formatted ticks, value labels so that colour is never the
//! only channel, and no font rasterising: a few hundred lines of SVG text do exactly that.

use crate::format;
use crate::i18n::Locale;
use std::fmt::Write as _;

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

/// Intensity band fills, from below-threshold to very high (MEM levels).
const BAND_FILLS: [&str; 5] = ["#f7f7f7", "#fff3c4", "#ffd59b", "#f9a66c", "#e4572e"];

const W: f64 = 760.0;
const H: f64 = 340.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 180.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;

/// Escapes text for SVG/HTML content and attribute values. Hand-written rather than
/// `minijinja::HtmlEscape`, which also escapes `/` and would turn a season's "2024/25" into
/// "2024&#x2f;25" in the SVG source that tests and readers search.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// CSV text built row by row with the csv crate's writer (RFC 4180 quoting, `\n` line ends).
pub(crate) struct CsvText(csv::Writer<Vec<u8>>);

impl CsvText {
    /// An empty table; rows may have different lengths.
    pub(crate) fn new() -> Self {
        Self(
            csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(Vec::new()),
        )
    }

    /// Appends one row.
    pub(crate) fn row<I, T>(&mut self, fields: I)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        // Writing into a Vec cannot fail, and a flexible writer accepts any row length.
        self.0
            .write_record(fields)
            .expect("writing CSV into memory cannot fail");
    }

    /// The text written so far.
    pub(crate) fn finish(self) -> String {
        let bytes = self
            .0
            .into_inner()
            .expect("flushing CSV into memory cannot fail");
        // Every field came in as UTF-8 and the writer adds only ASCII.
        String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
    }
}

/// Round tick values covering `0..=max` (steps of 1, 2 or 5 × 10^k), at most about `target`.
pub fn nice_ticks(max: f64, target: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let n = (max / step).ceil() as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

fn tick_label(locale: Locale, v: f64) -> String {
    if v.fract().abs() < 1e-9 {
        format::integer(locale, v as i64)
    } else {
        format::decimal(locale, v, 1)
    }
}

/// The width a label takes at the charts' 12 px font, estimated per character (Latin ≈ 7 px,
/// CJK and other wide characters ≈ 12 px): enough to keep labels apart without a font.
pub fn label_width(label: &str) -> f64 {
    label
        .chars()
        .map(|c| if (c as u32) < 0x2E80 { 7.0 } else { 12.0 })
        .sum()
}

/// The gap kept between neighbouring axis labels, in px.
pub const LABEL_GAP: f64 = 8.0;
/// Writes the x-axis ticks and their labels (already thinned to fit) below a plot whose bottom
/// edge is at `bottom`; `sx` maps an x value to its pixel column.
pub(crate) fn write_x_ticks(
    out: &mut String,
    labels: &[(f64, String)],
    sx: impl Fn(f64) -> f64,
    bottom: f64,
) {
    for (x, label) in labels {
        let px = sx(*x);
        let _ = write!(
            out,
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{bottom:.1}\" y2=\"{:.1}\" stroke=\"#555\"/>\
             <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"x-tick\">{}</text>",
            bottom + 5.0,
            bottom + 18.0,
            esc(label)
        );
    }
}

/// Thins x labels so that none overlap: of labels at regular steps (weeks) it keeps every
/// `k`-th, with `k` the first of 1, 2, 4, 13, 26, 52 (a week, two, a month, a quarter, half a
/// year, a year) whose spacing fits the widest label; irregular positions are thinned greedily.
/// `px_per_x` is the plot's pixels per x unit.
pub fn thin_labels(labels: &[(f64, String)], px_per_x: f64) -> Vec<(f64, String)> {
    let widest = labels
        .iter()
        .map(|(_, l)| label_width(l))
        .fold(0.0f64, f64::max)
        + LABEL_GAP;
    let unit = labels
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .fold(f64::INFINITY, f64::min);
    let regular = unit.is_finite()
        && unit > 0.0
        && labels
            .windows(2)
            .all(|w| ((w[1].0 - w[0].0) / unit - ((w[1].0 - w[0].0) / unit).round()).abs() < 1e-9);
    if regular && px_per_x > 0.0 {
        for k in [1.0, 2.0, 4.0, 13.0, 26.0, 52.0] {
            if k * unit * px_per_x >= widest {
                let first = labels[0].0;
                return labels
                    .iter()
                    .filter(|(x, _)| (((x - first) / unit).round() as i64) % (k as i64) == 0)
                    .cloned()
                    .collect();
            }
        }
        return labels.first().cloned().into_iter().collect();
    }
    let mut out: Vec<(f64, String)> = Vec::new();
    for (x, l) in labels {
        let fits = out.last().is_none_or(|(px, pl)| {
            (x - px) * px_per_x >= (label_width(pl) + label_width(l)) / 2.0 + LABEL_GAP
        });
        if fits {
            out.push((*x, l.clone()));
        }
    }
    out
}

/// Opens a chart's SVG with its accessible name and description and draws its title.
pub(crate) fn open_svg(out: &mut String, id: &str, title: &str, desc: &str, height: f64) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {W} {height}\" \
         width=\"100%\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" \
         font-family=\"system-ui, 'Noto Sans', 'Noto Sans CJK JP', sans-serif\" font-size=\"12\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>\
         <text x=\"{LEFT}\" y=\"20\" font-size=\"15\" font-weight=\"600\">{}</text>",
        esc(title),
        esc(desc),
        esc(title)
    );
}

/// One line of a [`LineChart`]; `None` values leave a gap.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// (x, y) points in x order.
    pub points: Vec<(f64, Option<f64>)>,
}

/// A horizontal band (e.g. a MEM intensity level) from `from` up to `to` (or the top).
#[derive(Debug, Clone)]
pub struct Band {
    /// Lower edge.
    pub from: f64,
    /// Upper edge; `None` for open-ended.
    pub to: Option<f64>,
    /// Legend label (e.g. "high").
    pub label: String,
    /// 0 = baseline … 4 = very high; picks the fill.
    pub level: usize,
}

/// A labelled horizontal line (e.g. the epidemic threshold).
#[derive(Debug, Clone)]
pub struct Threshold {
    /// Its value.
    pub y: f64,
    /// Its label, drawn beside the line and in the legend.
    pub label: String,
}

/// A line chart over a numeric x axis (e.g. weeks of a season).
#[derive(Debug, Clone, Default)]
pub struct LineChart {
    /// Unique id within the page (for `aria-labelledby`).
    pub id: String,
    /// Heading, also the accessible name.
    pub title: String,
    /// A sentence saying what the chart shows, for screen readers.
    pub description: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label, with its unit.
    pub y_label: String,
    /// X ticks: position and label.
    pub x_ticks: Vec<(f64, String)>,
    /// The lines.
    pub series: Vec<Series>,
    /// Background bands.
    pub bands: Vec<Band>,
    /// Threshold lines.
    pub thresholds: Vec<Threshold>,
    /// A label for every x (e.g. each week), used by the CSV; ticks label only some.
    pub x_labels: Vec<(f64, String)>,
    /// A second scale on the right for the same values (e.g. cases per 100,000 beside cases).
    pub y2: Option<SecondAxis>,
}

/// A second y scale: the left axis's values times `factor`, with its own label (and a column in
/// the CSV).
#[derive(Debug, Clone)]
pub struct SecondAxis {
    /// Axis label, with its unit (e.g. "per 100,000 patients").
    pub label: String,
    /// Right value = left value × factor.
    pub factor: f64,
    /// Decimal places of its tick labels.
    pub places: usize,
}

impl LineChart {
    /// The chart as SVG, numbers formatted for `locale`.
    pub fn svg(&self, locale: Locale) -> String {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let (xmin, xmax) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let (xmin, xmax) = if xmin.is_finite() && xmax > xmin {
            (xmin, xmax)
        } else {
            (0.0, 1.0)
        };
        let ymax_data = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.1))
            .chain(self.thresholds.iter().map(|t| t.y))
            .chain(self.bands.iter().filter_map(|b| b.to))
            .fold(0.0f64, f64::max);
        let ticks = nice_ticks(ymax_data * 1.05, 5);
        let ymax = *ticks.last().unwrap_or(&1.0);
        let right = if self.y2.is_some() {
            RIGHT + 56.0
        } else {
            RIGHT
        };
        let pw = W - LEFT - right;
        let ph = H - TOP - BOTTOM;
        let sx = |x: f64| LEFT + (x - xmin) / (xmax - xmin) * pw;
        let sy = |y: f64| TOP + ph - (y / ymax).clamp(0.0, 1.0) * ph;

        let mut out = String::new();
        open_svg(&mut out, &self.id, &self.title, &self.description, H);
        for b in &self.bands {
            let top = sy(b.to.unwrap_or(ymax).min(ymax));
            let bottom = sy(b.from.max(0.0));
            let _ = write!(
                out,
                "<rect x=\"{LEFT}\" y=\"{top:.1}\" width=\"{pw:.1}\" height=\"{:.1}\" fill=\"{}\"/>",
                (bottom - top).max(0.0),
                BAND_FILLS[b.level.min(BAND_FILLS.len() - 1)]
            );
        }
        for t in &ticks {
            let y = sy(*t);
            let _ = write!(
                out,
                "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                LEFT + pw,
                LEFT - 6.0,
                y + 4.0,
                esc(&tick_label(locale, *t))
            );
        }
        if let Some(y2) = &self.y2 {
            // the right scale: round values of its own, placed where they fall on the left scale
            let x = LEFT + pw;
            for t in nice_ticks(ymax * y2.factor, 5)
                .into_iter()
                .filter(|t| *t <= ymax * y2.factor + 1e-9)
            {
                let y = sy(t / y2.factor);
                let _ = write!(
                    out,
                    "<line x1=\"{x:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#333\"/>\
                     <text x=\"{:.1}\" y=\"{:.1}\" class=\"y2-tick\">{}</text>",
                    x + 4.0,
                    x + 6.0,
                    y + 4.0,
                    esc(&format::decimal(locale, t, y2.places))
                );
            }
            let _ = write!(
                out,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"#333\"/>\
                 <text transform=\"translate({:.1} {:.1}) rotate(90)\" text-anchor=\"middle\">{}</text>",
                TOP + ph,
                x + 48.0,
                TOP + ph / 2.0,
                esc(&y2.label)
            );
        }
        let candidates = if self.x_ticks.is_empty() {
            &self.x_labels
        } else {
            &self.x_ticks
        };
        write_x_ticks(
            &mut out,
            &thin_labels(candidates, pw / (xmax - xmin)),
            sx,
            TOP + ph,
        );
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>\
             <line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"#333\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
             <text transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            LEFT + pw,
            TOP + ph,
            TOP + ph,
            TOP + ph,
            LEFT + pw / 2.0,
            H - 12.0,
            esc(&self.x_label),
            TOP + ph / 2.0,
            esc(&self.y_label)
        );
        for t in &self.thresholds {
            let y = sy(t.y);
            let _ = write!(
                out,
                "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#333\" \
                 stroke-dasharray=\"6 4\"><title>{}: {}</title></line>",
                LEFT + pw,
                esc(&t.label),
                esc(&format::decimal(locale, t.y, 1))
            );
        }
        for (i, s) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let mut d = String::new();
            let mut pen_down = false;
            for (x, y) in &s.points {
                match y {
                    Some(y) => {
                        let _ = write!(
                            d,
                            "{}{:.1},{:.1} ",
                            if pen_down { "L" } else { "M" },
                            sx(*x),
                            sy(*y)
                        );
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            let _ = write!(
                out,
                "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"><title>{}</title></path>",
                d.trim_end(),
                esc(&s.name)
            );
            // a point with gaps on both sides draws no line: mark it
            for (k, (x, y)) in s.points.iter().enumerate() {
                let before = k > 0 && s.points[k - 1].1.is_some();
                let after = s.points.get(k + 1).is_some_and(|p| p.1.is_some());
                if let (Some(y), false, false) = (y, before, after) {
                    let _ = write!(
                        out,
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                        sx(*x),
                        sy(*y)
                    );
                }
            }
        }
        // legend
        let lx = LEFT + pw + if self.y2.is_some() { 60.0 } else { 16.0 };
        let mut ly = TOP + 4.0;
        for (i, s) in self.series.iter().enumerate() {
            let _ = write!(
                out,
                "<line x1=\"{lx}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{}\" stroke-width=\"3\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                lx + 18.0,
                PALETTE[i % PALETTE.len()],
                lx + 24.0,
                ly + 4.0,
                esc(&s.name)
            );
            ly += 18.0;
        }
        for t in &self.thresholds {
            let _ = write!(
                out,
                "<line x1=\"{lx}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"#333\" stroke-dasharray=\"6 4\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                lx + 18.0,
                lx + 24.0,
                ly + 4.0,
                esc(&t.label)
            );
            ly += 18.0;
        }
        for b in &self.bands {
            let _ = write!(
                out,
                "<rect x=\"{lx}\" y=\"{:.1}\" width=\"18\" height=\"10\" fill=\"{}\" stroke=\"#999\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                ly - 5.0,
                BAND_FILLS[b.level.min(BAND_FILLS.len() - 1)],
                lx + 24.0,
                ly + 4.0,
                esc(&b.label)
            );
            ly += 18.0;
        }
        out.push_str("</svg>");
        out
    }

    /// The plotted data as CSV: the x column, then one column per series.
    pub fn csv(&self) -> String {
        let mut header = vec![self.x_label.clone()];
        header.extend(self.series.iter().map(|s| s.name.clone()));
        if let Some(y2) = &self.y2 {
            header.extend(
                self.series
                    .iter()
                    .map(|s| format!("{} ({})", s.name, y2.label)),
            );
        }
        let mut out = CsvText::new();
        out.row(&header);
        let mut xs: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        for x in xs {
            let label = self
                .x_labels
                .iter()
                .chain(&self.x_ticks)
                .find(|(tx, _)| *tx == x)
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| x.to_string());
            let mut row = vec![label];
            for s in &self.series {
                let y = s.points.iter().find(|p| p.0 == x).and_then(|p| p.1);
                row.push(y.map(|v| v.to_string()).unwrap_or_default());
            }
            if let Some(y2) = &self.y2 {
                for s in &self.series {
                    let y = s.points.iter().find(|p| p.0 == x).and_then(|p| p.1);
                    row.push(
                        y.map(|v| format!("{:.*}", y2.places + 1, v * y2.factor))
                            .unwrap_or_default(),
                    );
                }
            }
            out.row(&row);
        }
        out.finish()
    }
}

/// One bar of a [`BarChart`].
#[derive(Debug, Clone)]
pub struct Bar {
    /// Category label (e.g. a site name).
    pub label: String,
    /// Value; `None` draws no bar (e.g. suppressed), and `note` says why.
    pub value: Option<f64>,
    /// Text after the bar: the released value as shown (e.g. "< 5", "≈ 120").
    pub note: String,
}

/// A horizontal bar chart (one bar per category).
#[derive(Debug, Clone, Default)]
pub struct BarChart {
    /// Unique id within the page.
    pub id: String,
    /// Heading and accessible name.
    pub title: String,
    /// What the chart shows, for screen readers.
    pub description: String,
    /// Value axis label, with unit.
    pub value_label: String,
    /// The bars, top to bottom.
    pub bars: Vec<Bar>,
}

impl BarChart {
    /// The chart as SVG.
    pub fn svg(&self, locale: Locale) -> String {
        let row = 26.0;
        let left = 200.0;
        let right = 120.0;
        let h = TOP + BOTTOM + row * self.bars.len().max(1) as f64;
        let pw = W - left - right;
        let max = self
            .bars
            .iter()
            .filter_map(|b| b.value)
            .fold(0.0f64, f64::max);
        let ticks = nice_ticks(max, 5);
        let vmax = *ticks.last().unwrap_or(&1.0);
        let sx = |v: f64| left + (v / vmax).clamp(0.0, 1.0) * pw;
        let mut out = String::new();
        open_svg(&mut out, &self.id, &self.title, &self.description, h);
        let bottom = h - BOTTOM;
        for t in &ticks {
            let x = sx(*t);
            let _ = write!(
                out,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP}\" y2=\"{bottom:.1}\" stroke=\"#ddd\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                bottom + 16.0,
                esc(&tick_label(locale, *t))
            );
        }
        for (i, b) in self.bars.iter().enumerate() {
            let y = TOP + i as f64 * row;
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                left - 8.0,
                y + row / 2.0 + 4.0,
                esc(&b.label)
            );
            let end = match b.value {
                Some(v) => {
                    let _ = write!(
                        out,
                        "<rect x=\"{left}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\">\
                         <title>{}: {}</title></rect>",
                        y + 4.0,
                        (sx(v) - left).max(0.0),
                        row - 8.0,
                        PALETTE[0],
                        esc(&b.label),
                        esc(&b.note)
                    );
                    sx(v)
                }
                None => left,
            };
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                end + 6.0,
                y + row / 2.0 + 4.0,
                esc(&b.note)
            );
        }
        let _ = write!(
            out,
            "<line x1=\"{left}\" x2=\"{left}\" y1=\"{TOP}\" y2=\"{bottom:.1}\" stroke=\"#333\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></svg>",
            left + pw / 2.0,
            h - 12.0,
            esc(&self.value_label)
        );
        out
    }

    /// The bars as CSV: label, value, note.
    pub fn csv(&self) -> String {
        let mut out = CsvText::new();
        out.row(["label", self.value_label.as_str(), "note"]);
        for b in &self.bars {
            let value = b.value.map(|v| v.to_string()).unwrap_or_default();
            out.row([b.label.as_str(), &value, &b.note]);
        }
        out.finish()
    }
}

/// One cell of a [`HeatMap`].
#[derive(Debug, Clone)]
pub struct Cell {
    /// The share drawn as colour, 0.0–1.0 (e.g. share resistant); its lower end when the share
    /// is only known to lie in a range.
    pub share: f64,
    /// The upper end, when the share is a range (a count behind it was withheld).
    pub max: Option<f64>,
    /// The number of isolates behind it.
    pub n: u64,
    /// Whether the cell meets the reporting rule (e.g. ≥ 30 isolates); others are hatched.
    pub reportable: bool,
}

/// A heat-map of shares, e.g. organisms × antimicrobials, share resistant.
#[derive(Debug, Clone, Default)]
pub struct HeatMap {
    /// Unique id within the page.
    pub id: String,
    /// Heading and accessible name.
    pub title: String,
    /// What the map shows, for screen readers.
    pub description: String,
    /// Row labels (e.g. organisms).
    pub rows: Vec<String>,
    /// Column labels (e.g. antimicrobials).
    pub cols: Vec<String>,
    /// `cells[row][col]`; `None` where nothing was tested.
    pub cells: Vec<Vec<Option<Cell>>>,
    /// What the share is, for the legend and CSV header (e.g. "% R").
    pub share_label: String,
}

/// Sequential light-yellow → dark-red scale for a share in 0..=1.
fn heat_colour(share: f64) -> String {
    let stops = [
        (255.0, 255.0, 204.0),
        (254.0, 178.0, 76.0),
        (240.0, 59.0, 32.0),
        (128.0, 0.0, 38.0),
    ];
    let t = share.clamp(0.0, 1.0) * (stops.len() - 1) as f64;
    let i = (t.floor() as usize).min(stops.len() - 2);
    let f = t - i as f64;
    let (a, b) = (stops[i], stops[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// WCAG 2 relative luminance of a `#rrggbb` colour (0 for anything else).
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let c = hex
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0) as f64
            / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/// WCAG 2 contrast ratio of two `#rrggbb` colours (1 to 21).
fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Black or white, whichever contrasts more with the background: at least 4.58:1 on any colour,
/// so a cell's text meets WCAG AA (4.5:1) on every shade of the heat scale.
fn ink_on(background: &str) -> &'static str {
    if contrast("#000000", background) >= contrast("#ffffff", background) {
        "#000"
    } else {
        "#fff"
    }
}

impl HeatMap {
    /// The heat-map as SVG; every cell shows its percentage and isolate count as text.
    pub fn svg(&self, locale: Locale) -> String {
        let left = 210.0;
        let top = 130.0;
        let cw = ((W - left - 20.0) / self.cols.len().max(1) as f64).min(64.0);
        let ch = 34.0;
        let h = top + ch * self.rows.len().max(1) as f64 + 60.0;
        let mut out = String::new();
        open_svg(&mut out, &self.id, &self.title, &self.description, h);
        out.push_str(
            "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
             patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#bbb\" \
             stroke-width=\"2\"/></pattern></defs>",
        );
        for (j, c) in self.cols.iter().enumerate() {
            let x = left + j as f64 * cw + cw / 2.0;
            let _ = write!(
                out,
                "<text transform=\"translate({x:.1} {:.1}) rotate(-50)\">{}</text>",
                top - 6.0,
                esc(c)
            );
        }
        for (i, r) in self.rows.iter().enumerate() {
            let y = top + i as f64 * ch;
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-style=\"italic\">{}</text>",
                left - 8.0,
                y + ch / 2.0 + 4.0,
                esc(r)
            );
            for j in 0..self.cols.len() {
                let x = left + j as f64 * cw;
                match self
                    .cells
                    .get(i)
                    .and_then(|row| row.get(j))
                    .and_then(Option::as_ref)
                {
                    Some(cell) => {
                        let mid = cell.max.map_or(cell.share, |m| (cell.share + m) / 2.0);
                        let fill = if cell.reportable {
                            heat_colour(mid)
                        } else {
                            "url(#hatch)".into()
                        };
                        let low = format::percent(locale, cell.share, 0);
                        let pct = match cell.max.map(|m| format::percent(locale, m, 0)) {
                            Some(high) if high != low => {
                                format!("{}–{high}", low.trim_end_matches(['%', ' ', '\u{a0}']))
                            }
                            _ => low,
                        };
                        let n = format::integer(locale, cell.n as i64);
                        // on the hatch (light grey lines on white) black and dark grey read well
                        let (ink, ink_n) = if cell.reportable {
                            let ink = ink_on(&fill);
                            (ink, ink)
                        } else {
                            ("#000", "#333")
                        };
                        let _ = write!(
                            out,
                            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\" \
                             stroke=\"#fff\"><title>{} / {}: {pct} (n = {n})</title></rect>\
                             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{}\">{pct}</text>\
                             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\" fill=\"{}\">{n}</text>",
                            cw,
                            ch,
                            esc(r),
                            esc(&self.cols[j]),
                            x + cw / 2.0,
                            y + 15.0,
                            ink,
                            x + cw / 2.0,
                            y + 27.0,
                            ink_n,
                        );
                    }
                    None => {
                        let _ = write!(
                            out,
                            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cw:.1}\" height=\"{ch:.1}\" fill=\"#fff\" stroke=\"#eee\"/>\
                             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">–</text>",
                            x + cw / 2.0,
                            y + ch / 2.0 + 4.0
                        );
                    }
                }
            }
        }
        // legend: the colour scale with 0, 50 and 100 %
        let ly = top + ch * self.rows.len() as f64 + 24.0;
        for k in 0..20 {
            let s = k as f64 / 19.0;
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{ly:.1}\" width=\"8\" height=\"12\" fill=\"{}\"/>",
                left + k as f64 * 8.0,
                heat_colour(s)
            );
        }
        for (pos, s) in [(0.0, 0.0), (80.0, 0.5), (160.0, 1.0)] {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
                left + pos,
                ly + 26.0,
                esc(&format::percent(locale, s, 0))
            );
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text><rect x=\"{:.1}\" y=\"{ly:.1}\" width=\"16\" height=\"12\" \
             fill=\"url(#hatch)\" stroke=\"#bbb\"/></svg>",
            left + 180.0,
            ly + 10.0,
            esc(&self.share_label),
            left + 180.0 + 8.0 * (self.share_label.chars().count() as f64) + 12.0,
        );
        out
    }

    /// The cells as CSV: row, column, share (its lower end for a range), upper end of a range
    /// (empty when exact), n, reportable.
    pub fn csv(&self) -> String {
        let mut out = CsvText::new();
        out.row([
            "row",
            "column",
            self.share_label.as_str(),
            &format!("{} (upper end)", self.share_label),
            "n",
            "reportable",
        ]);
        for (i, r) in self.rows.iter().enumerate() {
            for (j, c) in self.cols.iter().enumerate() {
                if let Some(Some(cell)) = self.cells.get(i).and_then(|row| row.get(j)) {
                    out.row([
                        r.clone(),
                        c.clone(),
                        format!("{:.4}", cell.share),
                        cell.max.map(|m| format!("{m:.4}")).unwrap_or_default(),
                        cell.n.to_string(),
                        cell.reportable.to_string(),
                    ]);
                }
            }
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(nice_ticks(9.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(
            nice_ticks(430.0, 5),
            vec![0.0, 100.0, 200.0, 300.0, 400.0, 500.0]
        );
        assert_eq!(
            nice_ticks(0.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let t = nice_ticks(1234.0, 4);
        assert!(*t.last().unwrap() >= 1234.0 && t.len() <= 6);
    }

    #[test]
    fn escaping_and_csv_quoting() {
        assert_eq!(esc("<a&\"b'>"), "&lt;a&amp;&quot;b&#39;&gt;");
        let mut csv = CsvText::new();
        csv.row(["a,b", "say \"x\"", "plain", "", "line\nbreak", "cr\r"]);
        csv.row(["short"]);
        assert_eq!(
            csv.finish(),
            "\"a,b\",\"say \"\"x\"\"\",plain,,\"line\nbreak\",\"cr\r\"\nshort\n"
        );
    }

    #[test]
    fn line_chart_has_accessible_name_gaps_and_locale_ticks() {
        let chart = LineChart {
            id: "c1".into(),
            title: "SARI <Germany>".into(),
            description: "weekly".into(),
            x_label: "week".into(),
            y_label: "cases".into(),
            x_ticks: vec![(1.0, "W01".into()), (3.0, "W03".into())],
            series: vec![Series {
                name: "DE".into(),
                points: vec![(1.0, Some(1200.0)), (2.0, None), (3.0, Some(800.0))],
            }],
            bands: vec![Band {
                from: 0.0,
                to: Some(500.0),
                label: "baseline".into(),
                level: 0,
            }],
            thresholds: vec![Threshold {
                y: 500.0,
                label: "epidemic threshold".into(),
            }],
            x_labels: vec![(2.0, "W02".into())],
            y2: None,
        };
        assert!(
            chart.csv().contains("W02,\n"),
            "every x gets its label in the CSV: {}",
            chart.csv()
        );
        let svg = chart.svg(Locale::De);
        assert!(svg.contains("<title id=\"c1-title\">SARI &lt;Germany&gt;</title>"));
        assert!(svg.contains("aria-labelledby=\"c1-title c1-desc\""));
        // the gap at week 2 starts a new sub-path
        let d = svg
            .split("<path d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 0, "{d}");
        assert!(svg.contains(">1.000<"), "German grouping in y ticks: {svg}");
        // isolated points (a gap on both sides) are drawn as dots
        assert_eq!(svg.matches("<circle").count(), 2);
        let csv = chart.csv();
        assert_eq!(csv, "week,DE\nW01,1200\nW02,\nW03,800\n");
    }

    #[test]
    fn heat_map_marks_small_cells_and_exports_every_cell() {
        let map = HeatMap {
            id: "h".into(),
            title: "t".into(),
            description: "d".into(),
            rows: vec!["E. coli".into()],
            cols: vec![
                "CIP".into(),
                "MEM".into(),
                "VAN".into(),
                "GEN".into(),
                "AMK".into(),
            ],
            cells: vec![vec![
                Some(Cell {
                    share: 0.25,
                    max: None,
                    n: 120,
                    reportable: true,
                }),
                Some(Cell {
                    share: 0.0,
                    max: None,
                    n: 12,
                    reportable: false,
                }),
                None,
                Some(Cell {
                    share: 0.101,
                    max: Some(0.123),
                    n: 400,
                    reportable: true,
                }),
                Some(Cell {
                    share: 0.301,
                    max: Some(0.303),
                    n: 4000,
                    reportable: true,
                }),
            ]],
            share_label: "% R".into(),
        };
        let svg = map.svg(Locale::En);
        assert!(svg.contains("25%"));
        assert_eq!(
            svg.matches("fill=\"url(#hatch)\"").count(),
            2,
            "one hatched cell + legend swatch"
        );
        assert!(svg.contains(">10–12%<"), "a range shows both ends");
        assert!(
            svg.contains(">30%<"),
            "a range within one displayed percent shows one value"
        );
        assert_eq!(map.csv().lines().count(), 5);
        assert!(map.csv().contains("E. coli,GEN,0.1010,0.1230,400,true"));
        assert_eq!(heat_colour(0.0), "#ffffcc");
        assert_eq!(heat_colour(1.0), "#800026");
    }

    /// Text in a cell meets WCAG AA contrast (4.5:1) with the cell's colour on every shade of
    /// the scale (axe-core cannot check text inside an SVG image, so this does).
    #[test]
    fn heat_map_cell_text_contrasts_with_every_shade() {
        let cols: Vec<String> = (0..=100).map(|k| format!("c{k}")).collect();
        let cells = (0..=100)
            .map(|k| {
                Some(Cell {
                    share: k as f64 / 100.0,
                    max: None,
                    n: 100,
                    reportable: true,
                })
            })
            .collect();
        let map = HeatMap {
            id: "h".into(),
            title: "t".into(),
            description: "d".into(),
            rows: vec!["r".into()],
            cols,
            cells: vec![cells],
            share_label: "% R".into(),
        };
        let svg = map.svg(Locale::En);
        let mut checked = 0;
        for cell in svg.split("<rect ").filter(|r| r.contains("<title>r / c")) {
            let attr = |s: &str| {
                s.split("fill=\"")
                    .nth(1)
                    .and_then(|v| v.split('"').next())
                    .unwrap_or_default()
                    .to_owned()
            };
            let background = attr(cell);
            let texts: Vec<&str> = cell.split("<text ").skip(1).collect();
            assert_eq!(texts.len(), 2, "share and count in {cell}");
            for t in texts {
                let ink = match attr(t).as_str() {
                    "#000" => "#000000".to_owned(),
                    "#fff" => "#ffffff".to_owned(),
                    other => other.to_owned(),
                };
                let ratio = contrast(&ink, &background);
                assert!(ratio >= 4.5, "text {ink} on {background}: {ratio:.2}:1");
                checked += 1;
            }
        }
        assert_eq!(checked, 202);
        assert!((contrast("#ffffff", "#000000") - 21.0).abs() < 1e-9);
        assert!(
            (contrast("#767676", "#ffffff") - 4.54).abs() < 0.01,
            "WCAG's reference grey"
        );
    }

    #[test]
    fn bar_chart_draws_no_bar_for_suppressed_values() {
        let chart = BarChart {
            id: "b".into(),
            title: "t".into(),
            description: "d".into(),
            value_label: "patients".into(),
            bars: vec![
                Bar {
                    label: "Berlin".into(),
                    value: Some(120.0),
                    note: "120".into(),
                },
                Bar {
                    label: "Osaka".into(),
                    value: None,
                    note: "< 5".into(),
                },
            ],
        };
        let svg = chart.svg(Locale::Ja);
        assert_eq!(svg.matches("<rect").count(), 1);
        assert!(svg.contains("&lt; 5"));
        assert_eq!(
            chart.csv(),
            "label,patients,note\nBerlin,120,120\nOsaka,,< 5\n"
        );
    }
}
