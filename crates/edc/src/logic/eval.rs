//! Evaluation with REDCap's semantics for blanks and type coercion.
//!
//! What we follow (REDCap's documentation of branching logic and calculated fields, and the
//! behaviour of its PHP/JavaScript translation):
//! - Every stored value is text. An empty value is the *blank*; `[x] = ''` tests for it and
//!   `[x] <> ''` for a value. An unticked checkbox option `[x(code)]` is `'0'`, never blank.
//! - `=` and `<>` compare numerically when both sides read as numbers (`[x] = '1'` and
//!   `[x] = 1` agree, `'1.0' = 1`), otherwise as exact text. A blank equals only a blank.
//! - `< > <= >=` compare numerically when both sides read as numbers, otherwise as text (so
//!   dates stored as `YYYY-MM-DD` order correctly). A blank on either side makes them false:
//!   an unanswered field never satisfies a threshold (REDCap's advice to guard with
//!   `[x] <> '' and …` is thereby built in).
//! - Arithmetic with a blank or non-numeric operand, division by zero and other non-finite
//!   results give a blank, as a REDCap calculated field shows nothing when any field it uses
//!   is empty. `sum`, `min`, `max`, `mean`, `median` and `stdev` ignore blanks (blank when
//!   every argument is blank).
//! - `if` evaluates only the branch it takes. `and`/`or` treat blank, `0` and `''` as false.
//! - `datediff(d1, d2, unit, [format], [signed])`: units `y` (365.2425 days), `M` (30.44
//!   days), `d`, `h`, `m`, `s`; dates as stored (`YYYY-MM-DD[ HH:MM[:SS]]`), or in the named
//!   format (`ymd`, `dmy`, `mdy`) when entered so; `"today"` and `"now"` read the context's
//!   clock. The result is absolute unless `signed` is true (REDCap's default), not rounded.
//! - `round` rounds half away from zero (PHP's `round`); `roundup` away from zero,
//!   `rounddown` towards zero, at the given decimals.

use super::ast::{BinOp, Expr, Func, SmartVar, UnOp, VarRef};
use chrono::{NaiveDate, NaiveDateTime};

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// The empty value.
    Blank,
    /// A number (results of arithmetic and comparisons; true is 1, false 0).
    Num(f64),
    /// Text as stored or written.
    Text(String),
}

impl Value {
    fn from_stored(s: Option<String>) -> Self {
        match s {
            None => Value::Blank,
            Some(s) if s.is_empty() => Value::Blank,
            Some(s) => Value::Text(s),
        }
    }

    /// The number this value reads as, if any.
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Text(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
            Value::Blank => None,
        }
    }

    /// Whether the value counts as true in `and`, `or`, `not`, `if` and branching logic.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Blank => false,
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Text(s) => match s.trim().parse::<f64>() {
                Ok(n) => n != 0.0,
                Err(_) => !s.is_empty() && !s.eq_ignore_ascii_case("false"),
            },
        }
    }

    /// The value as a calculated field stores it: numbers without trailing zeros, blank empty.
    pub fn to_stored(&self) -> String {
        match self {
            Value::Blank => String::new(),
            Value::Text(s) => s.clone(),
            Value::Num(n) => format_num(*n),
        }
    }

    fn text(&self) -> String {
        self.to_stored()
    }
}

/// A number as REDCap shows a calculation: integers without a decimal point, others in the
/// shortest form that reads back the same.
pub fn format_num(n: f64) -> String {
    if n == n.trunc() && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn boolv(b: bool) -> Value {
    Value::Num(if b { 1.0 } else { 0.0 })
}

fn num_or_blank(n: f64) -> Value {
    if n.is_finite() {
        Value::Num(n)
    } else {
        Value::Blank
    }
}

/// What an expression reads: a record's values and the context of the form being shown.
pub trait Data {
    /// The stored value of a field reference (`None` when never saved). For `[var(code)]`
    /// the checkbox option: `"1"` ticked, `"0"` or `None` not.
    fn value(&self, var: &VarRef) -> Option<String>;
    /// A smart variable's value in this context (`None`: blank).
    fn smart(&self, var: SmartVar) -> Option<String>;
    /// The clock for `"today"`/`"now"` (kept outside the crate, which has no I/O).
    fn now(&self) -> NaiveDateTime;
}

/// Evaluates an expression against a record.
pub fn eval(e: &Expr, d: &dyn Data) -> Value {
    match e {
        Expr::Num(n) => Value::Num(*n),
        Expr::Str(s) if s.is_empty() => Value::Blank,
        Expr::Str(s) => Value::Text(s.clone()),
        Expr::Var(v) => {
            if v.code.is_some() {
                match d.value(v).as_deref() {
                    Some("1") => Value::Text("1".into()),
                    _ => Value::Text("0".into()),
                }
            } else {
                Value::from_stored(d.value(v))
            }
        }
        Expr::Smart(s) => Value::from_stored(d.smart(*s)),
        Expr::Unary(UnOp::Not, a) => boolv(!eval(a, d).truthy()),
        Expr::Unary(UnOp::Neg, a) => match eval(a, d).as_num() {
            Some(n) => Value::Num(-n),
            None => Value::Blank,
        },
        Expr::Binary(op, a, b) => binary(*op, a, b, d),
        Expr::Call(f, args) => call(*f, args, d),
    }
}

/// Evaluates branching logic: shown when true.
pub fn shown(e: &Expr, d: &dyn Data) -> bool {
    eval(e, d).truthy()
}

fn binary(op: BinOp, a: &Expr, b: &Expr, d: &dyn Data) -> Value {
    match op {
        BinOp::Or => return boolv(eval(a, d).truthy() || eval(b, d).truthy()),
        BinOp::And => return boolv(eval(a, d).truthy() && eval(b, d).truthy()),
        _ => {}
    }
    let (x, y) = (eval(a, d), eval(b, d));
    match op {
        BinOp::Eq => boolv(equal(&x, &y)),
        BinOp::Ne => boolv(!equal(&x, &y)),
        BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
            let ord = match (&x, &y) {
                (Value::Blank, _) | (_, Value::Blank) => return boolv(false),
                _ => match (x.as_num(), y.as_num()) {
                    (Some(p), Some(q)) => p.partial_cmp(&q),
                    _ => Some(x.text().cmp(&y.text())),
                },
            };
            let Some(ord) = ord else {
                return boolv(false);
            };
            boolv(match op {
                BinOp::Lt => ord.is_lt(),
                BinOp::Gt => ord.is_gt(),
                BinOp::Le => ord.is_le(),
                _ => ord.is_ge(),
            })
        }
        _ => {
            let (Some(p), Some(q)) = (x.as_num(), y.as_num()) else {
                return Value::Blank;
            };
            num_or_blank(match op {
                BinOp::Add => p + q,
                BinOp::Sub => p - q,
                BinOp::Mul => p * q,
                BinOp::Div => p / q,
                _ => p.powf(q),
            })
        }
    }
}

fn equal(x: &Value, y: &Value) -> bool {
    match (x, y) {
        (Value::Blank, Value::Blank) => true,
        (Value::Blank, _) | (_, Value::Blank) => false,
        _ => match (x.as_num(), y.as_num()) {
            (Some(p), Some(q)) => p == q,
            _ => x.text() == y.text(),
        },
    }
}

fn nums(args: &[Expr], d: &dyn Data) -> Vec<f64> {
    args.iter().filter_map(|a| eval(a, d).as_num()).collect()
}

fn round_to(x: f64, decimals: f64, mode: i8) -> f64 {
    let f = 10f64.powi(decimals as i32);
    let v = x * f;
    let r = match mode {
        0 => v.round(), // half away from zero, as PHP's round
        1 => {
            if v >= 0.0 {
                v.ceil()
            } else {
                v.floor()
            }
        }
        _ => v.trunc(),
    };
    r / f
}

fn call(f: Func, args: &[Expr], d: &dyn Data) -> Value {
    let arg = |i: usize| eval(&args[i], d);
    match f {
        Func::If => {
            if arg(0).truthy() {
                arg(1)
            } else {
                arg(2)
            }
        }
        Func::Round | Func::Roundup | Func::Rounddown => {
            let Some(x) = arg(0).as_num() else {
                return Value::Blank;
            };
            let dec = if args.len() > 1 {
                match arg(1).as_num() {
                    Some(n) => n,
                    None => return Value::Blank,
                }
            } else {
                0.0
            };
            let mode = match f {
                Func::Round => 0,
                Func::Roundup => 1,
                _ => 2,
            };
            num_or_blank(round_to(x, dec, mode))
        }
        Func::Sum | Func::Min | Func::Max | Func::Mean | Func::Median | Func::Stdev => {
            let mut v = nums(args, d);
            if v.is_empty() {
                return Value::Blank;
            }
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            num_or_blank(match f {
                Func::Sum => v.iter().sum(),
                Func::Min => v.iter().copied().fold(f64::INFINITY, f64::min),
                Func::Max => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                Func::Mean => mean,
                Func::Median => {
                    v.sort_by(|a, b| a.total_cmp(b));
                    let m = v.len() / 2;
                    if v.len() % 2 == 1 {
                        v[m]
                    } else {
                        (v[m - 1] + v[m]) / 2.0
                    }
                }
                _ => {
                    if v.len() < 2 {
                        return Value::Blank;
                    }
                    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
                }
            })
        }
        Func::Sqrt | Func::Abs | Func::Exp => match arg(0).as_num() {
            Some(x) => num_or_blank(match f {
                Func::Sqrt => x.sqrt(),
                Func::Abs => x.abs(),
                _ => x.exp(),
            }),
            None => Value::Blank,
        },
        Func::Log => {
            let Some(x) = arg(0).as_num() else {
                return Value::Blank;
            };
            if args.len() > 1 {
                match arg(1).as_num() {
                    Some(b) => num_or_blank(x.ln() / b.ln()),
                    None => Value::Blank,
                }
            } else {
                num_or_blank(x.ln())
            }
        }
        Func::Mod => match (arg(0).as_num(), arg(1).as_num()) {
            (Some(a), Some(b)) => num_or_blank(a % b),
            _ => Value::Blank,
        },
        Func::Not => boolv(!arg(0).truthy()),
        Func::IsNumber => boolv(arg(0).as_num().is_some()),
        Func::IsInteger => boolv(arg(0).as_num().is_some_and(|n| n == n.trunc())),
        Func::Contains => boolv(
            arg(0)
                .text()
                .to_lowercase()
                .contains(&arg(1).text().to_lowercase()),
        ),
        Func::Concat => Value::Text(args.iter().map(|a| eval(a, d).text()).collect()),
        Func::Length => Value::Num(arg(0).text().chars().count() as f64),
        Func::Datediff => datediff(args, d),
    }
}

fn datediff(args: &[Expr], d: &dyn Data) -> Value {
    let v: Vec<Value> = args.iter().map(|a| eval(a, d)).collect();
    let unit = v[2].text();
    // The optional 4th argument is the date format or (newer REDCap) the signed flag.
    let (format, signed) = match v.len() {
        3 => (String::from("ymd"), false),
        4 => {
            let t = v[3].text();
            if ["ymd", "dmy", "mdy"].contains(&t.as_str()) {
                (t, false)
            } else {
                (String::from("ymd"), v[3].truthy())
            }
        }
        _ => (v[3].text(), v[4].truthy()),
    };
    let (Some(a), Some(b)) = (read_date(&v[0], &format, d), read_date(&v[1], &format, d)) else {
        return Value::Blank;
    };
    let secs = (b - a).num_seconds() as f64;
    let r = match unit.as_str() {
        "y" => secs / 86_400.0 / 365.2425,
        "M" => secs / 86_400.0 / 30.44,
        "d" => secs / 86_400.0,
        "h" => secs / 3_600.0,
        "m" => secs / 60.0,
        "s" => secs,
        _ => return Value::Blank,
    };
    Value::Num(if signed { r } else { r.abs() })
}

/// A date or date-time as stored (`YYYY-MM-DD`, optional time) or in the named format.
fn read_date(v: &Value, format: &str, d: &dyn Data) -> Option<NaiveDateTime> {
    let s = match v {
        Value::Blank => return None,
        other => other.text(),
    };
    let s = s.trim();
    match s {
        "today" => return d.now().date().and_hms_opt(0, 0, 0),
        "now" => return Some(d.now()),
        _ => {}
    }
    let (date, time) = match s.split_once(' ') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let date = parse_date(date, "ymd").or_else(|| parse_date(date, format))?;
    let time = match time {
        None => chrono::NaiveTime::MIN,
        Some(t) => chrono::NaiveTime::parse_from_str(t, "%H:%M:%S")
            .or_else(|_| chrono::NaiveTime::parse_from_str(t, "%H:%M"))
            .ok()?,
    };
    Some(date.and_time(time))
}

/// A date written in `ymd`, `dmy` or `mdy` order with `-` or `/`.
pub fn parse_date(s: &str, format: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    if parts.len() != 3 {
        return None;
    }
    let n = |i: usize| parts[i].parse::<u32>().ok();
    let (y, m, day) = match format {
        "dmy" if parts[2].len() == 4 => (n(2)?, n(1)?, n(0)?),
        "mdy" if parts[2].len() == 4 => (n(2)?, n(0)?, n(1)?),
        "ymd" if parts[0].len() == 4 => (n(0)?, n(1)?, n(2)?),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(y as i32, m, day)
}
