//! The syntax tree of a logic expression.

use serde::{Deserialize, Serialize};

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// A number literal (`true`/`false` read as 1/0).
    Num(f64),
    /// A quoted string; `''` and `""` are the blank.
    Str(String),
    /// A field reference.
    Var(VarRef),
    /// A smart variable such as `[event-name]`.
    Smart(SmartVar),
    /// `-x`, `not x`.
    Unary(UnOp, Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `f(args…)`.
    Call(Func, Vec<Expr>),
}

impl Expr {
    /// Every field reference in the expression, in order of appearance.
    pub fn vars(&self) -> Vec<&VarRef> {
        let mut out = Vec::new();
        fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a VarRef>) {
            match e {
                Expr::Var(v) => out.push(v),
                Expr::Unary(_, a) => walk(a, out),
                Expr::Binary(_, a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
                Expr::Num(_) | Expr::Str(_) | Expr::Smart(_) => {}
            }
        }
        walk(self, &mut out);
        out
    }
}

/// `[event][field(code)][instance]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VarRef {
    /// The unique event name, when given (or a smart event such as `previous-event-name`).
    pub event: Option<String>,
    /// The variable name.
    pub field: String,
    /// The checkbox code of `[var(code)]`.
    pub code: Option<String>,
    /// The repeat instance: a number or a smart instance (`current-instance`, …).
    pub instance: Option<String>,
}

/// The smart variables the evaluator knows; the rest are refused at parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmartVar {
    /// `[event-name]`: the current event's unique name.
    EventName,
    /// `[event-label]`.
    EventLabel,
    /// `[previous-event-name]`.
    PreviousEventName,
    /// `[next-event-name]`.
    NextEventName,
    /// `[first-event-name]`.
    FirstEventName,
    /// `[last-event-name]`.
    LastEventName,
    /// `[arm-number]`.
    ArmNumber,
    /// `[arm-label]`.
    ArmLabel,
    /// `[current-instance]`.
    CurrentInstance,
    /// `[previous-instance]`.
    PreviousInstance,
    /// `[next-instance]`.
    NextInstance,
    /// `[first-instance]`.
    FirstInstance,
    /// `[last-instance]`.
    LastInstance,
    /// `[record-name]`.
    RecordName,
    /// `[record-dag-name]`: the data access group (site) of the record.
    RecordDagName,
    /// `[user-name]`.
    UserName,
    /// `[user-role-name]`.
    UserRoleName,
    /// `[instrument-name]`.
    InstrumentName,
}

impl SmartVar {
    /// The smart variable written `[name]`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "event-name" => Self::EventName,
            "event-label" => Self::EventLabel,
            "previous-event-name" => Self::PreviousEventName,
            "next-event-name" => Self::NextEventName,
            "first-event-name" => Self::FirstEventName,
            "last-event-name" => Self::LastEventName,
            "arm-number" => Self::ArmNumber,
            "arm-label" => Self::ArmLabel,
            "current-instance" => Self::CurrentInstance,
            "previous-instance" => Self::PreviousInstance,
            "next-instance" => Self::NextInstance,
            "first-instance" => Self::FirstInstance,
            "last-instance" => Self::LastInstance,
            "record-name" => Self::RecordName,
            "record-dag-name" => Self::RecordDagName,
            "user-name" => Self::UserName,
            "user-role-name" => Self::UserRoleName,
            "instrument-name" => Self::InstrumentName,
            _ => return None,
        })
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnOp {
    /// `-x`.
    Neg,
    /// `not x`.
    Not,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOp {
    /// `or`.
    Or,
    /// `and`.
    And,
    /// `=`, `==`.
    Eq,
    /// `<>`, `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `^`.
    Pow,
}

/// The functions the evaluator knows (REDCap's special functions that calculations and
/// branching logic use); others are refused at parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Func {
    /// `if(cond, then, else)`.
    If,
    /// `datediff(d1, d2, unit[, format][, signed])`.
    Datediff,
    /// `round(x[, decimals])`.
    Round,
    /// `roundup(x[, decimals])`.
    Roundup,
    /// `rounddown(x[, decimals])`.
    Rounddown,
    /// `sum(…)`.
    Sum,
    /// `min(…)`.
    Min,
    /// `max(…)`.
    Max,
    /// `mean(…)`.
    Mean,
    /// `median(…)`.
    Median,
    /// `stdev(…)`.
    Stdev,
    /// `sqrt(x)`.
    Sqrt,
    /// `abs(x)`.
    Abs,
    /// `exp(x)`.
    Exp,
    /// `log(x[, base])`: natural logarithm unless a base is given.
    Log,
    /// `mod(a, b)`.
    Mod,
    /// `not(x)`.
    Not,
    /// `isnumber(x)`.
    IsNumber,
    /// `isinteger(x)`.
    IsInteger,
    /// `contains(haystack, needle)`, case-insensitive.
    Contains,
    /// `concat(…)`.
    Concat,
    /// `length(x)`.
    Length,
}

impl Func {
    /// The function called `name` (lower-case).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "if" => Self::If,
            "datediff" => Self::Datediff,
            "round" => Self::Round,
            "roundup" => Self::Roundup,
            "rounddown" => Self::Rounddown,
            "sum" => Self::Sum,
            "min" => Self::Min,
            "max" => Self::Max,
            "mean" => Self::Mean,
            "median" => Self::Median,
            "stdev" => Self::Stdev,
            "sqrt" => Self::Sqrt,
            "abs" => Self::Abs,
            "exp" => Self::Exp,
            "log" => Self::Log,
            "mod" => Self::Mod,
            "not" => Self::Not,
            "isnumber" => Self::IsNumber,
            "isinteger" => Self::IsInteger,
            "contains" => Self::Contains,
            "concat" => Self::Concat,
            "length" => Self::Length,
            _ => return None,
        })
    }

    /// The least and most number of arguments.
    pub fn arity(self) -> (usize, usize) {
        match self {
            Self::If => (3, 3),
            Self::Datediff => (3, 5),
            Self::Round | Self::Roundup | Self::Rounddown | Self::Log => (1, 2),
            Self::Sum | Self::Min | Self::Max | Self::Mean | Self::Median | Self::Stdev => {
                (1, usize::MAX)
            }
            Self::Concat => (1, usize::MAX),
            Self::Sqrt
            | Self::Abs
            | Self::Exp
            | Self::Not
            | Self::IsNumber
            | Self::IsInteger
            | Self::Length => (1, 1),
            Self::Mod | Self::Contains => (2, 2),
        }
    }
}
