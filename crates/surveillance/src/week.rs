//! ISO 8601 weeks and each country's reporting convention.
//!
//! An ISO week runs Monday to Sunday; week 1 of a year is the week holding that year's first
//! Thursday (equivalently, 4 January), so 29–31 December can belong to week 1 of the next year
//! and 1–3 January to week 52 or 53 of the previous one. A year has 53 weeks when 28 December
//! falls in week 53, i.e. when the year starts on a Thursday, or is a leap year starting on a
//! Wednesday.
//!
//! Both countries report in ISO weeks:
//! - Germany: the RKI counts notifications and its sentinel systems (ICOSARI, GrippeWeb, AGI) by
//!   ISO calendar week ("Kalenderwoche", KW), Monday to Sunday; the respiratory season report runs
//!   from week 40 to week 39 and the influenza season from week 40 to week 20.
//! - Japan: NIID/JIHS's Infectious Diseases Weekly Report (IDWR, 感染症週報) uses the same weeks:
//!   e.g. 2022 week 1 is 3–9 January 2022, week 6 is 7–13 February, week 13 is 28 March–3 April
//!   and week 52 is 26 December 2022–1 January 2023, all of which are ISO weeks. The influenza
//!   season of the sentinel reports runs from week 36 to week 35 of the next year.
//!
//! The week of a timestamp is taken on the local calendar of the country that reported it
//! (Germany CET/CEST, Japan JST), so that an admission at 08:00 JST on 1 January is counted on
//! 1 January and not on 31 December UTC.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use chrono_tz::OffsetComponents;
use kakehashi_model::Country;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An ISO 8601 week: ISO week-numbering year and week number (1..=52 or 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IsoWeek {
    year: i32,
    week: u32,
}

/// A week that cannot exist, or text that is not a week.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeekError {
    /// The week number is outside the year's weeks.
    #[error("week {week} does not exist in ISO year {year} (it has {weeks} weeks)")]
    NoSuchWeek {
        /// ISO year.
        year: i32,
        /// The week number asked for.
        week: u32,
        /// How many weeks that year has.
        weeks: u32,
    },
    /// The text is not `YYYY-Www` (or `YYYYWww`).
    #[error("{0:?} is not an ISO week: expected e.g. 2024-W05")]
    Syntax(String),
}

impl IsoWeek {
    /// The week `week` of ISO year `year`, if it exists.
    pub fn new(year: i32, week: u32) -> Result<Self, WeekError> {
        let weeks = weeks_in_year(year);
        if week == 0 || week > weeks {
            return Err(WeekError::NoSuchWeek { year, week, weeks });
        }
        Ok(Self { year, week })
    }

    /// The ISO week a calendar date falls in.
    pub fn of(date: NaiveDate) -> Self {
        let w = date.iso_week();
        Self {
            year: w.year(),
            week: w.week(),
        }
    }

    /// ISO week-numbering year (may differ from the calendar year in the first and last days).
    pub fn year(self) -> i32 {
        self.year
    }

    /// Week number, 1..=53.
    pub fn week(self) -> u32 {
        self.week
    }

    /// The Monday the week starts on.
    pub fn monday(self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon)
            .expect("an IsoWeek is valid by construction")
    }

    /// The Sunday the week ends on.
    pub fn sunday(self) -> NaiveDate {
        self.monday() + Duration::days(6)
    }

    /// The following week.
    pub fn succ(self) -> Self {
        Self::of(self.monday() + Duration::days(7))
    }

    /// The preceding week.
    pub fn pred(self) -> Self {
        Self::of(self.monday() - Duration::days(7))
    }

    /// Whole weeks from `self` to `other` (negative when `other` is earlier).
    pub fn weeks_until(self, other: IsoWeek) -> i64 {
        (other.monday() - self.monday()).num_days() / 7
    }

    /// Every week from `self` to `last`, both included (empty when `last` is earlier).
    pub fn range_inclusive(self, last: IsoWeek) -> impl Iterator<Item = IsoWeek> {
        let n = self.weeks_until(last);
        let first = self.monday();
        (0..=n)
            .filter(move |_| n >= 0)
            .map(move |i| IsoWeek::of(first + Duration::days(7 * i)))
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

impl FromStr for IsoWeek {
    type Err = WeekError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let syntax = || WeekError::Syntax(s.to_string());
        let (y, w) = match t.split_once("-W").or_else(|| t.split_once('W')) {
            Some(p) => p,
            None => return Err(syntax()),
        };
        let year: i32 = y.parse().map_err(|_| syntax())?;
        let week: u32 = w.parse().map_err(|_| syntax())?;
        if y.len() != 4 || w.len() != 2 {
            return Err(syntax());
        }
        IsoWeek::new(year, week)
    }
}

impl Serialize for IsoWeek {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IsoWeek {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Number of ISO weeks in ISO year `year`: 53 when 28 December is in week 53, else 52.
pub fn weeks_in_year(year: i32) -> u32 {
    NaiveDate::from_ymd_opt(year, 12, 28)
        .map(|d| d.iso_week().week())
        .unwrap_or(52)
}

/// How a country numbers and groups the weeks of its respiratory surveillance reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReportingConvention {
    /// The country.
    pub country: Country,
    /// The report series the convention is taken from.
    pub report: &'static str,
    /// Week system: ISO 8601 (Monday–Sunday, week 1 holds the first Thursday) in both countries.
    pub week_system: &'static str,
    /// First week of a (northern-hemisphere) surveillance season.
    pub season_start_week: u32,
    /// Last week of the season in the following year.
    pub season_end_week: u32,
    /// Where the convention is documented.
    pub source: &'static str,
}

impl ReportingConvention {
    /// The convention of a country's national reports.
    pub fn of(country: Country) -> Self {
        match country {
            Country::Germany => Self {
                country,
                report: "RKI ARE-Wochenbericht / ICOSARI",
                week_system: "ISO 8601",
                season_start_week: 40,
                season_end_week: 20,
                source: "RKI, Influenza-Saisonbericht and ARE-Wochenbericht: Kalenderwochen nach ISO \
                         8601; Influenzasaison KW 40 bis KW 20",
            },
            Country::Japan => Self {
                country,
                report: "JIHS (formerly NIID) IDWR 感染症週報",
                week_system: "ISO 8601",
                season_start_week: 36,
                season_end_week: 35,
                source: "IDWR week headers (e.g. 2022年第13週 = 3月28日〜4月3日; 第52週 = 12月26日〜1月1日), \
                         報告週対応表 niid.go.jp/niid/ja/calendar.html; influenza season 第36週〜翌年第35週",
            },
        }
    }

    /// The local calendar date of a UTC instant in this country (Europe/Berlin, Asia/Tokyo).
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        local_date(self.country, t)
    }

    /// The reporting week of a UTC instant.
    pub fn week_of(&self, t: DateTime<Utc>) -> IsoWeek {
        IsoWeek::of(self.local_date(t))
    }

    /// The season a week belongs to, named by its first year (season 2024 = 2024/25), under this
    /// country's season bounds. Weeks between the season's end and the next start (summer) are
    /// given to the season that starts next.
    pub fn season_of(&self, w: IsoWeek) -> i32 {
        if w.week() >= self.season_start_week {
            w.year()
        } else if w.week() <= self.season_end_week {
            w.year() - 1
        } else {
            w.year()
        }
    }
}

/// The local calendar date of a UTC instant in a country: Germany on the tz database's
/// Europe/Berlin (CET/CEST, with each year's actual summer time), Japan on JST (UTC+9 all year:
/// Japan has had no summer time since 1951, so no table lookup is needed).
pub fn local_date(country: Country, t: DateTime<Utc>) -> NaiveDate {
    match country {
        Country::Japan => (t + Duration::hours(9)).date_naive(),
        Country::Germany => t.with_timezone(&Berlin).date_naive(),
    }
}

/// Germany's summer time (CEST) of a year as UTC seconds, `[start, end)`, from the tz
/// database's Europe/Berlin (since 1996 the EU rule: last Sunday of March 01:00 UTC to the last
/// Sunday of October 01:00 UTC). An empty range for a year without summer time. Lets a loop over
/// many instants of one year decide CET or CEST with two comparisons instead of a table lookup;
/// assumes at most one summer period a year (true since 1949).
pub fn summer_time_bounds(year: i32) -> (i64, i64) {
    let jan1 = |y| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(0, |d| d.and_utc().timestamp())
    };
    let (start, end) = (jan1(year), jan1(year + 1));
    let mid = start + (end - start) / 2;
    if !is_summer_time(mid) {
        return (mid, mid);
    }
    (
        first_where(start, mid, is_summer_time),
        first_where(mid, end, |t| !is_summer_time(t)),
    )
}

/// Whether Berlin keeps summer time at a UTC second.
fn is_summer_time(t: i64) -> bool {
    DateTime::from_timestamp(t, 0).is_some_and(|t| {
        !Berlin
            .offset_from_utc_datetime(&t.naive_utc())
            .dst_offset()
            .is_zero()
    })
}

/// The first second in `(lo, hi]` where `at` holds, given it does not at `lo` and does at `hi`
/// (and changes once in between).
fn first_where(mut lo: i64, mut hi: i64, at: impl Fn(i64) -> bool) -> i64 {
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if at(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn first_days_of_january_can_belong_to_the_previous_iso_year() {
        // 2021-01-01 is a Friday: week 53 of 2020 (2020 started on a Wednesday and is a leap year).
        assert_eq!(IsoWeek::of(d(2021, 1, 1)).to_string(), "2020-W53");
        assert_eq!(IsoWeek::of(d(2021, 1, 3)).to_string(), "2020-W53");
        assert_eq!(IsoWeek::of(d(2021, 1, 4)).to_string(), "2021-W01");
        // 2023-01-01 is a Sunday: week 52 of 2022.
        assert_eq!(IsoWeek::of(d(2023, 1, 1)).to_string(), "2022-W52");
        // 2022-01-01/02 (Sat/Sun) are in 2021-W52; IDWR 2022 week 1 is 3–9 January.
        assert_eq!(IsoWeek::of(d(2022, 1, 2)).to_string(), "2021-W52");
        assert_eq!(IsoWeek::new(2022, 1).unwrap().monday(), d(2022, 1, 3));
        assert_eq!(IsoWeek::new(2022, 1).unwrap().sunday(), d(2022, 1, 9));
    }

    #[test]
    fn last_days_of_december_can_belong_to_week_1_of_the_next_year() {
        // 2024-12-30 is a Monday; 2025-01-02 is the first Thursday of 2025.
        assert_eq!(IsoWeek::of(d(2024, 12, 30)).to_string(), "2025-W01");
        assert_eq!(IsoWeek::of(d(2024, 12, 29)).to_string(), "2024-W52");
        // 2019-12-30 → 2020-W01.
        assert_eq!(IsoWeek::of(d(2019, 12, 30)).to_string(), "2020-W01");
    }

    #[test]
    fn years_with_53_weeks() {
        // 53-week years 2000–2030: those starting on Thursday, or leap years starting on Wednesday.
        let long: Vec<i32> = (2000..=2030).filter(|&y| weeks_in_year(y) == 53).collect();
        assert_eq!(long, vec![2004, 2009, 2015, 2020, 2026]);
        for y in 2000..=2030 {
            let jan1 = d(y, 1, 1).weekday();
            let leap = NaiveDate::from_ymd_opt(y, 2, 29).is_some();
            let expect = jan1 == Weekday::Thu || (leap && jan1 == Weekday::Wed);
            assert_eq!(weeks_in_year(y) == 53, expect, "{y}");
        }
        assert!(IsoWeek::new(2020, 53).is_ok());
        assert!(matches!(
            IsoWeek::new(2021, 53),
            Err(WeekError::NoSuchWeek { weeks: 52, .. })
        ));
        assert!(IsoWeek::new(2021, 0).is_err());
        assert_eq!(IsoWeek::new(2026, 53).unwrap().sunday(), d(2027, 1, 3));
    }

    #[test]
    fn succession_crosses_week_53_and_year_ends() {
        let w = IsoWeek::new(2020, 52).unwrap();
        assert_eq!(w.succ().to_string(), "2020-W53");
        assert_eq!(w.succ().succ().to_string(), "2021-W01");
        assert_eq!(
            IsoWeek::new(2021, 1).unwrap().pred().to_string(),
            "2020-W53"
        );
        assert_eq!(
            IsoWeek::new(2022, 1).unwrap().pred().to_string(),
            "2021-W52"
        );
        let all: Vec<_> = IsoWeek::new(2020, 51)
            .unwrap()
            .range_inclusive(IsoWeek::new(2021, 2).unwrap())
            .collect();
        assert_eq!(all.len(), 5);
        assert_eq!(
            IsoWeek::new(2020, 40)
                .unwrap()
                .weeks_until(IsoWeek::new(2021, 20).unwrap()),
            33
        );
    }

    #[test]
    fn parse_and_display() {
        assert_eq!(
            "2024-W05".parse::<IsoWeek>().unwrap(),
            IsoWeek::new(2024, 5).unwrap()
        );
        assert_eq!(
            "2020W53".parse::<IsoWeek>().unwrap().to_string(),
            "2020-W53"
        );
        assert!("2021-W53".parse::<IsoWeek>().is_err());
        assert!("2024-5".parse::<IsoWeek>().is_err());
        assert!("24-W05".parse::<IsoWeek>().is_err());
    }

    #[test]
    fn local_calendar_decides_the_week() {
        // 2023-12-31 23:30 UTC is 2024-01-01 08:30 in Tokyo (2024-W01), 00:30 in Berlin (also W01),
        // but 2023-W52 on the UTC calendar.
        let t = d(2023, 12, 31).and_hms_opt(23, 30, 0).unwrap().and_utc();
        assert_eq!(IsoWeek::of(t.date_naive()).to_string(), "2023-W52");
        assert_eq!(
            ReportingConvention::of(Country::Japan)
                .week_of(t)
                .to_string(),
            "2024-W01"
        );
        assert_eq!(
            ReportingConvention::of(Country::Germany)
                .week_of(t)
                .to_string(),
            "2024-W01"
        );
        // Summer: 22:30 UTC on Sunday 2024-07-07 is 00:30 Monday in Berlin (CEST, +2): next week.
        let s = d(2024, 7, 7).and_hms_opt(22, 30, 0).unwrap().and_utc();
        assert_eq!(
            ReportingConvention::of(Country::Germany)
                .week_of(s)
                .to_string(),
            "2024-W28"
        );
        // Winter: 22:30 UTC on Sunday 2024-01-07 is 23:30 in Berlin (CET, +1): same week.
        let w = d(2024, 1, 7).and_hms_opt(22, 30, 0).unwrap().and_utc();
        assert_eq!(
            ReportingConvention::of(Country::Germany)
                .week_of(w)
                .to_string(),
            "2024-W01"
        );
    }

    #[test]
    fn summer_time_follows_the_tz_database() {
        let utc = |y, m, day, h| {
            d(y, m, day)
                .and_hms_opt(h, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp()
        };
        // EU rule: 31 March and 27 October 2024, 01:00 UTC.
        assert_eq!(
            summer_time_bounds(2024),
            (utc(2024, 3, 31, 1), utc(2024, 10, 27, 1))
        );
        // Before 1996 German summer time ended on the last Sunday of September.
        assert_eq!(
            summer_time_bounds(1995),
            (utc(1995, 3, 26, 1), utc(1995, 9, 24, 1))
        );
        // No summer time in 1970: an empty range.
        let (s, e) = summer_time_bounds(1970);
        assert_eq!(s, e);
        // The bounds and local_date agree one second either side of every switch.
        for y in 1980..2040 {
            let (s, e) = summer_time_bounds(y);
            for t in [s - 1, s, e - 1, e] {
                let at = DateTime::from_timestamp(t, 0).unwrap();
                let hours = if t >= s && t < e { 2 } else { 1 };
                assert_eq!(
                    local_date(Country::Germany, at),
                    (at + Duration::hours(hours)).date_naive(),
                    "{at}"
                );
                let local = at.with_timezone(&Berlin).naive_local();
                assert_eq!(local, at.naive_utc() + Duration::hours(hours), "{at}");
            }
        }
    }

    #[test]
    fn seasons_follow_each_country() {
        let de = ReportingConvention::of(Country::Germany);
        let jp = ReportingConvention::of(Country::Japan);
        let w = |y, n| IsoWeek::new(y, n).unwrap();
        assert_eq!(de.season_of(w(2024, 40)), 2024);
        assert_eq!(de.season_of(w(2025, 20)), 2024);
        assert_eq!(de.season_of(w(2025, 30)), 2025); // summer goes to the coming season
        assert_eq!(jp.season_of(w(2024, 36)), 2024);
        assert_eq!(jp.season_of(w(2025, 35)), 2024);
        assert_eq!(de.season_of(w(2020, 53)), 2020);
    }
}
