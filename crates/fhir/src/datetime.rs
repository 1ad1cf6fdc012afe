//! FHIR `date`, `dateTime` and `instant` text to typed values, strictly by the FHIR R4 regexes:
//! a partial date (`2024`, `2024-03`) stands for the start of its period; a time without a zone
//! is read as UTC (FHIR says such values are local to the source; sites export in UTC or with a
//! zone, and the choice is stated here once).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Why a text is not a FHIR date or dateTime.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a FHIR {expected}")]
pub struct DateError {
    /// The offending text.
    pub text: String,
    /// `date` or `dateTime`.
    pub expected: &'static str,
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` to the first day of its period.
pub fn parse_date(text: &str) -> Result<NaiveDate, DateError> {
    let err = || DateError {
        text: text.to_owned(),
        expected: "date",
    };
    let mut parts = text.split('-');
    let y = parts.next().and_then(|p| digits(p, 4)).ok_or_else(err)?;
    let m = match parts.next() {
        Some(p) => digits(p, 2).ok_or_else(err)?,
        None => 1,
    };
    let d = match parts.next() {
        Some(p) => digits(p, 2).ok_or_else(err)?,
        None => 1,
    };
    if parts.next().is_some() {
        return Err(err());
    }
    NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(err)
}

/// Days since 1970-01-01 of a valid civil date (H. Hinnant's `days_from_civil`). Hand-written,
/// like the fast paths below, because it runs per resource at ingest; a test holds the fast
/// paths to the general parser, which builds chrono values.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` at the start of `b`, as days since the epoch, if it is a valid date.
fn fast_date(b: &[u8]) -> Option<i64> {
    let n = |i: usize, len: usize| -> Option<i64> {
        b.get(i..i + len)?.iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64)
        })
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (y, m, d) = (n(0, 4)?, n(5, 2)?, n(8, 2)?);
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then(|| days_from_civil(y, m, d))
}

/// The common exact forms `YYYY-MM-DDThh:mm:ssZ` and `YYYY-MM-DDThh:mm:ss.fffZ` (what most
/// exports write), without the general parser; `None` sends other text to it.
fn fast_date_time_micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if !(b.len() == 20 || b.len() == 24)
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[b.len() - 1] != b'Z'
    {
        return None;
    }
    let n2 = |i: usize| -> Option<i64> {
        (b[i].is_ascii_digit() && b[i + 1].is_ascii_digit())
            .then(|| ((b[i] - b'0') * 10 + (b[i + 1] - b'0')) as i64)
    };
    let days = fast_date(b)?;
    let (h, mi, s) = (n2(11)?, n2(14)?, n2(17)?);
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let ms = if b.len() == 24 {
        if b[19] != b'.' || !b[20..23].iter().all(u8::is_ascii_digit) {
            return None;
        }
        b[20..23]
            .iter()
            .fold(0i64, |acc, c| acc * 10 + (c - b'0') as i64)
    } else {
        0
    };
    Some(((days * 86_400 + h * 3600 + mi * 60 + s) * 1000 + ms) * 1000)
}

/// Parses a FHIR `dateTime` or `instant` to microseconds since 1970-01-01T00:00:00Z.
pub fn parse_date_time_micros(text: &str) -> Result<i64, DateError> {
    if let Some(t) = fast_date_time_micros(text) {
        return Ok(t);
    }
    // a dateTime given to the day (`recordedDate`, `onsetDateTime`): midnight UTC
    if text.len() == 10
        && let Some(d) = fast_date(text.as_bytes())
    {
        return Ok(d * 86_400_000_000);
    }
    general_date_time_micros(text)
}

fn general_date_time_micros(text: &str) -> Result<i64, DateError> {
    let err = || DateError {
        text: text.to_owned(),
        expected: "dateTime",
    };
    let (date_part, time_part) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let date = parse_date(date_part).map_err(|_| err())?;
    let Some(t) = time_part else {
        return Ok(date.and_time(NaiveTime::MIN).and_utc().timestamp_micros());
    };
    if date_part.len() != 10 {
        return Err(err());
    }
    // split the zone: Z, +hh:mm, -hh:mm
    let (clock, offset_secs) = if let Some(c) = t.strip_suffix('Z') {
        (c, 0i64)
    } else if let Some(pos) = t.rfind(['+', '-']) {
        let (c, z) = t.split_at(pos);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let (hh, mm) = z[1..].split_once(':').ok_or_else(err)?;
        let (hh, mm) = (
            digits(hh, 2).ok_or_else(err)?,
            digits(mm, 2).ok_or_else(err)?,
        );
        if hh > 14 || mm > 59 {
            return Err(err());
        }
        (c, sign * (hh as i64 * 3600 + mm as i64 * 60))
    } else {
        (t, 0)
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (a, f),
        Some(_) => return Err(err()),
        None => (clock, ""),
    };
    let mut hp = hms.split(':');
    let h = hp.next().and_then(|p| digits(p, 2)).ok_or_else(err)?;
    let mi = hp.next().and_then(|p| digits(p, 2)).ok_or_else(err)?;
    let s = match hp.next() {
        Some(p) => digits(p, 2).ok_or_else(err)?,
        None => 0,
    };
    if hp.next().is_some() {
        return Err(err());
    }
    let time = NaiveTime::from_hms_opt(h, mi, s.min(59)).ok_or_else(err)?;
    let micros_frac: i64 = {
        let f6: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
        f6.parse().unwrap_or(0)
    };
    let dt = NaiveDateTime::new(date, time).and_utc().timestamp_micros();
    Ok(dt + micros_frac - offset_secs * 1_000_000)
}

/// Days since 1970-01-01 of a FHIR `date` (or the date part of a `dateTime`).
pub fn parse_date_days(text: &str) -> Result<i32, DateError> {
    if text.len() == 10
        && let Some(d) = fast_date(text.as_bytes())
    {
        return Ok(d as i32);
    }
    let date_part = text.split('T').next().unwrap_or(text);
    let d = parse_date(date_part)?;
    Ok((d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32)
}

/// `lowBoundary()` / `highBoundary()` of a partial date, dateTime or time, as FHIRPath defines
/// them (the earliest / latest instant the value can stand for), in text form.
pub fn boundary(text: &str, high: bool) -> Option<String> {
    if text.len() >= 2 && text.as_bytes()[2] == b':' {
        // time: hh:mm(:ss(.fff)?)?
        let mut t = text.to_owned();
        if t.len() == 5 {
            t.push_str(if high { ":59" } else { ":00" });
        }
        if !t.contains('.') {
            t.push_str(if high { ".999" } else { ".000" });
        }
        return Some(t);
    }
    let (date_part, time_part) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    if let Some(t) = time_part {
        let has_zone = t.ends_with('Z') || t.rfind(['+', '-']).is_some_and(|p| p > 0);
        let (clock, zone) = if let Some(clock) = t.strip_suffix('Z') {
            (clock, "Z")
        } else if let Some(p) = t.rfind(['+', '-']).filter(|p| *p > 0) {
            (&t[..p], &t[p..])
        } else {
            (t, "")
        };
        let mut c = clock.to_owned();
        if c.len() == 5 {
            c.push_str(if high { ":59" } else { ":00" });
        }
        if !c.contains('.') {
            c.push_str(if high { ".999" } else { ".000" });
        }
        let zone = if has_zone {
            zone.to_owned()
        } else if high {
            "-12:00".into()
        } else {
            "+14:00".into()
        };
        return Some(format!("{date_part}T{c}{zone}"));
    }
    let parts: Vec<&str> = date_part.split('-').collect();
    let y: i32 = parts.first()?.parse().ok()?;
    let m: u32 = match parts.get(1) {
        Some(m) => m.parse().ok()?,
        None => {
            if high {
                12
            } else {
                1
            }
        }
    };
    let d: u32 = match parts.get(2) {
        Some(d) => d.parse().ok()?,
        None => {
            if high {
                let next = if m == 12 {
                    NaiveDate::from_ymd_opt(y + 1, 1, 1)?
                } else {
                    NaiveDate::from_ymd_opt(y, m + 1, 1)?
                };
                next.pred_opt()?.format("%d").to_string().parse().ok()?
            } else {
                1
            }
        }
    };
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_partial_dates() {
        assert_eq!(
            parse_date("2024").unwrap(),
            NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
        );
        assert_eq!(
            parse_date("2024-03").unwrap(),
            NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()
        );
        assert!(parse_date("2024-13").is_err());
        assert!(parse_date("2024-02-30").is_err());
        assert!(parse_date("24-01-01").is_err());
        assert!(parse_date("yesterday").is_err());
        assert_eq!(parse_date_days("1970-01-02").unwrap(), 1);
    }

    #[test]
    fn date_times_with_zones() {
        assert_eq!(
            parse_date_time_micros("1970-01-01T00:00:01Z").unwrap(),
            1_000_000
        );
        assert_eq!(
            parse_date_time_micros("1970-01-01T01:00:00+01:00").unwrap(),
            0
        );
        assert_eq!(
            parse_date_time_micros("1970-01-01T00:00:00.5Z").unwrap(),
            500_000
        );
        assert_eq!(
            parse_date_time_micros("1970-01-02").unwrap(),
            86_400_000_000
        );
        assert!(parse_date_time_micros("2024-01-01T25:00:00Z").is_err());
        assert!(parse_date_time_micros("2024-01-01 10:00").is_err());
        assert!(parse_date_time_micros("not a date").is_err());
    }

    /// The fast path for the common forms agrees with the general parser everywhere.
    #[test]
    fn fast_forms_agree_with_the_general_parser() {
        let start = NaiveDate::from_ymd_opt(1896, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        for k in 0..20_000i64 {
            let t = start + chrono::Duration::seconds(k * 7_919 * 211 + k % 60);
            for text in [
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                t.format("%Y-%m-%d").to_string(),
            ] {
                let fast = fast_date_time_micros(&text);
                let general = general_date_time_micros(&text).ok();
                assert!(
                    fast.is_none() || fast == general,
                    "{text}: {fast:?} vs {general:?}"
                );
                assert_eq!(parse_date_time_micros(&text).ok(), general, "{text}");
            }
            let d = t.format("%Y-%m-%d").to_string();
            assert_eq!(
                parse_date_days(&d).unwrap(),
                (t.date() - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32,
                "{d}"
            );
        }
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:00.12xZ",
            "2024-00-10",
            "2023-02-29",
            "2024-1x-01",
        ] {
            assert!(parse_date_time_micros(bad).is_err(), "{bad}");
        }
        assert!(parse_date_days("2023-02-29").is_err());
        assert_eq!(
            parse_date_time_micros("2016-12-31T23:59:60Z").ok(),
            general_date_time_micros("2016-12-31T23:59:60Z").ok()
        );
    }

    #[test]
    fn boundaries() {
        assert_eq!(boundary("2024", true).unwrap(), "2024-12-31");
        assert_eq!(boundary("2024-02", true).unwrap(), "2024-02-29");
        assert_eq!(boundary("2024-02", false).unwrap(), "2024-02-01");
        assert_eq!(boundary("12:30", false).unwrap(), "12:30:00.000");
    }
}
