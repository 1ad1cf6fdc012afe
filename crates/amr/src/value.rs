//! Raw test values: MICs (mg/L, with `<=`, `>=`, `<`, `>` prefixes) on the doubling-dilution
//! scale, and disk-diffusion zone diameters (mm).

use std::fmt;

/// Text that is not an MIC or a zone diameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not a number in mg/L with an optional comparator.
    #[error(
        "not an MIC: {text:?} (expected a number in mg/L with an optional <=, <, >=, > prefix)"
    )]
    MicSyntax {
        /// The text read.
        text: String,
    },
    /// A number, but zero, negative or not finite.
    #[error("not an MIC: {text:?} (must be a positive number)")]
    MicNotPositive {
        /// The text read.
        text: String,
    },
    /// Not a number of mm.
    #[error("not a zone diameter: {text:?} (expected mm)")]
    ZoneSyntax {
        /// The text read.
        text: String,
    },
    /// A number of mm outside 0 to 100.
    #[error("not a zone diameter: {text:?} (expected 0 to 100 mm)")]
    ZoneRange {
        /// The text read.
        text: String,
    },
}

/// Position on the doubling-dilution scale: `log2(mg/L)`, so 1 mg/L is 0, 0.125 mg/L is -3
/// and 16 mg/L is 4. Values between two steps (gradient strips: 1.5 mg/L) are rounded up to the
/// next step, as CLSI and EUCAST direct; 0.12, 0.06 and 0.03 are the printed forms of 2^-3,
/// 2^-4 and 2^-5.
pub type Dilution = i16;

/// An MIC's comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Cmp {
    /// Exact value.
    #[serde(rename = "=")]
    Eq,
    /// `<=`: the true MIC is at most the value (lowest concentration tested).
    #[serde(rename = "<=")]
    Le,
    /// `<`: below the value, i.e. at most one step below.
    #[serde(rename = "<")]
    Lt,
    /// `>=`: at least the value.
    #[serde(rename = ">=")]
    Ge,
    /// `>`: above the value (highest concentration tested grew), i.e. at least one step above.
    #[serde(rename = ">")]
    Gt,
}

impl Cmp {
    /// The comparator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Eq => "",
            Cmp::Le => "<=",
            Cmp::Lt => "<",
            Cmp::Ge => ">=",
            Cmp::Gt => ">",
        }
    }

    /// Parses a FHIR `valueQuantity.comparator` (or empty for none).
    pub fn parse(s: &str) -> Option<Cmp> {
        Some(match s.trim() {
            "" | "=" | "==" => Cmp::Eq,
            "<=" | "≤" | "=<" => Cmp::Le,
            "<" => Cmp::Lt,
            ">=" | "≥" | "=>" => Cmp::Ge,
            ">" => Cmp::Gt,
            _ => return None,
        })
    }
}

/// A minimum inhibitory concentration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mic {
    /// Comparator.
    pub cmp: Cmp,
    /// The value as reported, mg/L.
    pub value: f64,
    /// The value's position on the dilution scale.
    pub step: Dilution,
}

/// The dilution step of a concentration in mg/L: `round(log2 v)` when within 0.1 of a step
/// (0.12 → -3), else the next step up (1.5 → 1, i.e. 2 mg/L).
pub fn dilution(v: f64) -> Dilution {
    // exact powers of two (most MICs: 0.25, 1, 32) read the exponent straight from the bits
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if bits & ((1 << 52) - 1) == 0 && exp != 0 && exp != 0x7ff && v > 0.0 {
        return (exp - 1023) as Dilution;
    }
    let l = v.log2();
    let r = l.round();
    if (l - r).abs() < 0.1 {
        r as Dilution
    } else {
        l.ceil() as Dilution
    }
}

impl Mic {
    /// An MIC from a value and comparator.
    pub fn new(cmp: Cmp, value: f64) -> Option<Mic> {
        (value.is_finite() && value > 0.0).then(|| Mic {
            cmp,
            value,
            step: dilution(value),
        })
    }

    /// Parses `"<=0.25"`, `">32"`, `"2"`, `"0,5"`, `"≤1 mg/L"`.
    pub fn parse(text: &str) -> Result<Mic, ValueError> {
        if let Some(m) = Mic::parse_plain(text.as_bytes()) {
            return Ok(m);
        }
        let t = text.trim();
        let (cmp, rest) = if let Some(r) = t
            .strip_prefix("<=")
            .or_else(|| t.strip_prefix('≤'))
            .or_else(|| t.strip_prefix("=<"))
        {
            (Cmp::Le, r)
        } else if let Some(r) = t
            .strip_prefix(">=")
            .or_else(|| t.strip_prefix('≥'))
            .or_else(|| t.strip_prefix("=>"))
        {
            (Cmp::Ge, r)
        } else if let Some(r) = t.strip_prefix('<') {
            (Cmp::Lt, r)
        } else if let Some(r) = t.strip_prefix('>') {
            (Cmp::Gt, r)
        } else if let Some(r) = t.strip_prefix("==").or_else(|| t.strip_prefix('=')) {
            (Cmp::Eq, r)
        } else {
            (Cmp::Eq, t)
        };
        let num = rest
            .trim()
            .trim_end_matches("mg/L")
            .trim_end_matches("mg/l")
            .trim_end_matches("µg/mL")
            .trim();
        // combination drugs are reported "2/38" (first component is the one the breakpoint names)
        let num = num.split('/').next().unwrap_or(num);
        let v: f64 = if num.contains(',') && !num.contains('.') {
            num.replace(',', ".").parse()
        } else {
            num.parse()
        }
        .map_err(|_| ValueError::MicSyntax {
            text: text.to_owned(),
        })?;
        Mic::new(cmp, v).ok_or_else(|| ValueError::MicNotPositive {
            text: text.to_owned(),
        })
    }

    /// The fast path for what laboratory systems export almost always: an ASCII comparator and
    /// a plain decimal (`<=0.25`, `4`, `>32`). `None` sends anything else to the general
    /// parser. The value is the same `f64` `str::parse` gives: an integer below 2^53 divided by
    /// an exact power of ten is rounded once, correctly.
    fn parse_plain(b: &[u8]) -> Option<Mic> {
        let (cmp, rest) = match b {
            [b'<', b'=', r @ ..] => (Cmp::Le, r),
            [b'>', b'=', r @ ..] => (Cmp::Ge, r),
            [b'<', r @ ..] => (Cmp::Lt, r),
            [b'>', r @ ..] => (Cmp::Gt, r),
            r => (Cmp::Eq, r),
        };
        const POW10: [f64; 16] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        ];
        if rest.is_empty() || rest.len() > 15 {
            return None;
        }
        let (mut mant, mut frac, mut dot, mut digits) = (0u64, 0usize, false, 0u32);
        for &c in rest {
            match c {
                b'0'..=b'9' => {
                    mant = mant * 10 + u64::from(c - b'0');
                    digits += 1;
                    frac += usize::from(dot);
                }
                b'.' if !dot => dot = true,
                _ => return None,
            }
        }
        if digits == 0 || mant == 0 {
            return None;
        }
        Mic::new(cmp, mant as f64 / POW10[frac])
    }

    /// The interval of dilution steps the true MIC lies in (inclusive; `i16::MIN`/`MAX` for
    /// open ends): `<=x` is (−∞, x], `<x` is (−∞, x−1], `>=x` is [x, ∞), `>x` is [x+1, ∞).
    pub fn range(&self) -> (Dilution, Dilution) {
        match self.cmp {
            Cmp::Eq => (self.step, self.step),
            Cmp::Le => (i16::MIN, self.step),
            Cmp::Lt => (i16::MIN, self.step - 1),
            Cmp::Ge => (self.step, i16::MAX),
            Cmp::Gt => (self.step + 1, i16::MAX),
        }
    }
}

impl fmt::Display for Mic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.cmp.as_str(), self.value)
    }
}

/// A disk-diffusion zone diameter in mm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zone {
    /// Diameter, mm.
    pub mm: f64,
}

impl Zone {
    /// Parses `"22"`, `"22 mm"`, `"6"` (no zone: the disk's own diameter).
    pub fn parse(text: &str) -> Result<Zone, ValueError> {
        let t = text
            .trim()
            .trim_end_matches("mm")
            .trim()
            .trim_start_matches(['<', '>', '=']);
        let v: f64 = t
            .replace(',', ".")
            .parse()
            .map_err(|_| ValueError::ZoneSyntax {
                text: text.to_owned(),
            })?;
        if !(0.0..=100.0).contains(&v) {
            return Err(ValueError::ZoneRange {
                text: text.to_owned(),
            });
        }
        Ok(Zone { mm: v })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dilution_steps() {
        assert_eq!(dilution(1.0), 0);
        assert_eq!(dilution(0.125), -3);
        assert_eq!(dilution(0.12), -3);
        assert_eq!(dilution(0.06), -4);
        assert_eq!(dilution(0.03), -5);
        assert_eq!(dilution(256.0), 8);
        assert_eq!(
            dilution(1.5),
            1,
            "gradient-strip values round up to the next step"
        );
        assert_eq!(dilution(3.0), 2);
    }

    #[test]
    fn parse_prefixes() {
        let m = Mic::parse("<=0.25").unwrap();
        assert_eq!((m.cmp, m.step, m.range()), (Cmp::Le, -2, (i16::MIN, -2)));
        assert_eq!(Mic::parse(">32").unwrap().range(), (6, i16::MAX));
        assert_eq!(Mic::parse(">=32").unwrap().range(), (5, i16::MAX));
        assert_eq!(Mic::parse("<1").unwrap().range(), (i16::MIN, -1));
        assert_eq!(Mic::parse(" 2 mg/L").unwrap().range(), (1, 1));
        assert_eq!(Mic::parse("0,5").unwrap().step, -1);
        assert_eq!(Mic::parse("2/38").unwrap().step, 1);
        assert_eq!(
            Mic::parse("abc").unwrap_err(),
            ValueError::MicSyntax { text: "abc".into() }
        );
        assert!(Mic::parse("abc").unwrap_err().to_string().contains("abc"));
        assert_eq!(
            Mic::parse("-1").unwrap_err(),
            ValueError::MicNotPositive { text: "-1".into() }
        );
        assert!(Mic::parse("0").is_err());
        assert_eq!(Zone::parse("22 mm").unwrap().mm, 22.0);
        assert_eq!(
            Zone::parse("x").unwrap_err(),
            ValueError::ZoneSyntax { text: "x".into() }
        );
        assert_eq!(
            Zone::parse("120").unwrap_err(),
            ValueError::ZoneRange { text: "120".into() }
        );
    }

    #[test]
    fn the_fast_path_reads_exactly_what_the_general_parser_reads() {
        let slow = |t: &str| -> Option<(Cmp, f64, Dilution)> {
            let (cmp, rest) = if let Some(r) = t.strip_prefix("<=") {
                (Cmp::Le, r)
            } else if let Some(r) = t.strip_prefix(">=") {
                (Cmp::Ge, r)
            } else if let Some(r) = t.strip_prefix('<') {
                (Cmp::Lt, r)
            } else if let Some(r) = t.strip_prefix('>') {
                (Cmp::Gt, r)
            } else {
                (Cmp::Eq, t)
            };
            let v: f64 = rest.parse().ok()?;
            let l = v.log2();
            let step = if (l - l.round()).abs() < 0.1 {
                l.round() as Dilution
            } else {
                l.ceil() as Dilution
            };
            Some((cmp, v, step))
        };
        let mut n = 0;
        for pre in ["", "<=", ">=", "<", ">"] {
            for num in [
                "0.002",
                "0.004",
                "0.008",
                "0.015",
                "0.016",
                "0.03",
                "0.032",
                "0.06",
                "0.064",
                "0.12",
                "0.125",
                "0.19",
                "0.25",
                "0.38",
                "0.5",
                "0.75",
                "1",
                "1.5",
                "2",
                "3",
                "4",
                "6",
                "8",
                "12",
                "16",
                "24",
                "32",
                "48",
                "64",
                "96",
                "128",
                "256",
                "512",
                "1024",
                "0.1",
                "0.3",
                "7.9",
                "00.5",
                "1.",
                "123456789012.5",
            ] {
                let t = format!("{pre}{num}");
                let m = Mic::parse_plain(t.as_bytes()).unwrap_or_else(|| panic!("{t}"));
                assert_eq!(Some((m.cmp, m.value, m.step)), slow(&t), "{t}");
                n += 1;
            }
        }
        assert_eq!(n, 200);
        for t in [
            "", "<=", "0", "0.0", "abc", "1e3", "-2", "2/38", " 4", "0,5", "1..2", "4 mg/L",
        ] {
            assert!(
                Mic::parse_plain(t.as_bytes()).is_none(),
                "{t:?} goes to the general parser"
            );
        }
        assert_eq!(Mic::parse("2/38").unwrap().value, 2.0);
        assert_eq!(Mic::parse("0,5").unwrap().step, -1);
    }
}
