//! Numbers and dates as each UI language writes them (CLDR patterns for `en`, `de`, `ja`).
//!
//! Three fixed languages need a dozen patterns; ICU4X would bring megabytes of locale data for
//! the same output, so these are written out here and tested against CLDR's examples.

use crate::i18n::Locale;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

fn separators(locale: Locale) -> (char, char) {
    match locale {
        Locale::De => ('.', ','),
        Locale::En | Locale::Ja => (',', '.'),
    }
}

fn group(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// An integer with the locale's grouping: `1,234,567` (en, ja), `1.234.567` (de).
pub fn integer(locale: Locale, n: i64) -> String {
    let (g, _) = separators(locale);
    let digits = n.unsigned_abs().to_string();
    let body = group(&digits, g);
    if n < 0 { format!("−{body}") } else { body }
}

/// A decimal with `places` fraction digits: `1,234.5` (en, ja), `1.234,5` (de).
pub fn decimal(locale: Locale, x: f64, places: usize) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    let (g, d) = separators(locale);
    let s = format!("{:.*}", places, x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut out = String::new();
    if x < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('−');
    }
    out.push_str(&group(int, g));
    if !frac.is_empty() {
        out.push(d);
        out.push_str(frac);
    }
    out
}

/// A share (0.0–1.0) as a percentage: `12.5%` (en, ja), `12,5 %` (de, with a no-break space).
pub fn percent(locale: Locale, share: f64, places: usize) -> String {
    let n = decimal(locale, share * 100.0, places);
    match locale {
        Locale::De => format!("{n}\u{a0}%"),
        Locale::En | Locale::Ja => format!("{n}%"),
    }
}

const EN_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A calendar date, CLDR medium style: `Nov 24, 2026` (en), `24.11.2026` (de), `2026/11/24` (ja).
pub fn date(locale: Locale, d: NaiveDate) -> String {
    match locale {
        Locale::En => format!(
            "{} {}, {}",
            EN_MONTHS[d.month0() as usize],
            d.day(),
            d.year()
        ),
        Locale::De => format!("{:02}.{:02}.{}", d.day(), d.month(), d.year()),
        Locale::Ja => format!("{}/{:02}/{:02}", d.year(), d.month(), d.day()),
    }
}

/// An instant in UTC with minutes: `Nov 24, 2026, 14:05 UTC` (en), `24.11.2026, 14:05 UTC` (de),
/// `2026/11/24 14:05 UTC` (ja).
pub fn date_time(locale: Locale, t: DateTime<Utc>) -> String {
    let d = date(locale, t.date_naive());
    let hm = format!("{:02}:{:02}", t.hour(), t.minute());
    match locale {
        Locale::En | Locale::De => format!("{d}, {hm} UTC"),
        Locale::Ja => format!("{d} {hm} UTC"),
    }
}

/// An ISO 8601 week as each language writes it: `2026-W05` in all three (the form RKI and the
/// JIHS IDWR reports use in tables), kept as one function so that a change is one place.
pub fn iso_week(year: i32, week: u32) -> String {
    format!("{year}-W{week:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_cldr() {
        assert_eq!(integer(Locale::En, 1_234_567), "1,234,567");
        assert_eq!(integer(Locale::De, 1_234_567), "1.234.567");
        assert_eq!(integer(Locale::Ja, 999), "999");
        assert_eq!(integer(Locale::En, -1000), "−1,000");
        assert_eq!(decimal(Locale::De, 1234.56, 1), "1.234,6");
        assert_eq!(decimal(Locale::En, 0.5, 2), "0.50");
        assert_eq!(decimal(Locale::En, -0.001, 1), "0.0");
        assert_eq!(percent(Locale::De, 0.125, 1), "12,5\u{a0}%");
        assert_eq!(percent(Locale::Ja, 0.07, 0), "7%");
        assert_eq!(decimal(Locale::En, f64::NAN, 1), "–");
    }

    #[test]
    fn dates_follow_cldr_medium() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        assert_eq!(date(Locale::En, d), "Jan 5, 2026");
        assert_eq!(date(Locale::De, d), "05.01.2026");
        assert_eq!(date(Locale::Ja, d), "2026/01/05");
        let t = d.and_hms_opt(14, 5, 9).unwrap().and_utc();
        assert_eq!(date_time(Locale::De, t), "05.01.2026, 14:05 UTC");
        assert_eq!(iso_week(2026, 5), "2026-W05");
    }
}
